"""Reporting on some files with the rest as context (the pre-commit hook) finds exactly what a
whole-tree run finds in those files: checks may skip work for the other files, never more."""

from __future__ import annotations

from pathlib import Path

import pytest

from istiolint.config import Settings
from istiolint.engine import Inputs, Linter
from istiolint.rules import load_registry

REPO = Path(__file__).resolve().parents[1]
TREES = ["examples", "tests/corpus", "rules"]


def _linter() -> Linter:
    return Linter(load_registry(), Settings(select=["ALL"]), REPO)


@pytest.mark.parametrize("tree", TREES)
def test_each_file_reported_alone_gets_its_whole_tree_findings(tree: str) -> None:
    whole = _linter().lint(Inputs([tree], use_git=False))
    files = sorted({source.path for source in _linter().load(
        Inputs([tree], use_git=False), run_checks=False).sources})
    assert len(files) > 5
    by_file = {path: [f for f in whole.findings if f.path == path] for path in files}
    assert sum(map(len, by_file.values())) > 10  # the trees are full of findings
    for path in files:
        alone = _linter().lint(Inputs([path], context=[tree], use_git=False))
        assert alone.findings == by_file[path], path
