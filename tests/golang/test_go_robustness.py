"""Every Go helper either returns or raises GoError, whatever text it is given."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from istiolint.golang.durations import parse_duration
from istiolint.golang.errors import GoError
from istiolint.golang.netip import parse_addr, parse_prefix
from istiolint.golang.strconv import atoi, parse_bool, parse_int, parse_uint, quote
from istiolint.golang.urls import parse, parse_request_uri

_HELPERS: list[Callable[[str], object]] = [
    parse_duration,
    parse_addr,
    parse_prefix,
    atoi,
    parse_bool,
    parse_int,
    parse_uint,
    quote,
    lambda text: parse(text, strict_colons=True),
    lambda text: parse(text, strict_colons=False),
    lambda text: parse_request_uri(text, strict_colons=True),
    lambda text: parse_request_uri(text, strict_colons=False),
]

_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789abcdefABCDEF:.%/[]@#?+-_ hmsuµ\u00e9\ud800", max_size=40),
    st.builds(
        lambda scheme, rest: scheme + rest,
        st.sampled_from(["http://", "https://", "x:", "//", "/", ""]),
        st.text(alphabet="ab19:.%25[]@/?#\u00e9\x00 ", max_size=30),
    ),
)


@pytest.mark.parametrize("helper", _HELPERS)
@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_helpers_raise_only_go_errors(helper: Callable[[str], object], text: str) -> None:
    with contextlib.suppress(GoError):
        helper(text)
