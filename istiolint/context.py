"""What every check sees: the loaded sources, their objects, the settings and the schemas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from istiolint.config import Settings
from istiolint.model.mesh import MeshModel
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

    @cached_property
    def model(self) -> MeshModel:
        """The mesh model; checks that read it declare ``needs_model = True``."""
        return MeshModel.build(self.resources, self.settings.root_namespace)
