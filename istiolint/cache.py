"""Where istiolint may keep reusable work between runs (like ruff's and mypy's caches).

``$ISTIOLINT_CACHE_DIR``, else ``$XDG_CACHE_HOME/istiolint``, else ``~/.cache/istiolint``; one
subdirectory per istiolint version. ``--no-cache`` or ``ISTIOLINT_NO_CACHE=1`` turns it off.
Nothing is ever written anywhere else.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from istiolint import __version__

NO_CACHE_ENV = "ISTIOLINT_NO_CACHE"


def cache_dir() -> Path | None:
    """The cache directory, created on demand; None when caching is off or impossible."""
    if os.environ.get(NO_CACHE_ENV, "").lower() in ("1", "true", "yes"):
        return None
    base = os.environ.get("ISTIOLINT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "istiolint")
    directory = Path(base) / __version__
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return directory


def read_memo(directory: Path, name: str, key: object) -> object | None:
    """The value of the memo ``name`` when it was stored under ``key`` (a list of JSON values);
    None when it is missing, damaged, or stored under another key."""
    try:
        with open(directory / name, encoding="utf-8") as stream:
            stored = json.load(stream)
    except (OSError, ValueError):  # missing, half-written by an older version, or edited
        return None
    return stored.get("value") if isinstance(stored, dict) and stored.get("key") == key \
        else None


def write_memo(directory: Path, name: str, key: object, value: object) -> None:
    """Keep ``value`` (JSON) under ``key``; a memo that cannot be written is simply not kept."""
    with contextlib.suppress(OSError, TypeError, ValueError):
        write_atomically(directory / name,
                         json.dumps({"key": key, "value": value}).encode("utf-8"))


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``target`` through a temporary file and a rename, so that concurrent runs never
    see half a file and the last one wins; raises OSError, and then leaves nothing behind."""
    handle, temporary = _new_temporary(target)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _new_temporary(target: Path) -> tuple[int, str]:
    """A new file beside ``target``, only ours (what tempfile.mkstemp does, without importing
    tempfile, shutil and random on the pre-commit hook's path)."""
    for _ in range(_TEMPORARY_ATTEMPTS):
        name = os.path.join(target.parent, f".{target.name}.{os.urandom(6).hex()}")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused temporary name beside {target}")


_TEMPORARY_ATTEMPTS = 100
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
