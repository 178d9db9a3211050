"""Replays Istio's own validation test cases (translated to YAML under ``cases/``).

Each case file holds ``cases``: a manifest in ``object`` and the verdict upstream expects:
``valid`` (no error-severity problem), optionally ``warning`` (some warning-severity problem)
and ``error_contains`` (a fragment of the error text). Cases marked ``representable: false``
cannot be written as a manifest and are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from istiolint.admission import AdmissionProblem, validate

CASES_DIR = Path(__file__).parent / "cases"


def load_cases(directory: Path) -> list[Any]:
    params: list[Any] = []
    for path in sorted(directory.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for index, case in enumerate(document.get("cases") or []):
            name = case.get("name", f"case {index}")
            params.append(pytest.param(case, id=f"{path.stem}[{index}] {name}"))
    return params


def check_case(case: dict[str, Any]) -> None:
    """Assert that :func:`validate` agrees with one upstream case."""
    problems = validate(case["object"])
    errors = [problem.message for problem in problems if problem.severity == "error"]
    warnings = [problem.message for problem in problems if problem.severity == "warning"]
    details = _describe(problems)
    assert (not errors) == bool(case["valid"]), details
    if "warning" in case:
        assert bool(warnings) == bool(case["warning"]), details
    fragment = case.get("error_contains")
    if fragment:
        texts = [*errors, "; ".join(errors)]
        assert any(fragment in text for text in texts), details


def _describe(problems: list[AdmissionProblem]) -> str:
    if not problems:
        return "validate() reported nothing"
    return "validate() reported:\n" + "\n".join(
        f"  {problem.severity} {problem.pointer or '/'}: {problem.message}" for problem in problems
    )


@pytest.mark.parametrize("case", load_cases(CASES_DIR))
def test_upstream_case(case: dict[str, Any]) -> None:
    if case.get("representable") is False:
        pytest.skip(str(case.get("note", "not representable as a manifest")))
    check_case(case)


def test_runner_reads_case_files(tmp_path: Path) -> None:
    """The loader and the comparison work on a small hand-written case file."""
    (tmp_path / "sample.yaml").write_text(
        """
source: {repo: istio/istio, commit: 0000000, path: x, test: TestSample}
cases:
  - name: "deny without rules"
    object:
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: n, namespace: ns}
      spec: {action: DENY}
    valid: false
    warning: false
    error_contains: "DENY action without `rules`"
  - name: "empty selector"
    object:
      apiVersion: security.istio.io/v1beta1
      kind: PeerAuthentication
      metadata: {name: n, namespace: ns}
      spec: {selector: {}}
    valid: true
    warning: true
  - name: "cannot be written"
    representable: false
    note: "nil pointer"
""",
        encoding="utf-8",
    )
    params = load_cases(tmp_path)
    assert len(params) == 3
    check_case(params[0].values[0])
    check_case(params[1].values[0])
    wrong = dict(params[1].values[0], valid=False)
    with pytest.raises(AssertionError):
        check_case(wrong)
