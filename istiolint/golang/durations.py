"""Go's ``time.ParseDuration``, with its error texts."""

from __future__ import annotations

from istiolint.golang.errors import GoError
from istiolint.golang.text import go_bytes

__all__ = ["parse_duration"]

_UNITS = {
    b"ns": 1,
    b"us": 1_000,
    "\u00b5s".encode(): 1_000,  # micro sign
    "\u03bcs".encode(): 1_000,  # Greek small letter mu
    b"ms": 1_000_000,
    b"s": 1_000_000_000,
    b"m": 60_000_000_000,
    b"h": 3_600_000_000_000,
}
_LIMIT = 1 << 63  # Go accumulates in a uint64 and allows up to 1<<63 (for -1<<63)
_DIGITS = b"0123456789"
_NUMBER_START = b"." + _DIGITS


def _time_quote(data: bytes) -> str:
    """The private ``quote`` of Go's ``time`` package, which its parse errors use.

    Unlike ``strconv.Quote`` it escapes only ``"`` and ``\\``, and writes every character
    outside printable ASCII (below U+0020 or above U+007F) as the ``\\xNN`` of its bytes.
    """
    out = ['"']
    for char in data.decode("utf-8", "surrogateescape"):
        code = ord(char)
        if 0x20 <= code < 0x80:
            out.append("\\" + char if char in ('"', "\\") else char)
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that is not valid UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        else:
            out.append("".join(f"\\x{byte:02x}" for byte in char.encode("utf-8")))
    out.append('"')
    return "".join(out)


def _invalid(original: bytes) -> GoError:
    return GoError(f"time: invalid duration {_time_quote(original)}")


def _leading_int(data: bytes, start: int) -> tuple[int, int] | None:
    """``leadingInt``: the value of the digits at ``start`` and where they end; None on overflow."""
    value, index = 0, start
    while index < len(data) and data[index] in _DIGITS:
        if value > _LIMIT // 10:
            return None
        value = value * 10 + data[index] - 0x30
        if value > _LIMIT:
            return None
        index += 1
    return value, index


def _leading_fraction(data: bytes, start: int) -> tuple[int, float, int]:
    """``leadingFraction``: digits, their scale and where they end; stops adding on overflow."""
    value, scale, index, overflow = 0, 1.0, start, False
    while index < len(data) and data[index] in _DIGITS:
        if not overflow:
            following = value * 10 + data[index] - 0x30
            if value > (_LIMIT - 1) // 10 or following > _LIMIT:
                overflow = True
            else:
                value, scale = following, scale * 10
        index += 1
    return value, scale, index


def parse_duration(text: str) -> int:
    """Go's ``time.ParseDuration``: the duration in nanoseconds, or :class:`GoError`.

    An optional sign, then one or more ``<number><unit>`` parts where the number may have a
    fraction (``1.5h``, ``300ms``, ``1h2m3.5s``); a bare ``0`` is allowed. Units are ``ns``,
    ``us`` (or ``µs``, ``μs``), ``ms``, ``s``, ``m`` and ``h``. Fractions go through the same
    float64 arithmetic as in Go, so sub-nanosecond parts are truncated the same way. The
    errors are Go's: ``time: invalid duration "x"``, ``time: missing unit in duration "x"``
    and ``time: unknown unit "u" in duration "x"``.
    """
    original = go_bytes(text)
    data = original
    negative = False
    if data[:1] in (b"-", b"+"):
        negative = data[:1] == b"-"
        data = data[1:]
    if data == b"0":
        return 0
    if not data:
        raise _invalid(original)
    total = 0
    index = 0
    while index < len(data):
        if data[index] not in _NUMBER_START:
            raise _invalid(original)
        leading = _leading_int(data, index)
        if leading is None:
            raise _invalid(original)
        whole, end = leading
        has_whole = end > index
        index = end
        fraction, scale, has_fraction = 0, 1.0, False
        if index < len(data) and data[index] == ord("."):
            fraction, scale, end = _leading_fraction(data, index + 1)
            has_fraction = end > index + 1
            index = end
        if not has_whole and not has_fraction:
            raise _invalid(original)  # no digits, as in ".s"
        end = index
        while end < len(data) and data[end] not in _NUMBER_START:
            end += 1
        if end == index:
            raise GoError(f"time: missing unit in duration {_time_quote(original)}")
        name = data[index:end]
        index = end
        unit = _UNITS.get(name)
        if unit is None:
            raise GoError(
                f"time: unknown unit {_time_quote(name)} in duration {_time_quote(original)}"
            )
        if whole > _LIMIT // unit:
            raise _invalid(original)
        whole *= unit
        if fraction > 0:
            # float64 keeps fractions of hours nanosecond-accurate, as in Go
            whole += int(float(fraction) * (float(unit) / scale))
            if whole > _LIMIT:
                raise _invalid(original)
        total += whole
        if total > _LIMIT:
            raise _invalid(original)
    if negative:
        return -total
    if total > _LIMIT - 1:
        raise _invalid(original)
    return total
