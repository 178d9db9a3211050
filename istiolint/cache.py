"""Where istiolint may keep reusable work between runs (like ruff's and mypy's caches).

``$ISTIOLINT_CACHE_DIR``, else ``$XDG_CACHE_HOME/istiolint``, else ``~/.cache/istiolint``; one
subdirectory per istiolint version. ``--no-cache`` or ``ISTIOLINT_NO_CACHE=1`` turns it off.
Nothing is ever written anywhere else.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
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


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``target`` through a temporary file and a rename, so that concurrent runs never
    see half a file and the last one wins; raises OSError, and then leaves nothing behind."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
