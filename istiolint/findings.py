"""Findings: what the engine reports after decorating a check's detection."""

from __future__ import annotations

from dataclasses import dataclass

from istiolint.positions import Position
from istiolint.resources import ResourceRef
from istiolint.rules import Severity


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    severity: Severity
    message: str
    path: str
    position: Position
    pointer: str | None = None
    resource: ResourceRef | None = None
    via: str | None = None  # what rendered or generated the object (kustomize, an APIRule)

    @property
    def full_message(self) -> str:
        """The message, and what rendered or generated the object (for formats without a
        field of their own for it)."""
        return f"{self.message} (via {self.via})" if self.via else self.message

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.position.line, self.position.column, self.code, self.message)
