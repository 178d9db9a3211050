"""Candidate requests for one target, derived from every value the policies on either side use.

Each rule of every AuthorizationPolicy that applies on either side yields requests that satisfy
it: one per combination of its ``from`` and ``to`` entries, one more for every other value of a
field, and one for every value a ``not`` field or ``notValues`` excludes. Those are combined in
pairs (one fills in what the other leaves open) so that interactions between rules of both
sides are tried, then crossed with the transport (plaintext or mTLS), the tokens the
RequestAuthentications of either side accept, and the target's ports. Whatever the policies
can tell apart, some candidate exercises: a decision that differs between the sides shows up on
at least one of them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from istiolint.authz.matchers import example_match
from istiolint.authz.request import Jwt, Peer, Request, To
from istiolint.model.kube import listed
from istiolint.model.security import AuthorizationPolicy, RequestAuthentication

PROBE_PRINCIPAL = "cluster.local/ns/istiolint-probe/sa/probe"
PROBE_ISSUER = "https://issuer.istiolint.invalid"
PROBE_SUBJECT = "istiolint-probe"
FILLER = "x"
MAX_PAIRED = 150  # rule drafts beyond this are not paired with each other (quadratic)
MAX_CANDIDATES = 20_000  # per target; the simplest are kept, and the diff says so


@dataclass(frozen=True)
class Draft:
    """A partial request: unset attributes are filled with defaults at the end."""

    host: str | None = None
    method: str | None = None
    path: str | None = None
    port: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    principal: str | None = None
    plaintext: bool = False
    ip: str | None = None
    remote_ip: str | None = None
    sni: str | None = None
    issuer: str | None = None
    subject: str | None = None
    audiences: tuple[str, ...] = ()
    claims: tuple[tuple[tuple[str, ...], str], ...] = ()
    presenter: str | None = None

    @property
    def wants_token(self) -> bool:
        return bool(self.issuer or self.subject or self.audiences or self.claims
                    or self.presenter)

    def weight(self) -> int:
        return sum(1 for f in fields(self) if getattr(self, f.name) not in (None, (), False))

    def filled_from(self, other: Draft) -> Draft:
        """This draft, with what it leaves unset taken from ``other``."""
        changes = {f.name: getattr(other, f.name) for f in fields(self)
                   if getattr(self, f.name) in (None, ()) and
                   getattr(other, f.name) not in (None, ())}
        return replace(self, **changes) if changes else self


def instantiate_path(pattern: str) -> str:
    if pattern == "*":
        return "/" + FILLER
    value = pattern.replace("{**}", f"{FILLER}/{FILLER}").replace("{*}", FILLER)
    value = example_match(value)
    return value if value.startswith("/") else "/" + value


def _address(block: str) -> str | None:
    try:
        network = ipaddress.ip_network(block, strict=False)
    except ValueError:
        return None
    return str(network[1] if network.num_addresses > 2 else network[0])


def _principal(pattern: str) -> str:
    if pattern == "*":
        return PROBE_PRINCIPAL
    if pattern.startswith("*"):
        return "cluster.local/ns/istiolint-probe" + pattern[1:] if pattern[1:2] == "/" else \
            "cluster.local/ns/istiolint-probe/sa/" + FILLER + pattern[1:]
    return example_match(pattern)


def _request_principal(pattern: str, issuers: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(issuer, subject) pairs whose ``iss/sub`` the pattern matches."""
    if pattern == "*":
        for issuer in issuers:
            yield issuer, PROBE_SUBJECT
        return
    if pattern.startswith("*"):
        subject = pattern[2:] if pattern.startswith("*/") else FILLER + pattern[1:]
        for issuer in issuers:
            yield issuer, subject or PROBE_SUBJECT
        return
    issuer, _, subject = example_match(pattern).rpartition("/")
    yield issuer or PROBE_ISSUER, subject or FILLER


def _source_values(name: str, value: str, namespace: str,
                   issuers: Sequence[str]) -> Iterator[dict[str, Any]]:
    if name == "principals":
        yield {"principal": _principal(value)}
    elif name == "namespaces":
        yield {"principal": f"cluster.local/ns/{example_match(value, 'istiolint-probe')}/sa/probe"}
    elif name == "serviceAccounts":
        account_namespace, _, account = value.rpartition("/")
        yield {"principal": f"cluster.local/ns/{account_namespace or namespace}/sa/{account}"}
    elif name == "trustDomains":
        yield {"principal": f"{example_match(value)}/ns/istiolint-probe/sa/probe"}
    elif name in ("ipBlocks", "remoteIpBlocks"):
        address = _address(value)
        if address is not None:
            yield {"ip" if name == "ipBlocks" else "remote_ip": address}
    elif name == "requestPrincipals":
        for issuer, subject in _request_principal(value, issuers):
            yield {"issuer": issuer, "subject": subject}


def _operation_values(name: str, value: str) -> Iterator[dict[str, Any]]:
    if name == "hosts":
        yield {"host": example_match(value, "istiolint-probe.example")}
    elif name == "methods":
        yield {"method": example_match(value, "GET")}
    elif name == "paths":
        yield {"path": instantiate_path(value)}
    elif name == "ports" and value.isdigit() and 0 < int(value) < 65536:
        yield {"port": int(value)}


def _claim_path(key: str, prefix: str) -> tuple[str, ...] | None:
    rest = key[len(prefix):]
    if not rest.startswith("[") or not rest.endswith("]"):
        return None
    return tuple(rest[1:-1].split("]["))


def _condition_values(key: str, value: str, namespace: str,
                      issuers: Sequence[str]) -> Iterator[dict[str, Any]]:
    if key.startswith("request.headers"):
        name = _claim_path(key, "request.headers")
        if name is not None and len(name) == 1:
            yield {"headers": ((name[0], example_match(value)),)}
    elif key.startswith("request.auth.claims"):
        claim = _claim_path(key, "request.auth.claims")
        if claim is not None:
            yield {"claims": ((claim, example_match(value)),)}
    elif key == "request.auth.principal":
        for issuer, subject in _request_principal(value, issuers):
            yield {"issuer": issuer, "subject": subject}
    elif key == "request.auth.audiences":
        yield {"audiences": (example_match(value),)}
    elif key == "request.auth.presenter":
        yield {"presenter": example_match(value)}
    elif key in ("source.ip", "remote.ip"):
        address = _address(value)
        if address is not None:
            yield {"ip" if key == "source.ip" else "remote_ip": address}
    elif key == "source.principal":
        yield {"principal": _principal(value)}
    elif key == "source.namespace":
        yield from _source_values("namespaces", value, namespace, issuers)
    elif key == "source.serviceAccount":
        yield from _source_values("serviceAccounts", value, namespace, issuers)
    elif key == "source.trustDomain":
        yield from _source_values("trustDomains", value, namespace, issuers)
    elif key == "destination.port" and value.isdigit() and 0 < int(value) < 65536:
        yield {"port": int(value)}
    elif key == "connection.sni":
        yield {"sni": example_match(value)}


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


@dataclass
class _Constraint:
    """One field of a rule: each value gives the attributes that satisfy (or hit) it."""

    options: list[dict[str, Any]]
    excluded: list[dict[str, Any]]


def _field_options(entry: Mapping[str, Any], key: str, name: str, namespace: str,
                   issuers: Sequence[str], source: bool) -> list[dict[str, Any]]:
    return [attrs for value in _strings(entry.get(key))
            for attrs in (_source_values(name, value, namespace, issuers) if source
                          else _operation_values(name, value))]


def _entry_constraints(entry: Mapping[str, Any], names: Iterable[str], namespace: str,
                       issuers: Sequence[str], source: bool) -> list[_Constraint]:
    found = []
    for name in names:
        negative = "not" + name[0].upper() + name[1:]
        options = _field_options(entry, name, name, namespace, issuers, source)
        excluded = _field_options(entry, negative, name, namespace, issuers, source)
        if options or excluded:
            found.append(_Constraint(options, excluded))
    return found


def _condition_options(key: str, values: Any, namespace: str,
                       issuers: Sequence[str]) -> list[dict[str, Any]]:
    return [attrs for value in _strings(values)
            for attrs in _condition_values(key, value, namespace, issuers)]


SOURCE_NAMES = ("principals", "requestPrincipals", "namespaces", "serviceAccounts",
                "trustDomains", "ipBlocks", "remoteIpBlocks")
OPERATION_NAMES = ("hosts", "ports", "methods", "paths")


def _merge(draft: Draft, attrs: Mapping[str, Any]) -> Draft:
    changes: dict[str, Any] = {}
    for key, value in attrs.items():
        if key in ("headers", "claims", "audiences"):
            changes[key] = tuple(dict.fromkeys((*getattr(draft, key), *value)))
        elif value is not None:
            changes[key] = value
    return replace(draft, **changes)


def rule_drafts(rule: Any, namespace: str, issuers: Sequence[str], *,
                primary_only: bool = False) -> list[Draft]:
    """Requests that satisfy ``rule`` (one per from/to combination and per other value), and
    requests that hit each value it excludes; ``primary_only``: one per combination."""
    if not isinstance(rule, Mapping):
        return []
    sources = [item.get("source") for item in listed(rule.get("from"))
               if isinstance(item, Mapping)]
    operations = [item.get("operation") for item in listed(rule.get("to"))
                  if isinstance(item, Mapping)]
    conditions = []
    for condition in listed(rule.get("when")):
        if isinstance(condition, Mapping) and isinstance(condition.get("key"), str):
            key = condition["key"]
            options = _condition_options(key, condition.get("values"), namespace, issuers)
            excluded = _condition_options(key, condition.get("notValues"), namespace, issuers)
            if options or excluded:
                conditions.append(_Constraint(options, excluded))
    drafts: list[Draft] = []
    for source in sources or [None]:
        for operation in operations or [None]:
            constraints = [*(_entry_constraints(source, SOURCE_NAMES, namespace, issuers, True)
                             if isinstance(source, Mapping) else []),
                           *(_entry_constraints(operation, OPERATION_NAMES, namespace, issuers,
                                                False) if isinstance(operation, Mapping) else []),
                           *conditions]
            found = _satisfying(constraints)
            drafts.extend([next(found)] if primary_only else found)
    return drafts


def _satisfying(constraints: Sequence[_Constraint]) -> Iterator[Draft]:
    first = Draft()
    for constraint in constraints:
        if constraint.options:
            first = _merge(first, constraint.options[0])
    yield first
    for constraint in constraints:
        for option in constraint.options[1:]:
            yield _merge(first, option)
        for hit in constraint.excluded:
            yield _merge(first, hit)


@dataclass(frozen=True)
class Token:
    issuer: str
    audiences: tuple[str, ...]


def tokens(authentications: Iterable[RequestAuthentication]) -> list[Token]:
    """Tokens worth trying: each issuer with no audience, with each single audience the
    RequestAuthentications accept, and with all of them; plus an issuer nobody trusts."""
    audiences: dict[str, dict[str, None]] = {}
    for authentication in authentications:
        for rule in authentication.jwt_rules:
            audiences.setdefault(rule.issuer, {}).update(dict.fromkeys(rule.audiences))
    found = [Token(PROBE_ISSUER, ())]
    for issuer, accepted in audiences.items():
        found.append(Token(issuer, ()))
        found.extend(Token(issuer, (audience,)) for audience in accepted)
        if len(accepted) > 1:
            found.append(Token(issuer, tuple(accepted)))
    return found


@dataclass
class CandidateSpace:
    """What one target's candidates are built from: both sides' policies, tokens and ports."""

    target: To
    namespace: str
    host: str
    policies: list[AuthorizationPolicy] = field(default_factory=list)
    authentications: list[RequestAuthentication] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    dropped: int = 0  # candidates beyond MAX_CANDIDATES, left undecided

    def candidates(self) -> list[Request]:
        token_list = tokens(self.authentications)
        issuers = [t.issuer for t in token_list if t.issuer != PROBE_ISSUER] or [PROBE_ISSUER]
        drafts: list[Draft] = [Draft()]
        primary: list[Draft] = []
        for policy in self.policies:
            for rule in policy.rules or ():
                drafts.extend(rule_drafts(rule, policy.namespace, issuers))
                primary.extend(rule_drafts(rule, policy.namespace, issuers, primary_only=True))
        paired = list(dict.fromkeys(primary))[:MAX_PAIRED]
        drafts += [a.filled_from(b) for a in paired for b in paired if a is not b]
        variants: dict[Draft, None] = {}
        for draft in dict.fromkeys(drafts):
            for variant in self._variants(draft, token_list):
                variants.setdefault(variant)
        ordered = sorted(variants, key=Draft.weight)
        self.dropped = max(0, len(ordered) - MAX_CANDIDATES)
        return [self._request(draft) for draft in ordered[:MAX_CANDIDATES]]

    def _variants(self, draft: Draft, token_list: Sequence[Token]) -> Iterator[Draft]:
        transports = [replace(draft, plaintext=True, principal=None)]
        transports.append(draft if draft.principal else replace(draft, principal=PROBE_PRINCIPAL))
        with_tokens: list[Draft] = []
        for transport in transports:
            if transport.wants_token:
                with_tokens.append(transport if transport.issuer else
                                   replace(transport, issuer=issuers_first(token_list)))
                continue
            with_tokens.append(transport)
            with_tokens.extend(replace(transport, issuer=t.issuer, subject=PROBE_SUBJECT,
                                       audiences=t.audiences) for t in token_list)
        for variant in with_tokens:
            if variant.port is not None or not self.ports:
                yield variant
            else:
                yield from (replace(variant, port=port) for port in self.ports)

    def _request(self, draft: Draft) -> Request:
        jwt = None
        if draft.issuer:
            claims: dict[str, Any] = {}
            for path, value in draft.claims:
                node = claims
                for step in path[:-1]:
                    node = node.setdefault(step, {})
                node[path[-1]] = value
            jwt = Jwt(draft.issuer, draft.subject or PROBE_SUBJECT, draft.audiences, claims,
                      draft.presenter)
        source = None
        if draft.principal or draft.ip or draft.remote_ip:
            source = Peer(None if draft.plaintext else draft.principal, draft.ip, draft.remote_ip)
        return Request(self.target, host=draft.host or self.host, method=draft.method or "GET",
                       path=draft.path or "/", port=draft.port, headers=dict(draft.headers),
                       jwt=jwt, source=source, sni=draft.sni)


def issuers_first(token_list: Sequence[Token]) -> str:
    return next((t.issuer for t in token_list if t.issuer != PROBE_ISSUER), PROBE_ISSUER)
