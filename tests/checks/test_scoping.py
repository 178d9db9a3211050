"""Scoping rules (SP001-SP010) on small meshes, and no false alarms on correct configurations."""

from __future__ import annotations

from pathlib import Path

import rule_helpers as helpers
import yaml
from generate_tree import generate
from rule_helpers import REPO

from istiolint.config import Settings
from istiolint.engine import Inputs, Linter
from istiolint.findings import Finding
from istiolint.rules import Severity

SCOPE_RULES = Settings(select=("IL", "SP"))


def lint(manifests: str, select: str = "SP", root: str = "istio-system") -> list[Finding]:
    return helpers.lint(manifests, select, root)


def lint_tree(root: Path, files: dict[str, str], select: str = "SP") -> list[Finding]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    linter = Linter(helpers.REGISTRY, Settings(select=(select,)), root)
    return linter.lint(Inputs(["."], use_git=False)).findings


def codes(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def workload(namespace: str, name: str, **labels: str) -> str:
    return helpers.workload(namespace, name, **labels)


def namespace(name: str) -> str:
    return f"---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n"


def policy(kind: str, namespace: str, name: str, spec: str = "{}",
           version: str = "v1") -> str:
    return f"""---
apiVersion: security.istio.io/{version}
kind: {kind}
metadata: {{name: {name}, namespace: {namespace}}}
spec: {spec}
"""


def selector(labels: str) -> str:
    return f"{{selector: {{matchLabels: {{{labels}}}}}}}"


def allow(namespace: str, name: str, spec: str) -> str:
    return policy("AuthorizationPolicy", namespace, name, spec)


def jwt(namespace: str, name: str, labels: str = "") -> str:
    rules = f'jwtRules: [{{issuer: "https://{name}.acme.internal", ' \
            f'jwksUri: "https://{name}.acme.internal/jwks"}}]'
    spec = f"{{selector: {{matchLabels: {{{labels}}}}}, {rules}}}" if labels else f"{{{rules}}}"
    return policy("RequestAuthentication", namespace, name, spec)


def mtls(namespace: str, name: str, labels: str = "", mode: str = "STRICT") -> str:
    spec = f"{{selector: {{matchLabels: {{{labels}}}}}, mtls: {{mode: {mode}}}}}" if labels \
        else f"{{mtls: {{mode: {mode}}}}}"
    return policy("PeerAuthentication", namespace, name, spec)


# SP001 selector-matches-nothing


def test_selector_matching_no_workload_of_its_namespace() -> None:
    mesh = workload("shop", "catalog") + allow("shop", "readers", selector("app: catalogue"))
    (finding,) = lint(mesh, "SP001")
    assert finding.pointer == "/spec/selector"
    assert "app=catalogue" in finding.message
    assert "of namespace shop" in finding.message
    assert "AuthorizationPolicy applies to nothing" in finding.message


def test_selector_is_judged_only_with_workloads_of_its_namespace() -> None:
    mesh = workload("storefront", "web") + allow("shop", "readers", selector("app: catalog"))
    assert lint(mesh, "SP001") == []


def test_selector_matching_a_workload_is_not_reported() -> None:
    mesh = (workload("shop", "catalog", version="v1")
            + allow("shop", "readers", selector("app: catalog, version: v1"))
            + jwt("shop", "sso", "app: catalog") + mtls("shop", "strict", "app: catalog"))
    assert lint(mesh, "SP001") == []


def test_every_security_kind_is_judged() -> None:
    mesh = (workload("shop", "catalog") + jwt("shop", "sso", "app: catalogue")
            + mtls("shop", "strict", "app: catalogue"))
    assert sorted(f.resource.kind for f in lint(mesh, "SP001") if f.resource) == [
        "PeerAuthentication", "RequestAuthentication"]


def test_root_namespace_selector_is_judged_against_every_namespace() -> None:
    missing = workload("shop", "catalog") + allow("istio-system", "a", selector("app: cart"))
    (finding,) = lint(missing, "SP001")
    assert "of any namespace" in finding.message
    found = workload("shop", "cart") + allow("istio-system", "a", selector("app: cart"))
    assert lint(found, "SP001") == []
    assert lint(allow("istio-system", "a", selector("app: cart")), "SP001") == []


def test_gateways_imply_the_pods_they_select_or_deploy() -> None:
    istio_gateway = """---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
"""
    gateway_api = """---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
"""
    mesh = (workload("shop", "catalog") + istio_gateway + gateway_api
            + allow("istio-system", "ingress", selector("istio: ingressgateway"))
            + allow("shop", "edge", selector("gateway.networking.k8s.io/gateway-name: edge")))
    assert lint(mesh, "SP001") == []


def test_ignored_policies_are_left_to_other_rules() -> None:
    root_selector = workload("shop", "catalog") + mtls("istio-system", "a", "app: cart")
    assert lint(root_selector, "SP001") == []
    target_refs = workload("shop", "catalog") + allow("shop", "a", """
  selector: {matchLabels: {app: cart}}
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: edge}]""")
    assert lint(target_refs, "SP001") == []


# SP002 undefined-namespace


def namespaces_policy(*values: str, field: str = "namespaces") -> str:
    listed = ", ".join(f'"{v}"' for v in values)
    return allow("shop", "readers", f"{{rules: [{{from: [{{source: {{{field}: [{listed}]}}}}]}}]}}")


def test_misspelt_namespace_is_reported_with_the_defined_one() -> None:
    mesh = namespace("shop") + namespace("storefront") + namespaces_policy("web", "storefrnt")
    (finding,) = lint(mesh, "SP002")
    assert finding.pointer == "/spec/rules/0/from/0/source/namespaces/1"
    assert '"storefrnt"' in finding.message
    assert 'did you mean "storefront"' in finding.message


def test_namespace_differing_by_case_never_matches() -> None:
    mesh = namespace("shop") + namespace("storefront") + namespaces_policy(
        "Storefront", field="notNamespaces")
    (finding,) = lint(mesh, "SP002")
    assert "source.notNamespaces" in finding.message
    assert 'did you mean "storefront"' in finding.message


def test_namespace_is_judged_only_when_the_manifests_define_namespaces() -> None:
    assert lint(namespaces_policy("storefrnt") + allow("storefront", "x", "{}"), "SP002") == []


def test_known_and_unrelated_namespaces_are_not_reported() -> None:
    mesh = (namespace("shop") + namespace("team-2") + workload("storefront", "web")
            + namespaces_policy("istio-system", "kube-system", "storefront", "analytics",
                                "team-1", "store*", "*front"))
    assert lint(mesh, "SP002") == []


# SP003 duplicate-object


def test_duplicate_across_api_versions_names_the_first(tmp_path: Path) -> None:
    findings = lint_tree(tmp_path, {
        "a/a.yaml": allow("shop", "readers", "{}"),
        "a/b/policy.yaml": policy("AuthorizationPolicy", "shop", "readers", version="v1beta1"),
        "a/c.yaml": allow("shop", "readers", "{}"),
    }, "SP003")
    assert [(f.path, f.pointer) for f in findings] == [
        ("a/b/policy.yaml", "/metadata/name"), ("a/c.yaml", "/metadata/name")]
    assert all("a/a.yaml:2" in f.message for f in findings)
    assert "AuthorizationPolicy shop/readers" in findings[0].message


def test_same_name_of_another_kind_or_group_is_no_duplicate() -> None:
    gateways = """---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec: {selector: {istio: ingressgateway}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec: {gatewayClassName: istio, listeners: []}
"""
    mesh = (allow("shop", "catalog", "{}") + jwt("shop", "catalog") + allow("cart", "catalog", "{}")
            + gateways)
    assert lint(mesh, "SP003") == []


def test_objects_without_namespace_collide_only_in_one_directory(tmp_path: Path) -> None:
    unplaced = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n" \
               "metadata: {name: readers}\nspec: {}\n"
    findings = lint_tree(tmp_path, {
        "apps/shop/authz.yaml": unplaced, "apps/cart/authz.yaml": unplaced,
        "apps/cart/copy.yaml": unplaced,
        "apps/namespaces.yaml": namespace("shop"),
        "apps/shop/namespace.yaml": namespace("shop"),
    }, "SP003")
    assert sorted(f.path for f in findings) == ["apps/cart/copy.yaml", "apps/shop/namespace.yaml"]


def test_sibling_trees_are_separate_clusters(tmp_path: Path) -> None:
    findings = lint_tree(tmp_path, {
        "clusters/dev/policy.yaml": allow("shop", "readers", "{}"),
        "clusters/prod/policy.yaml": allow("shop", "readers", "{}"),
        "clusters/dev/namespace.yaml": namespace("shop"),
        "clusters/prod/namespace.yaml": namespace("shop"),
    }, "SP003")
    assert findings == []


# SP004 ambiguous-peer-authentication


def test_several_namespace_wide_peer_authentications() -> None:
    findings = lint(mtls("shop", "default") + mtls("shop", "legacy", mode="PERMISSIVE")
                    + mtls("cart", "default"), "SP004")
    assert sorted(f.resource.name for f in findings if f.resource) == ["default", "legacy"]
    assert all("namespace shop (no selector)" in f.message for f in findings)
    assert "PeerAuthentication shop/legacy" in findings[0].message


def test_several_mesh_wide_peer_authentications() -> None:
    findings = lint(mtls("istio-system", "default") + mtls("istio-system", "mesh")
                    + mtls("istio-system", "ignored", "app: cart"), "SP004")
    assert len(findings) == 2
    assert all("the whole mesh" in f.message for f in findings)


def test_selectors_matching_the_same_workload() -> None:
    mesh = (workload("shop", "catalog", version="v2") + workload("shop", "cart")
            + mtls("shop", "catalog", "app: catalog") + mtls("shop", "v2", "version: v2")
            + mtls("shop", "cart", "app: cart"))
    findings = lint(mesh, "SP004")
    assert sorted(f.resource.name for f in findings if f.resource) == ["catalog", "v2"]
    assert all("Deployment shop/catalog" in f.message and f.pointer == "/spec/selector"
               for f in findings)
    assert "judged by selectors" not in findings[0].message


def test_overlapping_selectors_without_workloads() -> None:
    mesh = (mtls("shop", "catalog", "app: catalog")
            + mtls("shop", "canary", "app: catalog, track: canary"))
    findings = lint(mesh, "SP004")
    assert len(findings) == 2
    assert all("judged by selectors only" in f.message for f in findings)
    assert lint(mtls("shop", "a", "app: a") + mtls("shop", "b", "app: b"), "SP004") == []


def test_a_duplicate_object_is_not_an_ambiguity() -> None:
    assert lint(mtls("shop", "default") + mtls("shop", "default"), "SP004") == []


# SP005 root-namespace-selector-peer-authentication


def test_selector_peer_authentication_in_the_root_namespace() -> None:
    (finding,) = lint(mtls("istio-system", "catalog", "app: catalog"), "SP005")
    assert finding.pointer == "/spec/selector"
    assert finding.severity == Severity.ERROR
    assert lint(mtls("istio-system", "default") + mtls("shop", "catalog", "app: catalog")
                + policy("PeerAuthentication", "istio-system", "empty",
                         "{selector: {matchLabels: {}}}"), "SP005") == []


def test_the_configured_root_namespace_counts() -> None:
    mesh = mtls("mesh-root", "catalog", "app: catalog") + mtls("istio-system", "c", "app: c")
    (finding,) = lint(mesh, "SP005", root="mesh-root")
    assert "mesh-root" in finding.message


# SP006 target-refs-ignored-by-sidecars


def test_target_refs_are_ignored_by_sidecars() -> None:
    mesh = (allow("shop", "a", "{targetRefs: [{kind: Service, group: '', name: catalog}]}")
            + policy("RequestAuthentication", "shop", "b",
                     "{targetRef: {kind: Gateway, group: gateway.networking.k8s.io, "
                     "name: edge}}"))
    findings = lint(mesh, "SP006")
    assert [(f.pointer, f.resource.kind if f.resource else "") for f in findings] == [
        ("/spec/targetRefs", "AuthorizationPolicy"), ("/spec/targetRef", "RequestAuthentication")]
    assert "Service catalog" in findings[0].message
    assert "Gateway edge" in findings[1].message


def test_selector_policies_reach_sidecars() -> None:
    assert lint(allow("shop", "a", selector("app: catalog")) + allow("shop", "b", "{}"),
                "SP006") == []


# SP007 allow-nothing, SP008 allow-all


def test_allow_nothing_says_mesh_wide_in_the_root_namespace() -> None:
    (finding,) = lint(allow("istio-system", "allow-nothing", "{}"), "SP007")
    assert "mesh-wide" in finding.message
    (finding,) = lint(allow("shop", "deny-all", "{rules: []}"), "SP007")
    assert "every workload of namespace shop" in finding.message
    assert finding.pointer == "/spec/rules"


def test_allow_nothing_only_for_enforced_allow_policies() -> None:
    dry_run = """---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: trial
  namespace: shop
  annotations: {istio.io/dry-run: "true"}
spec: {}
"""
    mesh = (allow("shop", "deny", "{action: AUDIT}") + dry_run
            + allow("shop", "some", "{rules: [{to: [{operation: {methods: [GET]}}]}]}"))
    assert lint(mesh, "SP007") == []


def test_allow_all_rule() -> None:
    mesh = allow("shop", "open", selector("app: catalog")[:-1] + ", rules: [{from: []}, {}]}")
    findings = lint(mesh, "SP008")
    assert [f.pointer for f in findings] == ["/spec/rules/0", "/spec/rules/1"]
    assert "labelled app=catalog in namespace shop" in findings[0].message
    deny_all = allow("shop", "closed", "{action: DENY, rules: [{}]}")
    assert lint(deny_all + allow("shop", "x", "{rules: [{to: [{}]}]}"), "SP008") == []


# SP009 mesh-wide-selector


def test_root_namespace_selector_reaches_every_namespace() -> None:
    mesh = (workload("shop", "catalog", tier="api")
            + allow("istio-system", "a", selector("tier: api"))
            + jwt("istio-system", "sso", "tier: api"))
    findings = lint(mesh, "SP009")
    assert len(findings) == 2
    assert all("Deployment shop/catalog" in f.message for f in findings)
    assert lint(allow("istio-system", "all", "{}") + allow("shop", "a", selector("tier: api"))
                + mtls("istio-system", "pa", "tier: api"), "SP009") == []


# SP010 merged-request-authentications


def test_request_authentications_merged_on_a_workload() -> None:
    mesh = (workload("shop", "catalog") + workload("shop", "cart")
            + jwt("shop", "partners", "app: catalog") + jwt("istio-system", "staff"))
    (finding,) = lint(mesh, "SP010")
    assert finding.resource is not None and finding.resource.name == "partners"
    assert "RequestAuthentication istio-system/staff" in finding.message
    assert "for Deployment shop/catalog:" in finding.message


def test_each_extra_request_authentication_names_the_others() -> None:
    mesh = jwt("shop", "a") + jwt("shop", "b", "app: catalog") + jwt("shop", "c", "app: catalog")
    findings = lint(mesh, "SP010")
    assert sorted(f.resource.name for f in findings if f.resource) == ["b", "c"]
    assert all("judged by selectors only" in f.message for f in findings)
    assert "RequestAuthentications shop/a, shop/c" in findings[0].message


def test_request_authentications_of_different_workloads_are_not_merged() -> None:
    mesh = (workload("shop", "catalog") + workload("shop", "cart")
            + jwt("shop", "a", "app: catalog") + jwt("shop", "b", "app: cart")
            + policy("RequestAuthentication", "shop", "waypoint",
                     "{targetRefs: [{kind: Service, group: '', name: catalog}]}"))
    assert lint(mesh, "SP010") == []


# no false alarms


def warnings(findings: list[Finding]) -> list[str]:
    return [f"{f.path}:{f.position.line} {f.code} {f.message}" for f in findings
            if f.severity >= Severity.WARNING]


def test_gitops_example_raises_no_warning() -> None:
    linter = Linter(helpers.REGISTRY, SCOPE_RULES, REPO)
    result = linter.lint(Inputs([str(REPO / "examples" / "gitops")]))
    assert warnings(result.findings) == []
    assert sorted(f.code for f in result.findings) == ["SP007", "SP009"]


def test_benchmark_tree_raises_no_warning(tmp_path: Path) -> None:
    generate(tmp_path / "tree", namespaces=6, apps=7)
    result = Linter(helpers.REGISTRY, SCOPE_RULES, tmp_path).lint(Inputs(["tree"], use_git=False))
    assert warnings(result.findings) == []


# policies the golden tables hold on purpose to show what these rules detect
DELIBERATE = {("peer_authentication", "SP005", "root-selector"),
              ("request_authentication", "SP001", "ra-selector-miss"),
              ("scoping", "SP001", "scope-subset-allow-nothing"),
              ("scoping", "SP001", "scope-deployment-label-allow-nothing")}


def test_golden_tables_raise_only_their_deliberate_warnings() -> None:
    linter = Linter(helpers.REGISTRY, SCOPE_RULES, Path.cwd())
    for path in sorted((REPO / "tests" / "authz" / "cases").glob("*.yaml")):
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        text = yaml.safe_dump_all(table["manifests"], sort_keys=False).encode()
        findings = linter.lint(Inputs(["-"], stdin=text, stdin_filename=path.name)).findings
        unexpected = [f for f in findings if f.severity >= Severity.WARNING and f.resource
                      and (path.stem, f.code, f.resource.name) not in DELIBERATE]
        assert warnings(unexpected) == [], path.name
