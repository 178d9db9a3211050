"""The wheel carries schemas/ and rules/ and works outside the checkout; pre-commit runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=600)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, REPO)
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("istiolint-*.whl")
    return path


def test_wheel_contains_the_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "istiolint/_data/schemas/index.json" in names
    assert "istiolint/_data/schemas/1.30.3/security.istio.io/authorizationpolicy_v1.json" in names
    assert "istiolint/_data/rules/SC001-unknown-field/rule.yaml" in names
    assert "istiolint/_data/rules/SC001-unknown-field/bad.yaml" in names
    assert "istiolint/config.schema.json" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[istiolint.checks]" in text
    assert "istiolint = istiolint.entry:run" in text


def test_installed_wheel_runs_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    installed = _run(bin_dir / "python", "-m", "pip", "install", "-q", wheel)
    assert installed.returncode == 0, installed.stderr
    work = tmp_path / "elsewhere"
    shutil.copytree(REPO / "examples" / "mistakes", work / "manifests")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    checked = _run(bin_dir / "istiolint", "check", "manifests", "--format", "json", cwd=work,
                   env=env)
    assert checked.returncode == 1, checked.stderr
    report = json.loads(checked.stdout)
    assert {f["rule"] for f in report["findings"]} >= {"SC001", "SC002", "SC003", "AD001"}
    listed = _run(bin_dir / "istiolint", "rule", "SC001", cwd=work, env=env)
    assert listed.returncode == 0
    assert "bad.yaml" not in listed.stdout
    assert "jwksURI" in listed.stdout  # the example from the shipped rules/ directory


def test_pre_commit_hooks_run_against_a_repository(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    pre_commit = [sys.executable, "-m", "pre_commit"]
    assert _run(*pre_commit, "validate-manifest", REPO / ".pre-commit-hooks.yaml").returncode == 0
    repo = tmp_path / "gitops"
    shutil.copytree(REPO / "examples" / "gitops", repo)
    shutil.copy(REPO / "examples" / "mistakes" / "payments-policy.yaml",
                repo / "apps" / "payments" / "broken.yaml")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q"], ["add", "."]):
        assert _run("git", *args, cwd=repo, env=env).returncode == 0
    whole = _run(*pre_commit, "try-repo", REPO, "istiolint", "--all-files", cwd=repo, env=env)
    assert whole.returncode == 1, whole.stdout + whole.stderr
    assert "apps/payments/broken.yaml:12:5: SC001" in whole.stdout
    changed = _run(*pre_commit, "try-repo", REPO, "istiolint-changed", "--files",
                   "apps/shop/authz.yaml", cwd=repo, env=env)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "broken.yaml" not in changed.stdout
