"""How a Go program sees a Python string: as the bytes of its UTF-8 encoding.

A string istiolint reads from a document stands for the Go string that Go's decoders
(``encoding/json``, ``sigs.k8s.io/yaml``) produce for the same input. Those decoders turn an
escaped lone surrogate (``"\\ud800"``) into U+FFFD, so :func:`go_bytes` does the same; any other
code point is encoded as UTF-8.
"""

from __future__ import annotations

import re

__all__ = ["byte_len", "go_bytes"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def go_bytes(text: str | bytes) -> bytes:
    """The bytes of the Go string ``text`` stands for (``bytes`` are returned unchanged)."""
    if isinstance(text, bytes):
        return text
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: Go's decoders hold U+FFFD there
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def byte_len(text: str) -> int:
    """Go's ``len(s)``: the length of the string in bytes."""
    return len(go_bytes(text))
