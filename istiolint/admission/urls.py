"""The ``jwksUri`` check: Go's ``net/url.Parse`` acceptance rules plus Istio's scheme rule.

Istio parses the URI with Go's ``url.Parse`` and then requires the scheme ``http`` or
``https`` (and a numeric port, if one is given). :func:`jwks_uri_error` returns the message
Istio would report, or ``None``.

Limits: the grammar follows Go's parser (scheme, authority, userinfo, host with optional
``[IPv6]`` literal and ``:port``, percent-escapes in every component, control characters).
As in Go 1.25.2 and later, a bracketed host must be an IPv6 address and ``[`` may only open
the host. (Go 1.26's stricter rule on colons in http(s) hosts is not applied: Istio 1.30 is
built with Go 1.25.)
"""

from __future__ import annotations

from istiolint.admission.golang import atoi_digits, quote
from istiolint.admission.netaddr import AddrError, parse_addr


class _URLError(ValueError):
    pass


_ENCODE_PATH = "path"
_ENCODE_HOST = "host"
_ENCODE_ZONE = "zone"
_ENCODE_USERINFO = "userinfo"
_ENCODE_FRAGMENT = "fragment"

_HEX_DIGITS = "0123456789abcdefABCDEF"
_HOST_SUBDELIMS = "!$&'()*+,;=:[]<>\""
_USERINFO_EXTRA = "-._:~!$&'()*+,;=%@"


def _host_needs_escape(byte: int) -> bool:
    """Go's ``shouldEscape(c, encodeHost)`` for an ASCII byte."""
    char = chr(byte)
    if char.isascii() and char.isalnum():
        return False
    if char in _HOST_SUBDELIMS:
        return False
    return char not in "-_.~"


def _unescape(text: str, mode: str) -> str:
    """Go's ``unescape``: validate the escapes of one URL component and decode them."""
    data = text.encode("utf-8", "surrogatepass")
    out = bytearray()
    index = 0
    while index < len(data):
        byte = data[index]
        if byte == ord("%"):
            if (
                index + 2 >= len(data)
                or chr(data[index + 1]) not in _HEX_DIGITS
                or chr(data[index + 2]) not in _HEX_DIGITS
            ):
                bad = data[index : index + 3].decode("utf-8", "replace")
                raise _URLError("invalid URL escape " + quote(bad))
            escape = data[index : index + 3].decode("ascii")
            value = int(escape[1:], 16)
            if mode == _ENCODE_HOST and value < 0x80 and escape != "%25":
                raise _URLError("invalid URL escape " + quote(escape))
            zone_ok = escape == "%25" or value == ord(" ") or not _host_needs_escape(value)
            if mode == _ENCODE_ZONE and not zone_ok:
                raise _URLError("invalid URL escape " + quote(escape))
            out.append(value)
            index += 3
            continue
        if mode in (_ENCODE_HOST, _ENCODE_ZONE) and byte < 0x80 and _host_needs_escape(byte):
            raise _URLError("invalid character " + quote(chr(byte)) + " in host name")
        out.append(byte)
        index += 1
    return out.decode("utf-8", "replace")


def _valid_optional_port(port: str) -> bool:
    if port == "":
        return True
    return port[0] == ":" and all("0" <= char <= "9" for char in port[1:])


def _parse_host(host: str) -> str:
    """Go's ``parseHost`` (Go 1.25.2 and later): returns the unescaped host."""
    bracket = host.rfind("[")
    if bracket > 0:
        raise _URLError("invalid IP-literal")
    if bracket == 0:
        close = host.rfind("]")
        if close < 0:
            raise _URLError("missing ']' in host")
        port = host[close + 1 :]
        if not _valid_optional_port(port):
            raise _URLError(f"invalid port {quote(port)} after host")
        port = _unescape(port, _ENCODE_HOST)
        literal = host[1:close]
        zone = literal.find("%25")
        if zone >= 0:
            literal = _unescape(literal[:zone], _ENCODE_HOST) + _unescape(
                literal[zone:], _ENCODE_ZONE
            )
        else:
            literal = _unescape(literal, _ENCODE_HOST)
        try:
            parsed = parse_addr(literal)
        except AddrError as error:
            raise _URLError(f"invalid host: {error}") from None
        if parsed.version == 4:
            raise _URLError("invalid IP-literal")
        return f"[{literal}]{port}"
    colon = host.rfind(":")
    if colon != -1:
        port = host[colon:]
        if not _valid_optional_port(port):
            raise _URLError(f"invalid port {quote(port)} after host")
    return _unescape(host, _ENCODE_HOST)


def _parse_authority(authority: str) -> str:
    at = authority.rfind("@")
    host = _parse_host(authority[at + 1 :] if at >= 0 else authority)
    if at < 0:
        return host
    userinfo = authority[:at]
    for char in userinfo:
        if not ((char.isascii() and char.isalnum()) or char in _USERINFO_EXTRA):
            raise _URLError("net/url: invalid userinfo")
    if ":" in userinfo:
        user, password = userinfo.split(":", 1)
        _unescape(user, _ENCODE_USERINFO)
        _unescape(password, _ENCODE_USERINFO)
    else:
        _unescape(userinfo, _ENCODE_USERINFO)
    return host


def _split_scheme(raw: str) -> tuple[str, str]:
    for index, char in enumerate(raw):
        if char.isascii() and char.isalpha():
            continue
        if char.isascii() and (char.isdigit() or char in "+-."):
            if index == 0:
                return "", raw
            continue
        if char == ":":
            if index == 0:
                raise _URLError("missing protocol scheme")
            return raw[:index], raw[index + 1 :]
        return "", raw
    return "", raw


def _parse(raw: str) -> tuple[str, str]:
    """Go's internal ``parse(rawURL, viaRequest=false)``: returns ``(scheme, host)``."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in raw):
        raise _URLError("net/url: invalid control character in URL")
    if raw == "*":
        return "", ""
    scheme, rest = _split_scheme(raw)
    scheme = scheme.lower()
    # Drop the query (a lone trailing "?" is an empty query).
    rest = rest[:-1] if rest.endswith("?") and rest.count("?") == 1 else rest.split("?", 1)[0]
    if not rest.startswith("/"):
        if scheme:
            return scheme, ""  # opaque URL such as "https:example.com"
        if ":" in rest.split("/", 1)[0]:
            raise _URLError("first path segment in URL cannot contain colon")
    host = ""
    if (scheme or not rest.startswith("///")) and rest.startswith("//"):
        authority = rest[2:]
        slash = authority.find("/")
        if slash >= 0:
            authority, rest = authority[:slash], authority[slash:]
        else:
            rest = ""
        host = _parse_authority(authority)
    _unescape(rest, _ENCODE_PATH)
    return scheme, host


def _port_of(host: str) -> str:
    """Go's ``URL.Port()``."""
    colon = host.rfind(":")
    if colon == -1:
        return ""
    if "]" in host[colon:]:
        return ""
    port = host[colon + 1 :]
    return port if all("0" <= char <= "9" for char in port) else ""


def jwks_uri_error(uri: str) -> str | None:
    """The error Istio's ``ParseJwksURI`` reports for ``uri``, or ``None``."""
    before_fragment, hash_sign, fragment = uri.partition("#")
    try:
        scheme, host = _parse(before_fragment)
    except _URLError as error:
        return f"parse {quote(before_fragment)}: {error}"
    if hash_sign:
        try:
            _unescape(fragment, _ENCODE_FRAGMENT)
        except _URLError as error:
            return f"parse {quote(uri)}: {error}"
    if scheme not in ("http", "https"):
        return f"URI scheme {quote(scheme)} is not supported"
    port = _port_of(host)
    if port:
        _, error_text = atoi_digits(port)
        if error_text is not None:
            return error_text
    return None
