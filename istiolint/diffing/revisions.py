"""A git revision's manifests, read with git's plumbing: no checkout, no index, no hooks, and
nothing written to disk."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from istiolint.errors import UsageError
from istiolint.trees import is_candidate

_SYMLINK_MODE = "120000"
_GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}


@dataclass(frozen=True)
class Revision:
    name: str  # as the user wrote it
    commit: str


def _git(args: list[str], cwd: Path, *, stdin: bytes | None = None) -> bytes:
    try:
        completed = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True,
                                   check=False, env={**os.environ, **_GIT_ENV}, timeout=300)
    except FileNotFoundError as exc:
        raise UsageError("git was not found on PATH; --base and --head read revisions with "
                         "git") from exc
    except subprocess.TimeoutExpired as exc:
        raise UsageError(f"git {args[0]} took longer than 5 minutes") from exc
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]} failed: {message[0] if message else 'no message'}")
    return completed.stdout


def work_tree_root(cwd: Path) -> Path:
    try:
        top = _git(["rev-parse", "--show-toplevel"], cwd)
    except UsageError as exc:
        raise UsageError(f"{cwd} is not inside a git work tree, which --base and --head "
                         "need") from exc
    return Path(top.decode("utf-8", "surrogateescape").strip())


def resolve(name: str, cwd: Path) -> Revision:
    if name.startswith("-"):
        raise UsageError(f"invalid revision {name!r}")
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options",
                       f"{name}^{{commit}}"], cwd)
    except UsageError as exc:
        raise UsageError(f"unknown revision {name!r}: no such branch, tag or commit "
                         "(in CI, fetch the history, e.g. actions/checkout with "
                         "fetch-depth: 0)") from exc
    return Revision(name, commit.decode().strip())


class GitTree:
    """A revision's files as if checked out at ``root`` (the work tree's top level): listed
    with ``git ls-tree`` and read with one ``git cat-file --batch`` for all the files a run
    needs. Only a kustomize build (``--render kustomize``) needs files on disk: those of the
    kustomization directories are written to a temporary directory, never to the work tree."""

    def __init__(self, repository: Path, revision: Revision, root: Path) -> None:
        self.repository = repository
        self.revision = revision
        listing = _git(["ls-tree", "-r", "-z", "--full-tree", revision.commit], repository)
        self._entries: dict[Path, tuple[str, str]] = {}
        self._directories: set[Path] = {root}
        for record in listing.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, blob = meta.decode().split()
            relative = PurePosixPath(raw_path.decode("utf-8", "surrogateescape"))
            if kind != "blob" or ".." in relative.parts:
                continue
            path = root.joinpath(*relative.parts)
            self._entries[path] = (mode, blob)
            self._directories.update(path.parents)
        self._contents: dict[Path, bytes] = {}
        self._root = root
        self._disk: Path | None = None
        self._written: set[Path] = set()

    @staticmethod
    def _key(path: str | Path) -> Path:
        return Path(os.path.normpath(path))

    def is_file(self, path: Path) -> bool:
        return self._key(path) in self._entries

    def is_dir(self, path: Path) -> bool:
        return self._key(path) in self._directories

    def manifests_under(self, root: Path) -> list[str]:
        root = self._key(root)
        return [str(path) for path in sorted(
            path for path in self._entries if root in path.parents and is_candidate(path.name))]

    def unsafe_link(self, path: str, root: Path) -> str | None:
        mode, _ = self._entries[self._key(path)]
        return "symbolic link in the revision (links are not followed there)" \
            if mode == _SYMLINK_MODE else None

    def known_blob_id(self, path: str | Path) -> str | None:
        entry = self._entries.get(self._key(path))
        return entry[1] if entry else None

    def read_bytes(self, path: str | Path) -> bytes:
        key = self._key(path)
        if key not in self._entries:
            raise FileNotFoundError(f"{path} is not in {self.revision.name}")
        if key not in self._contents:
            self.prefetch([key])
        return self._contents[key]

    def disk_root(self, directories: Iterable[Path]) -> tuple[Path, Path]:
        """The revision's files below ``directories`` written to a temporary directory (removed
        with this tree), links left out; the work tree is never touched."""
        if self._disk is None:
            self._disk = Path(tempfile.mkdtemp(prefix="istiolint-revision-"))
            weakref.finalize(self, shutil.rmtree, self._disk, ignore_errors=True)
        wanted = [self._key(d) for d in directories]
        files = [path for path, (mode, _) in self._entries.items() if mode != _SYMLINK_MODE
                 and path not in self._written and any(d in path.parents for d in wanted)]
        self.prefetch(files)
        for path in files:
            target = self._disk / path.relative_to(self._root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self._contents[path])
            self._written.add(path)
        return self._root, self._disk

    def prefetch(self, paths: Iterable[str | Path]) -> None:
        wanted = [key for key in map(self._key, paths)
                  if key in self._entries and key not in self._contents]
        if not wanted:
            return
        request = b"".join(self._entries[key][1].encode() + b"\n" for key in wanted)
        output = _git(["cat-file", "--batch"], self.repository, stdin=request)
        offset = 0
        for key in wanted:
            header_end = output.index(b"\n", offset)
            size = int(output[offset:header_end].split()[2])
            self._contents[key] = output[header_end + 1:header_end + 1 + size]
            offset = header_end + 1 + size + 1
