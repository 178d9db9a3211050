"""Kubernetes objects found in the sources, with their identity and their place in the file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from istiolint.documents import Document, LoadProblem
from istiolint.positions import Position, join_pointer
from istiolint.sources import SourceFile

ISTIO_GROUP_SUFFIX = ".istio.io"


@dataclass(frozen=True)
class ResourceRef:
    api_version: str
    kind: str
    namespace: str | None
    name: str

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else \
            f"{self.kind} {self.name}"

    def as_json(self) -> dict[str, str | None]:
        return {"apiVersion": self.api_version, "kind": self.kind,
                "namespace": self.namespace, "name": self.name}


@dataclass(frozen=True)
class Location:
    path: str
    position: Position


class Resource:
    """One object: its data, its identity and where it sits (a ``kind: List`` item has a base)."""

    __slots__ = ("base", "document", "obj", "ref", "source")

    def __init__(self, source: SourceFile, document: Document, base: str,
                 obj: Mapping[str, Any], ref: ResourceRef) -> None:
        self.source = source
        self.document = document
        self.base = base
        self.obj = obj
        self.ref = ref

    @property
    def group(self) -> str:
        return self.ref.group

    @property
    def version(self) -> str:
        return self.ref.api_version.rpartition("/")[2]

    @property
    def kind(self) -> str:
        return self.ref.kind

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.obj.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def metadata(self) -> Mapping[str, Any]:
        metadata = self.obj.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def annotations(self) -> Mapping[str, Any]:
        annotations = self.metadata.get("annotations")
        return annotations if isinstance(annotations, dict) else {}

    def position(self, pointer: str = "") -> Position:
        """Where ``pointer`` is in this object's document (see :meth:`location`)."""
        return self.document.position(self.base + pointer)

    def location(self, pointer: str = "") -> Location:
        """Where a finding at ``pointer`` is shown: for a rendered or generated object, in the
        file that the value comes from."""
        path, position = self.document.location(self.base + pointer)
        return Location(path or self.source.path, position)

    @property
    def via(self) -> str | None:
        """What rendered or generated this object (None: it is written in its file)."""
        return self.document.via

    def is_istio(self) -> bool:
        return self.group.endswith(ISTIO_GROUP_SUFFIX)


def extract_resources(source: SourceFile) -> Iterator[Resource]:
    """Objects of every document of ``source``; malformed ones become load problems."""
    for document in source.documents:
        yield from _objects(source, document, document.data, "")


def _objects(source: SourceFile, document: Document, data: Any, base: str) -> Iterator[Resource]:
    if not isinstance(data, dict):
        return
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(api_version, str) and \
            "items" in data:
        items = data["items"]
        if not isinstance(items, list):
            _problem(source, document, join_pointer(base, "items"), "'items' must be a list")
            return
        for index, item in enumerate(items):
            yield from _objects(source, document, item, join_pointer(base, "items", index))
        return
    missing = [key for key, value in (("apiVersion", api_version), ("kind", kind))
               if not isinstance(value, str) or not value]
    if missing:
        _problem(source, document, base, f"the object has no {' or '.join(missing)}")
        return
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        _problem(source, document, base if metadata is None else join_pointer(base, "metadata"),
                 "the object has no metadata" if metadata is None else "metadata must be a map")
        return
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        if isinstance(metadata.get("generateName"), str):
            name = metadata["generateName"] + "*"
        else:
            _problem(source, document, join_pointer(base, "metadata"),
                     "metadata.name must be a non-empty string")
            return
    namespace = metadata.get("namespace")
    ref = ResourceRef(str(api_version), str(kind),
                      namespace if isinstance(namespace, str) and namespace else None, name)
    yield Resource(source, document, base, data, ref)


def _problem(source: SourceFile, document: Document, pointer: str, reason: str) -> None:
    source.problems.append(LoadProblem("IL005", document.position(pointer), {"reason": reason}))
