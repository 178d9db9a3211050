"""What every check sees: the loaded sources, their objects, the settings and the schemas."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, TypeVar

from istiolint.config import Settings
from istiolint.model.mesh import MeshModel
from istiolint.resources import Resource
from istiolint.schemas import SchemaStore
from istiolint.scope import TreeFacts
from istiolint.sources import SourceFile


class _HasResource(Protocol):
    @property
    def resource(self) -> Resource: ...


Located = TypeVar("Located", bound=_HasResource)


@dataclass(frozen=True)
class CheckContext:
    """``focus``: the files whose findings are reported, when that is not all of them (the
    pre-commit hook reports on the changed files and loads the rest as context). A check may
    skip the work whose findings would land elsewhere; the engine drops those anyway.

    ``facts``: set when a focused run loaded only the part of the tree that the focus depends
    on (:mod:`istiolint.scope`); what namespace-scoped checks may know of the rest."""

    sources: Sequence[SourceFile]
    resources: Sequence[Resource]
    settings: Settings
    schemas: SchemaStore
    focus: frozenset[str] | None = None
    facts: TreeFacts | None = None

    def focused(self, items: Iterable[Located]) -> Iterator[Located]:
        """The items (policies) whose own findings may be reported (a rendered or generated
        object's findings land in the files its values come from: it is always kept)."""
        focus = self.focus
        return iter(items) if focus is None else \
            (item for item in items if item.resource.source.path in focus
             or item.resource.via is not None)

    def of_kind(self, group: str, kind: str) -> list[Resource]:
        return [r for r in self.resources if r.kind == kind and r.group == group]

    @cached_property
    def model(self) -> MeshModel:
        """The mesh model; checks that read it declare ``needs_model = True``."""
        return MeshModel.build(self.resources, self.settings.root_namespace)
