"""Tests of istiolint.golang.urls: Go's url.Parse and url.ParseRequestURI."""

from __future__ import annotations

import pytest

from istiolint.golang.errors import GoError
from istiolint.golang.urls import URL, parse, parse_request_uri


@pytest.mark.parametrize(
    ("raw", "scheme"),
    [
        ("*", ""),
        ("/path?q", ""),
        ("mailto:someone@example.com", "mailto"),
        ("http://[fe80::1%25en0]:8080/", "http"),
        ("https://user:p@ss@example.com/", "https"),
        ("redis://a:1,b:2/", "redis"),  # only http(s) need the first colon to start the port
        ("http://exämple.com/", "http"),  # non-ASCII host bytes are allowed
        ("HTTP://x/", "http"),
        ("http://[fe80::1%25a%25b]/", "http"),  # a zone may hold '%' (Python's ipaddress: no)
        ("http://[::ffff:1.2.3.4]/", "http"),  # IPv4-mapped IPv6 is IPv6
        ("http://x/?%zz", "http"),  # the query is not checked
    ],
)
def test_go_request_uri_accepts(raw: str, scheme: str) -> None:
    assert parse_request_uri(raw, strict_colons=True).scheme == scheme


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("../relative", "invalid URI for request"),
        ("http://a[::1]/", "invalid IP-literal"),
        ("http://[::1", "missing ']' in host"),
        ("http://[zz]/", 'invalid host: ParseAddr("zz")'),
        ("http://x%41/", 'invalid URL escape "%41"'),
        ("http://us{er@x/", "net/url: invalid userinfo"),
        ("http://x/\x7f", "net/url: invalid control character in URL"),
    ],
)
def test_go_request_uri_rejects(raw: str, error: str) -> None:
    with pytest.raises(GoError, match=r"^parse ") as caught:
        parse_request_uri(raw, strict_colons=True)
    assert error in str(caught.value)


def _error(raw: str, *, request: bool = False, strict_colons: bool = True) -> str | None:
    parser = parse_request_uri if request else parse
    try:
        parser(raw, strict_colons=strict_colons)
    except GoError as error:
        return str(error)
    return None


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", 'parse "": empty url'),
        ("x", 'parse "x": invalid URI for request'),
        ("#frag", 'parse "#frag": invalid URI for request'),  # no fragment here
        ("http://[zz]/", 'parse "http://[zz]/": invalid host: ParseAddr("zz"): unable to parse IP'),
        ("http://[1.2.3.4]/", 'parse "http://[1.2.3.4]/": invalid IP-literal'),
        ("http://[::1]x/", 'parse "http://[::1]x/": invalid port "x" after host'),
        ("http://[%80]/", 'parse "http://[%80]/": invalid host: ParseAddr("\\x80"): '
                          "unable to parse IP"),
        ("http://[fe80::1%25%0a]/", 'parse "http://[fe80::1%25%0a]/": invalid URL escape "%0a"'),
        ("http://[fe80::1%25%20]/", None),  # a space may be escaped in a zone
        ("http://x/%a\u00e9", 'parse "http://x/%a\u00e9": invalid URL escape "%a\\xc3"'),
        ("http://x/%", 'parse "http://x/%": invalid URL escape "%"'),
        ("http://a b/", 'parse "http://a b/": invalid character " " in host name'),
        ("://x", 'parse "://x": missing protocol scheme'),
        ("http://u%zz@x/", 'parse "http://u%zz@x/": invalid URL escape "%zz"'),
    ],
)  # fmt: skip
def test_request_uri_errors(raw: str, error: str | None) -> None:
    assert _error(raw, request=True) == error


@pytest.mark.parametrize(
    ("raw", "strict", "lax"),
    [
        ("https://a:b:c/", 'invalid port ":b:c" after host', 'invalid port ":c" after host'),
        ("http://a:1:2/", 'invalid port ":1:2" after host', None),
        ("http://::1/", 'invalid port "::1" after host', None),
        ("redis://a:1:2/", None, None),  # strict colons are for http and https only
        ("redis://a:b:c/", 'invalid port ":c" after host', 'invalid port ":c" after host'),
        ("http://a:80/", None, None),
    ],
)
def test_strict_colons(raw: str, strict: str | None, lax: str | None) -> None:
    for strict_colons, expected in ((True, strict), (False, lax)):
        message = None if expected is None else f"parse {raw!r}: {expected}".replace("'", '"')
        assert _error(raw, strict_colons=strict_colons) == message
        assert _error(raw, request=True, strict_colons=strict_colons) == message


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", None),  # url.Parse takes an empty reference
        ("x", None),
        ("//host/path", None),  # a network-path reference has a host
        ("a:b/c:d", None),  # an opaque URL
        ("x:y", None),
        ("1x:y", 'parse "1x:y": first path segment in URL cannot contain colon'),
        ("https://x/#%zz", 'parse "https://x/#%zz": invalid URL escape "%zz"'),
        ("https://x/%zz#a", 'parse "https://x/%zz": invalid URL escape "%zz"'),  # before '#'
        ("https://x/#a\x01", None),  # the fragment is not checked for control characters
    ],
)
def test_parse_errors(raw: str, error: str | None) -> None:
    assert _error(raw) == error


@pytest.mark.parametrize(
    ("raw", "url", "port"),
    [
        ("https://Host:8443/p", URL("https", b"Host:8443"), "8443"),
        ("HTTPS://h/", URL("https", b"h"), ""),
        ("http://h:/", URL("http", b"h:"), ""),
        ("http://[::1]:80/", URL("http", b"[::1]:80"), "80"),
        ("http://[fe80::1%25en0]/", URL("http", b"[fe80::1%en0]"), ""),
        ("http://ex%C3%A4mple/", URL("http", "exämple".encode()), ""),
        ("https:example.com", URL("https", b""), ""),
        ("///x", URL("", b""), ""),
        ("//u@h:1/x", URL("", b"h:1"), "1"),
    ],
)
def test_parsed_url(raw: str, url: URL, port: str) -> None:
    parsed = parse(raw, strict_colons=True)
    assert parsed == url
    assert parsed.port() == port
