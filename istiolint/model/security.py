"""Typed views of the three Istio security kinds, tolerant of the malformed data schema
validation reports separately."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from istiolint.model.kube import namespace_of, string_map
from istiolint.resources import Resource

SECURITY_GROUP = "security.istio.io"
DRY_RUN_ANNOTATION = "istio.io/dry-run"
ACTIONS = ("ALLOW", "DENY", "AUDIT", "CUSTOM")
MTLS_MODES = ("UNSET", "DISABLE", "PERMISSIVE", "STRICT")


def _selector(spec: Mapping[str, Any]) -> Mapping[str, str] | None:
    """The selector's labels; None (or an empty map) selects every workload in scope."""
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        return None
    return string_map(selector.get("matchLabels"))


def _has_target_refs(spec: Mapping[str, Any]) -> bool:
    refs = spec.get("targetRefs")
    return isinstance(spec.get("targetRef"), Mapping) or (isinstance(refs, list) and bool(refs))


@dataclass(frozen=True)
class Policy:
    """What every security policy has: where it lives and which workloads it selects."""

    resource: Resource
    namespace: str
    name: str
    selector: Mapping[str, str] | None
    has_target_refs: bool

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class AuthorizationPolicy(Policy):
    action: str
    rules: Sequence[Any] | None  # None: no `rules`; a rule may be malformed (not a map)
    provider: str | None
    dry_run: bool
    # the rules' sources and operations, worked out once: most checks go through them
    entries: tuple[RuleEntry, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class JwtRule:
    index: int
    issuer: str
    jwks_uri: str | None
    jwks: str | None
    audiences: tuple[str, ...]
    space_delimited_claims: tuple[str, ...]


@dataclass(frozen=True)
class RequestAuthentication(Policy):
    jwt_rules: tuple[JwtRule, ...]


@dataclass(frozen=True)
class PeerAuthentication(Policy):
    mode: str
    port_modes: Mapping[int, str]


@dataclass(frozen=True)
class RuleEntry:
    """One ``from[j].source`` or ``to[j].operation`` of an AuthorizationPolicy rule."""

    rule: int
    side: str  # "from" or "to"
    fields: Mapping[str, Any]
    pointer: str  # of the source/operation map


def rule_entries(policy: AuthorizationPolicy) -> Iterator[RuleEntry]:
    return iter(policy.entries)


def _rule_entries(rules: Sequence[Any] | None) -> Iterator[RuleEntry]:
    for i, rule in enumerate(rules or ()):
        if not isinstance(rule, dict):
            continue
        for side, inner in (("from", "source"), ("to", "operation")):
            entries = rule.get(side)
            for j, item in enumerate(entries if isinstance(entries, list) else []):
                fields = item.get(inner) if isinstance(item, dict) else None
                if isinstance(fields, dict):
                    yield RuleEntry(i, side, fields, f"/spec/rules/{i}/{side}/{j}/{inner}")


@dataclass(frozen=True)
class Condition:
    """One ``when`` entry of an AuthorizationPolicy rule that has a string key."""

    rule: int
    key: str
    fields: Mapping[str, Any]
    pointer: str  # of the condition map


def rule_conditions(policy: AuthorizationPolicy) -> Iterator[Condition]:
    for i, rule in enumerate(policy.rules or ()):
        conditions = rule.get("when") if isinstance(rule, dict) else None
        for c, condition in enumerate(conditions if isinstance(conditions, list) else []):
            if isinstance(condition, dict) and isinstance(condition.get("key"), str):
                yield Condition(i, condition["key"], condition, f"/spec/rules/{i}/when/{c}")


def string_values(fields: Mapping[str, Any], name: str) -> list[tuple[int, str]]:
    values = fields.get(name)
    return [(k, v) for k, v in enumerate(values) if isinstance(v, str)] \
        if isinstance(values, list) else []


def _base(resource: Resource) -> dict[str, Any]:
    spec = resource.spec
    return {"resource": resource, "namespace": namespace_of(resource),
            "name": resource.ref.name, "selector": _selector(spec),
            "has_target_refs": _has_target_refs(spec)}


def authorization_policy(resource: Resource) -> AuthorizationPolicy:
    spec = resource.spec
    action = spec.get("action") or "ALLOW"
    rules = spec.get("rules")
    provider = spec.get("provider")
    dry_run = str(resource.annotations.get(DRY_RUN_ANNOTATION, "")).lower() in ("true", "1", "t")
    rules = rules if isinstance(rules, list) and rules else None
    return AuthorizationPolicy(
        **_base(resource), action=str(action), rules=rules,
        provider=str(provider.get("name")) if isinstance(provider, dict) else None,
        dry_run=dry_run and action in ("ALLOW", "DENY"), entries=tuple(_rule_entries(rules)))


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def request_authentication(resource: Resource) -> RequestAuthentication:
    rules = []
    raw_rules = resource.spec.get("jwtRules")
    for index, rule in enumerate(raw_rules if isinstance(raw_rules, list) else []):
        if not isinstance(rule, dict):
            continue
        jwks_uri = rule.get("jwksUri") or rule.get("jwks_uri")
        rules.append(JwtRule(
            index, str(rule.get("issuer") or ""), str(jwks_uri) if jwks_uri else None,
            str(rule["jwks"]) if rule.get("jwks") else None, _strings(rule.get("audiences")),
            _strings(rule.get("spaceDelimitedClaims"))))
    return RequestAuthentication(**_base(resource), jwt_rules=tuple(rules))


def _mode(value: Any) -> str:
    mode = value.get("mode") if isinstance(value, dict) else None
    return mode if mode in MTLS_MODES else "UNSET"


def peer_authentication(resource: Resource) -> PeerAuthentication:
    spec = resource.spec
    ports: dict[int, str] = {}
    port_level = spec.get("portLevelMtls")
    for port, setting in (port_level.items() if isinstance(port_level, dict) else ()):
        if str(port).isdigit():
            ports[int(port)] = _mode(setting)
    return PeerAuthentication(**_base(resource), mode=_mode(spec.get("mtls")), port_modes=ports)
