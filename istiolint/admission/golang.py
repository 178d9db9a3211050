"""Small pieces of Go standard-library behaviour that Istio's messages and checks depend on.

Only what the admission checks need: Go's ``%q`` quoting, ``strconv`` integer and boolean
parsing (with their error texts), ``time.ParseDuration`` and the list format of
``hashicorp/go-multierror``.
"""

from __future__ import annotations

import unicodedata

_SIMPLE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _printable(char: str) -> bool:
    # Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    return char == " " or unicodedata.category(char)[0] in "LMNPS"


def quote(text: str) -> str:
    """Go's ``strconv.Quote`` (what ``%q`` prints for a string)."""
    out = ['"']
    for original in text:
        # A lone surrogate cannot come out of Go's JSON decoder: it becomes U+FFFD.
        char = "\ufffd" if 0xD800 <= ord(original) <= 0xDFFF else original
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif _printable(char):
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


def quote_byte(byte: int) -> str:
    """How Go's JSON scanner names an offending byte in its syntax errors."""
    if byte == ord("'"):
        return "'\\''"
    if byte == ord('"'):
        return "'\"'"
    quoted = quote(chr(byte))
    return "'" + quoted[1:-1] + "'"


def byte_len(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes, as Go's ``len`` counts it."""
    return len(text.encode("utf-8", "surrogatepass"))


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


def parse_bool_error(text: str) -> str | None:
    """The error of Go's ``strconv.ParseBool(text)``, or ``None`` when it parses."""
    if text in _BOOL_WORDS:
        return None
    return f"strconv.ParseBool: parsing {quote(text)}: invalid syntax"


def parse_uint(text: str, bits: int, func: str = "ParseUint") -> tuple[int | None, str | None]:
    """Go's ``strconv.ParseUint(text, 10, bits)``: ``(value, None)`` or ``(None, error)``."""
    limit = (1 << bits) - 1
    if not text:
        return None, f"strconv.{func}: parsing {quote(text)}: invalid syntax"
    value = 0
    for char in text:
        if not "0" <= char <= "9":
            return None, f"strconv.{func}: parsing {quote(text)}: invalid syntax"
        value = value * 10 + (ord(char) - ord("0"))
        if value > limit:
            return None, f"strconv.{func}: parsing {quote(text)}: value out of range"
    return value, None


def atoi_digits(text: str) -> tuple[int | None, str | None]:
    """Go's ``strconv.Atoi`` for a string made only of ASCII digits (64-bit ``int``)."""
    return parse_uint(text, 63, "Atoi")


def multierror_text(messages: list[str]) -> str:
    """How a ``*multierror.Error`` prints when it is formatted into another message."""
    if len(messages) == 1:
        return f"1 error occurred:\n\t* {messages[0]}\n\n"
    points = "\n\t".join(f"* {message}" for message in messages)
    return f"{len(messages)} errors occurred:\n\t{points}\n\n"


_NANOSECOND = 1
_UNITS = {
    "ns": _NANOSECOND,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek small letter mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_INT64_OVERFLOW = 1 << 63


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def parse_duration(text: str) -> int | None:
    """Go's ``time.ParseDuration``: the duration in nanoseconds, or ``None`` if it is invalid.

    Accepts what Go accepts: an optional sign, then one or more ``<number><unit>`` parts where
    the number may have a fraction (``1.5h``, ``300ms``, ``1h2m3.5s``); a bare ``0`` is allowed.
    The fraction is applied with the same float arithmetic as Go, so sub-nanosecond parts are
    truncated the same way.
    """
    rest = text
    negative = False
    if rest and rest[0] in "+-":
        negative = rest[0] == "-"
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        return None
    total = 0
    while rest:
        if not (rest[0] == "." or _is_digit(rest[0])):
            return None
        # Integer part.
        end = 0
        whole = 0
        while end < len(rest) and _is_digit(rest[end]):
            if whole > _INT64_OVERFLOW // 10:
                return None
            whole = whole * 10 + int(rest[end])
            if whole > _INT64_OVERFLOW:
                return None
            end += 1
        has_whole = end > 0
        rest = rest[end:]
        # Fraction part.
        fraction = 0
        scale = 1.0
        has_fraction = False
        if rest.startswith("."):
            rest = rest[1:]
            end = 0
            overflowed = False
            while end < len(rest) and _is_digit(rest[end]):
                if not overflowed:
                    if fraction > (_INT64_OVERFLOW - 1) // 10:
                        overflowed = True
                    else:
                        candidate = fraction * 10 + int(rest[end])
                        if candidate > _INT64_OVERFLOW:
                            overflowed = True
                        else:
                            fraction = candidate
                            scale *= 10
                end += 1
            has_fraction = end > 0
            rest = rest[end:]
        if not has_whole and not has_fraction:
            return None
        # Unit.
        end = 0
        while end < len(rest) and not (rest[end] == "." or _is_digit(rest[end])):
            end += 1
        if end == 0:
            return None
        unit = _UNITS.get(rest[:end])
        if unit is None:
            return None
        rest = rest[end:]
        if whole > _INT64_OVERFLOW // unit:
            return None
        whole *= unit
        if fraction > 0:
            whole += int(float(fraction) * (float(unit) / scale))
            if whole > _INT64_OVERFLOW:
                return None
        total += whole
        if total > _INT64_OVERFLOW:
            return None
    if negative:
        return -total
    if total > _INT64_OVERFLOW - 1:
        return None
    return total
