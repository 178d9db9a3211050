"""The files beside the manifests that a pull request also controls: request files and the
configuration file. They are read like manifests (no tags, bounded depth): a bad one is a
usage error (exit 2) with its line, never a crash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STEP1 = REPO / "examples" / "seed" / "step1"


def _istiolint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "istiolint", *args], cwd=cwd, text=True,
                          capture_output=True, check=False, timeout=60)


@pytest.mark.parametrize(("text", "message"), [
    ("requests: " + "[" * 100_000 + "\n", "too large: it nests deeper than"),
    ("requests:\n- !!python/object/apply:os.system [\"touch pwned\"]\n", "is not allowed"),
    ("requests: []\nrequests: []\n", "duplicate key 'requests'"),
    ("requests:\n- {to: {workload: demo/httpbin}, when: 2001-02-30}\n", "unknown key(s) when"),
])
def test_a_hostile_request_file_is_a_usage_error(tmp_path: Path, text: str,
                                                 message: str) -> None:
    requests = tmp_path / "requests.yaml"
    requests.write_text(text)
    completed = _istiolint("simulate", str(STEP1), "--requests", str(requests), cwd=tmp_path)
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr
    assert not (tmp_path / "pwned").exists()


def test_dates_in_a_request_file_stay_text(tmp_path: Path) -> None:
    requests = tmp_path / "requests.yaml"
    requests.write_text("requests:\n- {name: 2024-01-01, to: {workload: demo/httpbin}, "
                        "method: GET, path: /, port: 80}\n")
    completed = _istiolint("simulate", str(STEP1), "--requests", str(requests), "-f", "json",
                           cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert '"name": "2024-01-01"' in completed.stdout


@pytest.mark.parametrize(("text", "message"), [
    ("select: " + "[" * 100_000 + "\n", "not valid YAML: line 1: too large"),
    ("select: !!python/object/apply:os.system [\"touch pwned\"]\n", "is not allowed"),
])
def test_a_hostile_configuration_is_a_usage_error(tmp_path: Path, text: str,
                                                  message: str) -> None:
    (tmp_path / ".istiolint.yaml").write_text(text)
    (tmp_path / "policy.yaml").write_text((STEP1 / "httpbin-auth.yaml").read_text())
    completed = _istiolint("check", ".", "--no-git", cwd=tmp_path)
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr
    assert not (tmp_path / "pwned").exists()
