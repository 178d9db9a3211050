"""What every check sees: the loaded sources, their objects, the settings and the schemas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from istiolint.config import Settings
from istiolint.resources import Resource
from istiolint.schemas import SchemaStore
from istiolint.sources import SourceFile


@dataclass(frozen=True)
class CheckContext:
    sources: Sequence[SourceFile]
    resources: Sequence[Resource]
    settings: Settings
    schemas: SchemaStore

    def of_kind(self, group: str, kind: str) -> list[Resource]:
        return [r for r in self.resources if r.kind == kind and r.group == group]
