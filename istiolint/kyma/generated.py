"""What the rest of istiolint needs to know of Kyma APIRules without expanding any: which
objects are APIRules, and which were generated from one (whose positions are the APIRule's).

Kept apart from the expansion (:mod:`istiolint.kyma.expand`), which a tree without APIRules
never imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from istiolint.documents import Document
from istiolint.positions import Position
from istiolint.resources import Resource

if TYPE_CHECKING:
    from istiolint.kyma.expansion import Generated

GROUP = "gateway.kyma-project.io"
APIRULE = "APIRule"
V1BETA1_VERSION = f"{GROUP}/v1beta1"
OWNER_LABEL = "apirule.gateway.kyma-project.io/name"


class GeneratedDocument(Document):
    """An object api-gateway generates from an APIRule: its positions are the APIRule's."""

    __slots__ = ("_generated", "owner", "via")

    def __init__(self, owner: Resource, generated: Generated) -> None:
        super().__init__(owner.document.index, None, generated.obj, owner.document.text)
        self.owner = owner
        self._generated = generated
        namespace = f"{owner.ref.namespace}/" if owner.ref.namespace else ""
        self.via = f"APIRule {namespace}{owner.ref.name}"

    def _owner_pointer(self, pointer: str) -> str:
        return self.owner.base + self._generated.source_pointer(pointer)

    def position(self, pointer: str) -> Position:
        return self.owner.document.position(self._owner_pointer(pointer))

    def location(self, pointer: str) -> tuple[str | None, Position]:
        return self.owner.document.location(self._owner_pointer(pointer))


def is_apirule(resource: Resource) -> bool:
    return resource.group == GROUP and resource.kind == APIRULE


def generated_from_apirule(resource: Resource) -> bool:
    """Expanded here, or (from a cluster) created by api-gateway, which labels its objects."""
    labels = resource.metadata.get("labels")
    return isinstance(resource.document, GeneratedDocument) or (
        isinstance(labels, Mapping) and OWNER_LABEL in labels)
