"""Tests of istiolint.golang.netip: Go's netip.ParseAddr and netip.ParsePrefix."""

from __future__ import annotations

import pytest

from istiolint.golang.errors import GoError
from istiolint.golang.netip import Addr, Prefix, parse_addr, parse_prefix


def _addr_ok(text: str | bytes) -> bool:
    try:
        parse_addr(text)
    except GoError:
        return False
    return True


def _prefix_error(text: str | bytes) -> str | None:
    try:
        parse_prefix(text)
    except GoError as error:
        return str(error)
    return None


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("1.2.3.4", True),
        ("010.0.0.1", False),
        ("1.2.3", False),
        ("1.2.3.4.5", False),
        ("256.1.1.1", False),
        ("::", True),
        ("::ffff:1.2.3.4", True),
        ("fe80::1%eth0", True),
        ("fe80::1%", False),
        ("1:2:3:4:5:6:7:8", True),
        ("1:2:3:4:5:6:7:8:9", False),
        ("1::2::3", False),
        ("12345::", False),
        ("1.2.3.4%eth0", False),
        ("", False),
    ],
)
def test_addresses(text: str, ok: bool) -> None:
    assert _addr_ok(text) == ok


def test_parsed_address() -> None:
    assert parse_addr("1.2.3.4") == Addr(is4=True, zone=b"")
    assert parse_addr("::ffff:1.2.3.4") == Addr(is4=False, zone=b"")  # IPv4-mapped is IPv6
    assert parse_addr("fe80::1%a%b") == Addr(is4=False, zone=b"a%b")  # the zone may hold '%'
    assert parse_addr(b"fe80::1%\xff").zone == b"\xff"
    assert parse_addr("::").bit_len == 128
    assert parse_addr("0.0.0.0").bit_len == 32


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", 'ParseAddr(""): unable to parse IP'),
        ("%eth0", 'ParseAddr("%eth0"): missing IPv6 address'),
        ("1.2.3.04", 'ParseAddr("1.2.3.04"): IPv4 field has octet with leading zero'),
        ("1.2.3.256", 'ParseAddr("1.2.3.256"): IPv4 field has value >255'),
        (".1.2.3", 'ParseAddr(".1.2.3"): IPv4 field must have at least one digit (at ".1.2.3")'),
        ("1.2.3.4.5", 'ParseAddr("1.2.3.4.5"): IPv4 address too long'),
        ("1.2.3", 'ParseAddr("1.2.3"): IPv4 address too short'),
        ("1.2.3.x", 'ParseAddr("1.2.3.x"): unexpected character (at "x")'),
        ("fe80::%", 'ParseAddr("fe80::%"): zone must be a non-empty string'),
        ("12345::", 'ParseAddr("12345::"): each group must have 4 or less digits (at "12345::")'),
        ("1:g::", 'ParseAddr("1:g::"): each colon-separated field must have at least one digit '
                  '(at "g::")'),
        ("1:2:3:4:5:6:7:8:9", 'ParseAddr("1:2:3:4:5:6:7:8:9"): trailing garbage after address '
                              '(at "9")'),
        ("1::2::3", 'ParseAddr("1::2::3"): multiple :: in address (at ":3")'),
        ("1:2", 'ParseAddr("1:2"): address string too short'),
        ("1:2:", 'ParseAddr("1:2:"): colon must be followed by more characters (at ":")'),
        ("1:2.3", 'ParseAddr("1:2.3"): embedded IPv4 address must replace the final 2 fields '
                  'of the address (at "2.3")'),
        ("1:2:3:4:5:6:7::", None),
        ("1:2:3:4:5:6:7:8::", 'ParseAddr("1:2:3:4:5:6:7:8::"): the :: must expand to at least '
                              "one field of zeros"),
        ("::1.2.3", 'ParseAddr("::1.2.3"): IPv4 address too short'),
        ("::1.2.3.x%eth0", 'ParseAddr("::1.2.3.x%eth0"): unexpected character (at "x")'),
        ("1\u00e9", 'ParseAddr("1\u00e9"): unable to parse IP'),
        (b"1:\x80", 'ParseAddr("1:\\x80"): each colon-separated field must have at least one '
                    'digit (at "\\x80")'),
    ],
)  # fmt: skip
def test_address_errors(text: str | bytes, error: str | None) -> None:
    if error is None:
        parse_addr(text)
        return
    with pytest.raises(GoError) as caught:
        parse_addr(text)
    assert str(caught.value) == error


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("10.0.0.0/8", None),
        ("10.0.0.1/32", None),
        ("::/0", None),
        ("10.0.0.0/08", 'netip.ParsePrefix("10.0.0.0/08"): bad bits after slash: "08"'),
        ("10.0.0.0/+8", 'netip.ParsePrefix("10.0.0.0/+8"): bad bits after slash: "+8"'),
        ("10.0.0.0/", 'netip.ParsePrefix("10.0.0.0/"): bad bits after slash: ""'),
        ("10.0.0.0/33", 'netip.ParsePrefix("10.0.0.0/33"): prefix length out of range'),
        (
            "fe80::1%eth0/64",
            'netip.ParsePrefix("fe80::1%eth0/64"): IPv6 zones cannot be present in a prefix',
        ),
        ("x/8", 'netip.ParsePrefix("x/8"): ParseAddr("x"): unable to parse IP'),
        (
            "1.2.3.4/255.255.255.0",
            'netip.ParsePrefix("1.2.3.4/255.255.255.0"): bad bits after slash: "255.255.255.0"',
        ),
        (
            "1..2.3/8",
            'netip.ParsePrefix("1..2.3/8"): ParseAddr("1..2.3"): '
            'IPv4 field must have at least one digit (at ".2.3")',
        ),
        ("10.0.0.0", 'netip.ParsePrefix("10.0.0.0"): no \'/\''),
        ("10.0.0.0/-", 'netip.ParsePrefix("10.0.0.0/-"): bad bits after slash: "-"'),
        ("::/129", 'netip.ParsePrefix("::/129"): prefix length out of range'),
        ("::/128", None),
        (
            "::/99999999999999999999",
            'netip.ParsePrefix("::/99999999999999999999"): '
            'bad bits after slash: "99999999999999999999"',
        ),
        ("1.2.3.4/8/8", 'netip.ParsePrefix("1.2.3.4/8/8"): ParseAddr("1.2.3.4/8"): '
                        'unexpected character (at "/8")'),
    ],
)  # fmt: skip
def test_prefixes(text: str, error: str | None) -> None:
    assert _prefix_error(text) == error


def test_parsed_prefix() -> None:
    assert parse_prefix("10.0.0.0/8") == Prefix(Addr(is4=True, zone=b""), 8)
    assert parse_prefix("::/0").bits == 0
