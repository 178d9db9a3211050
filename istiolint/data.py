"""Locate the data istiolint ships: ``schemas/`` and ``rules/``.

A wheel carries them inside the package (``istiolint/_data``); a source checkout or an editable
install reads them from the repository root.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"istiolint's {name}/ directory is missing from this installation")
