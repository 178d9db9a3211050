"""Where manifests come from: files and directory trees (git-aware) and standard input."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from istiolint.directives import Directive, MalformedDirective, scan_directives
from istiolint.documents import Document, LoadProblem, WantsDocument, parse_stream
from istiolint.globs import PathMatcher
from istiolint.positions import Position
from istiolint.trees import (
    KUSTOMIZATION_NAMES,
    MANIFEST_SUFFIXES,
    FileSystemTree,
    Tree,
    path_order,
)

STDIN = "-"
# documents that may be shown in another file (rendered output mapped back to its sources),
# given the stream's text and its documents: istiolint.helm.rendered_by_helm
DocumentOrigins = Callable[[str, list[Document]], list[Document]]


@dataclass
class SourceFile:
    """One input file: the documents istiolint wants from it and what went wrong reading it."""

    path: str
    documents: list[Document] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    total_documents: int = 0
    directives: list[Directive] = field(default_factory=list)
    malformed_directives: list[MalformedDirective] = field(default_factory=list)


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)  # absolute, normal path names
    skipped: list[Skipped] = field(default_factory=list)
    kustomizations: list[Path] = field(default_factory=list)  # found, and never linted as such


def display_path(path: Path | str, cwd: Path) -> str:
    """The path as findings show it: relative to the working directory when inside it."""
    return PathDisplay(cwd)(path)


class PathDisplay:
    """:func:`display_path` for many paths under one working directory: a path that is
    already absolute and normal (what discovery yields) is cut, not normalised again."""

    def __init__(self, cwd: Path) -> None:
        self._cwd = cwd
        self._base = os.path.normpath(cwd)
        self._prefix = self._base.rstrip(os.sep) + os.sep
        self._normal_prefix = self._prefix if os.path.isabs(self._base) else None
        self._not_normal = (f"{os.sep}.", os.sep * 2)

    def __call__(self, path: Path | str) -> str:
        name = os.fspath(path)
        if self._normal_prefix is not None and name.startswith(self._normal_prefix) and \
                not name.endswith(os.sep) and \
                not any(part in name for part in self._not_normal):
            shown = name[len(self._prefix):]
        else:
            absolute = os.path.normpath(os.path.join(self._cwd, name))
            if absolute == self._base:
                return "."
            shown = absolute[len(self._prefix):] if absolute.startswith(self._prefix) \
                else absolute
        if not shown.isascii():  # a name's bytes that are not UTF-8 (lone surrogates): \udcff
            shown = shown.encode("utf-8", "backslashreplace").decode("utf-8")
        return shown.replace(os.sep, "/") if os.sep != "/" else shown


def discover(paths: Sequence[str], cwd: Path, exclude: PathMatcher, *,
             use_git: bool = True, tree: Tree | None = None) -> Discovery:
    """Every manifest file under ``paths``, sorted, without duplicates.

    Directories are walked through git when they sit in a work tree (so ``.gitignore`` holds
    below them; a directory that is itself ignored is walked in full, since it was named),
    otherwise through the file system. Hidden entries are skipped, symlinks that lead out of the
    scanned root are never followed, and files a ``kustomization.yaml`` uses as patches or that
    are Helm chart templates are not linted as standalone objects. ``tree`` reads something
    else than the file system (a git revision) the same way.
    """
    tree = tree or FileSystemTree(use_git=use_git)
    shown = PathDisplay(cwd)
    result = Discovery()
    seen: set[str] = set()
    hidden = f"{os.sep}."
    for raw in paths:
        root = Path(os.path.normpath(raw if os.path.isabs(raw) else os.path.join(cwd, raw)))
        if tree.is_file(root):
            _add(result, seen, root)
        elif tree.is_dir(root):
            prefix = len(str(root).rstrip(os.sep)) + 1
            for name in tree.manifests_under(root):
                relative = name[prefix:]
                if not relative or relative.startswith(".") or hidden in relative:
                    continue
                if exclude and exclude.matches(shown(name)):
                    continue
                reason = tree.unsafe_link(name, root)
                if reason:
                    result.skipped.append(Skipped(shown(name), reason))
                elif name not in seen:  # below a normalised root: normalised
                    seen.add(name)
                    result.files.append(name)
        else:
            raise FileNotFoundError(f"no such file or directory: {raw}")
    result.files = _without_kustomize_patches_and_chart_templates(result, shown, tree)
    return result


def _add(result: Discovery, seen: set[str], path: Path) -> None:
    name = os.path.normpath(path)
    if name not in seen:
        seen.add(name)
        result.files.append(name)


_KUSTOMIZATION_ENDINGS = tuple(KUSTOMIZATION_NAMES)


def _without_kustomize_patches_and_chart_templates(result: Discovery, shown: PathDisplay,
                                                   tree: Tree) -> list[str]:
    excluded: dict[str, str] = {}
    templates = f"{os.sep}templates{os.sep}"
    for name in result.files:
        if name.endswith(_KUSTOMIZATION_ENDINGS) and \
                os.path.basename(name) in KUSTOMIZATION_NAMES:
            excluded[name] = "kustomization file"
            result.kustomizations.append(Path(name))
            for patch in _kustomize_patch_files(Path(name), tree):
                excluded.setdefault(str(patch), f"patch listed in {shown(name)}")
        if templates in name and name.endswith(MANIFEST_SUFFIXES):
            directory = os.path.dirname(name)
            if os.path.basename(directory) == "templates" and \
                    tree.is_file(Path(os.path.dirname(directory), "Chart.yaml")):
                excluded[name] = \
                    "Helm template (lint its output: helm template | istiolint check -)"
    for name, reason in sorted(excluded.items(), key=lambda item: path_order(item[0])):
        if os.path.basename(name) not in KUSTOMIZATION_NAMES:
            result.skipped.append(Skipped(shown(name), reason))
    return [name for name in result.files if name not in excluded] if excluded else \
        result.files


def _kustomize_patch_files(kustomization: Path, tree: Tree) -> list[Path]:
    try:
        text, _ = decode(tree.read_bytes(kustomization))
    except OSError:
        return []
    # read like a manifest: no tags constructed, and nothing too deep or too large
    documents = parse_stream(text, lambda api_version, kind: True).documents if text else []
    data = documents[0].data if len(documents) == 1 else None
    if not isinstance(data, dict):
        return []
    names: list[object] = []
    for key in ("patchesStrategicMerge", "patches", "patchesJson6902"):
        entries = data.get(key)
        if isinstance(entries, list):
            names.extend(e.get("path") if isinstance(e, dict) else e for e in entries)
    base = kustomization.parent
    return [Path(os.path.normpath(base / name)) for name in names
            if isinstance(name, str) and "\n" not in name and not name.startswith("/")]


def read_source(path: str | Path, shown_as: str, wants: WantsDocument,
                tree: Tree | None = None, *, fast: bool = True) -> SourceFile:
    try:
        raw = (tree or FileSystemTree()).read_bytes(path)
    except OSError as exc:
        return _unreadable(shown_as, exc.strerror or str(exc))
    return parse_source(raw, shown_as, wants, fast=fast)


def parse_source(raw: bytes, shown_as: str, wants: WantsDocument, *,
                 origins: DocumentOrigins | None = None, fast: bool = True) -> SourceFile:
    """The source of a file's bytes. ``fast``: the fast reader may read it (see
    :mod:`istiolint.fast_reader`; importing rapidyaml costs what reading some 40 files with
    it saves)."""
    text, problem = decode(raw)
    if text is None:
        source = SourceFile(shown_as)
        source.problems.append(problem or LoadProblem("IL004", Position.point(1, 1),
                                                      {"reason": "unreadable"}))
        return source
    # origins (Helm's) read where each document starts in its node tree
    parsed = parse_stream(text, wants, keep_nodes=origins is not None or not fast)
    documents = parsed.documents if origins is None else origins(text, parsed.documents)
    directives, malformed = scan_directives(text)
    return SourceFile(shown_as, documents, parsed.problems, parsed.total_documents,
                      directives, malformed)


def _unreadable(shown_as: str, reason: str) -> SourceFile:
    source = SourceFile(shown_as)
    source.problems.append(LoadProblem("IL004", Position.point(1, 1), {"reason": reason}))
    return source


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def decode(raw: bytes) -> tuple[str | None, LoadProblem | None]:
    """Decode a manifest as Kubernetes does: UTF-8, or UTF-16/32 announced by a byte order mark."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(encoding), None
            except UnicodeDecodeError as exc:
                return None, _decode_problem(raw, exc, encoding)
    if b"\0" in raw[:8192]:
        return None, LoadProblem("IL004", Position.point(1, 1),
                                 {"reason": "binary content (NUL bytes), not a YAML or JSON text"})
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, _decode_problem(raw, exc, "utf-8")


def _decode_problem(raw: bytes, exc: UnicodeDecodeError, encoding: str) -> LoadProblem:
    good = raw[: exc.start].decode(encoding, "replace")
    line = good.count("\n") + 1
    column = len(good) - (good.rfind("\n") + 1) + 1
    byte = raw[exc.start: exc.start + 1].hex()
    return LoadProblem("IL004", Position.point(line, column), {
        "reason": f"not valid {encoding.upper()} (byte 0x{byte}); Kubernetes manifests must be "
                  "UTF-8 encoded"})
