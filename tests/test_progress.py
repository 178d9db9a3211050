"""The progress bar: on a terminal for long runs, never in a pipe or a file."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from generate_tree import generate

from istiolint.parallel import run_split


def test_progress_counts_every_item_once_whatever_the_split() -> None:
    for jobs in (1, 2):
        seen: list[int] = []
        run_split(abs, list(range(-300, 300)), jobs, progress=seen.append)
        assert sum(seen) == 600


def _stderr_of(tree: Path, *, terminal: bool) -> str:
    env = {**os.environ, "ISTIOLINT_NO_CACHE": "1", "COLUMNS": "100"}
    command = [sys.executable, "-m", "istiolint", "check", str(tree), "--no-git",
               "-o", os.devnull, "--jobs", "1"]
    if not terminal:
        return subprocess.run(command, env=env, capture_output=True, text=True,
                              check=False).stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_sees_a_bar_and_a_pipe_sees_nothing(tmp_path: Path) -> None:
    generate(tmp_path / "tree", namespaces=30, apps=7)
    assert len(list((tmp_path / "tree").rglob("*.yaml"))) >= 400
    assert "istiolint: reading files" in _stderr_of(tmp_path / "tree", terminal=True)
    assert _stderr_of(tmp_path / "tree", terminal=False) == ""
