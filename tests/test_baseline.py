"""Adopting istiolint on a repository with findings: baselines, --new-only, extra reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "examples" / "seed"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The seed's step 2 (two RA001 errors, two AP014 warnings) in a git repository."""
    for name in ("httpbin.yaml", "httpbin-auth.yaml"):
        shutil.copy(SEED / "step2" / name, tmp_path / name)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "legacy"]):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, env=env, capture_output=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


NEW_PROBLEM = """\
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: extra, namespace: demo}
spec:
  action: ALLOW
  rules:
  - to:
    - operation: {methods: ["get"]}
"""


def _codes(out: str) -> list[str]:
    return sorted(f["rule"] for f in json.loads(out)["findings"])


def test_a_baseline_hides_known_findings_and_shows_new_ones(tree: Path, run_cli: Run) -> None:
    code, _, err = run_cli("check", ".", "--isolated", "--write-baseline", "baseline.json")
    assert code == 0 and "recorded 4 finding(s) in baseline.json" in err
    recorded = json.loads((tree / "baseline.json").read_text())
    assert recorded["version"] == 1 and len(recorded["findings"]) == 4
    assert all("line" not in entry for entry in recorded["findings"])

    code, out, _ = run_cli("check", ".", "--isolated", "--baseline", "baseline.json", "-f", "json")
    assert code == 0 and _codes(out) == []
    assert json.loads(out)["summary"]["not_shown"] == 4

    auth = tree / "httpbin-auth.yaml"
    auth.write_text("# moved down by a comment\n\n" + auth.read_text() + NEW_PROBLEM)
    code, out, _ = run_cli("check", ".", "--isolated", "--baseline", "baseline.json", "-f", "json")
    assert _codes(out) == ["AP005", "RA007"], "lines moved: old findings stay hidden, new show"
    assert code == 1


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "is not valid JSON"), ('{"version": 7, "findings": []}', "is not an istiolint"),
    ('{"version": 1, "findings": [{}]}', "findings[0] has no fingerprint")])
def test_a_broken_baseline_is_a_usage_error(tree: Path, run_cli: Run, content: str,
                                            message: str) -> None:
    (tree / "baseline.json").write_text(content)
    code, _, err = run_cli("check", ".", "--isolated", "--baseline", "baseline.json")
    assert code == 2 and message in err


def test_new_only_reports_what_the_base_revision_did_not_have(tree: Path, run_cli: Run) -> None:
    auth = tree / "httpbin-auth.yaml"
    auth.write_text(auth.read_text() + NEW_PROBLEM)
    code, out, _ = run_cli("check", ".", "--isolated", "--new-only", "--base", "main", "-f",
                           "json")
    assert _codes(out) == ["AP005", "RA007"]
    assert json.loads(out)["summary"]["not_shown"] == 4
    assert code == 1


@pytest.mark.parametrize("args", [["--new-only"], ["--base", "main"],
                                  ["--write-baseline", "b.json", "--baseline", "b.json"]])
def test_flags_that_go_together(tree: Path, run_cli: Run, args: list[str]) -> None:
    assert run_cli("check", ".", "--isolated", *args)[0] == 2


def test_extra_reports_are_written_in_the_same_run(tree: Path, run_cli: Run) -> None:
    (tree / "out").mkdir()
    code, out, _ = run_cli("check", ".", "--isolated", "--report", "json=out/report.json",
                           "--report", "text=report.txt")
    assert code == 1
    assert _codes((tree / "out" / "report.json").read_text()) == ["AP014", "AP014", "RA001",
                                                                 "RA001"]
    assert (tree / "report.txt").read_text() == out


@pytest.mark.parametrize(("value", "message"), [
    ("sarif", "--report takes FORMAT=PATH"), ("nope=x.txt", "unknown format 'nope'"),
    ("json=missing-dir/x.json", "cannot write missing-dir/x.json")])
def test_bad_report_flags(tree: Path, run_cli: Run, value: str, message: str) -> None:
    code, _, err = run_cli("check", ".", "--isolated", "--report", value)
    assert code == 2 and message in err


def test_format_auto_follows_github_actions(tree: Path, run_cli: Run,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert run_cli("check", ".", "--isolated", "-f", "auto")[1].startswith("httpbin-auth.yaml:")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert "::error file=httpbin-auth.yaml," in run_cli("check", ".", "--isolated", "-f",
                                                        "auto")[1]
