"""Whether one AuthorizationPolicy rule matches a request, and why not.

A rule matches when one of its ``from`` entries matches (or it has none), one of its ``to``
entries matches (or it has none), and every ``when`` condition holds. Inside one source or
operation every field must match; a field matches when one of its values does and none of its
``not`` values does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from istiolint.authz import matchers as m

HTTP_ONLY_FIELDS = frozenset({"hosts", "notHosts", "methods", "notMethods", "paths", "notPaths",
                              "requestPrincipals", "notRequestPrincipals"})
HTTP_ONLY_KEY_PREFIXES = ("request.headers", "request.auth.")
SPACE_DELIMITED_CLAIMS = ("scope", "permission")


@dataclass(frozen=True)
class Identity:
    """What a validated JWT contributes (``request.auth.*``)."""

    issuer: str
    subject: str | None
    audiences: tuple[str, ...]
    claims: Mapping[str, Any]
    presenter: str | None
    space_delimited: frozenset[str] = frozenset(SPACE_DELIMITED_CLAIMS)


@dataclass(frozen=True)
class Attributes:
    """The request as Envoy's RBAC filter sees it on the server side."""

    host: str | None
    method: str | None
    path: str | None  # normalized, without query
    port: int | None
    headers: Mapping[str, str]
    principal: str | None  # the peer's mTLS identity; None for plaintext
    source_ip: str | None
    remote_ip: str | None
    sni: str | None
    auth: Identity | None
    policy_namespace: str = ""
    tcp: bool = False

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class RuleOutcome:
    matched: bool
    why: str = ""
    skipped: bool = False  # the rule does not exist at runtime (TCP port, unknown key)
    widened: list[str] = field(default_factory=list)  # HTTP-only conditions dropped on TCP


FieldMatcher = Callable[[str, Attributes], bool]


def _principal(value: str, attrs: Attributes) -> bool:
    return m.principal_match(value, attrs.principal)


def _request_principal(value: str, attrs: Attributes) -> bool:
    auth = attrs.auth
    return auth is not None and m.request_principal_match(value, auth.issuer, auth.subject)


SOURCE_FIELDS: dict[str, tuple[FieldMatcher, str]] = {
    "principals": (_principal, "peer principal"),
    "requestPrincipals": (_request_principal, "request principal"),
    "namespaces": (lambda v, a: m.namespace_match(v, a.principal), "peer namespace"),
    "serviceAccounts": (lambda v, a: m.service_account_match(v, a.principal, a.policy_namespace),
                        "peer service account"),
    "trustDomains": (lambda v, a: m.trust_domain_match(v, a.principal), "peer trust domain"),
    "ipBlocks": (lambda v, a: m.ip_match(v, a.source_ip), "source IP"),
    "remoteIpBlocks": (lambda v, a: m.ip_match(v, a.remote_ip or a.source_ip), "remote IP"),
}
OPERATION_FIELDS: dict[str, tuple[FieldMatcher, str]] = {
    "hosts": (lambda v, a: m.string_match(v, a.host, ignore_case=True), "host (:authority)"),
    "ports": (lambda v, a: a.port is not None and v == str(a.port), "port"),
    "methods": (lambda v, a: m.string_match(v, a.method), "method"),
    "paths": (lambda v, a: m.path_match(v, a.path), "path"),
}


def _not(name: str) -> str:
    return "not" + name[0].upper() + name[1:]


def _describe_value(fields: Mapping[str, tuple[FieldMatcher, str]], name: str,
                    attrs: Attributes) -> str:
    attribute = {
        "principals": attrs.principal, "namespaces": attrs.principal,
        "serviceAccounts": attrs.principal, "trustDomains": attrs.principal,
        "requestPrincipals": (f"{attrs.auth.issuer}/{attrs.auth.subject or ''}"
                              if attrs.auth else None),
        "ipBlocks": attrs.source_ip, "remoteIpBlocks": attrs.remote_ip or attrs.source_ip,
        "hosts": attrs.host, "ports": attrs.port, "methods": attrs.method, "paths": attrs.path,
    }.get(name)
    label = fields[name][1]
    if attribute is None:
        absent = {"principals": "plaintext: no peer identity",
                  "requestPrincipals": "no validated JWT"}.get(name, "absent")
        return f"{label} ({absent})"
    return f"{label} {attribute!r}"


def _values(entry: Mapping[str, Any], key: str) -> list[str]:
    value = entry.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _match_entry(entry: Any, fields: Mapping[str, tuple[FieldMatcher, str]], attrs: Attributes,
                 where: str, outcome: RuleOutcome) -> str | None:
    """None when the source/operation matches, else why not."""
    if not isinstance(entry, dict):
        return f"{where} is malformed"
    for name, (matcher, _) in fields.items():
        for key, positive in ((name, True), (_not(name), False)):
            values = _values(entry, key)
            if not values:
                continue
            if attrs.tcp and key in HTTP_ONLY_FIELDS:
                outcome.widened.append(f"{where}.{key}")
                continue
            hit = next((v for v in values if matcher(v, attrs)), None)
            if positive and hit is None:
                return (f"{where}.{key} {values} does not match "
                        f"{_describe_value(fields, name, attrs)}")
            if not positive and hit is not None:
                return (f"{where}.{key} excludes {_describe_value(fields, name, attrs)} "
                        f"(matches {hit!r})")
    return None


def _match_list(entries: Any, key: str, inner: str, fields: Mapping[str, tuple[FieldMatcher, str]],
                attrs: Attributes, outcome: RuleOutcome) -> str | None:
    if not isinstance(entries, list) or not entries:
        return None
    reasons = []
    for index, item in enumerate(entries):
        entry = item.get(inner) if isinstance(item, dict) else None
        why = _match_entry(entry, fields, attrs, f"{key}[{index}].{inner}", outcome)
        if why is None:
            return None
        reasons.append(why)
    return reasons[0] if len(reasons) == 1 else "no entry matches: " + "; ".join(reasons)


def claim_values(identity: Identity, path: Sequence[str]) -> list[str] | None:
    value: Any = identity.claims
    for step in path:
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    if isinstance(value, str) and len(path) == 1 and path[0] in identity.space_delimited:
        return value.split(" ")
    if isinstance(value, list):
        return [_claim_text(v) for v in value]
    return [_claim_text(value)]


def _claim_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _map_key_path(key: str, prefix: str) -> list[str] | None:
    """``request.auth.claims[a][b]`` -> ``["a", "b"]``."""
    rest = key[len(prefix):]
    if not rest.startswith("[") or not rest.endswith("]"):
        return None
    return rest[1:-1].split("][")


def _condition_values(key: str, attrs: Attributes) -> tuple[list[str] | None, str] | None:
    """The attribute values a ``when`` key reads, with a label; None for an unknown key."""
    auth = attrs.auth
    remote = attrs.remote_ip or attrs.source_ip
    if key.startswith("request.headers"):
        name = _map_key_path(key, "request.headers")
        if name is None or len(name) != 1:
            return None
        header = attrs.header(name[0])
        return ([header] if header is not None else None), f"header {name[0]!r}"
    if key.startswith("request.auth.claims"):
        claim = _map_key_path(key, "request.auth.claims")
        if claim is None:
            return None
        values = claim_values(auth, claim) if auth else None
        return values, f"claim {'.'.join(claim)!r}"
    simple: dict[str, tuple[list[str] | None, str]] = {
        "request.auth.principal": ([f"{auth.issuer}/{auth.subject or ''}"] if auth else None,
                                   "request principal"),
        "request.auth.audiences": (list(auth.audiences) if auth else None, "token audiences"),
        "request.auth.presenter": ([auth.presenter] if auth and auth.presenter else None,
                                   "token presenter"),
        "source.ip": ([attrs.source_ip] if attrs.source_ip else None, "source IP"),
        "remote.ip": ([remote] if remote else None, "remote IP"),
        "source.namespace": ([attrs.principal] if attrs.principal else None, "peer namespace"),
        "source.principal": ([attrs.principal] if attrs.principal else None, "peer principal"),
        "source.serviceAccount": ([attrs.principal] if attrs.principal else None,
                                  "peer service account"),
        "source.trustDomain": ([attrs.principal] if attrs.principal else None,
                               "peer trust domain"),
        "destination.port": ([str(attrs.port)] if attrs.port else None, "port"),
        "destination.ip": (None, "destination IP"),
        "connection.sni": ([attrs.sni] if attrs.sni else None, "SNI"),
    }
    return simple.get(key)


def _condition_match(key: str, pattern: str, value: str, attrs: Attributes) -> bool:
    if key in ("request.auth.principal",):
        auth = attrs.auth
        return auth is not None and m.request_principal_match(pattern, auth.issuer, auth.subject)
    if key in ("source.ip", "remote.ip", "destination.ip"):
        return m.ip_match(pattern, value)
    if key == "source.principal":
        return m.principal_match(pattern, value)
    if key == "source.namespace":
        return m.namespace_match(pattern, value)
    if key == "source.serviceAccount":
        return m.service_account_match(pattern, value, attrs.policy_namespace)
    if key == "source.trustDomain":
        return m.trust_domain_match(pattern, value)
    if key.startswith("request.headers"):
        return m.presence_or_string_match(pattern, value)
    return m.string_match(pattern, value)


def _match_conditions(conditions: Any, attrs: Attributes, outcome: RuleOutcome) -> str | None:
    if not isinstance(conditions, list):
        return None
    for index, condition in enumerate(conditions):
        if not isinstance(condition, dict) or not isinstance(condition.get("key"), str):
            outcome.skipped = True
            return f"when[{index}] is malformed: the rule is skipped at runtime"
        key = condition["key"]
        found = _condition_values(key, attrs)
        if found is None:
            outcome.skipped = True
            return f"when[{index}] has the unknown key {key!r}: the rule is skipped at runtime"
        if attrs.tcp and key.startswith(HTTP_ONLY_KEY_PREFIXES):
            outcome.widened.append(f"when[{index}] {key}")
            continue
        values, label = found
        positive, negative = _values(condition, "values"), _values(condition, "notValues")
        present = values or []
        if positive and not any(_condition_match(key, p, v, attrs)
                                for p in positive for v in present):
            shown = label + (f" {present if len(present) != 1 else present[0]!r}" if values
                             else " (absent)")
            return f"when[{index}] {key} {positive} does not match {shown}"
        hit = next((p for p in negative for v in present if _condition_match(key, p, v, attrs)),
                   None)
        if hit is not None:
            return f"when[{index}] {key} notValues excludes {label} (matches {hit!r})"
    return None


def uses_http_only_fields(rule: Mapping[str, Any]) -> list[str]:
    used = []
    for key, inner in (("from", "source"), ("to", "operation")):
        entries = rule.get(key)
        for index, item in enumerate(entries if isinstance(entries, list) else []):
            entry = item.get(inner) if isinstance(item, dict) else None
            if isinstance(entry, dict):
                used += [f"{key}[{index}].{inner}.{name}" for name in entry
                         if name in HTTP_ONLY_FIELDS and entry[name]]
    conditions = rule.get("when")
    for index, condition in enumerate(conditions if isinstance(conditions, list) else []):
        if isinstance(condition, dict) and str(condition.get("key", "")).startswith(
                HTTP_ONLY_KEY_PREFIXES):
            used.append(f"when[{index}] {condition['key']}")
    return used


def match_rule(rule: Any, attrs: Attributes, action: str) -> RuleOutcome:
    outcome = RuleOutcome(False)
    if not isinstance(rule, dict):
        outcome.skipped, outcome.why = True, "the rule is malformed"
        return outcome
    if attrs.tcp and action == "ALLOW":
        http_only = uses_http_only_fields(rule)
        if http_only:
            outcome.skipped = True
            outcome.why = (f"skipped on a TCP port: an ALLOW rule with HTTP-only fields "
                           f"({', '.join(http_only)}) does not exist on TCP filter chains")
            return outcome
    why = (_match_list(rule.get("from"), "from", "source", SOURCE_FIELDS, attrs, outcome)
           or _match_list(rule.get("to"), "to", "operation", OPERATION_FIELDS, attrs, outcome)
           or _match_conditions(rule.get("when"), attrs, outcome))
    outcome.matched = why is None and not outcome.skipped
    outcome.why = why or ""
    return outcome
