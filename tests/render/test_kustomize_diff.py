"""diff --render kustomize: both sides are built (the base revision from a temporary copy of its
kustomization directories), so a change to an overlay's patch shows as that overlay's access."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
Run = Callable[..., tuple[int, str, str]]

pytestmark = pytest.mark.skipif(not (shutil.which("kubectl") or shutil.which("kustomize")),
                                reason="needs kubectl or kustomize")


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "kustomize", root)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env)
    monkeypatch.chdir(root)
    return root


def _fix_prod_patch_and_diff(repository: Path, run_cli: Run) -> Any:
    """Write the prod patch's method in upper case; the diff JSON against HEAD."""
    patch = repository / "overlays/prod/allow-post.yaml"
    patch.write_text(patch.read_text().replace('"post"', '"POST"'))
    code, out, err = run_cli("diff", "--isolated", "--base", "HEAD", "--render", "kustomize",
                             "-f", "json")
    assert code == 0, err
    return json.loads(out)


def test_fixing_the_prod_patch_widens_prod_only(repository: Path, run_cli: Run) -> None:
    report = _fix_prod_patch_and_diff(repository, run_cli)
    assert report["summary"]["widened"] >= 1
    flipped = {group["workload"]["description"] for group in report["access"]}
    assert flipped == {"Deployment httpbin/httpbin"}  # prod only: dev's is httpbin-dev
    widened = [group["request"] for group in report["access"] if group["direction"] ==
               "widened"]
    assert any(request["method"] == "POST" for request in widened)
    assert [(o["change"], o["object"]["kind"], o["object"]["namespace"])
            for o in report["objects"]] == [("modified", "AuthorizationPolicy", "httpbin")]
    assert [f["rule"] for f in report["findings"]["fixed"]] == ["AP005"]
    assert not (repository / "overlays/prod/.istiolint").exists()
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repository,
                          capture_output=True, text=True, check=True).stdout.split() == \
        ["M", "overlays/prod/allow-post.yaml"]


def test_an_unchanged_tree_renders_to_no_difference(repository: Path, run_cli: Run) -> None:
    code, out, _ = run_cli("diff", "--isolated", "--base", "HEAD", "--render", "kustomize",
                           "-f", "json")
    report = json.loads(out)
    assert code == 0 and report["objects"] == [] and report["access"] == []


def test_access_is_compared_per_overlay(repository: Path, run_cli: Run) -> None:
    """dev and prod render the same namespace (two clusters): a change to prod's patch is
    prod's, and dev is compared with dev only."""
    kustomization = repository / "overlays/dev/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("namespace: httpbin-dev\n", ""))
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit",
                    "-qam", "dev in the same namespace"], cwd=repository, check=True)
    report = _fix_prod_patch_and_diff(repository, run_cli)
    assert report["access"]
    assert {group.get("via") for group in report["access"]} == \
        {"kustomize build overlays/prod"}
    _, text, _ = run_cli("diff", "--isolated", "--base", "HEAD", "--render", "kustomize")
    assert "Deployment httpbin/httpbin (kustomize build overlays/prod)" in text
