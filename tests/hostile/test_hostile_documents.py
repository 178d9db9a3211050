"""The document loader's own defences, below the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from istiolint.documents import (
    LIBYAML_MAX_DEPTH,
    MAX_DEPTH,
    Projection,
    _may_nest_deeper,
    parse_stream,
)
from istiolint.sources import decode

REPO = Path(__file__).resolve().parents[2]
DEEP = LIBYAML_MAX_DEPTH + 1


def _all(api_version: str | None, kind: str | None) -> bool:
    return True


@pytest.mark.parametrize("text", [
    "a: " + "[" * DEEP + "]" * DEEP + "\n",
    "a: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n",
    "".join(" " * level + "k:\n" for level in range(DEEP)),  # one column per level
    "".join(" " * (2 * (level // 2)) + ("- k:\n" if level % 2 else "k:\n")
            for level in range(DEEP)),  # a mapping and its indentless sequence per column
    "- " * DEEP + "x\n",
    "? " * DEEP + "x\n",
    "a:\n" + "  - - ? - - ? " * (DEEP // 12 + 1) + "x\n",
    "".join(" " * level + "k:\n" for level in range(300)) + " " * 300 + "- " * 300 +
    "[" * 402 + "]" * 402 + "\n",
], ids=["flow-sequences", "flow-mappings", "indented-mappings", "indentless-sequences",
        "compact-sequences", "compact-keys", "compact-mixed", "all-at-once"])
def test_what_could_nest_too_deep_for_libyaml_is_recognised(text: str) -> None:
    assert _may_nest_deeper(text)
    parsed = parse_stream(text, _all)
    assert [problem.code for problem in parsed.problems] == ["IL006"]
    assert f"nests deeper than {MAX_DEPTH} levels" in str(parsed.problems[0].args["reason"])


def test_ordinary_manifests_are_composed_by_libyaml() -> None:
    files = [path for pattern in ("examples/**/*.yaml", "rules/*/*.yaml", "tests/corpus/**/*.yaml")
             for path in REPO.glob(pattern)]
    texts = {path: decode(path.read_bytes())[0] for path in files}
    assert len(texts) > 100
    assert [path for path, text in texts.items() if text and _may_nest_deeper(text)] == []


def test_a_document_too_deep_stops_the_stream_after_the_ones_before_it() -> None:
    text = "kind: X\na: 1\n---\nkind: X\nb: " + "[" * 50_000 + "\n---\nkind: X\nc: 3\n"
    parsed = parse_stream(text, _all)
    assert [document.data for document in parsed.documents] == [{"kind": "X", "a": 1}]
    (problem,) = parsed.problems
    assert (problem.code, problem.position.line, problem.position.column) == ("IL006", 4, 1)


def test_values_that_fit_no_type_are_read_as_text() -> None:
    text = ("kind: X\na: !!int abc\nb: !!float x\nc: !!bool maybe\nd: 0x_\ne: 0b_\n"
            f"f: {'9' * 5_000}\ng: 0x{'f' * 5_000}\nh: 1{':59' * 5_000}\n"
            "i: 0x1F\nj: 1_000\nk: !!int '42'\nl: 1:30\nm: !!float '1.5'\nn: yes\n")
    (document,) = parse_stream(text, _all).documents
    assert document.data == {
        "kind": "X", "a": "abc", "b": "x", "c": "maybe", "d": "0x_", "e": "0b_",
        "f": "9" * 5_000, "g": "0x" + "f" * 5_000, "h": "1" + ":59" * 5_000,
        "i": 31, "j": 1000, "k": 42, "l": 90, "m": 1.5, "n": True}


def test_positions_survive_merge_loops_chains_and_bombs() -> None:
    """Finding a key's position follows merge keys (``<<``); it visits every mapping once."""
    chain = "".join(f"m{n}: &m{n} {{<<: *m{n - 1}}}\n" for n in range(1, 5_000))
    bomb = "".join(f"b{n}: &b{n} {{<<: [{', '.join([f'*b{n - 1}'] * 9)}]}}\n"
                   for n in range(1, 40))
    text = ("kind: X\nloop: &loop\n  <<: *loop\n  a: 1\nm0: &m0 {k: v}\n" + chain +
            "b0: &b0 {k: v}\n" + bomb)
    only: Projection = {"kind": True, "loop": {"a": True}, "m4999": {"k": True}, "b39": {"k": True}}
    (document,) = parse_stream(text, lambda api_version, kind: only).documents
    assert document.position("/loop/missing").line == 2
    assert document.position("/loop/a").line == 4
    assert document.position("/m4999/k").line == 5
    assert document.position("/m4999/missing").line == 5004
    assert document.position("/b39/k").line == 5005
