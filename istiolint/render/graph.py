"""The kustomizations of a tree as a graph: what each one reads, which are roots (overlays), and
what a build would fetch or run before anything is built.

Read with istiolint's own YAML loader (no tag constructed, depth and size bounded), through a
:class:`~istiolint.trees.Tree`, so a git revision is read like the work tree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from istiolint.documents import Document, parse_stream
from istiolint.sources import decode
from istiolint.trees import KUSTOMIZATION_NAMES, Tree

# entries a kustomization builds from: local files or directories, or remote targets
_BUILD_INPUTS = ("resources", "bases", "components")
_PATCH_LISTS = ("patches", "patchesStrategicMerge", "patchesJson6902")
# lists whose entries configure plugins (builtin ones excepted) or run helm
_PLUGIN_LISTS = ("generators", "transformers", "validators")
_HELM_KEYS = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://|^git@|^(github|gitlab|bitbucket)\.(com|org)/")


@dataclass(frozen=True)
class Patch:
    """One patch of a kustomization: its file (None when inline) and documents, whether it is
    a JSON 6902 patch, and its explicit target (kind, name pattern), if any."""

    path: Path | None
    documents: tuple[Document, ...]
    json6902: bool
    target_kind: str | None = None
    target_name: str | None = None
    entry: str = ""  # its pointer in the kustomization (where an inline patch is written)


@dataclass
class Kustomization:
    directory: Path
    file: Path
    data: Mapping[str, Any]
    document: Document | None
    local_dirs: list[Path] = field(default_factory=list)  # kustomizations it builds on
    local_files: list[Path] = field(default_factory=list)  # resource files it reads
    remote: list[tuple[str, str]] = field(default_factory=list)  # (pointer, entry)
    plugins: list[tuple[str, str]] = field(default_factory=list)  # (pointer, why)
    patches: list[Patch] = field(default_factory=list)
    configurations: list[Path] = field(default_factory=list)  # plugin configuration files


def kustomization_file(directory: Path, tree: Tree) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        if tree.is_file(directory / name):
            return directory / name
    return None


def read_documents(path: Path, tree: Tree) -> tuple[Document, ...] | None:
    try:
        text, _ = decode(tree.read_bytes(path))
    except OSError:
        return None
    if text is None:
        return None
    return tuple(parse_stream(text, lambda api_version, kind: True).documents)


class KustomizationGraph:
    """Every kustomization reachable from the given directories, read once."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.nodes: dict[Path, Kustomization] = {}

    def add(self, directory: Path) -> Kustomization | None:
        """Read the kustomization in ``directory`` and everything it builds on."""
        directory = Path(os.path.normpath(directory))
        if directory in self.nodes:
            return self.nodes[directory]
        file = kustomization_file(directory, self.tree)
        if file is None:
            return None
        documents = read_documents(file, self.tree) or ()
        data = documents[0].data if len(documents) == 1 else None
        node = Kustomization(directory, file, data if isinstance(data, Mapping) else {},
                             documents[0] if documents else None)
        self.nodes[directory] = node
        self._read_inputs(node)
        self._read_patches(node)
        self._read_plugins(node)
        for child in list(node.local_dirs):
            self.add(child)
        return node

    def _entries(self, node: Kustomization, key: str) -> Iterator[tuple[str, Any]]:
        entries = node.data.get(key)
        if isinstance(entries, list):
            for index, entry in enumerate(entries):
                yield f"/{key}/{index}", entry

    def _read_inputs(self, node: Kustomization) -> None:
        for key in _BUILD_INPUTS:
            for pointer, entry in self._entries(node, key):
                if not isinstance(entry, str) or not entry.strip():
                    continue  # the build refuses it
                target = Path(os.path.normpath(node.directory / entry))
                if _URL.search(entry) or not (self.tree.is_dir(target) or
                                              self.tree.is_file(target)):
                    node.remote.append((pointer, entry))
                elif self.tree.is_dir(target):
                    node.local_dirs.append(target)
                else:
                    node.local_files.append(target)

    def _read_patches(self, node: Kustomization) -> None:
        for key in _PATCH_LISTS:
            for pointer, entry in self._entries(node, key):
                patch = self._patch(node, key, entry, pointer)
                if patch is not None:  # else the build refuses it, or findings skip it
                    node.patches.append(patch)

    def _patch(self, node: Kustomization, key: str, entry: Any, pointer: str) -> Patch | None:
        target: Mapping[str, Any] = {}
        inline: str | None = None
        path: Path | None = None
        if isinstance(entry, str) and key == "patchesStrategicMerge" and "\n" in entry:
            inline = entry
        elif isinstance(entry, str):
            path = Path(os.path.normpath(node.directory / entry))
        elif isinstance(entry, Mapping):
            raw_target = entry.get("target")
            target = raw_target if isinstance(raw_target, Mapping) else {}
            if isinstance(entry.get("path"), str):
                path = Path(os.path.normpath(node.directory / entry["path"]))
            elif isinstance(entry.get("patch"), str):
                inline = entry["patch"]
        if path is None and inline is None:
            return None
        documents = read_documents(path, self.tree) if path is not None else \
            tuple(parse_stream(inline or "", lambda api_version, kind: True).documents)
        if documents is None:
            return None
        json6902 = key == "patchesJson6902" or (len(documents) == 1 and
                                               isinstance(documents[0].data, list))
        kind, name = target.get("kind"), target.get("name")
        return Patch(path, documents, json6902, kind if isinstance(kind, str) else None,
                     name if isinstance(name, str) else None,
                     pointer if isinstance(entry, str) else f"{pointer}/patch")

    def _read_plugins(self, node: Kustomization) -> None:
        for key in _HELM_KEYS:
            if node.data.get(key):
                node.plugins.append((f"/{key}", "inflating Helm charts runs helm"))
        for key in _PLUGIN_LISTS:
            for pointer, entry in self._entries(node, key):
                if not self._builtin(node, entry):
                    node.plugins.append((pointer, f"'{key}' entries that are not builtin run "
                                                  "plugins (programs or containers)"))

    def _builtin(self, node: Kustomization, entry: Any) -> bool:
        """Only configurations of kustomize's builtin plugins are safe to build."""
        if not isinstance(entry, str):
            return False
        path = Path(os.path.normpath(node.directory / entry))
        if self.tree.is_file(path):
            node.configurations.append(path)
        if "\n" in entry:
            documents: tuple[Document, ...] | None = tuple(
                parse_stream(entry, lambda api_version, kind: True).documents)
        elif self.tree.is_file(path):
            documents = read_documents(path, self.tree)
        else:  # a directory of configurations, or something to fetch: not vetted
            return False
        return bool(documents) and all(
            isinstance(d.data, Mapping) and d.data.get("apiVersion") == "builtin" and
            not _function_annotation(d.data) for d in documents or ())

    def roots(self, named: Sequence[Path]) -> list[Kustomization]:
        """The kustomizations to build: those named, and those no other one builds on."""
        used = {child for node in self.nodes.values() for child in node.local_dirs}
        chosen = [self.nodes[d] for d in named if d in self.nodes]
        chosen += [node for directory, node in sorted(self.nodes.items())
                   if directory not in used and node not in chosen]
        return chosen

    def reachable(self, root: Kustomization) -> list[Kustomization]:
        """``root`` and everything it builds on, depth first (each once)."""
        order: list[Kustomization] = []
        seen: set[Path] = set()
        pending = [root]
        while pending:
            node = pending.pop()
            if node.directory in seen:
                continue
            seen.add(node.directory)
            order.append(node)
            pending.extend(self.nodes[d] for d in reversed(node.local_dirs) if d in self.nodes)
        return order

    def chain_to(self, root: Kustomization, file: Path) -> list[Kustomization]:
        """The kustomizations from ``root`` down to the one that reads ``file`` (outermost
        first); just ``root`` when none does."""
        def walk(node: Kustomization, seen: frozenset[Path]) -> list[Kustomization] | None:
            if file in node.local_files:
                return [node]
            for child in node.local_dirs:
                below = self.nodes.get(child)
                if below is not None and child not in seen:
                    found = walk(below, seen | {child})
                    if found is not None:
                        return [node, *found]
            return None

        return walk(root, frozenset({root.directory})) or [root]


def _function_annotation(data: Mapping[str, Any]) -> bool:
    metadata = data.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    return isinstance(annotations, Mapping) and any(
        key in annotations for key in ("config.kubernetes.io/function",
                                       "config.k8s.io/function"))
