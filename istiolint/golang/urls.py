"""Go's ``net/url`` parser: ``url.Parse`` and ``url.ParseRequestURI``, with their error texts.

Both entry points follow Go's ``parse``: control characters, the scheme, the query cut, opaque
URIs, the authority (userinfo, host with an optional ``[IPv6]`` literal and ``:port``) and the
percent-escapes of every component. As in Go 1.25.2 and later, a bracketed host must be an IPv6
address (checked by :func:`istiolint.golang.netip.parse_addr`) and ``[`` may only open the host.

Go 1.26 added the ``urlstrictcolons`` setting: when on, the *first* colon of an ``http`` or
``https`` host starts the port, so ``http://a:1:2`` is rejected. It is on by default for
programs whose ``go.mod`` declares Go 1.26 or later, and off for older ones; the callers say
which applies through ``strict_colons``.

Failures raise :class:`~istiolint.golang.errors.GoError` with the text of Go's ``*url.Error``:
``parse "<url>": <reason>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from istiolint.golang.errors import GoError
from istiolint.golang.netip import parse_addr
from istiolint.golang.strconv import quote
from istiolint.golang.text import go_bytes

__all__ = ["URL", "parse", "parse_request_uri"]


@dataclass(frozen=True)
class URL:
    """What istiolint reads of a parsed ``*url.URL``."""

    scheme: str  # URL.Scheme, lower-cased
    host: bytes  # URL.Host: host or host:port, unescaped; b"" without an authority

    def port(self) -> str:
        """``URL.Port()``: the digits after the host's last colon, or ``""``."""
        colon = self.host.rfind(b":")
        if colon < 0 or not _valid_optional_port(self.host[colon:]):
            return ""
        return self.host[colon + 1 :].decode("ascii")


# The escaping modes of Go's unescape that behave differently.
_OTHER, _HOST, _ZONE = "other", "host", "zone"

_HEX = b"0123456789abcdefABCDEF"
_DIGITS = b"0123456789"
_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Bytes Go's shouldEscape(c, encodeHost) leaves alone: sub-delims, ':', '[', ']', '<', '>',
# '"' and the unreserved marks.
_HOST_SAFE = _ALNUM | frozenset(b"!$&'()*+,;=:[]<>\"-_.~")
_USERINFO_SAFE = _ALNUM | frozenset(b"-._:~!$&'()*+,;=%@")


def _host_safe(byte: int) -> bool:
    """Not escaped by Go's ``shouldEscape(byte, encodeHost)`` (so: an ASCII byte)."""
    return byte in _HOST_SAFE


def _escape_error(escape: bytes) -> GoError:
    """Go's ``EscapeError``."""
    return GoError(f"invalid URL escape {quote(escape)}")


def _unescape(data: bytes, mode: str) -> bytes:
    """Go's ``unescape``: validate the escapes of one URL component; return it decoded.

    In the host, ``%XX`` may only encode a non-ASCII byte (or be ``%25``); in an IPv6 zone it
    may encode a space or a byte a host may hold; both reject ASCII bytes a host may not hold.
    """
    out = bytearray()
    index = 0
    while index < len(data):
        byte = data[index]
        if byte == ord("%"):
            escape = data[index : index + 3]
            if len(escape) < 3 or escape[1] not in _HEX or escape[2] not in _HEX:
                raise _escape_error(escape)
            value = int(escape[1:], 16)
            if mode == _HOST and value < 0x80 and escape != b"%25":
                raise _escape_error(escape)
            if mode == _ZONE and escape != b"%25" and value != 0x20 and not _host_safe(value):
                raise _escape_error(escape)
            out.append(value)
            index += 3
            continue
        if mode in (_HOST, _ZONE) and byte < 0x80 and not _host_safe(byte):
            raise GoError(f"invalid character {quote(bytes([byte]))} in host name")
        out.append(byte)
        index += 1
    return bytes(out)


def _valid_optional_port(port: bytes) -> bool:
    """Go's ``validOptionalPort``: empty, or a colon and digits."""
    return port == b"" or (port[:1] == b":" and all(byte in _DIGITS for byte in port[1:]))


def _parse_host(scheme: str, host: bytes, strict_colons: bool) -> bytes:
    """Go's ``parseHost``: check ``host[:port]`` and return it unescaped."""
    bracket = host.rfind(b"[")
    if bracket > 0:
        raise GoError("invalid IP-literal")
    if bracket == 0:
        close = host.rfind(b"]")
        if close < 0:
            raise GoError("missing ']' in host")
        port = host[close + 1 :]
        if not _valid_optional_port(port):
            raise GoError(f"invalid port {quote(port)} after host")
        literal = host[1:close]
        zone = literal.find(b"%25")
        if zone >= 0:
            literal = _unescape(literal[:zone], _HOST) + _unescape(literal[zone:], _ZONE)
        else:
            literal = _unescape(literal, _HOST)
        try:
            addr = parse_addr(literal)
        except GoError as error:
            raise GoError(f"invalid host: {error}") from None
        if addr.is4:
            raise GoError("invalid IP-literal")
        return b"[" + literal + b"]" + port
    first = host.find(b":")
    if first >= 0:
        strict = strict_colons and scheme in ("http", "https")
        colon = first if strict else host.rfind(b":")
        port = host[colon:]
        if not _valid_optional_port(port):
            raise GoError(f"invalid port {quote(port)} after host")
    return _unescape(host, _HOST)


def _parse_authority(scheme: str, authority: bytes, strict_colons: bool) -> bytes:
    """Go's ``parseAuthority``: ``[userinfo@]host[:port]``; returns the host."""
    at = authority.rfind(b"@")
    host = _parse_host(scheme, authority[at + 1 :], strict_colons)
    if at >= 0:
        userinfo = authority[:at]
        if not all(byte in _USERINFO_SAFE for byte in userinfo):
            raise GoError("net/url: invalid userinfo")
        for part in userinfo.split(b":", 1):  # the user name, then the password if any
            _unescape(part, _OTHER)
    return host


def _split_scheme(raw: bytes) -> tuple[str, bytes]:
    """Go's ``getScheme``: ``(scheme, rest)``, with ``""`` when there is no valid scheme."""
    for index, byte in enumerate(raw):
        if byte in _ALNUM and byte not in _DIGITS:
            continue
        if byte in _DIGITS or byte in b"+-.":
            if index == 0:
                return "", raw
            continue
        if byte == ord(":"):
            if index == 0:
                raise GoError("missing protocol scheme")
            return raw[:index].decode("ascii"), raw[index + 1 :]
        return "", raw
    return "", raw


def _parse(raw: bytes, via_request: bool, strict_colons: bool) -> URL:
    """Go's internal ``parse(rawURL, viaRequest)``, without the fragment."""
    if any(byte < 0x20 or byte == 0x7F for byte in raw):
        raise GoError("net/url: invalid control character in URL")
    if raw == b"" and via_request:
        raise GoError("empty url")
    if raw == b"*":
        return URL("", b"")
    scheme, rest = _split_scheme(raw)
    scheme = scheme.lower()
    rest = rest.split(b"?", 1)[0]  # the query is not checked
    if not rest.startswith(b"/"):
        if scheme:
            return URL(scheme, b"")  # an opaque URI such as "mailto:x" or "https:host"
        if via_request:
            raise GoError("invalid URI for request")
        if b":" in rest.split(b"/", 1)[0]:
            raise GoError("first path segment in URL cannot contain colon")
    host = b""
    if (scheme or (not via_request and not rest.startswith(b"///"))) and rest.startswith(b"//"):
        authority, slash, path = rest[2:].partition(b"/")
        host = _parse_authority(scheme, authority, strict_colons)
        rest = slash + path
    _unescape(rest, _OTHER)
    return URL(scheme, host)


def parse(raw: str, *, strict_colons: bool) -> URL:
    """Go's ``url.Parse``: any URL reference, with an optional ``#fragment``.

    Raises :class:`GoError` with the ``*url.Error`` text, which quotes the part before ``#``
    when that part fails and the whole input when the fragment has a bad escape.
    """
    data = go_bytes(raw)
    before, hash_sign, fragment = data.partition(b"#")
    try:
        url = _parse(before, False, strict_colons)
    except GoError as error:
        raise GoError(f"parse {quote(before)}: {error}") from None
    if hash_sign:
        try:
            _unescape(fragment, _OTHER)
        except GoError as error:
            raise GoError(f"parse {quote(data)}: {error}") from None
    return url


# Go 1.26's default urlstrictcolons=1, which Kubernetes' CEL url() runs with: the first colon of
# an http(s) host starts the port (so "https://a:b:c/" is not a URL)
CEL_STRICT_COLONS = True


def parse_request_uri(raw: str, *, strict_colons: bool) -> URL:
    """Go's ``url.ParseRequestURI``: an absolute URI or an absolute path, no fragment.

    Raises :class:`GoError` with the ``*url.Error`` text, e.g.
    ``parse "x": invalid URI for request``.
    """
    data = go_bytes(raw)
    try:
        return _parse(data, True, strict_colons)
    except GoError as error:
        raise GoError(f"parse {quote(data)}: {error}") from None
