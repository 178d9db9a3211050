"""Generated files are committed; these tests fail when they are stale."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from istiolint.schemas import SchemaStore

REPO = Path(__file__).resolve().parents[1]
UPSTREAM = REPO.parent / "shared" / "upstream" / "istio"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="needs ../shared/upstream/istio")
def test_schemas_match_the_official_crds() -> None:
    generate = _script("generate_schemas")
    assert generate.main(["--check", "--upstream", str(UPSTREAM)]) == 0, \
        "schemas/ is stale: run python scripts/generate_schemas.py"


def test_rule_docs_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    generate = _script("generate_rule_docs")
    assert generate.main(["--check"]) == 0, capsys.readouterr().out + \
        "\nrun python scripts/generate_rule_docs.py"


def test_every_bundled_istio_release_has_the_security_kinds() -> None:
    store = SchemaStore()
    for version in store.available:
        kinds = SchemaStore(version).kinds
        for kind in ("AuthorizationPolicy", "RequestAuthentication", "PeerAuthentication"):
            assert kinds[("security.istio.io", kind)].versions == ("v1", "v1beta1")
    assert store.istio_version == "1.30.3"
    assert SchemaStore("1.28").istio_version == "1.28.10"
    assert SchemaStore("1.31").istio_version == "1.31.0-rc.0"
