"""The entry points of istiolint's plugin groups (checks, reporters), remembered between runs.

Importing ``importlib.metadata`` and reading every installed distribution's metadata costs
15-20 ms even in a small virtual environment (a twentieth of a warm pre-commit hook), and more
beside many packages. So the cache directory keeps, for each group, which ``entry_points.txt``
files declare it, under a key made of ``sys.path`` and the modification time of each of its
entries (as stevedore does for OpenStack's command lines): installing, upgrading or removing
a distribution adds or removes a directory in one of them, and the metadata is read again.
The files themselves are read on every run, so an edit to one is seen, and a tampered cache
can only name entry points that an installed distribution declares. ``--no-cache`` lists the
entry points with importlib.metadata every time, and keeps nothing.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

from istiolint.cache import cache_dir, read_memo, write_memo

CACHE_FILE = "entry-points.json"
FORMAT = 2
ENTRY_POINTS_FILE = "entry_points.txt"
METADATA_DIRECTORIES = (".dist-info", ".egg-info")
# what importlib.metadata accepts as an entry point's value: "module:attr.attr [extras]"
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attrs>[\w.]+)\s*)?(\[.*\]\s*)?$")


class PluginEntry(NamedTuple):
    name: str
    value: str

    def load(self) -> Any:
        """The object the entry point names, as ``importlib.metadata.EntryPoint.load``."""
        matched = _VALUE.match(self.value)
        if matched is None:
            raise ValueError(f"malformed entry point value {self.value!r}")
        found: Any = importlib.import_module(matched["module"])
        for attribute in (matched["attrs"] or "").split("."):
            if attribute:
                found = getattr(found, attribute)
        return found


def entry_points_of(group: str) -> list[PluginEntry]:
    """The installed entry points of ``group``, in the order importlib.metadata lists them."""
    directory = cache_dir()
    if directory is None:
        return _listed(group)
    key = _path_key()
    stored = read_memo(directory, CACHE_FILE, key)
    files = stored if isinstance(stored, dict) else None
    declared = files.get(group) if files is not None else None
    if isinstance(declared, list):
        found = _declared(declared, group)
        if found is not None:
            return found
    found, declaring = _scan(group)
    if files is None or group not in files or declared != declaring:
        write_memo(directory, CACHE_FILE, key, {**(files or {}), group: declaring})
    return found


def _listed(group: str) -> list[PluginEntry]:
    """The entry points of ``group`` as importlib.metadata lists them (reading all metadata)."""
    from importlib.metadata import entry_points  # noqa: PLC0415

    return [PluginEntry(entry.name, entry.value) for entry in entry_points(group=group)]


def _scan(group: str) -> tuple[list[PluginEntry], list[str] | None]:
    """The entry points, and the files that declare them (None when they cannot be told, or
    reading them alone would not give the same list)."""
    found = _listed(group)
    for declaring in (_files_declaring, _files_recorded):
        files = declaring(group)
        if files is not None and _declared(files, group) == found:
            return found, files
    return found, None


def _files_declaring(group: str) -> list[str]:
    """The ``entry_points.txt`` files on ``sys.path`` that declare ``group``, in the order
    importlib.metadata reads them: path entry by path entry, the first distribution of a name
    hiding the others."""
    files: list[str] = []
    seen: set[str] = set()
    for entry in sys.path:
        place = os.path.abspath(entry or ".")
        try:
            names = os.listdir(place)
        except OSError:  # a missing directory, or a zip file (left to _files_recorded)
            continue
        for name in names:
            if not name.lower().endswith(METADATA_DIRECTORIES):
                continue
            distribution = _normalized(name.lower().rpartition(".")[0].partition("-")[0])
            if distribution in seen:
                continue
            seen.add(distribution)
            path = os.path.join(place, name, ENTRY_POINTS_FILE)
            try:
                with open(path, encoding="utf-8") as stream:
                    declares = bool(_section(stream.read(), group))
            except (OSError, UnicodeDecodeError):
                continue
            if declares:
                files.append(path)
    return files


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name)


def _files_recorded(group: str) -> list[str] | None:
    """The declaring files as the distributions' RECORDs name them (slower: every RECORD is
    read); None when a distribution has none."""
    from importlib.metadata import entry_points  # noqa: PLC0415

    files: list[str] = []
    for entry in entry_points(group=group):
        listed = [f for f in (entry.dist.files or []) if f.name == ENTRY_POINTS_FILE] \
            if entry.dist is not None else []
        if not listed:
            return None
        path = os.path.abspath(listed[0].locate())
        if path not in files:
            files.append(path)
    return files


def _declared(files: Sequence[object], group: str) -> list[PluginEntry] | None:
    """The entry points of ``group`` in ``files``, each the metadata of a distribution on
    ``sys.path``; None when one is not, or cannot be read."""
    places = {os.path.abspath(entry or ".") for entry in sys.path}
    found: list[PluginEntry] = []
    for path in files:
        if not isinstance(path, str) or os.path.basename(path) != ENTRY_POINTS_FILE:
            return None
        metadata = os.path.dirname(path)
        if not metadata.endswith(METADATA_DIRECTORIES) or \
                os.path.dirname(metadata) not in places:
            return None
        try:
            with open(path, encoding="utf-8") as stream:
                found.extend(_section(stream.read(), group))
        except (OSError, UnicodeDecodeError):
            return None
    return found


def _section(text: str, group: str) -> list[PluginEntry]:
    """The entries of one section of an ``entry_points.txt``, read as importlib.metadata reads
    it."""
    entries, current = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == group and "=" in line:
            name, _, value = line.partition("=")
            entries.append(PluginEntry(name.strip(), value.strip()))
    return entries


def _path_key() -> list[object]:
    stamps: list[object] = [FORMAT, sys.version]
    for entry in sys.path:
        try:
            stamps.append([entry, os.stat(entry or ".").st_mtime_ns])
        except (OSError, ValueError):
            stamps.append([entry, None])
    return stamps
