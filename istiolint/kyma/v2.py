"""APIRule v2 and v2alpha1 (one shape): the objects of api-gateway's v2alpha1 processors.

Per rule, in this order:
- a RequestAuthentication when the rule has ``jwt`` or ``extAuth.restrictions`` (one for all
  rules with the same namespace, selector and issuers, as api-gateway keys them);
- with ``extAuth``, one CUSTOM AuthorizationPolicy per authorizer;
- one ALLOW AuthorizationPolicy per ``authorizations`` entry, or one when there is none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from istiolint.kyma.expansion import Generated
from istiolint.kyma.fields import FieldReader, Sourced
from istiolint.kyma.policies import (
    INGRESS_GATEWAY_PRINCIPAL,
    Operation,
    allow_policy,
    custom_policy,
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

GatewayHosts = Callable[[str, str], Sequence[str] | None]

# a lowercase RFC 1123 label: api-gateway completes it with the Gateway's domain
SHORT_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
ANY_PATH = "/*"
ANY_PATH_TEMPLATE = "/{**}"
# the paths that no rule's notPaths exclude
NEVER_EXCLUDED_PATHS = (ANY_PATH, ANY_PATH_TEMPLATE, "/")
MALFORMED_RULE = "the rule is not expanded, and the notPaths of the other rules do not exclude it"


@dataclass(frozen=True)
class NoAuth:
    pointer: str


@dataclass(frozen=True)
class Jwt:
    pointer: str
    config: JwtConfig


@dataclass(frozen=True)
class ExtAuth:
    pointer: str
    authorizers: tuple[Sourced[str], ...]
    restrictions: JwtConfig | None


AccessStrategy = NoAuth | Jwt | ExtAuth
Hosts = Sourced[tuple[Sourced[str], ...]]


@dataclass(frozen=True)
class Rule:
    index: int
    source: Sourced[Mapping[str, Any]]
    route: Route
    methods: frozenset[str]


def expand_v2(reader: FieldReader, owner: Owner, apirule: Sourced[Mapping[str, Any]],
              service_selector: ServiceSelector, gateway_hosts: GatewayHosts
              ) -> Iterator[Generated]:
    spec = reader.mapping(apirule, "spec", APIRULE_NOT_EXPANDED, required=True)
    if spec is None:
        return
    hosts = _read_hosts(reader, spec, gateway_hosts)
    rules = _read_rules(reader, spec)
    if hosts is None:
        return
    authenticated: set[Hashable] = set()
    for rule in rules:
        strategy = _read_strategy(reader, rule.source)
        target = None if strategy is None else read_target(reader, owner, spec, rule.source,
                                                            service_selector)
        if strategy is None or target is None:
            continue
        operation = Operation(hosts, rule.route.methods, _policy_path(rule.route.path),
                              _not_paths(rule, rules))
        yield from _rule_objects(owner, rule, strategy, target, operation, authenticated)


def _rule_objects(owner: Owner, rule: Rule, strategy: AccessStrategy, target: Target,
                  operation: Operation, authenticated: set[Hashable]
                  ) -> Iterator[Generated]:
    jwt = _jwt_config(strategy)
    if jwt is not None and request_authentication_key(target, jwt) not in authenticated:
        authenticated.add(request_authentication_key(target, jwt))
        yield request_authentication(owner, object_name(owner, "rule", rule.index, "jwt"),
                                     target, jwt)
    authorizers = strategy.authorizers if isinstance(strategy, ExtAuth) else ()
    for index, authorizer in enumerate(authorizers):
        yield custom_policy(owner, object_name(owner, "rule", rule.index, "custom", index),
                            target, operation, authorizer, strategy.pointer, index=index)
    source = (peer_source(INGRESS_GATEWAY_PRINCIPAL, strategy.pointer) if jwt is None
              else token_source(jwt.authentications, strategy.pointer,
                                through_ingress_gateway=True))
    # api-gateway numbers the ALLOW policies after the CUSTOM ones
    first_index = len(authorizers)
    if jwt is None or jwt.authorization_count == 0:
        yield allow_policy(owner, object_name(owner, "rule", rule.index, "allow", 0), target,
                           operation, source, None, rule.source.pointer, index=first_index)
        return
    for authorization in jwt.authorizations:
        yield allow_policy(owner,
                           object_name(owner, "rule", rule.index, "allow", authorization.index),
                           target, operation, source, authorization, rule.source.pointer,
                           index=first_index + authorization.index)


def _jwt_config(strategy: AccessStrategy) -> JwtConfig | None:
    if isinstance(strategy, Jwt):
        return strategy.config
    if isinstance(strategy, ExtAuth):
        return strategy.restrictions
    return None


def _policy_path(path: Sourced[str]) -> Sourced[str]:
    """``/*`` is written as the path template ``/{**}``."""
    return Sourced(ANY_PATH_TEMPLATE, path.pointer) if path.value == ANY_PATH else path


def _not_paths(current: Rule, rules: list[Rule]) -> tuple[Sourced[str], ...]:
    """Rule order: the paths of the rules before ``current`` that share a method with it. The
    list ends at the first rule with the current path; catch-all paths and ``/`` are never
    excluded, so a catch-all rule excludes the paths of all other rules, later ones too."""
    not_paths = []
    for other in rules:
        path = other.route.path.value
        if path in NEVER_EXCLUDED_PATHS:
            continue
        if path == current.route.path.value:
            break
        if not other.methods.isdisjoint(current.methods):
            not_paths.append(other.route.path)
    return tuple(not_paths)


def _read_rules(reader: FieldReader, spec: Sourced[Mapping[str, Any]]) -> list[Rule]:
    entries = reader.sequence(spec, "rules", APIRULE_NOT_EXPANDED, required=True)
    if entries is not None and not entries:
        reader.report(join_pointer(spec.pointer, "rules"),
                      "spec.rules is empty: api-gateway requires a rule, and there is nothing "
                      "to expand")
    rules = []
    for index, entry in enumerate(entries or ()):
        rule = reader.as_mapping(entry, MALFORMED_RULE)
        route = None if rule is None else read_route(reader, rule, MALFORMED_RULE)
        if rule is not None and route is not None:
            rules.append(Rule(index, rule, route, frozenset(route.methods.values)))
    return rules


def _read_strategy(reader: FieldReader, rule: Sourced[Mapping[str, Any]]
                   ) -> AccessStrategy | None:
    no_auth = reader.field(rule, "noAuth", RULE_NOT_EXPANDED)
    if no_auth is not None and reader.as_boolean(no_auth, RULE_NOT_EXPANDED) is None:
        return None
    chosen = [name for name, present in (("noAuth", no_auth is not None and no_auth.value),
                                         ("jwt", rule.value.get("jwt") is not None),
                                         ("extAuth", rule.value.get("extAuth") is not None))
              if present]
    if len(chosen) != 1:
        has = " and ".join(chosen) or "none"
        reader.report(rule.pointer, "a rule needs exactly one of noAuth: true, jwt and extAuth, "
                                    f"and this one has {has}: {RULE_NOT_EXPANDED}")
        return None
    if chosen[0] == "noAuth":
        return NoAuth(join_pointer(rule.pointer, "noAuth"))
    if chosen[0] == "jwt":
        return _read_jwt(reader, rule)
    return _read_ext_auth(reader, rule)


def _read_jwt(reader: FieldReader, rule: Sourced[Mapping[str, Any]]) -> Jwt | None:
    jwt = reader.mapping(rule, "jwt", RULE_NOT_EXPANDED)
    config = None if jwt is None else read_jwt_config(reader, jwt)
    return None if jwt is None or config is None else Jwt(jwt.pointer, config)


def _read_ext_auth(reader: FieldReader, rule: Sourced[Mapping[str, Any]]) -> ExtAuth | None:
    """Each authorizer is a CUSTOM policy that can deny a request: leaving out one would
    allow more, so a rule with an unreadable authorizer is not expanded."""
    ext_auth = reader.mapping(rule, "extAuth", RULE_NOT_EXPANDED)
    if ext_auth is None:
        return None
    authorizers = reader.strings(ext_auth, "authorizers", RULE_NOT_EXPANDED, required=True,
                                 left_out=RULE_NOT_EXPANDED)
    if authorizers is None or not authorizers.complete:
        return None
    if not authorizers.items:
        reader.report(authorizers.pointer, "extAuth has no authorizer (api-gateway requires "
                                           f"one): {RULE_NOT_EXPANDED}")
        return None
    if ext_auth.value.get("restrictions") is None:
        return ExtAuth(ext_auth.pointer, authorizers.items, None)
    restrictions = reader.mapping(ext_auth, "restrictions", RULE_NOT_EXPANDED)
    config = None if restrictions is None else read_jwt_config(reader, restrictions)
    return None if config is None else ExtAuth(ext_auth.pointer, authorizers.items, config)


def _read_hosts(reader: FieldReader, spec: Sourced[Mapping[str, Any]],
                gateway_hosts: GatewayHosts) -> Hosts | None:
    """The hosts, short ones completed; none at all would let the policies allow every host."""
    hosts = reader.strings(spec, "hosts", APIRULE_NOT_EXPANDED, required=True)
    if hosts is None:
        return None
    if not hosts.items:
        reader.report(hosts.pointer, "spec.hosts has no host (the generated policies would "
                                     f"allow every host): {APIRULE_NOT_EXPANDED}")
        return None
    return Sourced(tuple(_full_host(reader, spec, host, gateway_hosts) for host in hosts.items),
                   hosts.pointer)


def _full_host(reader: FieldReader, spec: Sourced[Mapping[str, Any]], host: Sourced[str],
               gateway_hosts: GatewayHosts) -> Sourced[str]:
    if not SHORT_HOST.fullmatch(host.value):
        return host
    domain = _gateway_domain(reader, spec, host, gateway_hosts)
    return host if domain is None else Sourced(f"{host.value}.{domain}", host.pointer)


def _gateway_domain(reader: FieldReader, spec: Sourced[Mapping[str, Any]], host: Sourced[str],
                    gateway_hosts: GatewayHosts) -> str | None:
    """The domain of the Gateway's single ``*.<domain>`` host."""
    kept = f'short host "{host.value}" is kept as it is'
    if spec.value.get("gateway") is None:
        reason = ("its domain comes from the Gateway that the ExternalGateway generates, which "
                  "istiolint does not resolve" if spec.value.get("externalGateway") is not None
                  else "its domain comes from spec.gateway, which is missing")
        reader.report(host.pointer, f"{kept}: {reason}")
        return None
    gateway = reader.string(spec, "gateway", kept)
    if gateway is None:
        return None
    namespace, _, name = gateway.value.partition("/")
    if not namespace or not name or "/" in name:
        reader.report(gateway.pointer, f'{kept}: spec.gateway "{gateway.value}" is not '
                                       "namespace/name")
        return None
    known = gateway_hosts(namespace, name)
    if known is None:
        reader.report(host.pointer, f"{kept}: Gateway {namespace}/{name} is not in the linted "
                                    'files, and its single "*.<domain>" host gives the domain')
        return None
    distinct = list(dict.fromkeys(item for item in known if isinstance(item, str)))
    if len(distinct) != 1 or not distinct[0].startswith("*.") or distinct[0] == "*.":
        listed = ", ".join(f'"{item}"' for item in distinct) or "none"
        reader.report(host.pointer, f"{kept}: api-gateway completes a short host only with a "
                                    f'Gateway that has a single "*.<domain>" host, and Gateway '
                                    f"{namespace}/{name} has {listed}")
        return None
    return distinct[0][2:]
