"""The Istio objects api-gateway generates, built as trees of JSON values in which any node may
be a ``Sourced`` value: ``resolve`` turns such a tree into the plain object and the origins that
map its pointers back to the APIRule."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from istiolint.kyma.expansion import Generated, Origin
from istiolint.kyma.fields import Sourced, StringList
from istiolint.kyma.shapes import Authentication, Authorization, JwtConfig, Owner, Target
from istiolint.positions import join_pointer

API_VERSION = "security.istio.io/v1"
INGRESS_GATEWAY_PRINCIPAL = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"
OATHKEEPER_PRINCIPAL = "cluster.local/ns/kyma-system/sa/oathkeeper-maester-account"
SCOPE_CLAIM_KEYS = ("request.auth.claims[scp]", "request.auth.claims[scope]",
                    "request.auth.claims[scopes]")
AUDIENCE_CLAIM_KEY = "request.auth.claims[aud]"
OWNER_NAME_LABEL = "apirule.gateway.kyma-project.io/name"
OWNER_NAMESPACE_LABEL = "apirule.gateway.kyma-project.io/namespace"
INDEX_LABEL = "gateway.kyma-project.io/index"
MODULE_LABELS = {
    "kyma-project.io/module": "api-gateway",
    "app.kubernetes.io/managed-by": "api-gateway",
    "app.kubernetes.io/component": "api-gateway",
    "app.kubernetes.io/part-of": "api-gateway",
}
MAX_NAME_LENGTH = 253


@dataclass(frozen=True)
class Operation:
    """The ``to.operation`` of every rule of a rule's policies."""

    hosts: Sourced[tuple[Sourced[str], ...]] | None
    methods: StringList
    path: Sourced[str]
    not_paths: tuple[Sourced[str], ...] = ()


def resolve(tree: Any, at: str = "") -> tuple[Any, list[Origin]]:
    origins: list[Origin] = []
    while isinstance(tree, Sourced):
        origins.append(Origin(at, tree.pointer))
        tree = tree.value
    if isinstance(tree, dict):
        plain: dict[str, Any] = {}
        for key, value in tree.items():
            plain[key], below = resolve(value, join_pointer(at, key))
            origins += below
        return plain, origins
    if isinstance(tree, list | tuple):
        items = []
        for index, value in enumerate(tree):
            item, below = resolve(value, join_pointer(at, index))
            items.append(item)
            origins += below
        return items, origins
    return tree, origins


def object_name(owner: Owner, *parts: str | int) -> str:
    """A stable name (api-gateway uses ``generateName``, so the cluster's names are random)."""
    suffix = "".join(f"-{part}" for part in parts)
    return owner.name.value[:MAX_NAME_LENGTH - len(suffix)] + suffix


def istio_object(kind: str, owner: Owner, name: str, target: Target, spec: Any, *,
                 index: int | None = None) -> Generated:
    labels: dict[str, Any] = {OWNER_NAME_LABEL: owner.name, OWNER_NAMESPACE_LABEL: owner.namespace,
                              **MODULE_LABELS}
    if index is not None:
        labels[INDEX_LABEL] = str(index)
    metadata = {"name": Sourced(name, owner.name.pointer),
                "generateName": Sourced(f"{owner.name.value}-", owner.name.pointer),
                "namespace": target.namespace,
                "labels": labels}
    tree = {"apiVersion": API_VERSION, "kind": kind, "metadata": Sourced(metadata, "/metadata"),
            "spec": spec}
    obj, origins = resolve(tree)
    return Generated(obj, (Origin("", ""), *origins))


def request_authentication(owner: Owner, name: str, target: Target, jwt: JwtConfig
                           ) -> Generated:
    spec = Sourced({"selector": _selector(target),
                    "jwtRules": Sourced(tuple(_jwt_rule(authentication)
                                              for authentication in jwt.authentications.value),
                                        jwt.authentications.pointer)},
                   jwt.pointer)
    return istio_object("RequestAuthentication", owner, name, target, spec)


def _jwt_rule(authentication: Authentication) -> Sourced[dict[str, Any]]:
    rule: dict[str, Any] = {"issuer": authentication.issuer}
    if authentication.jwks_uri is not None:
        rule["jwksUri"] = authentication.jwks_uri
    # api-gateway forwards the token, as Ory Oathkeeper did
    rule["forwardOriginalToken"] = True
    if authentication.from_headers is not None and authentication.from_headers.value:
        rule["fromHeaders"] = authentication.from_headers
    if authentication.from_params is not None and authentication.from_params.items:
        rule["fromParams"] = _list(authentication.from_params)
    return Sourced(rule, authentication.pointer)


def request_authentication_key(target: Target, jwt: JwtConfig) -> Hashable:
    """api-gateway keeps one RequestAuthentication per namespace, selector and issuers (with
    their JWKS URIs): the rules that share all three share it."""
    issuers = tuple((item.issuer.value, item.jwks_uri.value if item.jwks_uri else "")
                    for item in jwt.authentications.value)
    return target.namespace.value, frozenset(target.selector.value.items()), issuers


def allow_policy(owner: Owner, name: str, target: Target, operation: Operation,
                 source: Sourced[dict[str, Any]], authorization: Authorization | None,
                 rule_pointer: str, *, index: int) -> Generated:
    """An ALLOW policy (api-gateway leaves ``action`` unset): with required scopes, one rule per
    scope claim, each requiring every scope in that claim; every audience is one more condition
    of each rule, so all of them are required."""
    audiences = [_condition(AUDIENCE_CLAIM_KEY, audience)
                 for audience in (authorization.audiences if authorization else ())]
    scopes = authorization.required_scopes if authorization else ()
    if scopes:
        rules = [_rule(operation, source, [_condition(key, scope) for scope in scopes] + audiences)
                 for key in SCOPE_CLAIM_KEYS]
    else:
        rules = [_rule(operation, source, audiences)]
    spec = Sourced({"selector": _selector(target), "rules": rules},
                   authorization.pointer if authorization else rule_pointer)
    return istio_object("AuthorizationPolicy", owner, name, target, spec, index=index)


def custom_policy(owner: Owner, name: str, target: Target, operation: Operation,
                  authorizer: Sourced[str], ext_auth_pointer: str, *, index: int) -> Generated:
    """A CUSTOM policy that sends the rule's requests to the external authorizer."""
    spec = Sourced({"selector": _selector(target),
                    "action": Sourced("CUSTOM", ext_auth_pointer),
                    "provider": {"name": authorizer},
                    "rules": [{"to": [{"operation": _operation(operation)}]}]},
                   authorizer.pointer)
    return istio_object("AuthorizationPolicy", owner, name, target, spec, index=index)


def token_source(authentications: Sourced[tuple[Authentication, ...]], strategy_pointer: str,
                 *, through_ingress_gateway: bool) -> Sourced[dict[str, Any]]:
    """``requestPrincipals: [<issuer>/*]``: a token with a subject from any of the issuers,
    and, when asked, only through the ingress gateway (one source, so both are required)."""
    source: dict[str, Any] = {"requestPrincipals": Sourced(
        tuple(Sourced(f"{item.issuer.value}/*", item.issuer.pointer)
              for item in authentications.value),
        authentications.pointer)}
    if through_ingress_gateway:
        source["principals"] = (INGRESS_GATEWAY_PRINCIPAL,)
    return Sourced(source, strategy_pointer)


def peer_source(principal: str, strategy_pointer: str) -> Sourced[dict[str, Any]]:
    return Sourced({"principals": (principal,)}, strategy_pointer)


def _rule(operation: Operation, source: Sourced[dict[str, Any]], when: list[Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {"from": [{"source": source}],
                            "to": [{"operation": _operation(operation)}]}
    if when:
        rule["when"] = when
    return rule


def _operation(operation: Operation) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if operation.hosts is not None:
        fields["hosts"] = operation.hosts
    fields["methods"] = _list(operation.methods)
    fields["paths"] = Sourced((operation.path,), operation.path.pointer)
    if operation.not_paths:
        fields["notPaths"] = operation.not_paths
    return fields


def _condition(key: str, value: Sourced[str]) -> Sourced[dict[str, Any]]:
    return Sourced({"key": key, "values": (value.value,)}, value.pointer)


def _selector(target: Target) -> Sourced[dict[str, Any]]:
    return Sourced({"matchLabels": dict(target.selector.value)}, target.selector.pointer)


def _list(strings: StringList) -> Sourced[tuple[Sourced[str], ...]]:
    return Sourced(strings.items, strings.pointer)
