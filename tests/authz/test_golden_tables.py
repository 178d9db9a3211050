"""Golden request tables (tests/authz/cases/*.yaml): each request's expected outcome comes from
Istio's source, tests or documentation, cited in the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from istiolint.authz.evaluate import Evaluator
from istiolint.authz.request import parse_request
from istiolint.config import Settings
from istiolint.engine import Inputs, Linter
from istiolint.model.mesh import MeshModel
from istiolint.resources import extract_resources
from istiolint.rules import load_registry
from istiolint.sources import parse_source

CASES = Path(__file__).parent / "cases"


def model_of(manifests: list[dict[str, Any]]) -> MeshModel:
    text = yaml.safe_dump_all(manifests, sort_keys=False).encode()
    source = parse_source(text, "manifests.yaml", lambda api, kind: True)
    assert source.problems == []
    return MeshModel.build(list(extract_resources(source)))


def _tables() -> list[tuple[str, dict[str, Any]]]:
    return [(path.stem, yaml.safe_load(path.read_text(encoding="utf-8")))
            for path in sorted(CASES.glob("*.yaml"))]


def _requests() -> list[Any]:
    params = []
    for stem, table in _tables():
        model = model_of(table["manifests"])
        for index, raw in enumerate(table["requests"]):
            params.append(pytest.param(model, raw, id=f"{stem}:{raw.get('name', index)}"))
    return params


@pytest.mark.parametrize(("model", "raw"), _requests())
def test_request_outcome(model: MeshModel, raw: dict[str, Any]) -> None:
    request = parse_request(raw, raw["name"])
    verdict = Evaluator(model).evaluate(request)
    assert request.expect is not None
    assert verdict.satisfies(request.expect), (
        f"expected {request.expect}, got {verdict.decision} {verdict.status}: {verdict.reason}\n"
        f"why: {raw.get('why')}\n" + "\n".join(verdict.trace))


@pytest.mark.parametrize(("stem", "table"), _tables(), ids=[stem for stem, _ in _tables()])
def test_table_manifests_are_accepted_by_istio(stem: str, table: dict[str, Any]) -> None:
    """The tables describe runtime behaviour of valid configuration only."""
    linter = Linter(load_registry(), Settings(select=("IL", "SC", "AD")), Path.cwd())
    text = yaml.safe_dump_all(table["manifests"], sort_keys=False).encode()
    result = linter.lint(Inputs(["-"], stdin=text, stdin_filename=f"{stem}.yaml"))
    assert [f"{f.code} {f.message}" for f in result.findings] == []


def test_every_table_cites_its_sources() -> None:
    for stem, table in _tables():
        assert table.get("sources"), stem
        assert all(r.get("why") for r in table["requests"]), stem
