"""The GitHub Action and the documented CI files: well-formed, and free of script injection."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from istiolint import __version__

REPO = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _yaml_blocks(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def _steps(document: Any) -> Iterator[dict[str, Any]]:
    if isinstance(document, dict):
        if "runs" in document:
            yield from document["runs"].get("steps", [])
        for job in (document.get("jobs") or {}).values():
            yield from job.get("steps", [])


WORKFLOWS = [block for block in _yaml_blocks(REPO / "docs" / "ci" / "github.md")
             if isinstance(block, dict) and "jobs" in block]


def test_the_action_is_a_composite_action_with_declared_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    declared = set(ACTION["inputs"])
    used = {match.group(1) for match in re.finditer(r"inputs\.([\w-]+)",
                                                     (REPO / "action.yml").read_text())}
    assert used <= declared, used - declared
    assert all(step.get("shell") == "bash" for step in ACTION["runs"]["steps"] if "run" in step)


@pytest.mark.parametrize("document", [ACTION, *WORKFLOWS],
                         ids=["action.yml"] + [w["name"] for w in WORKFLOWS])
def test_no_expression_is_expanded_inside_a_shell_script(document: Any) -> None:
    """Values reach scripts through env: an expression inside `run` is a script injection."""
    for step in _steps(document):
        assert not EXPRESSION.search(step.get("run", "")), step["run"]


def test_the_documented_workflows_pin_this_release() -> None:
    assert len(WORKFLOWS) == 3
    text = (REPO / "docs" / "ci" / "github.md").read_text(encoding="utf-8")
    assert f"istiolint/istiolint@v{__version__}" in text
    assert f'"istiolint=={__version__}"' in text
    # YAML 1.1 reads the key `on` as true
    privileged = next(w for w in WORKFLOWS if "workflow_run" in w.get(True, w.get("on")))
    assert not any("actions/checkout" in step.get("uses", "")
                   for step in _steps(privileged)), "never check out the fork's code"


def test_the_gitlab_job_parses_and_reports_code_quality() -> None:
    [job] = [b for b in _yaml_blocks(REPO / "docs" / "ci" / "gitlab.md") if "istiolint" in b]
    assert job["istiolint"]["artifacts"]["reports"]["codequality"] == \
        "gl-code-quality-report.json"
    assert any("--report gitlab=gl-code-quality-report.json" in line
               for line in job["istiolint"]["script"])
