"""The cache directory: used by default, never written with --no-cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
POLICY = REPO / "rules" / "SC003-invalid-value" / "good.yaml"


def _check(cache: Path, *flags: str) -> int:
    env = {**os.environ, "ISTIOLINT_CACHE_DIR": str(cache)}
    env.pop("ISTIOLINT_NO_CACHE", None)
    return subprocess.run([sys.executable, "-m", "istiolint", "check", str(POLICY), *flags],
                          env=env, capture_output=True, check=False, timeout=120).returncode


@pytest.mark.slow
def test_the_cel_parser_is_cached_and_no_cache_writes_nothing(tmp_path: Path) -> None:
    assert _check(tmp_path / "off", "--no-cache") == 0
    assert not (tmp_path / "off").exists()
    assert _check(tmp_path / "on") == 0
    assert [p.name for p in (tmp_path / "on").rglob("*.pickle")] != []
    assert _check(tmp_path / "on") == 0  # a second run reads it back
