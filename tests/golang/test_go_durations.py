"""Tests of istiolint.golang.durations: Go's time.ParseDuration."""

from __future__ import annotations

import pytest

from istiolint.golang.durations import parse_duration
from istiolint.golang.errors import GoError


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("0", 0),
        ("1s", 1_000_000_000),
        ("1.5s", 1_500_000_000),
        ("300ms", 300_000_000),
        ("1h2m", 3_720_000_000_000),
        ("-1.5h", -5_400_000_000_000),
        ("+2us", 2_000),
        ("1\u00b5s", 1_000),
        ("1\u03bcs", 1_000),
        ("-0", 0),
        (".5s", 500_000_000),
        ("1.0000000001s", 1_000_000_000),
        ("1.s", 1_000_000_000),
        ("9223372036854775807ns", 9223372036854775807),
        ("-9223372036854775808ns", -9223372036854775808),
        ("1h1m1s1ms1us1ns", 3_661_001_001_001),
        ("0.100000000000000000000h", 360_000_000_000),  # the fraction stops adding precision
    ],
)
def test_parse_duration(text: str, nanos: int) -> None:
    assert parse_duration(text) == nanos


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", 'time: invalid duration ""'),
        ("-", 'time: invalid duration "-"'),
        ("1", 'time: missing unit in duration "1"'),
        ("s", 'time: invalid duration "s"'),
        ("1x", 'time: unknown unit "x" in duration "1x"'),
        (".s", 'time: invalid duration ".s"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("1e3s", 'time: unknown unit "e" in duration "1e3s"'),
        ("1s ", 'time: unknown unit "s " in duration "1s "'),
        ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
        ("2562048h", 'time: invalid duration "2562048h"'),
        ("99999999999999999999s", 'time: invalid duration "99999999999999999999s"'),
        # time's own quoting: bytes of non-ASCII and control characters as \x escapes
        ("1\u00b5", 'time: unknown unit "\\xc2\\xb5" in duration "1\\xc2\\xb5"'),
        ("1\t", 'time: unknown unit "\\x09" in duration "1\\x09"'),
        ('1"', 'time: unknown unit "\\"" in duration "1\\""'),
        ("1h\x7f", 'time: unknown unit "h\x7f" in duration "1h\x7f"'),
        ("x\ud800", 'time: invalid duration "x\\xef\\xbf\\xbd"'),  # a lone surrogate is U+FFFD
    ],
)
def test_parse_duration_errors(text: str, error: str) -> None:
    with pytest.raises(GoError) as caught:
        parse_duration(text)
    assert str(caught.value) == error
