"""Rules whose meaning depends on how requests reach the workload: mTLS mode and port protocol."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from istiolint.authz.rules import uses_http_only_fields
from istiolint.context import CheckContext
from istiolint.model.mesh import MeshModel, Target
from istiolint.model.security import (
    AuthorizationPolicy,
    rule_conditions,
    rule_entries,
    string_values,
)
from istiolint.positions import join_pointer
from istiolint.rules import Detection, builtin_rules

PLAINTEXT_BYPASS, IDENTITY_WITHOUT_MTLS, HTTP_FIELDS_ON_TCP = "AP010", "AP011", "AP013"
IDENTITY_FIELDS = ("principals", "namespaces", "serviceAccounts", "trustDomains")
IDENTITY_KEYS = ("source.principal", "source.namespace", "source.serviceAccount",
                 "source.trustDomain")


def _ports(target: Target) -> list[int | None]:
    return [p.port for p in target.workload.ports] if target.workload and \
        target.workload.ports else [None]


def _not_strict(model: MeshModel, targets: tuple[Target, ...], weak_modes: tuple[str, ...]
                ) -> list[tuple[Target, str]]:
    found: list[tuple[Target, str]] = []
    for target in targets:
        modes = {model.peer_authentication_for(target, port).mode for port in _ports(target)}
        weakest = next((m for m in weak_modes if m in modes), None)
        if weakest:
            found.append((target, weakest))
    return found


# each identity field and its negation (principals, notPrincipals, ...), as (negative, name)
_IDENTITY_NAMES = tuple((negative, name) for field in IDENTITY_FIELDS for negative, name in (
    (False, field), (True, "not" + field[0].upper() + field[1:])))


def _identity_uses(policy: AuthorizationPolicy) -> Iterator[tuple[str, str, bool]]:
    """(pointer, field, negative) of every identity condition of the policy."""
    for entry in rule_entries(policy):
        if entry.side != "from":
            continue
        for negative, name in _IDENTITY_NAMES:
            if name in entry.fields:
                for k, _ in string_values(entry.fields, name)[:1]:
                    yield join_pointer(entry.pointer, name, k), name, negative
    for condition in rule_conditions(policy):
        if condition.key in IDENTITY_KEYS:
            negative = not condition.fields.get("values") and \
                bool(condition.fields.get("notValues"))
            yield join_pointer(condition.pointer, "key"), condition.key, negative


class TransportCheck:
    namespace_scoped = True
    needs_model = True
    rules = builtin_rules(PLAINTEXT_BYPASS, IDENTITY_WITHOUT_MTLS, HTTP_FIELDS_ON_TCP)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        model = context.model
        for policy in context.focused(model.authorization_policies):
            if policy.has_target_refs or policy.dry_run or policy.action not in ("ALLOW", "DENY"):
                continue
            scope = model.scope_of(policy)
            yield from self._identity(model, policy, scope.targets)
            if not scope.by_selector:
                yield from self._tcp(model, policy, scope.targets)

    def _identity(self, model: MeshModel, policy: AuthorizationPolicy,
                  targets: tuple[Target, ...]) -> Iterator[Detection]:
        uses = list(_identity_uses(policy))
        if not uses:
            return
        permissive = _not_strict(model, targets, ("DISABLE", "PERMISSIVE"))
        disabled = [(t, m) for t, m in permissive if m == "DISABLE"]
        for pointer, field, negative in uses:
            if (policy.action == "DENY") != negative:  # plaintext walks past
                weak, code = permissive, PLAINTEXT_BYPASS
                effect = ("a plaintext client has no identity, so this DENY does not stop it"
                          if policy.action == "DENY" else
                          "a plaintext client has no identity, so it passes this negative match")
            else:  # fails closed under PERMISSIVE; with mTLS off nobody has an identity
                weak, code = disabled, IDENTITY_WITHOUT_MTLS
                effect = ("no caller has an identity, so this rule never matches"
                          if policy.action == "ALLOW" else
                          "no caller has an identity, so this rule matches every request")
            if weak:
                where = ", ".join(f"{t.describe()} ({mode})" for t, mode in weak)
                yield Detection(code, policy.resource, pointer,
                                {"field": field, "where": where, "effect": effect})

    def _tcp(self, model: MeshModel, policy: AuthorizationPolicy,
             targets: tuple[Target, ...]) -> Iterator[Detection]:
        if not any(isinstance(r, dict) and uses_http_only_fields(r)
                   for r in policy.rules or ()):
            return
        tcp_ports = sorted({(t.describe(), p) for t in targets for p in _ports(t)
                            if p is not None and model.port_protocol(t, p).protocol == "tcp"})
        if not tcp_ports:
            return
        for i, rule in enumerate(policy.rules or ()):
            if not isinstance(rule, dict):
                continue
            http_only = uses_http_only_fields(rule)
            ports = _rule_ports(rule)
            affected = [(w, p) for w, p in tcp_ports if ports is None or str(p) in ports]
            if not http_only or not affected:
                continue
            effect = ("the whole rule is dropped there (it allows nothing on those ports)"
                      if policy.action == "ALLOW" else
                      "those conditions are dropped there, so the rule denies every connection "
                      "it still matches")
            yield Detection(HTTP_FIELDS_ON_TCP, policy.resource, join_pointer("/spec/rules", i), {
                "fields": ", ".join(http_only),
                "ports": ", ".join(f"{w} port {p}" for w, p in affected), "effect": effect})


def _rule_ports(rule: Mapping[str, Any]) -> set[str] | None:
    operations = rule.get("to")
    if not isinstance(operations, list) or not operations:
        return None
    ports: set[str] = set()
    for item in operations:
        operation = item.get("operation") if isinstance(item, dict) else None
        values = operation.get("ports") if isinstance(operation, dict) else None
        if not isinstance(values, list) or not values:
            return None
        ports |= {str(v) for v in values}
    return ports
