"""Markdown bodies for pull requests: the same from a live run and from its JSON report, and
inert whatever a (forked) pull request puts into the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
Run = Callable[..., tuple[int, str, str]]
SEED = "examples/seed"


@pytest.fixture
def reports(tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(REPO)
    check, diff = tmp_path / "check.json", tmp_path / "diff.json"
    run_cli("check", f"{SEED}/step2", "--isolated", "-f", "json", "-o", str(check))
    run_cli("diff", f"{SEED}/step2", "--against", f"{SEED}/step1", "--isolated", "-f", "json",
            "-o", str(diff))
    return {"check": check, "diff": diff}


def test_a_report_renders_as_the_live_run_does(reports: dict[str, Path], run_cli: Run) -> None:
    _, live_check, _ = run_cli("check", f"{SEED}/step2", "--isolated", "-f", "markdown")
    _, live_diff, _ = run_cli("diff", f"{SEED}/step2", "--against", f"{SEED}/step1",
                              "--isolated", "-f", "markdown")
    code, body, _ = run_cli("markdown", "--check", str(reports["check"]), "--diff",
                            str(reports["diff"]))
    assert code == 0
    assert body == live_check + "\n" + live_diff
    assert body.startswith("### ❌ istiolint: 2 errors, 2 warnings, 0 infos")
    assert "| 🔒 narrowed |" in body


HOSTILE = "@octocat <img src=x onerror=alert(1)> [click](https://evil.example) ![i](x.png) `x` |"


def test_whatever_a_report_holds_stays_text(reports: dict[str, Path], run_cli: Run) -> None:
    check = json.loads(reports["check"].read_text())
    check["findings"][0].update(message=HOSTILE, path=HOSTILE, name="x")
    check["findings"][0]["resource"]["name"] = HOSTILE
    reports["check"].write_text(json.dumps(check))
    diff = json.loads(reports["diff"].read_text())
    diff["access"][0]["workload"]["description"] = HOSTILE
    diff["access"][0]["request"]["path"] = HOSTILE
    diff["findings"]["new"][0]["message"] = HOSTILE
    reports["diff"].write_text(json.dumps(diff))
    code, body, _ = run_cli("markdown", "--check", str(reports["check"]), "--diff",
                            str(reports["diff"]))
    assert code == 0
    for dangerous in ("@octocat", "<img", "](https", "![i]", "`x`"):
        assert dangerous not in body
    assert body.count("&#64;octocat") >= 4
    header = ""
    for line in body.splitlines():  # the hostile '|' never adds a table column
        if line.startswith("|") and not line.startswith("|---"):
            header = header or line
            assert line.count("|") == header.count("|"), line
        else:
            header = ""


@pytest.mark.parametrize(("content", "message"), [
    ("[]", "is not an istiolint findings report"), ("{", "is not JSON"),
    ('{"version": 2, "tool": {"name": "istiolint", "version": "1"}, "summary": {}, '
     '"findings": []}', "is not an istiolint findings report")])
def test_reports_that_are_not_istiolint_reports_are_refused(
        tmp_path: Path, run_cli: Run, content: str, message: str) -> None:
    path = tmp_path / "report.json"
    path.write_text(content)
    code, _, err = run_cli("markdown", "--check", str(path))
    assert code == 2 and message in err


def test_markdown_needs_a_report(run_cli: Run) -> None:
    code, _, err = run_cli("markdown")
    assert code == 2 and "name a report" in err
