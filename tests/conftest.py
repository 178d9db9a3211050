from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from istiolint.entry import main

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))  # tests generate trees with generate_tree.py


@pytest.fixture(autouse=True, scope="session")
def _cache_in_a_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The suite never writes to the user's cache directory."""
    os.environ["ISTIOLINT_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``istiolint`` in-process: returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def check_json(run_cli: Callable[..., tuple[int, str, str]]) -> Callable[..., tuple[int, Any]]:
    """Run ``istiolint check --format json --isolated``: returns (exit code, parsed report)."""

    def run(*args: str) -> tuple[int, Any]:
        code, out, err = run_cli("check", "--format", "json", "--isolated", *args)
        assert code in (0, 1), err
        return code, json.loads(out)

    return run
