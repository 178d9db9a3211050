"""The fast reader (rapidyaml) either declines a stream or reads exactly what libyaml reads.

Generated YAML streams mix the scalars where YAML 1.1 and rapidyaml disagree (``yes``, ``~``,
``0755``, ``1.50``, ``.inf``...) in every style and position, block and flow collections,
several documents, comments, CRLF line ends, then random edits of the text. For each stream:
when the fast reader returns values, libyaml reads the stream without a problem and to the
same values, with the same types and key order.

Tiers as in ``test_cli_properties``: 100 derandomized examples per property by default,
``ISTIOLINT_HYPOTHESIS_EXAMPLES=N`` for N random ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from istiolint import documents, fast_reader
from istiolint.sources import decode

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not fast_reader.AVAILABLE, reason="rapidyaml is not installed")

_SLOW_EXAMPLES = os.environ.get("ISTIOLINT_HYPOTHESIS_EXAMPLES", "").strip()
_SETTINGS = settings(
    max_examples=int(_SLOW_EXAMPLES) if _SLOW_EXAMPLES else 100,
    derandomize=not _SLOW_EXAMPLES, database=None, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

RISKY_SCALARS = [
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF", "y", "n",
    "~", "null", "Null", "NULL", "nUll",
    "0", "-0", "+0", "00", "01", "0755", "08", "0x1F", "0X1f", "0b101", "0o17", "1_000",
    "12:30", "190:20:30.15", "+12", "-12", "80", "8080",
    "1.5", "1.50", "1.", ".5", "-.5", "+1.5", "1e3", "1E3", "1.5e+3", "1.5e3", "1.0e-5",
    ".inf", "-.Inf", ".NaN", ".nan", "1_0.5",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "=", "<<", "!", "&", "*", "?", "%", "@",
    "`", "-", "--", "---", "...", "|", ">",
    "1" * 1200, "9" * 20, "GET", "/api/*", "*.example.com", "a: b", "a #b", "a#b", "x y",
    "https://login.example.com/realms/a?x=1&y=2", "C:\\path", "tab\there", "é ☃ 😀", "",
]

_plain_words = st.text(alphabet="abcxyzAN019_-./é", min_size=1, max_size=8)
_words = st.text(alphabet="abcxyzAN019_-./:#*&!?%@`\"' \\é", min_size=0, max_size=8)
# mostly plain words, so that a stream often holds none of the scalars the fast reader
# declines, and the rest of it is compared
_scalar_text = st.one_of(*[_plain_words] * 20, _words, st.sampled_from(RISKY_SCALARS))


@st.composite
def scalars(draw: st.DrawFn, indent: int) -> str:
    text = draw(_scalar_text)
    style = draw(st.sampled_from(["plain", "plain", "single", "double", "literal", "folded"]))
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    if style == "double":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if style in ("literal", "folded"):
        marker = "|" if style == "literal" else ">"
        chomp = draw(st.sampled_from(["", "-", "+"]))
        pad = " " * (indent + 2)
        return f"{marker}{chomp}\n{pad}{text}\n{pad}{draw(_scalar_text)}"
    return text


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    return str(value)


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> Any:
    kind = draw(st.sampled_from(["scalar", "map", "map", "seq"] if depth < 3 else ["scalar"]))
    if kind == "scalar":
        return draw(scalars(depth * 2))
    size = draw(st.integers(0, 4))
    if kind == "seq":
        return [draw(trees(depth + 1)) for _ in range(size)]
    keys = [draw(_scalar_text) for _ in range(size)]
    return {key: draw(trees(depth + 1)) for key in keys}


def _block(value: Any, indent: int, flow: bool) -> str:
    pad = " " * indent
    if flow or not isinstance(value, dict | list) or not value:
        return _flow(value) if isinstance(value, dict | list) else str(value)
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            nested = isinstance(item, dict | list) and item and not flow
            body = _block(item, indent + 2, flow)
            lines.append(f"{pad}{key}:\n{body}" if nested else f"{pad}{key}: {body}")
    else:
        for item in value:
            body = _block(item, indent + 2, flow)
            if isinstance(item, dict | list) and item:
                body = body.lstrip(" ")
            lines.append(f"{pad}- {body}")
    return "\n".join(lines)


@st.composite
def streams(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        tree = draw(trees())
        flow = draw(st.booleans())
        text = _block(tree, 0, flow)
        if draw(st.booleans()):
            comment = draw(st.sampled_from(["a comment", "yes: no, on", "*x &y !z"]))
            text = f"# {comment}\n{text}"
        parts.append(text)
    separator = draw(st.sampled_from(["\n---\n", "\n...\n---\n", "\n--- \n"]))
    stream = separator.join(parts) + "\n"
    if draw(st.booleans()):
        stream = "---\n" + stream
    if draw(st.integers(0, 5)) == 0:
        stream = stream.replace("\n", "\r\n")
    return stream


# decoded as istiolint decodes them (some rule examples are latin-1 or UTF-16 on purpose)
MANIFESTS = sorted(
    text for pattern in ("examples/**/*.yaml", "rules/*/*.yaml", "tests/corpus/**/*.yaml")
    for path in REPO.glob(pattern) if (text := decode(path.read_bytes())[0]) is not None)


@st.composite
def edited(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> str:
    text = draw(texts)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()) and at < len(text):
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + draw(st.sampled_from(list(" \n-:#'\"[]{},|>?*&!%\\"))) + text[at:]
    return text


def assert_reads_like_libyaml(text: str) -> bool:
    """Whether the fast reader read ``text`` (then as libyaml does)."""
    fast = documents.fast_values(text)
    if fast is None:
        return False
    parsed = documents.parse_stream(text, lambda api_version, kind: True)
    assert not parsed.problems, (text, parsed.problems)
    expected = [document.data for document in parsed.documents]
    # repr tells 1 from 1.0 and True, and sees the keys' order
    assert repr(fast) == repr(expected), text
    assert parsed.total_documents == len(fast)
    return True


def check_reads_like_libyaml(text: str) -> None:
    read = assert_reads_like_libyaml(text)
    event("fast reader read it" if read else "fast reader declined")


@_SETTINGS
@given(streams())
def test_generated_streams_read_like_libyaml(text: str) -> None:
    check_reads_like_libyaml(text)


@_SETTINGS
@given(edited(streams()))
def test_edited_streams_read_like_libyaml(text: str) -> None:
    check_reads_like_libyaml(text)


@_SETTINGS
@given(edited(st.sampled_from(MANIFESTS)))
def test_edited_manifests_read_like_libyaml(text: str) -> None:
    check_reads_like_libyaml(text)


def test_the_repository_manifests_read_like_libyaml() -> None:
    read = sum(assert_reads_like_libyaml(text) for text in MANIFESTS)
    assert read > len(MANIFESTS) // 2  # the fast reader is not declining everything
