from __future__ import annotations

import pickle

from istiolint.documents import MAX_DEPTH, parse_stream
from istiolint.positions import Position


def _all(api_version: str | None, kind: str | None) -> bool:
    return True


def test_scalars_follow_kubernetes_yaml_typing() -> None:
    doc = parse_stream("a: yes\nb: 0x1F\nc: '8080'\nd: ~\ne: 1.5\nf: 2020-01-02\n", _all)
    assert doc.documents[0].data == {"a": True, "b": 31, "c": "8080", "d": None, "e": 1.5,
                                     "f": "2020-01-02"}


def test_non_string_keys_become_strings() -> None:
    doc = parse_stream("portLevelMtls:\n  8080: {mode: STRICT}\n  true: x\n", _all)
    assert doc.documents[0].data == {"portLevelMtls": {"8080": {"mode": "STRICT"}, "true": "x"}}


def test_positions_point_at_the_key_and_end_after_the_value() -> None:
    text = "kind: X\nspec:\n  rules:\n  - to:\n    - operation:\n        paths: [/a, /b]\n"
    document = parse_stream(text, _all).documents[0]
    assert document.position("/spec/rules/0/to/0/operation/paths") == Position(6, 9, 6, 24)
    assert document.position("/spec/rules/0/to/0/operation/paths/1") == Position(6, 21, 6, 23)
    # a block mapping ends at its last value, not at the start of the next line
    assert document.position("/spec") == Position(2, 1, 6, 24)


def test_missing_pointer_falls_back_to_the_nearest_ancestor() -> None:
    document = parse_stream("kind: X\nspec:\n  action: ALLOW\n", _all).documents[0]
    assert document.position("/spec/rules/3/from") == document.position("/spec")


def test_duplicate_keys_are_reported_and_the_last_value_wins() -> None:
    parsed = parse_stream("kind: X\nspec:\n  a: 1\n  a: 2\n", _all)
    assert parsed.documents[0].data["spec"] == {"a": 2}
    (problem,) = parsed.problems
    assert problem.code == "IL002"
    assert problem.position.line == 4
    assert problem.args == {"key": "a", "first_line": 3}
    assert parsed.documents[0].position("/spec/a").line == 4


def test_tags_are_never_constructed() -> None:
    parsed = parse_stream("kind: X\na: !!python/object/apply:os.system [echo hi]\n"
                          "b: !!python/name:os.system x\n", _all)
    assert parsed.documents[0].data == {"kind": "X", "a": ["echo hi"], "b": "x"}
    assert [p.code for p in parsed.problems] == ["IL003", "IL003"]


def test_merge_keys_and_aliases() -> None:
    text = "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\nl: *b\n"
    data = parse_stream(text, _all).documents[0].data
    assert data["m"] == {"x": 1, "y": 3}
    assert data["l"] == {"x": 1, "y": 2}


def test_alias_bomb_stops_early_with_a_problem() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        lines.append(f"l{level}: &a{level} [" + ", ".join([f"*a{level - 1}" if level > 1 else "*a"]
                                                           * 10) + "]")
    parsed = parse_stream("\n".join(lines) + "\n", _all)
    assert parsed.documents == []
    assert [p.code for p in parsed.problems] == ["IL006"]


def test_deep_nesting_is_refused_not_crashed() -> None:
    depth = MAX_DEPTH + 50
    parsed = parse_stream("a: " + "[" * depth + "]" * depth + "\n", _all)
    assert parsed.documents == []
    assert parsed.problems[0].code == "IL006"


def test_syntax_error_keeps_earlier_documents() -> None:
    parsed = parse_stream("kind: A\n---\nkind: B\n---\nkind: [C\n", _all)
    assert [d.data["kind"] for d in parsed.documents] == ["A", "B"]
    (problem,) = parsed.problems
    assert problem.code == "IL001"
    assert problem.position.line == 6


def test_only_wanted_documents_are_converted() -> None:
    parsed = parse_stream("kind: A\n---\nkind: B\n---\n---\nplain scalar\n",
                          lambda api, kind: kind == "B")
    assert [d.data["kind"] for d in parsed.documents] == ["B"]
    assert [d.index for d in parsed.documents] == [1]
    assert parsed.total_documents == 3


def test_control_characters_are_a_positioned_parse_error() -> None:
    parsed = parse_stream("kind: X\nname: a\x07b\n", _all)
    assert parsed.problems[0].code == "IL001"
    assert (parsed.problems[0].position.line, parsed.problems[0].position.column) == (2, 8)


def test_a_pickled_document_finds_positions_again_without_its_node_tree() -> None:
    text = "---\n~\n---\nkind: A\nspec:\n  x: 1\n---\nkind: B\nspec:\n  items:\n  - y: 2\n"
    documents = parse_stream(text, _all).documents
    copies = pickle.loads(pickle.dumps(documents))
    assert [c.node for c in copies] == [None, None]
    for original, copy in zip(documents, copies, strict=True):
        assert copy.data == original.data
        for pointer in ("", "/spec", "/spec/x", "/spec/items/0/y", "/spec/missing"):
            assert copy.position(pointer) == original.position(pointer)
    assert copies[1].position("/spec/items/0/y") == Position(11, 5, 11, 9)
