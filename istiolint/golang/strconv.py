"""Go's ``strconv``: ``%q`` quoting, and integer and boolean parsing with their error texts.

The parse functions raise :class:`~istiolint.golang.errors.GoError` with the text of Go's
``*strconv.NumError``: ``strconv.<Func>: parsing "<input>": invalid syntax`` or
``... value out of range``. Only base 10 is supported, the only base Istio and Kubernetes use.
"""

from __future__ import annotations

import unicodedata

from istiolint.golang.errors import GoError
from istiolint.golang.text import go_bytes

__all__ = ["atoi", "parse_bool", "parse_int", "parse_uint", "quote", "quote_char"]

_SIMPLE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}
# Characters that decoding with "surrogateescape" makes of bytes that are not valid UTF-8.
_BAD_BYTE_LOW, _BAD_BYTE_HIGH = 0xDC80, 0xDCFF


def _is_print(char: str) -> bool:
    """Go's ``strconv.IsPrint``: letters, marks, numbers, punctuation, symbols, ASCII space."""
    return char == " " or unicodedata.category(char)[0] in "LMNPS"


def quote(text: str | bytes) -> str:
    """Go's ``strconv.Quote``, which is also what ``%q`` prints for a string.

    ``"`` and ``\\`` are escaped, printable characters kept, ``\\a \\b \\f \\n \\r \\t \\v``
    written as such, other control characters as ``\\xNN``, other non-printable characters as
    ``\\uNNNN`` or ``\\UNNNNNNNN``, and every byte that is not part of valid UTF-8 as ``\\xNN``.
    A ``str`` is quoted as the Go string it stands for (:func:`~istiolint.golang.text.go_bytes`).
    """
    out = ['"']
    for char in go_bytes(text).decode("utf-8", "surrogateescape"):
        code = ord(char)
        if _BAD_BYTE_LOW <= code <= _BAD_BYTE_HIGH:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char in ('"', "\\"):
            out.append("\\" + char)
        elif _is_print(char):
            out.append(char)
        elif char in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def quote_char(byte: int) -> str:
    """``quoteChar`` of Go's ``encoding/json`` scanner: how its syntax errors name a byte.

    ``'x'`` with the escapes of :func:`quote`, except that ``'`` and ``"`` are written
    ``'\\''`` and ``'"'``. Like Go's ``string(c)``, a byte of 0x80 or more stands for the code
    point of that value, not for a raw byte.
    """
    if byte == ord("'"):
        return "'\\''"
    if byte == ord('"'):
        return "'\"'"
    return "'" + quote(chr(byte))[1:-1] + "'"


def _num_error(func: str, text: str, reason: str) -> GoError:
    """The ``*strconv.NumError`` for ``text``."""
    return GoError(f"strconv.{func}: parsing {quote(text)}: {reason}")


_SYNTAX = "invalid syntax"
_RANGE = "value out of range"


def _scan_decimal(text: str, limit: int) -> tuple[int, str | None]:
    """The core of Go's ``ParseUint`` in base 10: ``(value, None)`` or ``(0, reason)``.

    As in Go, a value past ``limit`` is out of range at once, before the rest of the text is
    looked at; a non-digit before that point (or an empty text) is a syntax error.
    """
    if not text:
        return 0, _SYNTAX
    value = 0
    for char in text:
        if not "0" <= char <= "9":
            return 0, _SYNTAX
        value = value * 10 + (ord(char) - ord("0"))
        if value > limit:
            return 0, _RANGE
    return value, None


def parse_uint(text: str, bits: int = 64) -> int:
    """Go's ``strconv.ParseUint(text, 10, bits)``: ASCII digits only, no sign."""
    value, reason = _scan_decimal(text, (1 << bits) - 1)
    if reason is not None:
        raise _num_error("ParseUint", text, reason)
    return value


def _parse_signed(text: str, bits: int, func: str) -> int:
    """Go's ``ParseInt`` in base 10, its errors naming ``func``."""
    negative = text[:1] == "-"
    digits = text[1:] if text[:1] in ("+", "-") else text
    magnitude, reason = _scan_decimal(digits, (1 << bits) - 1)
    if reason == _SYNTAX:
        raise _num_error(func, text, _SYNTAX)
    cutoff = 1 << (bits - 1)
    if reason == _RANGE or magnitude > cutoff or (magnitude == cutoff and not negative):
        raise _num_error(func, text, _RANGE)
    return -magnitude if negative else magnitude


def parse_int(text: str, bits: int = 64) -> int:
    """Go's ``strconv.ParseInt(text, 10, bits)``: an optional sign, then ASCII digits."""
    return _parse_signed(text, bits, "ParseInt")


def atoi(text: str) -> int:
    """Go's ``strconv.Atoi`` on a 64-bit platform: ``ParseInt(text, 10, 64)`` named ``Atoi``."""
    return _parse_signed(text, 64, "Atoi")


_BOOL_WORDS = {
    "1": True,
    "t": True,
    "T": True,
    "TRUE": True,
    "true": True,
    "True": True,
    "0": False,
    "f": False,
    "F": False,
    "FALSE": False,
    "false": False,
    "False": False,
}


def parse_bool(text: str) -> bool:
    """Go's ``strconv.ParseBool``: one of ``1 t T TRUE true True 0 f F FALSE false False``."""
    try:
        return _BOOL_WORDS[text]
    except KeyError:
        raise _num_error("ParseBool", text, _SYNTAX) from None
