"""APIRule v1beta1 (deprecated): the objects of api-gateway's v1beta1 processors for the Istio
JWT handler, the one an Istio-style ``jwt`` configuration (``authentications``) implies.

Unlike v2, the policies name no hosts and no notPaths, a ``jwt`` rule's policy does not require
the ingress gateway, the path is the rule's regex copied literally (only ``/.*`` becomes
``/*``), and policies exist only when some rule uses ``jwt`` or ``no_auth``: then every rule has
them, admitting the ingress gateway (``allow``, ``no_auth``) or Ory Oathkeeper (``noop`` and the
Oathkeeper handlers, whose decision is Oathkeeper's).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from istiolint.kyma.expansion import Generated
from istiolint.kyma.fields import FieldReader, Sourced
from istiolint.kyma.policies import (
    INGRESS_GATEWAY_PRINCIPAL,
    OATHKEEPER_PRINCIPAL,
    Operation,
    allow_policy,
    object_name,
    peer_source,
    request_authentication,
    request_authentication_key,
    token_source,
)
from istiolint.kyma.shapes import (
    APIRULE_NOT_EXPANDED,
    RULE_NOT_EXPANDED,
    JwtConfig,
    Owner,
    Route,
    ServiceSelector,
    Target,
    read_jwt_config,
    read_route,
    read_target,
)
from istiolint.positions import join_pointer

JWT, NO_AUTH, ALLOW, NOOP = "jwt", "no_auth", "allow", "noop"
# handlers api-gateway allows only alone in a rule
EXCLUSIVE_HANDLERS = (ALLOW, NO_AUTH, JWT, NOOP)
OATHKEEPER_HANDLERS = ("oauth2_introspection", "oauth2_client_credentials", "cookie_session",
                       "anonymous", "unauthorized")
# the keys of Ory Oathkeeper's jwt handler that api-gateway's Istio handler rejects
ORY_JWT_KEYS = ("trusted_issuers", "jwks_urls", "required_scope")
ANY_PATH_REGEX = "/.*"
ANY_PATH = "/*"


@dataclass(frozen=True)
class Strategy:
    pointer: str
    handler: str
    config: Sourced[Any] | None


@dataclass(frozen=True)
class Rule:
    index: int
    source: Sourced[Mapping[str, Any]]
    route: Route
    strategies: tuple[Strategy, ...]

    @property
    def strategies_pointer(self) -> str:
        return join_pointer(self.source.pointer, "accessStrategies")


def expand_v1beta1(reader: FieldReader, owner: Owner, apirule: Sourced[Mapping[str, Any]],
                   service_selector: ServiceSelector) -> Iterator[Generated]:
    spec = reader.mapping(apirule, "spec", APIRULE_NOT_EXPANDED, required=True)
    if spec is None:
        return
    rules = _read_rules(reader, spec)
    if _report_ory_jwt(reader, rules):
        return
    with_policies = any(strategy.handler in (JWT, NO_AUTH)
                        for rule in rules for strategy in rule.strategies)
    authenticated: set[Hashable] = set()
    for rule in rules:
        handler = _handler(reader, rule)
        jwt = _read_jwt_config(reader, rule.strategies[0]) if handler == JWT else None
        if handler is None or (handler == JWT and jwt is None):
            continue
        target = read_target(reader, owner, spec, rule.source, service_selector)
        if target is None:
            continue
        if jwt is not None and request_authentication_key(target, jwt) not in authenticated:
            authenticated.add(request_authentication_key(target, jwt))
            yield request_authentication(owner, object_name(owner, "rule", rule.index, "jwt"),
                                         target, jwt)
        if with_policies:
            yield from _allow_policies(owner, rule, handler, jwt, target)


def _allow_policies(owner: Owner, rule: Rule, handler: str, jwt: JwtConfig | None,
                    target: Target) -> Iterator[Generated]:
    operation = Operation(None, rule.route.methods, _policy_path(rule.route.path))
    if jwt is not None:
        source = token_source(jwt.authentications, rule.strategies[0].pointer,
                              through_ingress_gateway=False)
    elif handler in (ALLOW, NO_AUTH):
        source = peer_source(INGRESS_GATEWAY_PRINCIPAL, rule.strategies_pointer)
    else:
        source = peer_source(OATHKEEPER_PRINCIPAL, rule.strategies_pointer)
    if jwt is None or jwt.authorization_count == 0:
        yield allow_policy(owner, object_name(owner, "rule", rule.index, "allow", 0), target,
                           operation, source, None, rule.source.pointer, index=0)
        return
    for authorization in jwt.authorizations:
        yield allow_policy(owner,
                           object_name(owner, "rule", rule.index, "allow", authorization.index),
                           target, operation, source, authorization, rule.source.pointer,
                           index=authorization.index)


def _policy_path(path: Sourced[str]) -> Sourced[str]:
    """The only regex translated into a policy path; any other is copied as it is."""
    return Sourced(ANY_PATH, path.pointer) if path.value == ANY_PATH_REGEX else path


def _handler(reader: FieldReader, rule: Rule) -> str | None:
    """The rule's handler: one of EXCLUSIVE_HANDLERS, or "oathkeeper"."""
    handlers = [strategy.handler for strategy in rule.strategies]
    exclusive = [handler for handler in handlers if handler in EXCLUSIVE_HANDLERS]
    if len(handlers) == 1 and exclusive:
        return exclusive[0]
    if exclusive:
        reader.report(rule.strategies_pointer, f"handler {exclusive[0]} cannot be combined with "
                                               "other access strategies (api-gateway rejects "
                                               f"the APIRule): {RULE_NOT_EXPANDED}")
        return None
    unknown = [handler for handler in handlers if handler not in OATHKEEPER_HANDLERS]
    if unknown:
        reader.report(rule.strategies_pointer, f'unknown access strategy handler "{unknown[0]}": '
                                               f"{RULE_NOT_EXPANDED}")
        return None
    reader.report(rule.strategies_pointer,
                  f"access is decided by Ory Oathkeeper ({', '.join(handlers)}), which istiolint "
                  "does not expand, and api-gateway cannot convert this APIRule to v2")
    return "oathkeeper"


def _report_ory_jwt(reader: FieldReader, rules: list[Rule]) -> bool:
    """Report each jwt handler configured for Ory Oathkeeper: api-gateway's Istio handler
    rejects the whole APIRule, and the Ory handler generates no Istio policy for it."""
    found = False
    for rule in rules:
        for strategy in rule.strategies:
            keys = _ory_keys(strategy)
            if keys:
                found = True
                reader.report(strategy.config.pointer if strategy.config else strategy.pointer,
                              _ory_message(strategy, keys))
    return found


def _ory_keys(strategy: Strategy) -> list[str]:
    if strategy.handler != JWT or strategy.config is None:
        return []
    config = strategy.config.value
    return [key for key in ORY_JWT_KEYS if isinstance(config, Mapping) and config.get(key)]


def _ory_message(strategy: Strategy, keys: list[str]) -> str:
    config = strategy.config.value if strategy.config else {}
    convertible = all(isinstance(config.get(key), list) and len(config[key]) == 1
                      for key in ("trusted_issuers", "jwks_urls"))
    return (f"this jwt handler has Ory Oathkeeper's configuration ({', '.join(keys)}): "
            "api-gateway's Istio handler rejects it, and with the Ory handler Oathkeeper decides "
            f"access, not Istio policies, so {APIRULE_NOT_EXPANDED}"
            + ("" if convertible else "; it cannot be converted to v2 either (only a single "
                                      "trusted issuer with a single JWKS URL converts)"))


def _read_jwt_config(reader: FieldReader, strategy: Strategy) -> JwtConfig | None:
    if strategy.config is None:
        reader.report(strategy.pointer, "the jwt handler has no config (api-gateway requires "
                                        f"one): {RULE_NOT_EXPANDED}")
        return None
    config = reader.as_mapping(strategy.config, RULE_NOT_EXPANDED)
    return None if config is None else read_jwt_config(reader, config)


def _read_rules(reader: FieldReader, spec: Sourced[Mapping[str, Any]]) -> list[Rule]:
    rules = []
    for index, entry in enumerate(reader.sequence(spec, "rules", APIRULE_NOT_EXPANDED,
                                                  required=True) or ()):
        rule = reader.as_mapping(entry, RULE_NOT_EXPANDED)
        route = None if rule is None else read_route(reader, rule)
        strategies = None if rule is None else _read_strategies(reader, rule)
        if rule is not None and route is not None and strategies is not None:
            rules.append(Rule(index, rule, route, strategies))
    return rules


def _read_strategies(reader: FieldReader, rule: Sourced[Mapping[str, Any]]
                     ) -> tuple[Strategy, ...] | None:
    """All or nothing: a rule's handlers together decide which policy it gets."""
    entries = reader.sequence(rule, "accessStrategies", RULE_NOT_EXPANDED, required=True)
    if entries is None:
        return None
    if not entries:
        reader.report(join_pointer(rule.pointer, "accessStrategies"),
                      f"the rule has no access strategy: {RULE_NOT_EXPANDED}")
        return None
    strategies = []
    for entry in entries:
        strategy = reader.as_mapping(entry, RULE_NOT_EXPANDED)
        handler = (None if strategy is None
                   else reader.string(strategy, "handler", RULE_NOT_EXPANDED, required=True))
        if strategy is None or handler is None:
            return None
        strategies.append(Strategy(strategy.pointer, handler.value,
                                   reader.field(strategy, "config", RULE_NOT_EXPANDED)))
    return tuple(strategies)
