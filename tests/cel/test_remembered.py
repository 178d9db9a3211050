"""CEL outcomes remembered between runs: a run whose rules were all seen with the same values
answers them without cel-python (the pre-commit hook's common case)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from istiolint.cel import CelValidator

RULE = "self.all(key, key.size() != 0)"
SCHEMA = {"type": "object", "additionalProperties": {"type": "string"},
          "x-kubernetes-validations": [{"rule": RULE, "message": "empty key"}]}


def test_a_remembered_outcome_answers_without_evaluating() -> None:
    value = {"app": "x"}
    fresh = CelValidator()
    assert fresh.violations(SCHEMA, value) == []
    assert fresh.learned
    remembered = fresh.remembered()
    assert remembered == {(RULE, repr(value)): True}
    # an outcome is trusted as it was found: a (tampered) False is reported as a failure
    later = CelValidator(outcomes={(RULE, repr(value)): False})
    assert [v.message for v in later.violations(SCHEMA, value)] == ["empty key"]
    assert not later.learned


def test_remembered_outcomes_are_bounded() -> None:
    validator = CelValidator(outcomes={(RULE, "x" * 5000): True, (RULE, "short"): True})
    assert validator.remembered() == {(RULE, "short"): True}


POLICY = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  targetRef: {kind: Service, name: web}
  rules: [{to: [{operation: {methods: [GET]}}]}]
"""

SCRIPT = """
import sys
from istiolint.entry import main
sys.argv = ['istiolint', 'check', sys.argv[1], '--no-git']
main()
print('cel-python imported' if 'celpy' in sys.modules else 'cel-python not imported')
"""


def _check(tree: Path, cache: Path) -> str:
    env = {**os.environ, "ISTIOLINT_CACHE_DIR": str(cache)}
    env.pop("ISTIOLINT_NO_CACHE", None)
    return subprocess.run([sys.executable, "-c", SCRIPT, str(tree)], capture_output=True,
                          text=True, check=False, env=env, cwd=tree).stdout


def test_an_edit_that_keeps_the_values_does_not_import_cel_python(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    policy = tree / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    first = _check(tree, tmp_path / "cache")
    assert "SC005 error spec: only one of targetRefs or selector can be set" in first
    assert first.endswith("cel-python imported\n")
    policy.write_text(POLICY + "# reviewed\n", encoding="utf-8")
    second = _check(tree, tmp_path / "cache")
    assert second.splitlines()[:-1] == first.splitlines()[:-1]
    assert second.endswith("cel-python not imported\n")
    policy.write_text(POLICY.replace("app: web", "app: shop"), encoding="utf-8")
    third = _check(tree, tmp_path / "cache")  # a new value: evaluated
    assert "SC005" in third
    assert third.endswith("cel-python imported\n")
