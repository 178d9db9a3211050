"""Reporters: each renders the same lint result in one format.

Reporters are found through the ``istiolint.reporters`` entry-point group, the built-in ones
included; a reporter is a callable ``(result, stream, options) -> None``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TextIO

from istiolint.errors import UsageError
from istiolint.plugins import entry_points_of

if TYPE_CHECKING:
    from istiolint.engine import LintResult
    from istiolint.rules import RuleDoc

ENTRY_POINT_GROUP = "istiolint.reporters"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ReportOptions:
    color: bool = False
    verbose: bool = False
    rules: Mapping[str, RuleDoc] = field(default_factory=dict)  # every known rule, by code


class Reporter(Protocol):
    def __call__(self, result: LintResult, stream: TextIO, options: ReportOptions) -> None: ...


def printable(text: str) -> str:
    """Escape control characters so manifest content can never drive the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def available_formats() -> list[str]:
    return sorted(entry.name for entry in entry_points_of(ENTRY_POINT_GROUP))


def get_reporter(name: str) -> Reporter:
    for entry in entry_points_of(ENTRY_POINT_GROUP):
        if entry.name == name:
            reporter: Reporter = entry.load()
            return reporter
    raise UsageError(f"unknown format {name!r}; available: {', '.join(available_formats())}")
