"""Go standard-library parsers that the Kubernetes CEL libraries call.

The Kubernetes API server evaluates CRD validation rules with cel-go, whose conversions call Go's
``strconv.ParseInt``, ``time.ParseDuration`` and ``net/url.ParseRequestURI``. Python's own parsers
accept different inputs (``int(" 1_0")``, ``"1d"``), so the pieces the rules depend on are
re-implemented here, byte for byte on the UTF-8 encoding as Go does.
"""

from __future__ import annotations

import ipaddress
import re

__all__ = ["GoError", "go_quote", "parse_duration", "parse_int", "parse_request_uri_scheme"]


class GoError(ValueError):
    """A parse error, with Go's wording where the callers show it."""


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n",
            "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(data: str | bytes) -> str:
    """Quote like Go's ``strconv.Quote`` (invalid UTF-8 bytes become ``\\xNN``)."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    out = ['"']
    for ch in raw.decode("utf-8", "surrogateescape"):
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that was not valid UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


# --- strconv.ParseInt(s, 10, 64) --------------------------------------------------------------

_INT_RE = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def parse_int(text: str) -> int:
    """``strconv.ParseInt(text, 10, 64)``: ASCII digits, optional sign, no spaces or ``_``."""
    if not _INT_RE.fullmatch(text):
        raise GoError(f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax")
    value = int(text)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise GoError(f"strconv.ParseInt: parsing {go_quote(text)}: value out of range")
    return value


# --- time.ParseDuration -----------------------------------------------------------------------

_UNITS = {
    b"ns": 1,
    b"us": 1_000,
    "µs".encode(): 1_000,  # U+00B5 micro sign
    "μs".encode(): 1_000,  # U+03BC Greek small letter mu
    b"ms": 1_000_000,
    b"s": 1_000_000_000,
    b"m": 60_000_000_000,
    b"h": 3_600_000_000_000,
}
_DIGITS = b"0123456789"


def _leading_int(s: bytes) -> tuple[int, bytes]:
    x, i = 0, 0
    while i < len(s) and s[i] in _DIGITS:
        if x > (1 << 63) // 10:
            raise GoError("time: bad [0-9]*")
        x = x * 10 + s[i] - 0x30
        if x > 1 << 63:
            raise GoError("time: bad [0-9]*")
        i += 1
    return x, s[i:]


def _leading_fraction(s: bytes) -> tuple[int, float, bytes]:
    x, scale, i, overflow = 0, 1.0, 0, False
    while i < len(s) and s[i] in _DIGITS:
        if not overflow:
            y = x * 10 + s[i] - 0x30
            if x > ((1 << 63) - 1) // 10 or y > 1 << 63:
                overflow = True
            else:
                x, scale = y, scale * 10
        i += 1
    return x, scale, s[i:]


def parse_duration(text: str) -> int:
    """``time.ParseDuration``: the duration in nanoseconds, or GoError."""
    invalid = GoError(f"time: invalid duration {go_quote(text)}")
    s = text.encode("utf-8", "surrogatepass")
    neg = False
    if s[:1] in (b"-", b"+"):
        neg, s = s[:1] == b"-", s[1:]
    if s == b"0":
        return 0
    if not s:
        raise invalid
    total = 0
    while s:
        if s[0] not in b"." + _DIGITS:
            raise invalid
        before = len(s)
        try:
            v, s = _leading_int(s)
        except GoError:
            raise invalid from None
        pre = before != len(s)
        f, scale, post = 0, 1.0, False
        if s[:1] == b".":
            s = s[1:]
            before = len(s)
            f, scale, s = _leading_fraction(s)
            post = before != len(s)
        if not pre and not post:
            raise invalid
        i = 0
        while i < len(s) and s[i] not in b"." + _DIGITS:
            i += 1
        if i == 0:
            raise GoError(f"time: missing unit in duration {go_quote(text)}")
        unit_name, s = s[:i], s[i:]
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise GoError(f"time: unknown unit {go_quote(unit_name)} in duration {go_quote(text)}")
        if v > (1 << 63) // unit:
            raise invalid
        v *= unit
        if f > 0:
            v += int(float(f) * (float(unit) / scale))
            if v > 1 << 63:
                raise invalid
        total += v
        if total > 1 << 63:
            raise invalid
    if neg:
        return -total
    if total > _INT64_MAX:
        raise invalid
    return total


# --- net/url.ParseRequestURI ------------------------------------------------------------------

_HOST, _ZONE, _OTHER = "host", "zone", "other"
_HEX = b"0123456789abcdefABCDEF"
_HOST_OK = frozenset(b"!$&'()*+,;=:[]<>\"-_.~")
_USERINFO_OK = frozenset("-._:~!$&'()*+,;=%@")


def _host_safe(c: int) -> bool:
    """Not escaped by Go's ``shouldEscape(c, encodeHost)``: ASCII only."""
    return c < 0x80 and (chr(c).isalnum() or c in _HOST_OK)


def _unescape_check(s: bytes, mode: str) -> bytes:
    """Go's ``unescape`` validity checks; returns the unescaped bytes."""
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == 0x25:  # '%'
            if i + 2 >= len(s) or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                raise GoError(f"invalid URL escape {go_quote(s[i:i + 3])}")
            v = int(s[i + 1:i + 3], 16)
            if mode == _HOST and v < 0x80 and s[i:i + 3] != b"%25":
                raise GoError(f"invalid URL escape {go_quote(s[i:i + 3])}")
            if mode == _ZONE and s[i:i + 3] != b"%25" and v != 0x20 and not _host_safe(v):
                raise GoError(f"invalid URL escape {go_quote(s[i:i + 3])}")
            out.append(v)
            i += 3
            continue
        if mode in (_HOST, _ZONE) and c < 0x80 and not _host_safe(c):
            raise GoError(f"invalid character {go_quote(bytes([c]))} in host name")
        out.append(c)
        i += 1
    return bytes(out)


def _valid_optional_port(port: bytes) -> bool:
    return port == b"" or (port[:1] == b":" and all(c in _DIGITS for c in port[1:]))


def _check_ip_literal(hostname: bytes) -> None:
    text = hostname.decode("utf-8", "surrogateescape")
    try:
        if text.endswith("%"):
            raise ValueError("zone must be a non-empty string")
        ipaddress.IPv6Address(text)
    except ValueError as err:
        try:
            ipaddress.IPv4Address(text)
        except ValueError:
            raise GoError(f"invalid host: ParseAddr({go_quote(text)}): {err}") from None
        raise GoError("invalid IP-literal") from None


def _parse_host(scheme: str, host: bytes) -> None:
    open_idx = host.rfind(b"[")
    if open_idx > 0:
        raise GoError("invalid IP-literal")
    if open_idx == 0:
        close_idx = host.rfind(b"]")
        if close_idx < 0:
            raise GoError("missing ']' in host")
        colon_port = host[close_idx + 1:]
        if not _valid_optional_port(colon_port):
            raise GoError(f"invalid port {go_quote(colon_port)} after host")
        hostname = host[1:close_idx]
        zone = hostname.find(b"%25")
        if zone >= 0:
            unescaped = (_unescape_check(hostname[:zone], _HOST)
                         + _unescape_check(hostname[zone:], _ZONE))
        else:
            unescaped = _unescape_check(hostname, _HOST)
        _check_ip_literal(unescaped)
        return
    first = host.find(b":")
    if first >= 0:
        last = host.rfind(b":")
        # Go enforces "the first colon starts the port" for http and https only.
        idx = first if scheme in ("http", "https") else last
        colon_port = host[idx:]
        if not _valid_optional_port(colon_port):
            raise GoError(f"invalid port {go_quote(colon_port)} after host")
    _unescape_check(host, _HOST)


def _parse_authority(scheme: str, authority: bytes) -> None:
    at = authority.rfind(b"@")
    _parse_host(scheme, authority[at + 1:])
    if at < 0:
        return
    userinfo = authority[:at].decode("utf-8", "surrogateescape")
    if not all((ch.isascii() and ch.isalnum()) or ch in _USERINFO_OK for ch in userinfo):
        raise GoError("net/url: invalid userinfo")
    for part in authority[:at].split(b":", 1):
        _unescape_check(part, _OTHER)


def _split_scheme(raw: bytes) -> tuple[str, bytes]:
    for i, c in enumerate(raw):
        if 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A:
            continue
        if c in b"0123456789+-.":
            if i == 0:
                return "", raw
            continue
        if c == 0x3A:  # ':'
            if i == 0:
                raise GoError("missing protocol scheme")
            return raw[:i].decode("ascii").lower(), raw[i + 1:]
        return "", raw
    return "", raw


def _parse_request_uri(raw: bytes) -> str:
    if any(c < 0x20 or c == 0x7F for c in raw):
        raise GoError("net/url: invalid control character in URL")
    if raw == b"":
        raise GoError("empty url")
    if raw == b"*":
        return ""
    scheme, rest = _split_scheme(raw)
    rest = rest.split(b"?", 1)[0]  # the query is not validated
    if not rest.startswith(b"/"):
        if scheme:
            return scheme  # an opaque URI such as "mailto:x"
        raise GoError("invalid URI for request")
    if scheme and rest.startswith(b"//"):
        authority, slash, path = rest[2:].partition(b"/")
        _parse_authority(scheme, authority)
        rest = slash + path
    _unescape_check(rest, _OTHER)
    return scheme


def parse_request_uri_scheme(raw: str) -> str:
    """The (lower-case) scheme of ``url.ParseRequestURI(raw)``, '' for a path, or GoError.

    The error text is Go's ``*url.Error`` text, e.g. ``parse "x": invalid URI for request``.
    """
    try:
        return _parse_request_uri(raw.encode("utf-8", "surrogatepass"))
    except GoError as err:
        raise GoError(f"parse {go_quote(raw)}: {err}") from None
