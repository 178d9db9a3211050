"""APIRule expansion: each case names the api-gateway behaviour it pins (the upstream files are
listed in istiolint/kyma/__init__.py)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from istiolint.kyma import Expansion, Generated, expand_apirule
from istiolint.kyma import expand as expand_module

HERE = Path(__file__).parent
INGRESS = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"
OATHKEEPER = "cluster.local/ns/kyma-system/sa/oathkeeper-maester-account"
ISSUER = "https://idp.example.com"
JWKS = "https://idp.example.com/jwks"
SCOPE_KEYS = ["request.auth.claims[scp]", "request.auth.claims[scope]",
              "request.auth.claims[scopes]"]
AUD = "request.auth.claims[aud]"

SERVICES: dict[tuple[str, str], dict[str, str]] = {
    ("demo", "httpbin"): {"app": "httpbin"},
    ("demo", "orders"): {"app": "orders", "tier": "api"},
    ("shop", "orders"): {"app": "orders-shop"},
    ("demo", "headless"): {},
}
GATEWAYS: dict[tuple[str, str], list[str]] = {
    ("kyma-system", "kyma-gateway"): ["*.local.kyma.dev", "*.local.kyma.dev"],
}


def expand(apirule: Any, services: Mapping[tuple[str, str], Mapping[str, str]] = SERVICES,
           gateways: Mapping[tuple[str, str], Sequence[str]] = GATEWAYS) -> Expansion:
    return expand_apirule(apirule,
                          service_selector=lambda namespace, name: services.get((namespace, name)),
                          gateway_hosts=lambda namespace, name: gateways.get((namespace, name)))


def v2(*rules: dict[str, Any], version: str = "v2", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"gateway.kyma-project.io/{version}", "kind": "APIRule",
            "metadata": {"name": "httpbin", "namespace": "demo"},
            "spec": {"hosts": ["httpbin.example.com"], "gateway": "kyma-system/kyma-gateway",
                     "service": {"name": "httpbin", "port": 8000}, "rules": list(rules), **spec}}


def v1beta1(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "gateway.kyma-project.io/v1beta1", "kind": "APIRule",
            "metadata": {"name": "httpbin", "namespace": "demo"},
            "spec": {"host": "httpbin.example.com", "gateway": "kyma-system/kyma-gateway",
                     "service": {"name": "httpbin", "port": 8000}, "rules": list(rules)}}


def jwt(*authorizations: dict[str, Any], issuer: str = ISSUER) -> dict[str, Any]:
    config: dict[str, Any] = {"authentications": [{"issuer": issuer, "jwksUri": JWKS}]}
    if authorizations:
        config["authorizations"] = list(authorizations)
    return config


def of_kind(expansion: Expansion, kind: str) -> list[Generated]:
    return [item for item in expansion.generated if item.obj["kind"] == kind]


def policies(expansion: Expansion) -> list[dict[str, Any]]:
    return [item.obj for item in of_kind(expansion, "AuthorizationPolicy")]


def operations(expansion: Expansion) -> list[dict[str, Any]]:
    return [policy["spec"]["rules"][0]["to"][0]["operation"] for policy in policies(expansion)]


def messages(expansion: Expansion) -> list[str]:
    return [problem.message for problem in expansion.problems]


def metadata(name: str, *, index: int | None = None, namespace: str = "demo") -> dict[str, Any]:
    labels = {"apirule.gateway.kyma-project.io/name": "httpbin",
              "apirule.gateway.kyma-project.io/namespace": "demo",
              "kyma-project.io/module": "api-gateway",
              "app.kubernetes.io/managed-by": "api-gateway",
              "app.kubernetes.io/component": "api-gateway",
              "app.kubernetes.io/part-of": "api-gateway"}
    if index is not None:
        labels["gateway.kyma-project.io/index"] = str(index)
    return {"name": name, "generateName": "httpbin-", "namespace": namespace, "labels": labels}


# --- v2: jwt, noAuth, authorizations ------------------------------------------------------------

def test_v2_jwt_rule_generates_a_request_authentication_and_an_allow_policy() -> None:
    expansion = expand(v2({"path": "/headers", "methods": ["GET", "POST"], "jwt": {
        "authentications": [{"issuer": ISSUER, "jwksUri": JWKS,
                             "fromHeaders": [{"name": "x-jwt", "prefix": "Token "}]}]}}))

    assert expansion.problems == ()
    assert [item.obj for item in expansion.generated] == [
        {"apiVersion": "security.istio.io/v1", "kind": "RequestAuthentication",
         "metadata": metadata("httpbin-rule-0-jwt"),
         "spec": {"selector": {"matchLabels": {"app": "httpbin"}},
                  "jwtRules": [{"issuer": ISSUER, "jwksUri": JWKS, "forwardOriginalToken": True,
                                "fromHeaders": [{"name": "x-jwt", "prefix": "Token "}]}]}},
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
         "metadata": metadata("httpbin-rule-0-allow-0", index=0),
         "spec": {"selector": {"matchLabels": {"app": "httpbin"}},
                  "rules": [{"from": [{"source": {"requestPrincipals": [f"{ISSUER}/*"],
                                                  "principals": [INGRESS]}}],
                             "to": [{"operation": {"hosts": ["httpbin.example.com"],
                                                   "methods": ["GET", "POST"],
                                                   "paths": ["/headers"]}}]}]}},
    ]


@pytest.mark.parametrize("version", ["v2", "v2alpha1"])
def test_no_auth_admits_only_the_ingress_gateway(version: str) -> None:
    expansion = expand(v2({"path": "/status", "methods": ["GET"], "noAuth": True},
                          version=version))

    assert of_kind(expansion, "RequestAuthentication") == []
    assert [policy["spec"]["rules"] for policy in policies(expansion)] == [[{
        "from": [{"source": {"principals": [INGRESS]}}],
        "to": [{"operation": {"hosts": ["httpbin.example.com"], "methods": ["GET"],
                              "paths": ["/status"]}}]}]]
    assert "action" not in policies(expansion)[0]["spec"]  # api-gateway leaves ALLOW unset


def test_each_authorization_is_its_own_policy_so_they_are_alternatives() -> None:
    expansion = expand(v2({"path": "/a", "methods": ["GET"],
                           "jwt": jwt({"audiences": ["x"]}, {"audiences": ["y"]})}))

    allow = policies(expansion)
    assert [policy["metadata"]["name"] for policy in allow] == ["httpbin-rule-0-allow-0",
                                                                "httpbin-rule-0-allow-1"]
    assert [policy["metadata"]["labels"]["gateway.kyma-project.io/index"]
            for policy in allow] == ["0", "1"]
    assert [policy["spec"]["rules"][0]["when"] for policy in allow] == [
        [{"key": AUD, "values": ["x"]}], [{"key": AUD, "values": ["y"]}]]


def test_required_scopes_give_one_rule_per_scope_claim_each_requiring_every_scope() -> None:
    authorization = {"requiredScopes": ["read", "write"], "audiences": ["api"]}
    expansion = expand(v2({"path": "/a", "methods": ["GET"], "jwt": jwt(authorization)}))

    (policy,) = policies(expansion)
    assert [rule["when"] for rule in policy["spec"]["rules"]] == [
        [{"key": key, "values": ["read"]}, {"key": key, "values": ["write"]},
         {"key": AUD, "values": ["api"]}]
        for key in SCOPE_KEYS]
    assert all(rule["from"] == policy["spec"]["rules"][0]["from"] and
               rule["to"] == policy["spec"]["rules"][0]["to"] for rule in policy["spec"]["rules"])


def test_every_audience_is_a_condition_of_its_own_so_all_are_required() -> None:
    expansion = expand(v2({"path": "/a", "methods": ["GET"],
                           "jwt": jwt({"audiences": ["web", "mobile"]})}))

    (policy,) = policies(expansion)
    assert [rule.get("when") for rule in policy["spec"]["rules"]] == [
        [{"key": AUD, "values": ["web"]}, {"key": AUD, "values": ["mobile"]}]]


def test_rules_with_the_same_service_and_issuers_share_one_request_authentication() -> None:
    expansion = expand(v2({"path": "/a", "methods": ["GET"], "jwt": jwt()},
                          {"path": "/b", "methods": ["POST"], "jwt": jwt()},
                          {"path": "/c", "methods": ["PUT"], "jwt": jwt(issuer="https://other")}))

    assert [item.obj["metadata"]["name"] for item in of_kind(expansion, "RequestAuthentication")
            ] == ["httpbin-rule-0-jwt", "httpbin-rule-2-jwt"]
    assert len(policies(expansion)) == 3


# --- v2: paths, notPaths, hosts -----------------------------------------------------------------

@pytest.mark.parametrize(("path", "expected"), [
    ("/*", "/{**}"),               # api-gateway writes the wildcard as a path template
    ("/{**}", "/{**}"),
    ("/api/{*}/items", "/api/{*}/items"),
    ("/", "/"),
])
def test_policy_paths(path: str, expected: str) -> None:
    expansion = expand(v2({"path": path, "methods": ["GET"], "noAuth": True}))

    assert operations(expansion)[0]["paths"] == [expected]


@pytest.mark.parametrize(("rules", "expected"), [
    # a later rule excludes the paths of the earlier rules that share a method
    ([("/a", ["GET"]), ("/b", ["GET", "POST"])], [[], ["/a"]]),
    ([("/a", ["POST"]), ("/b", ["GET"])], [[], []]),
    ([("/a", ["GET"]), ("/b", ["DELETE", "GET"]), ("/c", ["DELETE"])], [[], ["/a"], ["/b"]]),
    # catch-all paths and "/" are never excluded, and as they never end the list, they
    # exclude the paths of the later rules too
    ([("/a", ["GET"]), ("/", ["GET"]), ("/*", ["GET"]), ("/b", ["GET"])],
     [[], ["/a", "/b"], ["/a", "/b"], ["/a"]]),
    ([("/{**}", ["GET"]), ("/a", ["GET"]), ("/b", ["POST"])], [["/a"], [], []]),
    # the list ends at the first rule with the same path
    ([("/a", ["GET"]), ("/a", ["POST"]), ("/b", ["POST"])], [[], [], ["/a"]]),
])
def test_not_paths_implement_rule_order(rules: list[tuple[str, list[str]]],
                                        expected: list[list[str]]) -> None:
    expansion = expand(v2(*({"path": path, "methods": methods, "noAuth": True}
                            for path, methods in rules)))

    assert [operation.get("notPaths", []) for operation in operations(expansion)] == expected


def test_not_paths_map_to_the_earlier_rules_paths() -> None:
    expansion = expand(v2({"path": "/a", "methods": ["GET"], "noAuth": True},
                          {"path": "/b", "methods": ["GET"], "noAuth": True}))

    second = of_kind(expansion, "AuthorizationPolicy")[1]
    assert second.source_pointer("/spec/rules/0/to/0/operation/notPaths/0") == "/spec/rules/0/path"
    assert second.source_pointer("/spec/rules/0/to/0/operation/paths/0") == "/spec/rules/1/path"


@pytest.mark.parametrize(("gateways", "spec", "host", "problem"), [
    ({("kyma-system", "kyma-gateway"): ["*.local.kyma.dev"]}, {}, "httpbin.local.kyma.dev", None),
    # one host in every server: the validation's condition
    (GATEWAYS, {}, "httpbin.local.kyma.dev", None),
    ({("kyma-system", "kyma-gateway"): ["*.a.dev", "*.b.dev"]}, {}, "httpbin",
     'has "*.a.dev", "*.b.dev"'),
    ({("kyma-system", "kyma-gateway"): ["httpbin.a.dev"]}, {}, "httpbin", 'has "httpbin.a.dev"'),
    ({}, {}, "httpbin", "Gateway kyma-system/kyma-gateway is not in the linted files"),
    (GATEWAYS, {"gateway": None, "externalGateway": "kyma-system/ext"}, "httpbin",
     "ExternalGateway"),
    (GATEWAYS, {"gateway": "kyma-gateway"}, "httpbin", "is not namespace/name"),
])
def test_short_hosts_take_the_domain_of_the_gateway(
        gateways: dict[tuple[str, str], list[str]], spec: dict[str, Any], host: str,
        problem: str | None) -> None:
    apirule = v2({"path": "/a", "methods": ["GET"], "noAuth": True}, hosts=["httpbin"])
    apirule["spec"].update(spec)
    expansion = expand(apirule, gateways=gateways)

    assert operations(expansion)[0]["hosts"] == [host]
    if problem is None:
        assert expansion.problems == ()
    else:
        (found,) = messages(expansion)
        assert found.startswith('short host "httpbin" is kept as it is: ') and problem in found


def test_full_hosts_need_no_gateway() -> None:
    expansion = expand(v2({"path": "/a", "methods": ["GET"], "noAuth": True},
                          hosts=["api.example.com"], gateway=None), gateways={})

    assert operations(expansion)[0]["hosts"] == ["api.example.com"]
    assert expansion.problems == ()


# --- Services and namespaces --------------------------------------------------------------------

@pytest.mark.parametrize(("rule_service", "spec_service", "namespace", "labels", "origin"), [
    (None, {"name": "httpbin"}, "demo", {"app": "httpbin"}, "/spec/service"),
    ({"name": "orders"}, {"name": "httpbin"}, "demo", {"app": "orders", "tier": "api"},
     "/spec/rules/0/service"),
    ({"name": "orders", "namespace": "shop"}, {"name": "httpbin"}, "shop",
     {"app": "orders-shop"}, "/spec/rules/0/service"),
    # a rule's service without a namespace takes the spec service's namespace first
    ({"name": "orders"}, {"name": "httpbin", "namespace": "shop"}, "shop",
     {"app": "orders-shop"}, "/spec/rules/0/service"),
])
def test_the_rule_service_overrides_the_spec_service_and_decides_the_namespace(
        rule_service: dict[str, str] | None, spec_service: dict[str, str], namespace: str,
        labels: dict[str, str], origin: str) -> None:
    rule: dict[str, Any] = {"path": "/a", "methods": ["GET"], "jwt": jwt()}
    if rule_service is not None:
        rule["service"] = {**rule_service, "port": 80}
    expansion = expand(v2(rule, service={**spec_service, "port": 80}))

    assert expansion.problems == ()
    for generated in expansion.generated:
        assert generated.obj["metadata"]["namespace"] == namespace
        assert generated.obj["metadata"]["labels"][
            "apirule.gateway.kyma-project.io/namespace"] == "demo"
        assert generated.obj["spec"]["selector"] == {"matchLabels": labels}
        assert generated.source_pointer("/spec/selector/matchLabels") == origin


def test_without_a_namespace_the_apirule_is_in_default() -> None:
    apirule = v2({"path": "/a", "methods": ["GET"], "noAuth": True})
    del apirule["metadata"]["namespace"]

    expansion = expand(apirule, services={("default", "httpbin"): {"app": "httpbin"}})

    assert policies(expansion)[0]["metadata"]["namespace"] == "default"


def test_a_service_not_in_the_linted_files_leaves_its_rules_out() -> None:
    expansion = expand(v2({"path": "/a", "methods": ["GET"], "noAuth": True,
                           "service": {"name": "missing", "port": 80}},
                          {"path": "/b", "methods": ["GET"], "noAuth": True}))

    assert [problem.pointer for problem in expansion.problems] == ["/spec/rules/0/service"]
    assert messages(expansion) == [
        "Service demo/missing is not in the linted files: its selector decides which workloads "
        "the generated policies select; the rule is not expanded"]
    # the rule left out still orders the others
    assert operations(expansion) == [{"hosts": ["httpbin.example.com"], "methods": ["GET"],
                                      "paths": ["/b"], "notPaths": ["/a"]}]


def test_a_service_without_selector_is_a_problem() -> None:
    expansion = expand(v2({"path": "/a", "methods": ["GET"], "noAuth": True},
                          service={"name": "headless", "port": 80}))

    assert expansion.generated == ()
    assert messages(expansion)[0].startswith("Service demo/headless has no selector")


# --- extAuth ------------------------------------------------------------------------------------

def test_ext_auth_without_restrictions() -> None:
    expansion = expand(v2({"path": "/a", "methods": ["GET"],
                           "extAuth": {"authorizers": ["oauth2-proxy", "opa"]}}))

    assert of_kind(expansion, "RequestAuthentication") == []
    custom_0, custom_1, allow = policies(expansion)
    operation = {"hosts": ["httpbin.example.com"], "methods": ["GET"], "paths": ["/a"]}
    assert custom_0["spec"] == {"selector": {"matchLabels": {"app": "httpbin"}},
                                "action": "CUSTOM", "provider": {"name": "oauth2-proxy"},
                                "rules": [{"to": [{"operation": operation}]}]}
    assert custom_1["spec"]["provider"] == {"name": "opa"}
    assert allow["spec"]["rules"] == [{"from": [{"source": {"principals": [INGRESS]}}],
                                       "to": [{"operation": operation}]}]
    assert [policy["metadata"]["labels"]["gateway.kyma-project.io/index"]
            for policy in (custom_0, custom_1, allow)] == ["0", "1", "2"]


def test_ext_auth_with_restrictions_also_requires_a_token() -> None:
    expansion = expand(v2({"path": "/a", "methods": ["GET"], "extAuth": {
        "authorizers": ["oauth2-proxy"],
        "restrictions": jwt({"requiredScopes": ["read"]})}}))

    (request_authentication,) = of_kind(expansion, "RequestAuthentication")
    assert request_authentication.obj["spec"]["jwtRules"] == [
        {"issuer": ISSUER, "jwksUri": JWKS, "forwardOriginalToken": True}]
    assert request_authentication.source_pointer("/spec/jwtRules/0/issuer") == \
        "/spec/rules/0/extAuth/restrictions/authentications/0/issuer"
    custom, allow = policies(expansion)
    assert custom["spec"]["action"] == "CUSTOM"
    assert [rule["from"] for rule in allow["spec"]["rules"]] == [
        [{"source": {"requestPrincipals": [f"{ISSUER}/*"], "principals": [INGRESS]}}]] * 3
    assert allow["metadata"]["labels"]["gateway.kyma-project.io/index"] == "1"


# --- v1beta1 ------------------------------------------------------------------------------------

def v1beta1_jwt(path: str) -> dict[str, Any]:
    return {"path": path, "methods": ["GET"],
            "accessStrategies": [{"handler": "jwt", "config": jwt({"audiences": ["api"]})}]}


@pytest.mark.parametrize(("path", "expected"), [
    ("/.*", "/*"),                       # the only regex api-gateway translates
    ("/api/v[0-9]+/.*", "/api/v[0-9]+/.*"),  # copied literally: it never matches
    ("/headers", "/headers"),
])
def test_v1beta1_jwt_handler(path: str, expected: str) -> None:
    expansion = expand(v1beta1(v1beta1_jwt(path)))

    assert expansion.problems == ()
    (request_authentication,) = of_kind(expansion, "RequestAuthentication")
    assert request_authentication.obj["spec"]["jwtRules"] == [
        {"issuer": ISSUER, "jwksUri": JWKS, "forwardOriginalToken": True}]
    (policy,) = policies(expansion)
    # no hosts, no notPaths, and no ingress gateway principal
    assert policy["spec"]["rules"] == [{
        "from": [{"source": {"requestPrincipals": [f"{ISSUER}/*"]}}],
        "to": [{"operation": {"methods": ["GET"], "paths": [expected]}}],
        "when": [{"key": AUD, "values": ["api"]}]}]
    assert of_kind(expansion, "AuthorizationPolicy")[0].source_pointer(
        "/spec/rules/0/from/0/source/requestPrincipals/0") == \
        "/spec/rules/0/accessStrategies/0/config/authentications/0/issuer"


def test_v1beta1_noop_and_allow_rules_get_policies_when_a_rule_uses_jwt() -> None:
    expansion = expand(v1beta1(v1beta1_jwt("/.*"),
                               {"path": "/public", "methods": ["GET"],
                                "accessStrategies": [{"handler": "noop"}]},
                               {"path": "/health", "methods": ["GET"],
                                "accessStrategies": [{"handler": "allow"}]}))

    assert expansion.problems == ()
    assert [policy["spec"]["rules"][0]["from"] for policy in policies(expansion)[1:]] == [
        [{"source": {"principals": [OATHKEEPER]}}], [{"source": {"principals": [INGRESS]}}]]


def test_v1beta1_without_jwt_or_no_auth_generates_nothing() -> None:
    expansion = expand(v1beta1({"path": "/.*", "methods": ["GET"],
                                "accessStrategies": [{"handler": "noop"}]}))

    assert expansion == Expansion((), ())


@pytest.mark.parametrize("config", [
    {"trusted_issuers": [ISSUER], "jwks_urls": [JWKS]},
    {"trusted_issuers": [ISSUER, "https://b"], "jwks_urls": [JWKS], "required_scope": ["read"]},
])
def test_v1beta1_ory_jwt_configuration_is_not_expanded(config: dict[str, Any]) -> None:
    expansion = expand(v1beta1({"path": "/a", "methods": ["GET"],
                                "accessStrategies": [{"handler": "jwt", "config": config}]},
                               v1beta1_jwt("/b")))

    assert expansion.generated == ()
    (problem,) = expansion.problems
    assert problem.pointer == "/spec/rules/0/accessStrategies/0/config"
    assert "Ory Oathkeeper's configuration" in problem.message
    assert ("cannot be converted to v2" in problem.message) == (len(config["trusted_issuers"]) > 1)


def test_v1beta1_oathkeeper_handlers_are_a_problem() -> None:
    expansion = expand(v1beta1(v1beta1_jwt("/a"), {
        "path": "/b", "methods": ["GET"],
        "accessStrategies": [{"handler": "oauth2_introspection", "config": {}}]}))

    assert [problem.pointer for problem in expansion.problems] == [
        "/spec/rules/1/accessStrategies"]
    assert "Ory Oathkeeper (oauth2_introspection)" in messages(expansion)[0]
    assert policies(expansion)[1]["spec"]["rules"][0]["from"] == [
        {"source": {"principals": [OATHKEEPER]}}]


# --- origins ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "pointer", "source"), [
    ("AuthorizationPolicy", "/spec/rules/0/to/0/operation/methods/1", "/spec/rules/1/methods/1"),
    ("AuthorizationPolicy", "/spec/rules/0/to/0/operation/hosts/0", "/spec/hosts/0"),
    ("AuthorizationPolicy", "/spec/rules/2/when/0/values/0",
     "/spec/rules/1/jwt/authorizations/0/requiredScopes/0"),
    ("AuthorizationPolicy", "/spec/rules/0/when/1",
     "/spec/rules/1/jwt/authorizations/0/audiences/0"),
    ("AuthorizationPolicy", "/spec/rules/0/from/0/source/principals/0", "/spec/rules/1/jwt"),
    ("AuthorizationPolicy", "/spec", "/spec/rules/1/jwt/authorizations/0"),
    ("AuthorizationPolicy", "/metadata/namespace", "/metadata/namespace"),
    ("AuthorizationPolicy", "/apiVersion", ""),
    ("RequestAuthentication", "/spec/jwtRules/0/jwksUri",
     "/spec/rules/1/jwt/authentications/0/jwksUri"),
    ("RequestAuthentication", "/spec/jwtRules/0/forwardOriginalToken",
     "/spec/rules/1/jwt/authentications/0"),
    ("RequestAuthentication", "/spec/selector", "/spec/service"),
])
def test_origins(kind: str, pointer: str, source: str) -> None:
    expansion = expand(v2({"path": "/x", "methods": ["PUT"], "noAuth": True},
                          {"path": "/a", "methods": ["GET", "POST"],
                           "jwt": jwt({"requiredScopes": ["read"], "audiences": ["api"]})}))

    (generated,) = [item for item in of_kind(expansion, kind)
                    if item.obj["metadata"]["name"].startswith("httpbin-rule-1")]
    assert ("", "") in {(origin.generated, origin.source) for origin in generated.origins}
    assert generated.source_pointer(pointer) == source


def test_origins_match_whole_tokens() -> None:
    generated = Generated({}, (expand_module.Origin("", ""),
                               expand_module.Origin("/spec/rules/1", "/a")))

    assert generated.source_pointer("/spec/rules/10") == ""
    assert generated.source_pointer("/spec/rules/1/to") == "/a"


# --- the seed tutorial --------------------------------------------------------------------------

def test_the_seed_tutorials_step_1_as_an_apirule() -> None:
    apirule = yaml.safe_load((HERE / "seed_apirule.yaml").read_text(encoding="utf-8"))

    expansion = expand(apirule)

    assert expansion.problems == ()
    request_authentication, policy = (item.obj for item in expansion.generated)
    assert request_authentication["spec"] == {
        "selector": {"matchLabels": {"app": "httpbin"}},
        "jwtRules": [{"issuer": "issuer-foo",
                      "jwksUri": "https://example.com/.well-known/jwks.json",
                      "forwardOriginalToken": True}]}
    assert policy["metadata"]["namespace"] == "demo"
    assert policy["spec"] == {
        "selector": {"matchLabels": {"app": "httpbin"}},
        "rules": [{"from": [{"source": {"requestPrincipals": ["issuer-foo/*"],
                                        "principals": [INGRESS]}}],
                   "to": [{"operation": {
                       "hosts": ["httpbin.local.kyma.dev"],
                       "methods": ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
                                   "TRACE", "PATCH"],
                       "paths": ["/{**}"]}}]}]}


# --- hostile input ------------------------------------------------------------------------------

def _with(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    apirule = v2({"path": "/a", "methods": ["GET"], "jwt": jwt({"requiredScopes": ["read"]})},
                 {"path": "/b", "methods": ["GET"], "noAuth": True})
    node: Any = apirule
    for token in path[:-1]:
        node = node[token]
    node[path[-1]] = value
    return apirule


@pytest.mark.parametrize(("apirule", "pointer", "generated"), [
    (["not", "a", "map"], "", 0),
    (_with(("spec",), ["a", "list"]), "/spec", 0),
    (_with(("spec", "rules"), "GET /a"), "/spec/rules", 0),
    (_with(("spec", "rules", 0, "methods"), ["GET", 7, None]), "/spec/rules/0/methods/1", 3),
    (_with(("spec", "rules", 0, "methods"), [7]), "/spec/rules/0/methods/0", 1),
    (_with(("spec", "rules", 0), None), "/spec/rules/0", 1),
    (_with(("spec", "rules", 0, "jwt"), "issuer"), "/spec/rules/0/jwt", 1),
    (_with(("spec", "rules", 0, "jwt", "authentications"), [None]),
     "/spec/rules/0/jwt/authentications/0", 1),
    (_with(("spec", "rules", 0, "jwt", "authorizations", 0, "requiredScopes"), ["read", 1]),
     "/spec/rules/0/jwt/authorizations/0/requiredScopes/1", 2),
    (_with(("spec", "rules", 0, "jwt", "authorizations"), [None]),
     "/spec/rules/0/jwt/authorizations/0", 2),
    (_with(("spec", "rules", 1, "noAuth"), "yes"), "/spec/rules/1/noAuth", 2),
    (_with(("spec", "rules", 1, "jwt"), jwt()), "/spec/rules/1", 2),
    (_with(("spec", "hosts"), [{"host": "x"}]), "/spec/hosts/0", 0),
    (_with(("spec", "service"), "httpbin"), "/spec/service", 0),
    (_with(("spec", "service", "name"), 8000), "/spec/service/name", 0),
    (_with(("metadata",), None), "", 0),
    (_with(("metadata", "name"), ["httpbin"]), "/metadata/name", 0),
    (_with(("apiVersion",), "gateway.kyma-project.io/v3"), "/apiVersion", 0),
])
def test_malformed_apirules_are_expanded_as_far_as_they_can_be(
        apirule: Any, pointer: str, generated: int) -> None:
    expansion = expand(apirule)

    assert pointer in [problem.pointer for problem in expansion.problems]
    assert len(expansion.generated) == generated


def test_a_list_of_methods_with_numbers_keeps_the_methods() -> None:
    expansion = expand(_with(("spec", "rules", 1, "methods"), ["GET", 7, "POST"]))

    assert operations(expansion)[1]["methods"] == ["GET", "POST"]
    assert of_kind(expansion, "AuthorizationPolicy")[1].source_pointer(
        "/spec/rules/0/to/0/operation/methods/1") == "/spec/rules/1/methods/2"


def test_the_expansion_has_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expand_module, "MAX_GENERATED_VALUES", 100)
    expansion = expand(v2(*({"path": f"/{index}", "methods": ["GET"], "noAuth": True}
                            for index in range(50))))

    assert 0 < len(expansion.generated) < 50
    assert expansion.problems[-1].pointer == "/spec"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8)


def _containers(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside ``node``."""
    found = [path]
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, child in items:
        found += _containers(child, (*path, key))
    return found


BASES = [
    v2({"path": "/a", "methods": ["GET"],
        "jwt": jwt({"requiredScopes": ["r"], "audiences": ["a"]})},
       {"path": "/*", "methods": ["GET"], "extAuth": {"authorizers": ["x"],
                                                       "restrictions": jwt()}},
       {"path": "/b", "methods": ["GET"], "noAuth": True, "service": {"name": "orders"}},
       hosts=["httpbin"]),
    v1beta1(v1beta1_jwt("/.*"), {"path": "/b", "methods": ["GET"],
                                 "accessStrategies": [{"handler": "no_auth"}]}),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(BASES), data=st.data(), value=json_values)
def test_any_value_anywhere_never_raises(base: dict[str, Any], data: st.DataObject,
                                         value: Any) -> None:
    apirule = copy.deepcopy(base)
    path = data.draw(st.sampled_from(_containers(apirule)[1:]))
    node: Any = apirule
    for token in path[:-1]:
        node = node[token]
    node[path[-1]] = value

    expansion = expand(apirule)

    for generated in expansion.generated:
        assert isinstance(generated.obj["metadata"]["name"], str)
        assert generated.obj["metadata"]["name"]
        yaml.safe_dump(generated.obj)  # plain JSON values only
