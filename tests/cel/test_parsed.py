"""The CEL rules parsed when the schemas are generated (schemas/cel-rules.json)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import celpy
import pytest

from istiolint.cel import CelValidator
from istiolint.cel.parsed import FILE_NAME, ParsedRules, dump_tree, grammar_digest, load_tree

TABLE = Path(__file__).parents[2] / "schemas" / FILE_NAME


def _stored() -> dict[str, object]:
    content = json.loads(TABLE.read_text(encoding="utf-8"))
    if content["grammar"] != grammar_digest():
        pytest.skip("schemas/cel-rules.json was written with another cel-python grammar")
    rules = content["rules"]
    assert isinstance(rules, dict)
    return rules


def test_every_stored_rule_is_what_cel_python_parses_now() -> None:
    rules = _stored()
    assert len(rules) >= 30  # Istio's and Kyma's CRDs
    environment = celpy.Environment()
    for rule, stored in rules.items():
        fresh = environment.compile(rule)
        assert dump_tree(fresh) == stored, rule
        assert load_tree(stored) == fresh, rule
        assert dump_tree(load_tree(stored)) == stored, rule


def test_a_stored_tree_evaluates_like_a_parsed_one() -> None:
    rule = next(r for r in _stored() if r == "self.all(key, key.size() != 0)")
    schema = {"type": "object", "additionalProperties": {"type": "string"},
              "x-kubernetes-validations": [{"rule": rule, "message": "empty key"}]}
    from_table = CelValidator(ParsedRules(TABLE))
    parsed_now = CelValidator()
    for value in ({"app": "x"}, {"": "x"}, {}):
        assert from_table.violations(schema, value) == parsed_now.violations(schema, value)
    assert [v.message for v in from_table.violations(schema, {"": "x"})] == ["empty key"]


def test_validating_policies_does_not_build_the_parser(tmp_path: Path) -> None:
    """The point of the table: cel-python's parser (0.3 s) is not built for the CRDs' rules."""
    manifest = tmp_path / "policy.yaml"
    manifest.write_text(
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
        "metadata: {name: p, namespace: ns}\n"
        "spec:\n  selector: {matchLabels: {app: web}}\n  targetRef: {kind: Gateway, name: g}\n"
        "  rules: [{to: [{operation: {methods: [GET]}}]}]\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from celpy.celparser import CELParser\n"
        "from istiolint.entry import main\n"
        "sys.argv = ['istiolint', 'check', sys.argv[1], '--no-cache', '--no-git']\n"
        "main()\n"
        "print(type(CELParser.CEL_PARSER).__name__)\n")
    done = subprocess.run([sys.executable, "-c", script, str(manifest)], capture_output=True,
                          text=True, check=False)
    assert "SC005 error spec: only one of targetRefs or selector can be set" in done.stdout
    assert done.stdout.split()[-1] == "_ParserOnFirstUse"


def test_a_rule_missing_from_the_table_is_parsed_at_run_time(tmp_path: Path) -> None:
    table = tmp_path / FILE_NAME
    table.write_text(json.dumps({"format": 1, "grammar": grammar_digest(), "rules": {}}),
                     encoding="utf-8")
    schema = {"type": "string", "x-kubernetes-validations": [{"rule": "self != 'x'"}]}
    found = CelValidator(ParsedRules(table)).violations(schema, "x")
    assert [v.message for v in found] == ["failed rule: self != 'x'"]


@pytest.mark.parametrize("content", [
    "not json",
    json.dumps({"format": 1, "grammar": "another grammar", "rules": {
        "self != 'x'": {"rule": "expr", "meta": None, "children": []}}}),
    json.dumps({"format": 99, "grammar": "", "rules": {}}),
    json.dumps(["a list"]),
])
def test_a_table_from_another_grammar_or_format_is_ignored(tmp_path: Path,
                                                           content: str) -> None:
    table = tmp_path / FILE_NAME
    table.write_text(content, encoding="utf-8")
    schema = {"type": "string", "x-kubernetes-validations": [{"rule": "self != 'x'"}]}
    found = CelValidator(ParsedRules(table)).violations(schema, "x")
    assert [v.message for v in found] == ["failed rule: self != 'x'"]
