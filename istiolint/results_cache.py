"""Results kept between runs, in istiolint's cache directory (like ruff's and mypy's caches).

Two levels, both keyed by what the results depend on (istiolint's own code and data, the Istio
release, the settings and the rules that run):

- every file's parse and per-file checks, by path and content (git's blob id), so a run after
  an edit processes only the files that changed;
- a whole run's findings, by the inputs and every file's path and content, so a run with
  nothing changed only reads and hashes the files.

Writes are atomic (a temporary file, then a rename), so concurrent runs never see half a file
and the last one wins. A cache file that cannot be read for any reason is ignored (and then
replaced). Reading uses an unpickler that builds istiolint's own types and plain containers
only, so a tampered cache file cannot make istiolint import or call anything else.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from istiolint import __version__
from istiolint.cache import cache_dir, write_atomically

_PACKAGE = Path(__file__).resolve().parent
_SAFE_BUILTINS = frozenset({"set", "frozenset", "slice", "complex", "bytearray", "range"})
FORMAT = 2
SHARDS = 64  # file results are spread over this many files: an edit rewrites one or two
KEEP_CONFIGS = 4  # file results of this many configurations (select, Istio release...) stay
KEEP_RUNS = 16


class _OwnTypesOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "istiolint" or module.startswith("istiolint.") or (
                module == "builtins" and name in _SAFE_BUILTINS) or (
                module in ("pathlib", "posixpath") and name in ("PosixPath", "PurePosixPath")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not an istiolint type")


def code_fingerprint() -> str:
    """What istiolint's own code and data look like on disk (sizes and modification times):
    an edit to istiolint invalidates the cache even without a new version number."""
    digest = hashlib.sha256(f"{FORMAT}|{__version__}".encode())
    roots = [_PACKAGE] + [p for p in (_PACKAGE.parent / "rules", _PACKAGE.parent / "schemas",
                                      _PACKAGE / "_data") if p.is_dir()]
    for root in roots:
        for directory, subdirs, files in os.walk(root):
            subdirs.sort()
            for name in sorted(files):
                if name.endswith((".py", ".yaml", ".json")):
                    stat = os.stat(os.path.join(directory, name))
                    digest.update(f"{directory}/{name}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:24]


def key_of(parts: Iterable[object]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
    return digest.hexdigest()[:32]


class ResultCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._shard_keys: dict[tuple[str, int], set[tuple[str, str]]] = {}  # what was read

    @classmethod
    def open(cls) -> ResultCache | None:
        directory = cache_dir()
        if directory is None:
            return None
        results = directory / "results"
        try:
            results.mkdir(exist_ok=True)
        except OSError:
            return None
        return cls(results)

    def load(self, name: str) -> Any:
        try:
            raw = (self.directory / f"{name}.pickle").read_bytes()
            return _OwnTypesOnly(io.BytesIO(raw)).load()
        except Exception:  # missing, truncated, tampered or from another version: a miss
            return None

    def load_files(self, config: str, shards: Iterable[int] | None = None
                   ) -> dict[tuple[str, str], Any]:
        """The file results remembered under ``config`` (in ``shards``, or all), by (shown
        path, blob id)."""
        remembered: dict[tuple[str, str], Any] = {}
        for shard in range(SHARDS) if shards is None else sorted(set(shards)):
            loaded = self.load(f"files-{config}-{shard:02d}")
            entries = loaded if isinstance(loaded, dict) else {}
            self._shard_keys[config, shard] = set(entries)
            remembered.update(entries)
        return remembered

    def store_files(self, config: str, results: dict[tuple[str, str], Any],
                    shard_of: Callable[[tuple[str, str]], int]) -> None:
        """Remember ``results``, each in the shard ``shard_of(key)`` names (results read
        together are kept together). A shard that :meth:`load_files` read is written when its
        keys changed; one it did not read keeps what it holds, and gains the new results."""
        shards: list[dict[tuple[str, str], Any]] = [{} for _ in range(SHARDS)]
        for key, value in results.items():
            shards[shard_of(key) % SHARDS][key] = value
        for index, entries in enumerate(shards):
            name = f"files-{config}-{index:02d}"
            before = self._shard_keys.get((config, index))
            if before is None and entries:
                kept = self.load(name)
                self.store(name, {**(kept if isinstance(kept, dict) else {}), **entries})
            elif before is not None and set(entries) != before:
                self.store(name, entries)
            else:  # in use: the shards of a configuration are pruned together, by last use
                with contextlib.suppress(OSError):
                    os.utime(self.directory / f"{name}.pickle")

    def touch_files(self, config: str) -> None:
        """Mark the file results of ``config`` as used (a run answered from the run cache
        keeps them from being pruned)."""
        for index in range(SHARDS):
            with contextlib.suppress(OSError):
                os.utime(self.directory / f"files-{config}-{index:02d}.pickle")

    def prune(self) -> None:
        """Keep the cache directory from growing with every configuration and input: the
        file results of the ``KEEP_CONFIGS`` configurations used last, the last
        ``KEEP_RUNS`` runs."""
        self._prune("files-", KEEP_CONFIGS, group=lambda name: name.rsplit("-", 1)[0])
        self._prune("run-", KEEP_RUNS, group=lambda name: name)
        self._prune("stats-", KEEP_RUNS, group=lambda name: name)
        self._prune("footprints-", KEEP_CONFIGS, group=lambda name: name)
        self._prune("memo-", KEEP_CONFIGS, group=lambda name: name)

    def _prune(self, prefix: str, keep: int, *, group: Callable[[str], str]) -> None:
        with contextlib.suppress(OSError):
            used: dict[str, int] = {}
            members: dict[str, list[str]] = {}
            for entry in os.scandir(self.directory):
                if entry.name.startswith(prefix) and entry.name.endswith(".pickle"):
                    key = group(entry.name.removesuffix(".pickle"))
                    used[key] = max(used.get(key, 0), entry.stat().st_mtime_ns)
                    members.setdefault(key, []).append(entry.path)
            for key in sorted(used, key=used.__getitem__, reverse=True)[keep:]:
                for path in members[key]:
                    with contextlib.suppress(OSError):
                        os.unlink(path)

    def store(self, name: str, value: object) -> None:
        with contextlib.suppress(OSError, pickle.PicklingError, RecursionError, TypeError):
            write_atomically(self.directory / f"{name}.pickle",
                             pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def shard_of(home: str) -> int:
    """The shard of the file results kept under ``home`` (a namespace, or a path)."""
    digest = hashlib.blake2b(home.encode("utf-8", "surrogateescape"), digest_size=2)
    return int.from_bytes(digest.digest(), "big") % SHARDS
