"""The fast reader: what it declines, what it reads, and that a run reports the same findings,
at the same positions, with it and without it. (Generated streams compare the two readers in
``tests/properties/test_fast_reader_properties.py``.)"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from istiolint import documents, engine, fast_reader
from istiolint.documents import fast_values, parse_stream
from istiolint.entry import main

pytestmark = pytest.mark.skipif(not fast_reader.AVAILABLE, reason="rapidyaml is not installed")

REPO = Path(__file__).resolve().parents[1]

POLICY = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: readers  # a comment
  namespace: shop
  labels: {app: catalog, tier: "1"}
spec:
  action: ALLOW
  rules:
  - to:
    - operation:
        methods: ["GET", HEAD]
        paths: ['/api/*', /healthz]
        ports: ["8080"]
    when:
    - key: request.auth.claims[iss]
      values:
      - https://login.example.com/realms/shop?x=1&y=2
  provider:
    weight: 80
    ratio: 0.5
    enabled: true
    none: null
    empty:
    script: |
      echo hello
      exit 0
---
# a second document
apiVersion: v1
kind: ConfigMap
data: {}
"""


def _all(api_version: str | None, kind: str | None) -> bool:
    return True


def test_indicators_in_a_comment_line_do_not_decline() -> None:
    text = "# K8S docs say *or* &and !not | > ?\na: 1  # but here *x would\n"
    assert fast_values(text[:text.index("a: 1")] + "a: 1\n") == [{"a": 1}]
    assert fast_values(text) is None  # a comment after a value is not told from a scalar
    # a quote on the line: an anchor and an alias may follow multi-line quoted scalars
    hidden = 'a: ["c\n\n  # d", &x 1, "e\n\n  # f", *x]\n'
    assert [d.data for d in parse_stream(hidden, _all).documents] == [
        {"a": ["c\n# d", 1, "e\n# f", 1]}]
    assert fast_values(hidden) is None


def test_a_plain_manifest_is_read_as_libyaml_reads_it() -> None:
    values = fast_values(POLICY)
    assert values is not None
    assert repr(values) == repr([d.data for d in parse_stream(POLICY, _all).documents])
    assert values[0]["spec"]["provider"] == {
        "weight": 80, "ratio": 0.5, "enabled": True, "none": None, "empty": None,
        "script": "echo hello\nexit 0\n"}


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",                      # anchor, alias
    "a: !!str 1\n",                          # tag
    "a: !custom x\n",
    "base: &b {x: 1}\nc:\n  <<: *b\n",       # merge key
    "%YAML 1.1\n---\na: 1\n",                # directive
    "? a\n: b\n",                            # complex key
    "a:\tb\n",                               # tab
    "a: yes\n", "a: No\n", "a: ON\n", "a: ~\n", "a: Null\n", "a: True\n",  # YAML 1.1 words
    "yes: a\n", "~: a\n",                    # as keys
    "a: [x, yes]\n", "a: {k: 0x1F}\n", "a: [1:30]\n",  # in flow collections
    "a: 0755\n", "a: 0x1F\n", "a: 1_000\n", "a: 12:30\n", "a: +12\n", "a: 0b11\n",
    "a: .inf\n", "a: -.5\n", "a: 1.5e3\n", "a: 1.5e+3\n", "1.50: a\n", "-0: a\n",
    "a: " + "1" * 1001 + "\n",               # too long to convert
    "a: 1\na: 2\n",                          # duplicate key
    "{a: 1 # c\n}\n",                        # a comment inside a flow mapping
    "a: |2\n    x\n",                        # explicit indentation
    "|\n---\n0\n",                           # a document that is a block scalar
    "a: 1\n...\n",                           # document end
    ": v\n",                                 # empty key
    "a: 1\rb: 2\r",                          # old Mac line breaks
    "a:\n" + "".join(" " * (2 * i) + f"k{i}:\n" for i in range(1, 300)),  # deep
    "a: 'x\n",                               # not YAML
    "- {} b\n",                              # not YAML that rapidyaml would read
    "[:0]\n",
])
def test_what_the_fast_reader_declines(text: str) -> None:
    assert fast_values(text) is None


@pytest.mark.parametrize("text", ["-.5", "a: +.5e3", "x.5", "-5.5", "-.", "+.x", "1-.9", ".-5",
                                  "+", "a\n-.0"])
def test_a_signed_fraction_is_found_wherever_it_is(text: str) -> None:
    assert bool(fast_reader._SIGNED_FRACTION.search(text)) == \
        bool(re.search(r"[-+]\.[0-9]", text))


@pytest.mark.parametrize("text", ["apiVersion: v1\nkind: 1\n", "apiVersion: 2\nkind: X\n",
                                  "apiVersion: v1\nkind: null\n", "apiVersion: v1\nkind:\n",
                                  "apiVersion: v1\nkind: true\n"])
def test_an_identity_that_is_not_text_is_read_as_written(text: str) -> None:
    seen = []

    def wants(api_version: str | None, kind: str | None) -> bool:
        seen.append((api_version, kind))
        return True

    parse_stream(text, wants, keep_nodes=False)
    fast = seen.pop()
    parse_stream(text, wants)
    assert fast == seen.pop()
    assert None not in fast  # libyaml's node tree has the text: kind: 1 is kind "1"


def test_every_boolean_and_null_spelling_is_known() -> None:
    resolver = yaml.resolver.Resolver()
    for word in ("yes", "no", "true", "false", "on", "off", "null", "y", "n", "~"):
        for letters in itertools.product(*((c.lower(), c.upper()) for c in word)):
            spelling = "".join(letters)
            tag = resolver.resolve(yaml.ScalarNode, spelling, (True, False))
            if tag.endswith((":bool", ":null")):
                assert spelling in fast_reader._TYPED_WORDS, spelling


def test_documents_read_fast_find_their_positions_from_one_reparse() -> None:
    parsed = parse_stream(POLICY, _all, keep_nodes=False)
    first, second = parsed.documents
    assert first.node is None and second.node is None
    assert first.reparsed is second.reparsed is not None
    with_nodes = parse_stream(POLICY, _all).documents
    for pointer in ("/spec/rules/0/to/0/operation/paths/1", "/metadata/labels/tier",
                    "/spec/provider/script", "/spec/missing"):
        assert first.position(pointer) == with_nodes[0].position(pointer)
    assert second.position("/data") == with_nodes[1].position("/data")


def test_without_rapidyaml_documents_keep_their_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_reader, "AVAILABLE", False)
    assert fast_values(POLICY) is None
    assert all(d.node is not None
               for d in parse_stream(POLICY, _all, keep_nodes=False).documents)


def test_a_projection_is_applied_as_the_libyaml_reader_applies_it() -> None:
    def wants(api_version: str | None, kind: str | None) -> documents.Projection:
        return {"metadata": {"name": True}, "spec": {"rules": {"to": True}}} \
            if kind == "AuthorizationPolicy" else False
    fast = parse_stream(POLICY, wants, keep_nodes=False)
    slow = parse_stream(POLICY, wants)
    assert [d.data for d in fast.documents] == [d.data for d in slow.documents]
    assert fast.total_documents == slow.total_documents == 2


def test_rapidyaml_errors_stay_off_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    # rapidyaml's own exception type
    with fast_reader._quiet_stderr(), pytest.raises(Exception):  # noqa: B017, PT011
        fast_reader.rapidyaml().parse_in_arena(b"a: 'unterminated\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


@pytest.mark.parametrize("tree", ["examples", "tests/hostile/cases", "tests/corpus", "rules"])
def test_a_run_reports_the_same_with_and_without_the_fast_reader(
        tree: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(REPO / tree, tmp_path / "tree")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(engine, "FAST_READER_MIN_FILES", 0)  # these trees are smaller
    read_fast = _counting_fast_reads(monkeypatch)
    outputs = []
    for available in (True, False):
        monkeypatch.setattr(fast_reader, "AVAILABLE", available)
        code = main(["check", "tree", "--no-cache", "-f", "json"])
        outputs.append((code, json.loads(capsys.readouterr().out)))
    assert outputs[0] == outputs[1]
    assert outputs[0][1]["findings"]  # the trees hold findings, at positions
    assert read_fast[0] > 0


def _counting_fast_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many streams the fast reader read (rather than declined)."""
    count = [0]
    read_values = fast_reader.read_values

    def counted(text: str, max_nodes: int) -> list[object] | None:
        values = read_values(text, max_nodes)
        count[0] += values is not None
        return values

    monkeypatch.setattr(fast_reader, "read_values", counted)
    return count


def test_a_run_of_a_few_files_leaves_rapidyaml_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for index in range(engine.FAST_READER_MIN_FILES + 1):
        (tree / f"policy-{index}.yaml").write_text(
            POLICY.replace("name: readers", f"name: readers-{index}"), encoding="utf-8")
    read_fast = _counting_fast_reads(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "tree/policy-0.yaml", "tree/policy-1.yaml", "--no-cache"]) in (0, 1)
    assert read_fast[0] == 0
    assert main(["check", "tree", "--no-cache"]) in (0, 1)
    assert read_fast[0] == engine.FAST_READER_MIN_FILES + 1
