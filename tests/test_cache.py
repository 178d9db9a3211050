"""The cache directory: used by default, never written with --no-cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from istiolint import cache
from istiolint.cache import write_atomically

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


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "results.pickle"
    target.write_bytes(b"old")
    write_atomically(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert [p.name for p in tmp_path.iterdir()] == ["results.pickle"]


def test_a_failed_write_raises_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    (target / "inside").mkdir(parents=True)  # a non-empty directory cannot be replaced
    with pytest.raises(IsADirectoryError):
        write_atomically(target, b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_temporary_names_are_never_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "memo.json"
    tokens = iter([b"\x00" * 6, b"\x00" * 6, b"\x01" * 6])
    monkeypatch.setattr(cache.os, "urandom", lambda size: next(tokens))
    (tmp_path / ".memo.json.000000000000").write_bytes(b"someone else's")
    write_atomically(target, b"mine")
    assert target.read_bytes() == b"mine"
    assert (tmp_path / ".memo.json.000000000000").read_bytes() == b"someone else's"
