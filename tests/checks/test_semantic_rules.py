"""Cross-object rules on small meshes, and no false alarms on correct configurations."""

from __future__ import annotations

import zlib
from pathlib import Path

import rule_helpers as helpers
from generate_tree import generate
from rule_helpers import REPO

from istiolint.config import Settings
from istiolint.engine import Inputs, Linter
from istiolint.findings import Finding
from istiolint.rules import Severity, load_registry


def lint(manifests: str, select: str = "AP,RA") -> list[Finding]:
    return [f for f in helpers.lint(manifests, select) if not f.code.startswith("IL")]


def workload(namespace: str, name: str) -> str:
    return helpers.workload(namespace, name, (8080,), tier="api")


def request_authentication(namespace: str, issuer: str, selector: str = "") -> str:
    return f"""---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {{name: jwt-{zlib.crc32((issuer + selector).encode())}, namespace: {namespace}}}
spec:
  {selector}
  jwtRules: [{{issuer: "{issuer}", jwksUri: "{issuer}/jwks"}}]
"""


POLICY = """---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {tier: api}}
  rules:
  - from:
    - source: {requestPrincipals: ["https://sso.acme.internal/*"]}
"""


def test_orphaned_issuer_names_the_workloads_that_lack_it() -> None:
    mesh = (workload("shop", "cart") + workload("shop", "orders") + POLICY
            + request_authentication("shop", "https://sso.acme.internal",
                                     "selector: {matchLabels: {app: cart}}")
            + request_authentication("shop", "https://other.acme.internal",
                                     "selector: {matchLabels: {app: orders}}"))
    (finding,) = [f for f in lint(mesh) if f.code == "AP001"]
    assert "for Deployment shop/orders" in finding.message
    assert "judged by selectors" not in finding.message
    assert finding.pointer == "/spec/rules/0/from/0/source/requestPrincipals/0"


def test_root_namespace_request_authentication_covers_every_namespace() -> None:
    mesh = (workload("shop", "cart") + POLICY
            + request_authentication("istio-system", "https://sso.acme.internal"))
    assert [f.code for f in lint(mesh)] == []


def test_policy_without_any_request_authentication() -> None:
    (finding,) = lint(workload("shop", "cart") + POLICY)
    assert finding.code == "AP002"
    assert "Deployment shop/cart" in finding.message
    assert "never matches" in finding.message


def test_selector_reasoning_without_workloads_says_so() -> None:
    mesh = POLICY + request_authentication("shop", "https://other.acme.internal",
                                           "selector: {matchLabels: {tier: api}}")
    (finding,) = [f for f in lint(mesh) if f.code == "AP001"]
    assert "judged by selectors only" in finding.message


def test_unenforced_jwt_is_reported_per_workload() -> None:
    mesh = (workload("shop", "cart") + workload("shop", "orders")
            + request_authentication("shop", "https://sso.acme.internal")
            + POLICY.replace("tier: api", "app: cart"))
    (finding,) = [f for f in lint(mesh) if f.code == "RA007"]
    assert "Deployment shop/orders" in finding.message
    assert "shop/cart" not in finding.message


def test_correct_configurations_raise_no_warning() -> None:
    linter = Linter(load_registry(), Settings(), REPO)
    result = linter.lint(Inputs([str(REPO / "examples" / "gitops")]))
    warnings = [f for f in result.findings if f.severity >= Severity.WARNING]
    assert [f"{f.code} {f.message}" for f in warnings] == []
    assert {f.code for f in result.findings} == {"SP007", "SP009"}  # scope notes (info)


def test_benchmark_tree_raises_no_warning(tmp_path: Path) -> None:
    generate(tmp_path / "tree", namespaces=6, apps=7)
    linter = Linter(load_registry(), Settings(), tmp_path)
    result = linter.lint(Inputs(["tree"], use_git=False))
    warnings = [f for f in result.findings if f.severity >= Severity.WARNING]
    assert [f"{f.code} {f.message}" for f in warnings] == []


def test_seed_tutorial_findings() -> None:
    linter = Linter(load_registry(), Settings(), REPO)
    step1 = linter.lint(Inputs([str(REPO / "examples/seed/step1")])).findings
    step2 = linter.lint(Inputs([str(REPO / "examples/seed/step2")])).findings
    assert {f.code for f in step1} == {"AP003", "RA004"}
    assert [(f.code, f.position.line) for f in step2] == [
        ("RA001", 12), ("RA001", 13), ("AP014", 30), ("AP014", 36)]
