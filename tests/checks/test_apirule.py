"""The APIRule rules (KY) beyond their bad/good examples: versions, extAuth, hostile input,
what they leave to the rules on the generated objects, and the seed tutorial as an APIRule."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rule_helpers as helpers
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rule_helpers import REPO

from istiolint.findings import Finding

SEED_APIRULE = REPO / "tests" / "kyma" / "seed_apirule.yaml"
ISSUER = "https://sso.acme.io/realms/shop"
JWKS = "https://sso.acme.io/realms/shop/certs"
CORS = "corsPolicy: {allowOrigins: [{exact: 'https://shop.acme.io'}]}"

SERVICE = """---
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: shop}
spec:
  selector: {app: orders}
  ports: [{name: http, port: 8080}]
"""
ORDERS = helpers.workload("shop", "orders", (8080,))
CHECKOUT = helpers.workload("shop", "checkout", (8080,))


def apirule(rules: str, version: str = "v2", extra: str = "") -> str:
    return f"""---
apiVersion: gateway.kyma-project.io/{version}
kind: APIRule
metadata: {{name: orders, namespace: shop}}
spec:
  hosts: [orders.shop.acme.io]
  gateway: kyma-system/kyma-gateway
  service: {{name: orders, port: 8080}}
  {extra}
  rules:
{rules}"""


def v1beta1(rules: str) -> str:
    return f"""---
apiVersion: gateway.kyma-project.io/v1beta1
kind: APIRule
metadata: {{name: orders, namespace: shop}}
spec:
  host: orders.shop.acme.io
  gateway: kyma-system/kyma-gateway
  service: {{name: orders, port: 8080}}
  rules:
{rules}"""


def jwt_rule(path: str = "/orders/{**}", methods: str = "[GET]", issuer: str = ISSUER,
             jwks_uri: str = JWKS, authorizations: str = "") -> str:
    return f"""  - path: {path}
    methods: {methods}
    jwt:
      authentications: [{{issuer: "{issuer}", jwksUri: "{jwks_uri}"}}]
      {authorizations}
"""


def no_auth_rule(path: str, methods: str = "[GET]") -> str:
    return f"""  - path: {path}
    methods: {methods}
    noAuth: true
"""


def lint(manifests: str, select: str = "KY") -> list[Finding]:
    return [f for f in helpers.lint(manifests, select) if not f.code.startswith("IL")]


def codes(findings: list[Finding]) -> list[str]:
    return sorted(f.code for f in findings)


def only(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


# --- versions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["v2", "v2alpha1"])
def test_v2_and_v2alpha1_are_the_same_shape(version: str) -> None:
    rules = jwt_rule(authorizations="authorizations: [{audiences: [web, app], "
                                    "requiredScopes: [read, write]}]")
    findings = lint(SERVICE + ORDERS + apirule(rules, version))

    assert codes(findings) == ["KY002", "KY003", "KY004"]
    assert only(findings, "KY002")[0].pointer == "/spec/rules/0/jwt/authorizations/0/audiences"
    assert '"web", "app"' in only(findings, "KY002")[0].message


def test_a_v1beta1_apirule_is_deprecated_once() -> None:
    rules = """  - path: /.*
    methods: [GET]
    accessStrategies: [{handler: no_auth}]
  - path: /orders
    methods: [POST]
    accessStrategies: [{handler: no_auth}]
"""
    (finding,) = only(lint(SERVICE + v1beta1(rules)), "KY007")

    assert finding.pointer == "/apiVersion"
    assert finding.resource is not None and finding.resource.kind == "APIRule"


def test_repeated_audiences_are_one_audience() -> None:
    rules = jwt_rule(authorizations="authorizations: [{audiences: [web, web]}]")

    assert only(lint(SERVICE + apirule(rules)), "KY002") == []


# --- extAuth ------------------------------------------------------------------------------------

EXT_AUTH = """  - path: /admin/{**}
    methods: [GET]
    extAuth:
      authorizers: [oauth2-proxy]
      restrictions:
        authentications: [{issuer: "sso-admin", jwksUri: "https://sso.acme.io/admin/certs"}]
        authorizations: [{audiences: [admin, ops], requiredScopes: [a, b]}]
"""


def test_ext_auth_restrictions_are_checked_like_jwt() -> None:
    findings = lint(SERVICE + ORDERS + apirule(EXT_AUTH))

    assert codes(findings) == ["KY002", "KY003", "KY004", "KY008"]
    restrictions = "/spec/rules/0/extAuth/restrictions"
    assert {f.pointer for f in findings} == {
        f"{restrictions}/authorizations/0/audiences",
        f"{restrictions}/authorizations/0/requiredScopes",
        f"{restrictions}/authentications/0/issuer", "/spec/service"}


def test_ext_auth_without_restrictions_still_admits_only_the_gateway() -> None:
    rules = """  - path: /admin/{**}
    methods: [GET]
    extAuth: {authorizers: [oauth2-proxy]}
"""
    assert codes(lint(SERVICE + ORDERS + apirule(rules))) == ["KY004"]


# --- KY001: what cannot be expanded -------------------------------------------------------------

def test_a_missing_service_gives_ky001_and_the_other_rules_still_run() -> None:
    rules = jwt_rule(jwks_uri="http://sso.acme.io/certs",
                     authorizations="authorizations: [{audiences: [web, app]}]")
    findings = lint(apirule(rules), "KY,RA,AP,SP")

    assert codes(findings) == ["KY001", "KY002", "KY008"]
    (not_expanded,) = only(findings, "KY001")
    assert not_expanded.pointer == "/spec/service"
    assert "Service shop/orders is not in the linted files" in not_expanded.message
    # nothing was generated, so RA003 cannot report the http jwksUri: KY008 does
    (insecure,) = only(findings, "KY008")
    assert insecure.pointer == "/spec/rules/0/jwt/authentications/0/jwksUri"


def test_an_expanded_http_jwks_uri_is_left_to_ra003() -> None:
    findings = lint(SERVICE + apirule(jwt_rule(jwks_uri="http://sso.acme.io/certs")),
                    "KY008,RA")

    (insecure,) = findings
    assert insecure.code == "RA003"
    assert insecure.via == "APIRule shop/orders"


def test_an_issuer_used_for_discovery_is_left_to_the_ra_rules() -> None:
    rules = """  - path: /orders
    methods: [GET]
    jwt:
      authentications: [{issuer: "sso-shop"}]
"""
    findings = lint(SERVICE + apirule(rules), "KY001,KY008,RA")

    # the jwksUri is missing (KY001): the generated jwtRule has none, and RA001 explains
    # that its keys can never load; KY008 does not repeat the issuer
    assert codes(findings) == ["KY001", "RA001"]


HOSTILE = [
    "spec: [a, list]",
    "spec: {rules: GET /orders}",
    "spec: {rules: [null, 7, {path: 7, methods: GET}]}",
    "spec: {corsPolicy: [x], rules: [{path: /a, methods: [7, null]}]}",
    "spec: {corsPolicy: {allowOrigins: []}, rules: [{path: /a, methods: [GET], noAuth: yes}]}",
    "spec: {rules: [{path: /a, methods: [GET], jwt: {authentications: {issuer: x}}}]}",
    "spec: {rules: [{path: /a, methods: [GET], jwt: {authentications: [{issuer: [x]}], "
    "authorizations: [{audiences: a, requiredScopes: {b: c}}, null]}}]}",
    "spec: {rules: [{path: /a, methods: [GET], extAuth: {authorizers: x, restrictions: 1}}]}",
    "spec: {service: {name: [orders]}, rules: [{path: /a, methods: [GET], noAuth: true}]}",
]


@pytest.mark.parametrize("spec", HOSTILE)
@pytest.mark.parametrize("version", ["v2", "v1beta1"])
def test_malformed_apirules_never_raise(spec: str, version: str) -> None:
    manifest = f"""---
apiVersion: gateway.kyma-project.io/{version}
kind: APIRule
metadata: {{name: orders, namespace: shop}}
{spec}
"""
    findings = helpers.lint(SERVICE + ORDERS + manifest, "KY,AP,RA,SP,SC,AD")

    assert all(f.path == "m.yaml" for f in findings)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8)
AUTHENTICATION = {"issuer": "http://sso", "jwksUri": "http://sso/k"}
BASES = [
    yaml.safe_load(apirule(
        jwt_rule(authorizations="authorizations: [{audiences: [a, b], requiredScopes: [r, s]}]")
        + EXT_AUTH + no_auth_rule("/*", "[OPTIONS]"), extra=CORS)),
    {"apiVersion": "gateway.kyma-project.io/v1beta1", "kind": "APIRule",
     "metadata": {"name": "orders", "namespace": "shop"},
     "spec": {"host": "orders.shop.acme.io", "service": {"name": "orders", "port": 8080},
              "rules": [{"path": "/a/.*", "methods": ["GET"], "accessStrategies": [
                  {"handler": "jwt", "config": {"authentications": [AUTHENTICATION],
                                                "authorizations": [{"audiences": ["a", "b"]}]}}]},
                        {"path": "/.*", "methods": ["GET"],
                         "accessStrategies": [{"handler": "no_auth"}]}]}},
]


def _paths_in(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, child in items:
        found += _paths_in(child, (*path, key))
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(BASES), data=st.data(), value=JSON_VALUES)
def test_any_value_anywhere_never_raises(base: dict[str, Any], data: st.DataObject,
                                         value: Any) -> None:
    hostile = copy.deepcopy(base)
    path = data.draw(st.sampled_from(_paths_in(hostile)[1:]))
    node: Any = hostile
    for token in path[:-1]:
        node = node[token]
    node[path[-1]] = value

    findings = helpers.lint(SERVICE + ORDERS + "---\n" + yaml.safe_dump(hostile), "KY")

    assert all(f.path == "m.yaml" for f in findings)


def test_a_malformed_v1beta1_rule_is_not_expanded_but_reported() -> None:
    rules = """  - path: /orders
    methods: [GET]
    accessStrategies: [{handler: jwt, config: {authentications: [{issuer: 7}]}}]
"""
    findings = lint(SERVICE + v1beta1(rules))

    assert "KY001" in codes(findings)
    assert "KY007" in codes(findings)


# --- KY004: in-cluster callers ------------------------------------------------------------------

def test_the_message_names_other_workloads_of_the_namespace() -> None:
    (finding,) = lint(SERVICE + ORDERS + CHECKOUT + apirule(no_auth_rule("/*")))

    assert finding.code == "KY004"
    assert "no other ALLOW policy applies to Deployment shop/orders" in finding.message
    assert "other workloads in namespace shop: Deployment shop/checkout" in finding.message
    assert "Deployment shop/orders" not in finding.message.partition("other workloads")[2]


def test_without_the_workload_the_selector_is_named() -> None:
    (finding,) = lint(SERVICE + apirule(no_auth_rule("/*")))

    assert "pods {app=orders} in namespace shop" in finding.message


def allow(name: str, spec: str, namespace: str = "shop") -> str:
    return f"""---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: {name}, namespace: {namespace}}}
spec:
{spec}
"""


@pytest.mark.parametrize(("policy", "silenced"), [
    (allow("from-checkout", "  selector: {matchLabels: {app: orders}}\n"
                            "  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/"
                            "checkout]}}]}]"), True),
    (allow("from-namespace", "  rules: [{from: [{source: {namespaces: [shop]}}]}]"), True),
    (allow("mesh-tokens", "  rules: [{from: [{source: {requestPrincipals: ['*']}}]}]",
           "istio-system"), True),
    (allow("allow-nothing", "  {}"), False),
    (allow("gateway-only", "  rules: [{from: [{source: {principals: [cluster.local/ns/"
                           "istio-system/sa/istio-ingressgateway-service-account]}}]}]"), False),
    (allow("other-workload", "  selector: {matchLabels: {app: checkout}}\n"
                             "  rules: [{from: [{source: {namespaces: [shop]}}]}]"), False),
    (allow("a-deny", "  action: DENY\n  rules: [{from: [{source: {namespaces: [evil]}}]}]"),
     False),
    (allow("malformed", "  rules: [{from: [{source: {principals: [{a: b}, 7]}}]}, null]"), True),
])
def test_another_allow_policy_for_in_cluster_callers_silences_ky004(policy: str,
                                                                     silenced: bool) -> None:
    findings = lint(SERVICE + ORDERS + apirule(no_auth_rule("/*")) + policy)

    assert codes(findings) == ([] if silenced else ["KY004"])


def test_dry_run_policies_do_not_admit_anyone() -> None:
    policy = """---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: from-namespace
  namespace: shop
  annotations: {istio.io/dry-run: "true"}
spec:
  rules: [{from: [{source: {namespaces: [shop]}}]}]
"""
    assert codes(lint(SERVICE + ORDERS + apirule(no_auth_rule("/*")) + policy)) == ["KY004"]


def test_another_apirules_policies_admit_only_the_gateway_too() -> None:
    other = apirule(no_auth_rule("/health")).replace("name: orders, namespace", "name: health, "
                                                                                 "namespace")
    findings = lint(SERVICE + ORDERS + apirule(no_auth_rule("/*")) + other)

    assert codes(findings) == ["KY004", "KY004"]


def test_a_v1beta1_jwt_rule_admits_in_cluster_callers_with_a_token() -> None:
    rules = """  - path: /orders
    methods: [GET]
    accessStrategies:
    - handler: jwt
      config: {authentications: [{issuer: "https://sso.acme.io", jwksUri: "https://sso.acme.io/k"}]}
  - path: /health
    methods: [GET]
    accessStrategies: [{handler: no_auth}]
"""
    assert only(lint(SERVICE + ORDERS + v1beta1(rules)), "KY004") == []


def test_one_finding_per_service_and_workload() -> None:
    rules = no_auth_rule("/health") + jwt_rule() + no_auth_rule("/*", "[HEAD]")

    (finding,) = lint(SERVICE + ORDERS + apirule(rules))
    assert finding.pointer == "/spec/service"


# --- KY005: CORS --------------------------------------------------------------------------------

@pytest.mark.parametrize(("rules", "uncovered"), [
    (jwt_rule() + no_auth_rule("/*", "[OPTIONS]"), None),
    (jwt_rule() + no_auth_rule("/{**}", "[OPTIONS]"), None),
    (jwt_rule("/orders/{*}/items") + no_auth_rule("/orders/{**}", "[OPTIONS]"), None),
    (jwt_rule("/orders/{**}") + no_auth_rule("/orders/{*}", "[OPTIONS]"), '"/orders/{**}"'),
    (jwt_rule("/orders", "[GET, OPTIONS]") + no_auth_rule("/health"), '"/health"'),
    (jwt_rule("/orders") + jwt_rule("/orders", "[POST]"), '"/orders"'),
])
def test_options_must_cover_every_path(rules: str, uncovered: str | None) -> None:
    findings = lint(SERVICE + apirule(rules, extra=CORS), "KY005")

    if uncovered is None:
        assert findings == []
    else:
        (finding,) = findings
        assert finding.pointer == "/spec/corsPolicy"
        assert f"no rule allows OPTIONS on {uncovered}:" in finding.message


def test_an_empty_cors_policy_applies_no_cors() -> None:
    assert lint(SERVICE + apirule(jwt_rule(), extra="corsPolicy: {}"), "KY005") == []


# --- KY006: v1beta1 regex paths -----------------------------------------------------------------

def v1beta1_no_auth(*paths: str) -> str:
    return v1beta1("".join(f"""  - path: "{path}"
    methods: [GET]
    accessStrategies: [{{handler: no_auth}}]
""" for path in paths))


def test_regex_paths_are_reported_once_between_ky006_and_ap006() -> None:
    manifests = SERVICE + v1beta1_no_auth("/.*", "/orders/.*", "/items/[0-9]+", "/x.*",
                                          "/plain.html")
    line_of = {text.split('"')[1]: number
               for number, text in enumerate(manifests.splitlines(), 1) if "- path:" in text}

    findings = sorted(lint(manifests, "KY006,AP006"), key=lambda f: f.position.line)

    assert [(f.code, f.position.line) for f in findings] == [
        ("KY006", line_of["/orders/.*"]), ("AP006", line_of["/items/[0-9]+"]),
        ("KY006", line_of["/x.*"])]
    assert findings[0].pointer == "/spec/rules/1/path"
    assert 'the prefix "/orders/."' in findings[0].message


def test_regex_paths_without_istio_policies_are_fine() -> None:
    rules = """  - path: /orders/.*
    methods: [GET]
    accessStrategies: [{handler: allow}]
"""
    assert lint(SERVICE + v1beta1(rules), "KY006") == []


# --- the seed tutorial --------------------------------------------------------------------------

# What api-gateway generates for tests/kyma/seed_apirule.yaml (expand_apirule's output, names
# included), written by hand.
SEED_GENERATED = """\
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: httpbin-rule-0-jwt
  generateName: httpbin-
  namespace: demo
  labels:
    apirule.gateway.kyma-project.io/name: httpbin
    apirule.gateway.kyma-project.io/namespace: demo
    kyma-project.io/module: api-gateway
    app.kubernetes.io/managed-by: api-gateway
    app.kubernetes.io/component: api-gateway
    app.kubernetes.io/part-of: api-gateway
spec:
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: issuer-foo
    jwksUri: https://example.com/.well-known/jwks.json
    forwardOriginalToken: true
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin-rule-0-allow-0
  generateName: httpbin-
  namespace: demo
  labels:
    apirule.gateway.kyma-project.io/name: httpbin
    apirule.gateway.kyma-project.io/namespace: demo
    kyma-project.io/module: api-gateway
    app.kubernetes.io/managed-by: api-gateway
    app.kubernetes.io/component: api-gateway
    app.kubernetes.io/part-of: api-gateway
    gateway.kyma-project.io/index: '0'
spec:
  selector:
    matchLabels:
      app: httpbin
  rules:
  - from:
    - source:
        requestPrincipals: ["issuer-foo/*"]
        principals: [cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account]
    to:
    - operation:
        hosts: [httpbin.local.kyma.dev]
        methods: [GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH]
        paths: ["/{**}"]
"""

KYMA_GATEWAY = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: kyma-gateway
  namespace: kyma-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*.local.kyma.dev"]
    tls: {mode: SIMPLE, credentialName: kyma-gateway-certs}
"""


def _lint_tree(tmp_path: Path, name: str, manifests: dict[str, str],
               check_json: Callable[..., tuple[int, Any]], monkeypatch: pytest.MonkeyPatch
               ) -> list[dict[str, Any]]:
    tree = tmp_path / name
    tree.mkdir()
    shutil.copy(REPO / "examples" / "seed" / "step1" / "httpbin.yaml", tree / "httpbin.yaml")
    (tree / "gateway.yaml").write_text(KYMA_GATEWAY, encoding="utf-8")
    for file_name, text in manifests.items():
        (tree / file_name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tree)
    _, report = check_json(".")
    findings: list[dict[str, Any]] = report["findings"]
    return findings


def test_seed_as_apirule_gives_the_same_findings(
        tmp_path: Path, check_json: Callable[..., tuple[int, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    written = _lint_tree(tmp_path, "written", {"policies.yaml": SEED_GENERATED}, check_json,
                         monkeypatch)
    generated = _lint_tree(tmp_path, "apirule",
                           {"apirule.yaml": SEED_APIRULE.read_text(encoding="utf-8")},
                           check_json, monkeypatch)

    def pairs(findings: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return sorted((f["rule"], f["message"]) for f in findings
                      if not f["rule"].startswith("KY"))

    assert written, "the seed has findings to compare"
    assert pairs(generated) == pairs(written)
    assert {f["path"] for f in generated} == {"apirule.yaml"}
    assert all(f["via"] == "APIRule demo/httpbin" for f in generated
               if not f["rule"].startswith("KY"))
    # what only the APIRule shows: its issuer is no URL, and in-cluster callers are denied
    assert not any(f["rule"].startswith("KY") for f in written)
    assert sorted(f["rule"] for f in generated if f["rule"].startswith("KY")) == [
        "KY004", "KY008"]
