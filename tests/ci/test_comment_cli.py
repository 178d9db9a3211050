"""The pull-request flow of the GitHub Action, through the command line, against a fake
GitHub: reports -> ``istiolint markdown`` -> ``istiolint comment github``, run on two pushes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_github import FakeGitHub

TOKEN = "ghp_fake_token_0123456789"
REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "examples" / "seed"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN).running() as server:
        yield server


@pytest.fixture
def actions(github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A GitHub Actions environment for pull request 42 of acme/gitops."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 42}}))
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/gitops",
                        "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event),
                        "GITHUB_API_URL": github.url, "GITHUB_TOKEN": TOKEN,
                        "GITHUB_SERVER_URL": "https://github.test", "GITHUB_RUN_ID": "7"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _push(run_cli: Run, manifests: Path, step: str) -> tuple[int, str, str]:
    for name in ("httpbin.yaml", "httpbin-auth.yaml"):
        shutil.copy(SEED / step / name, manifests / name)
    run_cli("check", str(manifests), "--isolated", "--no-git", "-f", "auto",
            "--report", "json=check.json")
    run_cli("diff", str(manifests), "--against", str(SEED / "step1"), "--isolated", "--no-git",
            "-f", "json", "-o", "diff.json")
    code, _, _ = run_cli("markdown", "--check", "check.json", "--diff", "diff.json",
                         "-o", "comment.md")
    assert code == 0
    return run_cli("comment", "github", "--body-file", "comment.md")


def test_two_pushes_leave_one_comment_that_shows_the_latest(
        actions: Path, github: FakeGitHub, run_cli: Run) -> None:
    manifests = actions / "manifests"
    manifests.mkdir()
    github.seed("Looks good to me")

    code, _, err = _push(run_cli, manifests, "step2")
    assert code == 0 and "istiolint: comment created: https://github.test/" in err
    code, _, err = _push(run_cli, manifests, "step1")
    assert code == 0 and "istiolint: comment updated" in err

    ours = [c for c in github.comments_on(42) if "istiolint:comment" in c["body"]]
    assert len(ours) == 1
    assert "### ⚠️ istiolint:" in ours[0]["body"]  # step 1 has warnings, step 2 errors
    assert "**Access:** no change" in ours[0]["body"]
    assert len(github.comments_on(42)) == 2
    assert all(TOKEN not in request.path for request in github.requests)


def test_a_bad_token_exits_2_without_printing_it(actions: Path, github: FakeGitHub,
                                                 run_cli: Run,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (actions / "comment.md").write_text("body\n")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_wrong_token_987654321")
    code, out, err = run_cli("comment", "github", "--body-file", "comment.md")
    assert code == 2 and "GITHUB_TOKEN" in err
    assert "ghp_wrong_token_987654321" not in out + err


def test_dry_run_prints_the_body_with_its_marker(actions: Path, run_cli: Run) -> None:
    (actions / "comment.md").write_text("### istiolint\n")
    code, out, _ = run_cli("comment", "github", "--body-file", "comment.md", "--dry-run",
                           "--key", "prod")
    assert code == 0
    assert out == "### istiolint\n\n<!-- istiolint:comment key=prod -->"
