"""Tests of istiolint.golang.strconv, istiolint.golang.text and istiolint.golang.errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from istiolint.golang.errors import GoError, multierror_text
from istiolint.golang.strconv import atoi, parse_bool, parse_int, parse_uint, quote, quote_char
from istiolint.golang.text import byte_len, go_bytes


def test_quote() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert quote("tab\there\x00\x7f\u00ad\u00e9") == '"tab\\there\\x00\\x7f\\u00ad\u00e9"'


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("", '""'),
        ("\a\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'),
        ("\u00a0", '"\\u00a0"'),  # a space other than ASCII space is not printable
        ("\U000e0001", '"\\U000e0001"'),  # a format character beyond the BMP
        ("\u4e16\U0001f600", '"\u4e16\U0001f600"'),  # printable non-ASCII is kept
        ("a\ud800", '"a\ufffd"'),  # a lone surrogate reaches Go as U+FFFD
        (b"%a\xc3", '"%a\\xc3"'),  # bytes that are not valid UTF-8 are written \xNN
        (b"\xed\xa0\x80", '"\\xed\\xa0\\x80"'),  # an encoded surrogate is not valid UTF-8
        (b"\xc3\xa9\xff", '"\u00e9\\xff"'),
    ],
)
def test_quote_cases(text: str | bytes, quoted: str) -> None:
    assert quote(text) == quoted


@pytest.mark.parametrize(
    ("byte", "quoted"),
    [
        (ord("a"), "'a'"),
        (ord("'"), "'\\''"),
        (ord('"'), "'\"'"),
        (ord("\\"), "'\\\\'"),
        (0x00, "'\\x00'"),
        (ord("\n"), "'\\n'"),
        (0xFF, "'\u00ff'"),  # Go's string(byte) is the code point, not a raw byte
        (0x85, "'\\u0085'"),
    ],
)
def test_quote_char(byte: int, quoted: str) -> None:
    assert quote_char(byte) == quoted


def test_go_bytes_and_byte_len() -> None:
    assert go_bytes("h\u00e9") == b"h\xc3\xa9"
    assert go_bytes("\ud800x") == b"\xef\xbf\xbdx"
    assert go_bytes(b"\xff") == b"\xff"
    assert byte_len("h\u00e9") == 3
    assert byte_len("\ud800") == 3


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", True), ("t", True), ("T", True), ("TRUE", True), ("true", True), ("True", True),
     ("0", False), ("f", False), ("F", False), ("FALSE", False), ("false", False),
     ("False", False)],
)  # fmt: skip
def test_parse_bool(text: str, value: bool) -> None:
    assert parse_bool(text) is value


@pytest.mark.parametrize("text", ["", "yes", "tRue", " true", "2"])
def test_parse_bool_errors(text: str) -> None:
    with pytest.raises(GoError) as caught:
        parse_bool(text)
    assert str(caught.value) == f"strconv.ParseBool: parsing {quote(text)}: invalid syntax"


def _error(call: Callable[..., object], *args: object) -> str:
    with pytest.raises(GoError) as caught:
        call(*args)
    return str(caught.value)


def test_parse_uint() -> None:
    assert parse_uint("0") == 0
    assert parse_uint("080") == 80
    assert parse_uint("4294967295", 32) == 4294967295
    assert parse_uint("18446744073709551615") == 18446744073709551615
    assert _error(parse_uint, "4294967296", 32) == (
        'strconv.ParseUint: parsing "4294967296": value out of range'
    )
    assert _error(parse_uint, "") == 'strconv.ParseUint: parsing "": invalid syntax'
    assert _error(parse_uint, "+1") == 'strconv.ParseUint: parsing "+1": invalid syntax'
    assert _error(parse_uint, "1_0") == 'strconv.ParseUint: parsing "1_0": invalid syntax'
    assert _error(parse_uint, "\u0661") == 'strconv.ParseUint: parsing "\u0661": invalid syntax'
    # the range error comes first once the value overflows, whatever follows
    assert _error(parse_uint, "99999999999x", 32) == (
        'strconv.ParseUint: parsing "99999999999x": value out of range'
    )
    assert _error(parse_uint, "9x9999999999", 32) == (
        'strconv.ParseUint: parsing "9x9999999999": invalid syntax'
    )


def test_parse_int() -> None:
    assert parse_int("-9223372036854775808") == -(1 << 63)
    assert parse_int("+9223372036854775807") == (1 << 63) - 1
    assert parse_int("-0") == 0
    assert parse_int("-128", 8) == -128
    assert _error(parse_int, "128", 8) == 'strconv.ParseInt: parsing "128": value out of range'
    assert _error(parse_int, "9223372036854775808") == (
        'strconv.ParseInt: parsing "9223372036854775808": value out of range'
    )
    assert _error(parse_int, "-9223372036854775809") == (
        'strconv.ParseInt: parsing "-9223372036854775809": value out of range'
    )
    assert _error(parse_int, "99999999999999999999x") == (
        'strconv.ParseInt: parsing "99999999999999999999x": value out of range'
    )
    for bad in ("", "+", "-", " 1", "1 ", "1_0", "--1", "0x10", "1e3"):
        assert _error(parse_int, bad) == f"strconv.ParseInt: parsing {quote(bad)}: invalid syntax"


def test_atoi() -> None:
    assert atoi("8443") == 8443
    assert atoi("-7") == -7
    assert atoi("007") == 7
    assert _error(atoi, "99999999999999999999") == (
        'strconv.Atoi: parsing "99999999999999999999": value out of range'
    )
    assert _error(atoi, "") == 'strconv.Atoi: parsing "": invalid syntax'
    assert _error(atoi, "8a") == 'strconv.Atoi: parsing "8a": invalid syntax'


def test_multierror_text() -> None:
    assert multierror_text(["a"]) == "1 error occurred:\n\t* a\n\n"
    assert multierror_text(["a", "b"]) == "2 errors occurred:\n\t* a\n\t* b\n\n"
