"""What a manifest tree is read from: the file system, or (for ``diff``) a git revision.

Discovery and loading ask a :class:`Tree` instead of the file system, so a revision is linted
exactly like the work tree without writing it out.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def is_candidate(name: str) -> bool:
    return name.endswith(MANIFEST_SUFFIXES) or name in KUSTOMIZATION_NAMES


def blob_id(content: bytes) -> str:
    """git's object id of a file with this content (so work-tree files and revision files can
    be recognised as the same without reading the revision's)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


class Tree(Protocol):
    def is_file(self, path: Path) -> bool: ...

    def is_dir(self, path: Path) -> bool: ...

    def manifests_under(self, root: Path) -> list[str]:
        """Candidate files below ``root``: absolute, normal path names, sorted as paths sort
        (:func:`path_order`; hidden ones are filtered by the caller). Names, not ``Path``
        objects: most of a large tree's files are never read in a run that reuses results."""
        ...

    def unsafe_link(self, path: str, root: Path) -> str | None:
        """Why ``path`` must not be read, or None."""
        ...

    def read_bytes(self, path: str | Path) -> bytes: ...

    def known_blob_id(self, path: str | Path) -> str | None:
        """The content's git object id when it is known without reading the content."""
        ...

    def prefetch(self, paths: Iterable[str | Path]) -> None:
        """A hint that ``paths`` are about to be read (to read them in one go)."""
        ...

    def disk_root(self, directories: Iterable[Path]) -> tuple[Path, Path]:
        """``(tree root, disk root)``: the files below ``directories`` exist on disk, a path
        ``P`` of the tree at ``disk root / P.relative_to(tree root)`` (for tools that read the
        disk, such as kustomize)."""
        ...


# (size, mtime, inode, ctime, when hashed, blob id) of a file, all times in nanoseconds
StatRecord = tuple[int, int, int, int, int, str]
RACY_NS = 2_000_000_000  # a file changed this close to its hashing may have changed since


class FileSystemTree:
    def __init__(self, *, use_git: bool = True) -> None:
        self.use_git = use_git
        # what files looked like when they were last hashed (kept in the cache directory), so
        # that an unchanged file need not be read again to know its blob id, as git's index
        self.stat_records: dict[str, StatRecord] | None = None
        # what the last walk saw of its files (a directory entry tells without a system call)
        self._links: set[str] = set()
        self._not_links: set[str] = set()

    def is_file(self, path: Path) -> bool:
        return path.is_file()

    def is_dir(self, path: Path) -> bool:
        return path.is_dir()

    def manifests_under(self, root: Path) -> list[str]:
        listed = _git_files(root) if self.use_git else None
        if listed is not None:
            return listed
        found: list[str] = []
        links, not_links = self._links, self._not_links
        pending = [str(root)]
        while pending:  # os.walk without followlinks, keeping what the entries say of links
            directory = pending.pop()
            try:
                with os.scandir(directory) as entries:
                    for entry in entries:
                        name = entry.name
                        if entry.is_dir(follow_symlinks=False):
                            if not name.startswith("."):
                                pending.append(entry.path)
                        elif name.endswith(MANIFEST_SUFFIXES) or name in KUSTOMIZATION_NAMES:
                            path = entry.path
                            found.append(path)
                            (links if entry.is_symlink() else not_links).add(path)
            except OSError:  # unreadable, or gone since it was listed: as os.walk does
                continue
        found.sort(key=path_order)
        return found

    def unsafe_link(self, path: str, root: Path) -> str | None:
        """A symlink loop, or a link that leaves the scanned tree. Only the file itself can be
        a link: neither the walk nor git descend into linked directories."""
        if path in self._not_links or not os.path.islink(path):
            return None
        try:
            target = Path(path).resolve(strict=True)
        except (OSError, RuntimeError):
            return "symlink loop or dangling symlink"
        if not target.is_relative_to(root.resolve()):
            return "symlink points outside the scanned directory"
        if not target.is_file():
            return "symlink to a directory (linked directories are not followed)"
        return None

    def read_bytes(self, path: str | Path) -> bytes:
        with open(path, "rb") as stream:
            return stream.read()

    def known_blob_id(self, path: str | Path) -> str | None:
        """The blob id hashed earlier, when the file still looks the same and did not change
        within ``RACY_NS`` before it was hashed (a later change may share its timestamps)."""
        if self.stat_records is None:
            return None
        name = os.fspath(path)
        record = self.stat_records.get(name)
        if record is None:
            return None
        try:
            now = os.stat(name)
        except OSError:
            return None
        size, mtime, inode, ctime, hashed, blob = record
        same = (now.st_size, now.st_mtime_ns, now.st_ino, now.st_ctime_ns) == \
            (size, mtime, inode, ctime)
        return blob if same and max(mtime, ctime) < hashed - RACY_NS else None

    def read_identified(self, path: str | Path) -> tuple[bytes, str]:
        """The file's bytes and blob id, remembered with how the file looked before reading."""
        name = os.fspath(path)
        before = os.stat(name)
        hashed = time.time_ns()
        raw = self.read_bytes(name)
        blob = blob_id(raw)
        if self.stat_records is not None:
            self.stat_records[name] = (before.st_size, before.st_mtime_ns, before.st_ino,
                                            before.st_ctime_ns, hashed, blob)
        return raw, blob

    def prefetch(self, paths: Iterable[str | Path]) -> None:
        pass

    def disk_root(self, directories: Iterable[Path]) -> tuple[Path, Path]:
        return Path("/"), Path("/")


def path_order(name: str) -> str:
    """Paths sort by their parts, as ``Path`` objects do ("a/b" before "a-b"): as if the
    separator came before every character a name can hold."""
    return name.replace(os.sep, "\0")


def _git_files(root: Path) -> list[str] | None:
    """The candidate files git lists below ``root`` (tracked, and untracked but not ignored),
    sorted; None when ``root`` is not in a work tree or is itself ignored (then it is walked)."""
    environment = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:  # both questions at once: each costs a process
        listing = subprocess.Popen(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment)
    except OSError:
        return None
    try:
        ignored = subprocess.Popen(["git", "check-ignore", "-q", "."], cwd=root,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=environment)
    except OSError:
        ignored = None
    try:
        output, _ = listing.communicate(timeout=60)
        ignored_code = ignored.wait(timeout=60) if ignored is not None else 1
    except subprocess.TimeoutExpired:
        for process in (listing, ignored):
            if process is not None:
                process.kill()
                process.wait()
        return None
    if listing.returncode != 0 or ignored_code == 0:
        return None
    base = str(root).rstrip(os.sep) + os.sep
    # deleted files are still listed; links that lead nowhere are kept (and skipped, with why)
    found = [base + (name if os.sep == "/" else name.replace("/", os.sep))
             for name in output.decode("utf-8", "surrogateescape").split("\0")
             if name and is_candidate(name.rpartition("/")[2])]
    found = [name for name in found if os.path.lexists(name)]
    found.sort(key=path_order)
    return found
