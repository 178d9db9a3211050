"""Problems with the input itself: syntax, encoding, duplicate keys, tags, malformed objects."""

from __future__ import annotations

from collections.abc import Iterator

from istiolint.context import CheckContext
from istiolint.rules import Detection, builtin_rules

SUPPRESSION_CODES = ("IL100", "IL101")


class InputCheck:
    """Reports what the loader found; the suppression rules are reported by the engine."""
    per_source = True

    rules = builtin_rules("IL001", "IL002", "IL003", "IL004", "IL005", "IL006",
                          *SUPPRESSION_CODES)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        for source in context.sources:
            for problem in source.problems:
                yield Detection(problem.code, source=source, position=problem.position,
                                args=problem.args)
