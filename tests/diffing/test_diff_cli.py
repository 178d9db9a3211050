"""``istiolint diff`` through the command line: git revisions, formats, exit codes, errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from istiolint.entry import main

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "examples" / "seed"
SCHEMAS = {name: json.loads((REPO / "docs" / "schemas" / f"{name}-v1.schema.json").read_text())
           for name in ("diff", "findings")}
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMAS["diff"], registry=Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in SCHEMAS.values()))
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout


@pytest.fixture
def seed_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose last commit holds the seed tutorial's step 1 and whose working tree
    holds step 2."""
    repo = tmp_path / "repo"
    manifests = repo / "manifests"
    shutil.copytree(SEED / "step1", manifests)
    (manifests / "requests.yaml").unlink()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "step 1")
    shutil.copy(SEED / "step2" / "httpbin-auth.yaml", manifests / "httpbin-auth.yaml")
    monkeypatch.chdir(repo)
    return repo


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["diff", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_seed_step1_to_step2_against_the_last_commit(
        seed_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "manifests", "--base", "main", "-f", "json", "--isolated")
    assert code == 0
    report: dict[str, Any] = json.loads(out)
    VALIDATOR.validate(report)
    assert report["base"] == {"source": "git", "revision": "main",
                              "commit": _git(seed_repo, "rev-parse", "HEAD").strip()}
    assert report["head"] == {"source": "worktree"}
    assert [(o["change"], o["object"]["kind"]) for o in report["objects"]] == [
        ("modified", "AuthorizationPolicy"), ("modified", "RequestAuthentication")]
    assert {c["direction"] for c in report["access"]} == {"narrowed"}
    assert {f["rule"] for f in report["findings"]["new"]} >= {"RA001"}
    assert report["findings"]["new"][0]["path"] == "manifests/httpbin-auth.yaml"


def test_two_revisions_compare_like_the_working_tree(
        seed_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, worktree, _ = _run(capsys, "manifests", "--base", "main", "-f", "json", "--isolated")
    _git(seed_repo, "commit", "-q", "-am", "step 2")
    (seed_repo / "manifests" / "httpbin-auth.yaml").unlink()  # the work tree no longer matters
    code, revisions, _ = _run(capsys, "manifests", "--base", "main~1", "--head", "main", "-f",
                              "json", "--isolated")
    assert code == 0
    before, after = json.loads(worktree), json.loads(revisions)
    assert after["head"]["source"] == "git"
    assert (after["objects"], after["access"]) == (before["objects"], before["access"])


def test_reading_a_revision_leaves_the_repository_alone(
        seed_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hook = seed_repo / ".git" / "hooks" / "post-checkout"
    hook.write_text("#!/bin/sh\ntouch hook-ran\n")
    hook.chmod(0o755)
    index = (seed_repo / ".git" / "index").read_bytes()
    status = _git(seed_repo, "status", "--porcelain")
    _run(capsys, "manifests", "--base", "main", "--isolated")
    assert (seed_repo / ".git" / "index").read_bytes() == index
    assert _git(seed_repo, "status", "--porcelain") == status
    assert not (seed_repo / "hook-ran").exists()


def test_text_output_names_the_change_and_a_replayable_request(
        seed_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "manifests", "--base", "main", "--isolated")
    assert code == 0
    assert out.startswith("istiolint diff: main (")
    assert "NARROWED  Deployment demo/httpbin" in out
    assert "e.g.:     demo/httpbin, GET httpbin.demo.svc.cluster.local/" in out
    assert "new    manifests/httpbin-auth.yaml:" in out


@pytest.mark.parametrize(("flags", "expected"), [
    ([], 0), (["--exit-code"], 1), (["--fail-on", "widened"], 0),
    (["--fail-on", "narrowed"], 1), (["--fail-on", "access"], 1),
    (["--fail-on", "new-findings"], 1)])
def test_exit_codes(seed_repo: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
                    expected: int) -> None:
    assert _run(capsys, "manifests", "--base", "main", "--isolated", *flags)[0] == expected


def test_no_change_exits_zero_even_with_exit_code(
        seed_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _git(seed_repo, "commit", "-q", "-am", "step 2")
    code, out, _ = _run(capsys, "manifests", "--base", "main", "--exit-code", "--isolated")
    assert code == 0
    assert "Access: no change" in out and "Objects" not in out


def test_a_directory_the_base_does_not_have_is_empty_there(
        seed_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(SEED / "step2", seed_repo / "new")
    code, out, _ = _run(capsys, "new", "--base", "main", "-f", "json", "--isolated")
    assert code == 0
    assert {o["change"] for o in json.loads(out)["objects"]} == {"added"}


def test_runs_from_a_subdirectory_of_the_repository(
        seed_repo: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(seed_repo / "manifests")
    code, out, _ = _run(capsys, ".", "--base", "main", "-f", "json", "--isolated")
    assert code == 0
    report = json.loads(out)
    assert report["objects"][0]["after"]["path"] == "httpbin-auth.yaml"
    assert report["objects"][0]["before"]["path"] == "httpbin-auth.yaml"


@pytest.mark.parametrize(("args", "message"), [
    (["--base", "no-such-branch"], "unknown revision 'no-such-branch'"),
    ([], "name what to compare with"),
    (["--base", "main", "--against", "manifests"], "got --base and --against"),
    (["--base", "main", "--context", "prod"], "--context and --kubeconfig go with --cluster"),
    (["--base", "main", "-f", "yaml"], "unknown format 'yaml'"),
    (["--against", "missing-dir"], "no such file or directory: missing-dir"),
])
def test_usage_errors_exit_2_with_a_message(seed_repo: Path, capsys: pytest.CaptureFixture[str],
                                             args: list[str], message: str) -> None:
    code, _, err = _run(capsys, "manifests", *args, "--isolated")
    assert code == 2
    assert message in err


def test_outside_a_git_work_tree_base_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(SEED / "step1", tmp_path / "m")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, _, err = _run(capsys, "m", "--base", "main", "--isolated")
    assert code == 2
    assert "not inside a git work tree" in err


HOSTILE = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: httpbin, namespace: demo}
spec:
  selector: {matchLabels: {app: httpbin}}
  rules:
  - from:
    - source:
        principals: ["@octocat <img src=x onerror=alert(1)> [link](https://evil.example) | x"]
"""


def test_markdown_never_lets_manifest_text_become_markup(
        seed_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (seed_repo / "manifests" / "httpbin-auth.yaml").write_text(HOSTILE)
    code, out, _ = _run(capsys, "manifests", "--base", "main", "-f", "markdown", "--isolated")
    assert code == 0
    assert out.startswith("### istiolint diff:")
    assert "| 🔓 widened |" in out or "| 🔒 narrowed |" in out
    for dangerous in ("@octocat", "<img", "[link]", "](https", "onerror=alert(1)>"):
        assert dangerous not in out
    assert "&#64;octocat" in out


def test_the_readme_shows_what_diff_prints_for_the_seed_tutorial(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```console\n\$ istiolint diff --base main\n(.*?)```", readme, re.S)
    assert block is not None, "the README shows istiolint diff --base main"
    for name in ("httpbin.yaml", "httpbin-auth.yaml"):
        shutil.copy(SEED / "step1" / name, tmp_path / name)
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # a reproducible commit id
        monkeypatch.setenv(variable, "2026-01-01T00:00:00Z")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "step 1")
    shutil.copy(SEED / "step2" / "httpbin-auth.yaml", tmp_path / "httpbin-auth.yaml")
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(capsys, "--base", "main")
    assert code == 0
    assert out == block.group(1)


MISTYPED_RULES = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: {namespace}
spec:
  selector:
    matchLabels:
      app: httpbin
  action: ALLOW
  rules:
  - from: 8000
    to:
    - operation:
        methods: [GET]
    when: 7
  - to: 9
"""


@pytest.mark.parametrize("output_format", ["json", "text", "markdown"])
def test_rules_whose_from_to_or_when_is_not_a_list_are_diffed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], output_format: str) -> None:
    # found by the slow property tier: "for item in rule.get('from') or ()" met from: 8000
    for side, namespace in (("head", "httpbin"), ("base", "istio-system")):
        (tmp_path / side).mkdir()
        (tmp_path / side / "policy.yaml").write_text(MISTYPED_RULES.format(namespace=namespace))
    code, out, err = _run(capsys, str(tmp_path / "head"), "--against", str(tmp_path / "base"),
                          "--isolated", "--no-git", "-f", output_format)
    assert (code, err) == (0, "")
    assert "istio-system" in out
