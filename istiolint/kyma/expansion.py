"""What expanding an APIRule yields: the Istio objects api-gateway would generate from it, where
each of their values comes from in the APIRule, and what could not be expanded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Origin:
    """A generated value (and everything below it) comes from this place in the APIRule."""

    generated: str  # RFC 6901 pointer prefix inside the generated object
    source: str  # RFC 6901 pointer inside the APIRule


@dataclass(frozen=True)
class Generated:
    """A complete Kubernetes object api-gateway would create from the APIRule."""

    obj: dict[str, Any]
    origins: tuple[Origin, ...]  # always holds Origin("", ""), so every pointer maps somewhere

    def source_pointer(self, pointer: str) -> str:
        """The APIRule pointer of the longest origin prefix of ``pointer`` (token-wise, so
        ``/spec/rules/1`` is no prefix of ``/spec/rules/10``)."""
        matching = [origin for origin in self.origins if _is_prefix(origin.generated, pointer)]
        longest = max(matching, key=lambda origin: len(origin.generated), default=Origin("", ""))
        return longest.source


def _is_prefix(prefix: str, pointer: str) -> bool:
    return pointer == prefix or pointer.startswith(prefix + "/")


@dataclass(frozen=True)
class ExpansionProblem:
    """Why (part of) the APIRule cannot be expanded."""

    pointer: str  # RFC 6901 pointer inside the APIRule
    message: str


@dataclass(frozen=True)
class Expansion:
    generated: tuple[Generated, ...]
    problems: tuple[ExpansionProblem, ...]
