"""The README's sample outputs are what istiolint prints today."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"```console\n\$ (istiolint (?:[^\n]*\\\n)*[^\n]*)\n(.*?)```", re.S)


# `diff --base` needs a repository whose main holds the seed's step 1: test_diff_cli builds it
BLOCKS = [(command, output) for command, output in BLOCK.findall(README)
          if "--base" not in command]


@pytest.mark.parametrize(("command", "expected"), BLOCKS,
                         ids=lambda v: v.splitlines()[0][:40] if isinstance(v, str) else "")
def test_readme_console_block(command: str, expected: str, monkeypatch: pytest.MonkeyPatch,
                              run_cli: Callable[..., tuple[int, str, str]]) -> None:
    monkeypatch.chdir(REPO)
    args = command.replace("\\\n", " ").split()[1:]
    _, out, _ = run_cli(*args, *(["--color", "never"] if args[0] == "check" else []))
    assert out == expected
