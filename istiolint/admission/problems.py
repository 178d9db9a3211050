"""The problem record returned by the admission checks, and the collector the checks fill."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

#: A location inside the manifest, as the keys and list indices leading to it.
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class AdmissionProblem:
    """One finding of the re-implemented Istio validating webhook.

    ``pointer`` is an RFC 6901 JSON pointer into the whole object ("" for the object itself);
    ``message`` is Istio's text without the ``invalid policy <name>.<ns>:`` prefix.
    """

    severity: Severity
    pointer: str
    message: str


def escape_token(token: str | int) -> str:
    """Escape one reference token as RFC 6901 requires (``~`` first, then ``/``)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def to_pointer(path: Iterable[str | int]) -> str:
    return "".join("/" + escape_token(token) for token in path)


class Report:
    """Collects problems in the order the checks find them."""

    def __init__(self) -> None:
        self.problems: list[AdmissionProblem] = []

    def error(self, path: Path, message: str) -> None:
        self.problems.append(AdmissionProblem("error", to_pointer(path), message))

    def warning(self, path: Path, message: str) -> None:
        self.problems.append(AdmissionProblem("warning", to_pointer(path), message))

    def has_errors(self) -> bool:
        return any(problem.severity == "error" for problem in self.problems)
