"""``--render kustomize``: lint what each overlay renders, and report in the files people edit.

Every kustomization that no other one builds on (or that is named) is built; its objects are
linted as one source per overlay. A finding on a rendered object points at the patch that set
the field, when one did (the outermost kustomization's last patch wins, as in the build), else at
the field in the file the object came from (kustomize's origin annotation), else at the
overlay's kustomization file. Each finding names the overlay (``via``), so an object rendered
by ``dev`` and ``prod`` is reported once per overlay.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from istiolint.documents import Document, WantsDocument, load_one, parse_stream
from istiolint.positions import Position, split_pointer
from istiolint.render.build import BuildOptions, build, refuse_unsafe
from istiolint.render.graph import Kustomization, KustomizationGraph, Patch, read_documents
from istiolint.sources import SourceFile
from istiolint.trees import Tree

ORIGIN = "config.kubernetes.io/origin"
_BUILD_ANNOTATIONS = (ORIGIN, "alpha.config.kubernetes.io/transformations")
_IDENTITY = ("/apiVersion", "/kind", "/metadata/name", "/metadata/namespace")
FILE_START = Position.point(1, 1)

Display = Callable[[Path], str]


class RenderedDocument(Document):
    """A document of a build's output whose positions are in the files it came from."""

    __slots__ = ("_locate", "via")

    def __init__(self, index: int, data: Any, text: str, via: str,
                 locate: Callable[[str], tuple[str, Position]]) -> None:
        super().__init__(index, None, data, text)
        self.via = via
        self._locate = locate

    def location(self, pointer: str) -> tuple[str | None, Position]:
        return self._locate(pointer)

    def position(self, pointer: str) -> Position:
        """In the source itself (the overlay's kustomization file, which stands for the build's
        output that nobody edits): its start. Findings use :meth:`location`."""
        return FILE_START


@dataclass(frozen=True)
class RenderPlan:
    """What ``--render kustomize`` builds, and the files those builds read (which are then not
    linted on their own)."""

    graph: KustomizationGraph
    roots: tuple[Kustomization, ...]
    consumed: frozenset[Path]


def plan(kustomizations: Sequence[Path], named: Sequence[Path], tree: Tree) -> RenderPlan:
    graph = KustomizationGraph(tree)
    for file in kustomizations:
        graph.add(file.parent)
    for directory in named:
        graph.add(directory)
    roots = tuple(graph.roots(named))
    consumed: set[Path] = set()
    for root in roots:
        for node in graph.reachable(root):
            consumed.update(node.local_files)
            consumed.update(p.path for p in node.patches if p.path is not None)
            consumed.update(node.configurations)
            consumed.add(node.file)
    return RenderPlan(graph, roots, frozenset(consumed))


def render(plan: RenderPlan, wants: WantsDocument, options: BuildOptions,
           display: Display, within: Callable[[Path], Path]) -> list[SourceFile]:
    """One source per root: its build output, positioned in the files people edit. The builds
    may only read below ``within(root directory)`` (its repository) unless remote inputs are
    allowed."""
    sources = []
    files = _Files(plan.graph.tree)
    shown_files = {node.file: display(node.file) for node in plan.graph.nodes.values()}
    tree_root, disk_root = plan.graph.tree.disk_root(
        [node.directory for node in plan.graph.nodes.values()]) if plan.roots else \
        (Path("/"), Path("/"))
    for root in plan.roots:
        shown = display(root.directory)
        refuse_unsafe(plan.graph, root, shown, options, shown_files, within(root.directory))
        output, origin_base = build(disk_root / root.directory.relative_to(tree_root), shown,
                                    options)
        locator = _Locator(plan.graph, root, files, display, origin_base,
                           (tree_root, disk_root.resolve()))
        sources.append(_rendered_source(output, root, wants, display, locator))
    return sources


def _rendered_source(output: str, root: Kustomization, wants: WantsDocument, display: Display,
                     locator: _Locator) -> SourceFile:
    via = f"kustomize build {display(root.directory)}"
    parsed = parse_stream(output, lambda api_version, kind: True)
    source = SourceFile(display(root.file), total_documents=parsed.total_documents)
    for document in parsed.documents:
        data = document.data
        if not isinstance(data, Mapping):
            continue
        origin, data = _without_build_annotations(data)
        api_version, kind = data.get("apiVersion"), data.get("kind")
        if wants(api_version if isinstance(api_version, str) else None,
                 kind if isinstance(kind, str) else None) is False:
            continue
        metadata = data.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        locate = locator.for_object(origin, str(kind), name if isinstance(name, str) else "",
                                    data)
        source.documents.append(RenderedDocument(document.index, data, output, via, locate))
    return source


def _without_build_annotations(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], Any]:
    """The origin annotation's value, and the object as the build renders it without
    ``buildMetadata`` (which only istiolint's wrapper asked for)."""
    metadata = data.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if not isinstance(metadata, Mapping) or not isinstance(annotations, Mapping):
        return {}, data
    origin = annotations.get(ORIGIN)
    kept = {k: v for k, v in annotations.items() if k not in _BUILD_ANNOTATIONS}
    new_metadata = {k: v for k, v in metadata.items() if k != "annotations"}
    if kept:
        new_metadata["annotations"] = kept
    try:
        parsed = load_one(origin) if isinstance(origin, str) else None
    except ValueError:
        parsed = None
    return (parsed if isinstance(parsed, Mapping) else {}), {**data, "metadata": new_metadata}


class _Files:
    """Files read for positions, parsed once."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._documents: dict[Path, tuple[Document, ...]] = {}

    def documents(self, path: Path) -> tuple[Document, ...]:
        if path not in self._documents:
            self._documents[path] = read_documents(path, self.tree) or ()
        return self._documents[path]


class _Locator:
    def __init__(self, graph: KustomizationGraph, root: Kustomization, files: _Files,
                 display: Display, origin_base: Path, roots: tuple[Path, Path]) -> None:
        self.graph = graph
        self.root = root
        self.files = files
        self.display = display
        self.origin_base = origin_base
        self.tree_root, self.disk_root = roots
        self.known = {self._on_disk(path).resolve(): path for path in _every_file(graph)}

    def _on_disk(self, path: Path) -> Path:
        return self.disk_root / path.relative_to(self.tree_root)

    def _path(self, relative: Any) -> Path | None:
        """A path of the origin annotation, as a path of the tree."""
        if not isinstance(relative, str) or not relative:
            return None
        resolved = Path(os.path.normpath(self.origin_base / relative))
        if resolved in self.known:
            return self.known[resolved]
        if resolved.is_relative_to(self.disk_root):
            return self.tree_root / resolved.relative_to(self.disk_root)
        return resolved

    def for_object(self, origin: Mapping[str, Any], kind: str, name: str,
                   rendered: Mapping[str, Any]) -> Callable[[str], tuple[str, Position]]:
        file = self._path(origin.get("path")) if "repo" not in origin else None
        configured_in = self._path(origin.get("configuredIn"))

        def locate(pointer: str) -> tuple[str, Position]:
            return self.locate(file, configured_in, kind, name, pointer, rendered)

        return locate

    def locate(self, file: Path | None, configured_in: Path | None, kind: str, name: str,
               pointer: str, rendered: Mapping[str, Any]) -> tuple[str, Position]:
        original = self._original(file, kind, name) if file is not None else None
        names = {name} | ({_name(original.data)} if original is not None else set())
        chain = self.graph.chain_to(self.root, file) if file is not None else [self.root]
        if not any(pointer == p or pointer.startswith(p + "/") for p in _IDENTITY) and pointer:
            for node in chain:
                for patch in reversed(node.patches):
                    found = _covered(patch, kind, names, pointer, rendered)
                    if found is not None:
                        document, at = found
                        if patch.path is not None:
                            return self.display(patch.path), document.position(at)
                        written = node.document.position(patch.entry) if node.document \
                            else FILE_START  # inline: where the patch is written
                        return self.display(node.file), written
        if original is not None and file is not None:
            return self.display(file), original.position(pointer)
        if configured_in is not None:
            return self.display(configured_in), FILE_START
        return self.display(self.root.file), FILE_START

    def _original(self, file: Path, kind: str, name: str) -> Document | None:
        """The document in ``file`` the object was rendered from: its kind, and the longest
        name that the rendered name contains (prefixes and suffixes are added by the build)."""
        best: Document | None = None
        for document in self.files.documents(file):
            data = document.data
            if not isinstance(data, Mapping) or data.get("kind") != kind:
                continue
            own = _name(data)
            if own and own in name and (best is None or len(own) > len(_name(best.data))):
                best = document
        return best


def _name(data: Any) -> str:
    metadata = data.get("metadata") if isinstance(data, Mapping) else None
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return name if isinstance(name, str) else ""


def _every_file(graph: KustomizationGraph) -> Iterator[Path]:
    for node in graph.nodes.values():
        yield node.file
        yield from node.local_files
        yield from (p.path for p in node.patches if p.path is not None)


def _targets(patch: Patch, kind: str, names: set[str], data: Any) -> bool:
    if patch.target_kind is not None or patch.target_name is not None:
        if patch.target_kind is not None and patch.target_kind != kind:
            return False
        if patch.target_name is not None:
            try:
                pattern = re.compile(patch.target_name)
            except re.error:
                return patch.target_name in names
            return any(pattern.fullmatch(n) for n in names)
        return True
    return isinstance(data, Mapping) and data.get("kind") == kind and _name(data) in names


def _covered(patch: Patch, kind: str, names: set[str], pointer: str,
             rendered: Mapping[str, Any]) -> tuple[Document, str] | None:
    """The patch document and the pointer in it that set the value at ``pointer``, if any: the
    patch targets the object, sets that value (or a list or value above it), and the rendered
    object holds what the patch wrote there (so a patch whose target istiolint matches too
    loosely, or whose value a later patch replaced, is passed over)."""
    for document in reversed(patch.documents):
        data = document.data
        if patch.json6902:
            if isinstance(data, list) and _targets(patch, kind, names, None):
                found = _covering_operation(data, pointer, rendered)
                if found is not None:
                    return document, found
        elif _targets(patch, kind, names, data) and _sets(data, pointer, rendered):
            return document, pointer
    return None


_ABSENT = object()


def _at(data: Any, tokens: Sequence[str]) -> Any:
    value = data
    for token in tokens:
        if isinstance(value, Mapping) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return _ABSENT
    return value


def _sets(data: Any, pointer: str, rendered: Mapping[str, Any]) -> bool:
    """Whether a strategic-merge patch set the value at ``pointer`` (or a list or value above
    it, which replaces what the base had), as the rendered object shows."""
    tokens = split_pointer(pointer)
    value = data
    for depth, token in enumerate(tokens):
        if not isinstance(value, Mapping):
            return bool(value == _at(rendered, tokens[:depth]))
        if token not in value:
            return False
        value = value[token]
    return isinstance(value, Mapping) or bool(value == _at(rendered, tokens))


def _covering_operation(operations: list[Any], pointer: str, rendered: Mapping[str, Any]
                        ) -> str | None:
    for index in reversed(range(len(operations))):
        operation = operations[index]
        if not isinstance(operation, Mapping) or operation.get("op") not in ("add", "replace"):
            continue
        path = operation.get("path")
        if isinstance(path, str) and (pointer == path or pointer.startswith(path + "/")) and \
                operation.get("value") == _at(rendered, split_pointer(path)):
            return f"/{index}/value{pointer[len(path):]}"
    return None
