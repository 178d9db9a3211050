"""Decide a request the way a sidecar's Envoy does with istiod's configuration.

Order on an inbound listener: mTLS (PeerAuthentication) accepts or resets the connection;
then CUSTOM (ext_authz), JWT validation (RequestAuthentication: 401, or 403 for an audience
mismatch), DENY policies, ALLOW policies (403 when some apply and none matches). AUDIT and
dry-run policies never decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from istiolint.authz.matchers import normalize_path
from istiolint.authz.request import Request
from istiolint.authz.rules import SPACE_DELIMITED_CLAIMS, Attributes, Identity, match_rule
from istiolint.model.mesh import MeshModel, Target, sorted_policies
from istiolint.model.security import (
    AuthorizationPolicy,
    JwtRule,
    PeerAuthentication,
    RequestAuthentication,
)
from istiolint.urls import split_url

Decider = AuthorizationPolicy | RequestAuthentication | PeerAuthentication


@dataclass
class Verdict:
    decision: str  # ALLOW, DENY or UNKNOWN (depends on something the repository does not hold)
    status: int | None  # 200, 401, 403; None when the connection is reset or UNKNOWN
    reason: str
    policy: Decider | None = None
    rule: int | None = None
    trace: list[str] = field(default_factory=list)

    def satisfies(self, expect: str) -> bool:
        if expect.isdigit():
            return self.status == int(expect)
        return self.decision == expect


class TargetNotFound(LookupError):
    pass


def resolve_target(model: MeshModel, request: Request) -> Target:
    if request.to.workload is not None:
        target = model.workload_target(request.to.workload)
        if target is None:
            known = ", ".join(sorted(model.workloads)) or "none"
            raise TargetNotFound(f"workload {request.to.workload!r} is not in the manifests "
                                 f"(known: {known})")
        return target
    return model.target(request.to.namespace or "default", request.to.labels)


def _keys_loadable(rule: JwtRule) -> bool:
    if rule.jwks or rule.jwks_uri:
        return True
    parts = split_url(rule.issuer)
    scheme = parts.scheme if parts else ""
    return scheme in ("http", "https")


def _claim_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _claim_list(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


class Evaluator:
    def __init__(self, model: MeshModel) -> None:
        self.model = model

    def evaluate(self, request: Request) -> Verdict:
        target = resolve_target(self.model, request)
        trace = [f"target: {target.describe()}"]
        verdict = self._evaluate(request, target, trace)
        verdict.trace = trace
        return verdict

    def _evaluate(self, request: Request, target: Target, trace: list[str]) -> Verdict:
        model = self.model
        port = request.port
        protocol = model.port_protocol(target, port) if port is not None else None
        tcp = protocol is not None and protocol.protocol in ("tcp", "udp")
        if protocol is None:
            trace.append("port: not given; port-specific settings cannot apply")
        elif protocol.protocol == "auto":
            note = ("Services disagree on its protocol" if protocol.conflicting else
                    "no Service declares its protocol")
            trace.append(f"port {port}: {note}; Istio sniffs it, so an HTTP request is "
                         "handled as HTTP")
        else:
            trace.append(f"port {port}: {protocol.protocol.upper()} "
                         f"(from {', '.join(protocol.services)})")

        peer = model.peer_authentication_for(target, port)
        source_note = peer.decided_by.key if peer.decided_by else "no PeerAuthentication"
        trace.append(f"mTLS: {peer.mode} ({peer.level}, {source_note})")
        if peer.ambiguous:
            trace.append("mTLS: several PeerAuthentications at the same level ("
                         + ", ".join(p.key for p in peer.ambiguous) + "); istiod keeps the "
                         "oldest, which the repository cannot tell")
        principal = request.source.principal if request.source is not None else None
        if principal is None and peer.mode == "STRICT":
            return Verdict("DENY", None, "plaintext connection reset: STRICT mTLS requires a "
                           "client certificate", peer.decided_by)
        if principal is not None and peer.mode == "DISABLE":
            trace.append("mTLS disabled: the peer identity is not available")
            principal = None

        attrs = Attributes(
            host=request.host, method=request.method,
            path=normalize_path(request.path) if request.path is not None else None,
            port=port, headers=request.headers, principal=principal,
            source_ip=request.source.ip if request.source else None,
            remote_ip=request.source.remote_ip if request.source else None,
            sni=request.sni, auth=None, tcp=tcp)

        policies = sorted_policies(model.authorization_policies_for(target))
        custom = self._custom(policies, attrs, trace)

        if not tcp:
            jwt_verdict, identity = self._authenticate(request, target, trace)
            if jwt_verdict is not None:
                return self._after_custom(custom, jwt_verdict)
            attrs = replace(attrs, auth=identity)
        elif request.jwt is not None:
            trace.append("JWT: not validated on a TCP port")

        verdict = self._rbac(policies, attrs, trace)
        return self._after_custom(custom, verdict)

    def _after_custom(self, custom: AuthorizationPolicy | None, verdict: Verdict) -> Verdict:
        if custom is None:
            return verdict
        provider = custom.provider or "(no provider)"
        if verdict.decision == "DENY":
            return verdict
        return Verdict("UNKNOWN", None,
                       f"CUSTOM policy {custom.key} sends this request to the external "
                       f"authorizer {provider!r}, which istiolint cannot consult; if it "
                       f"allows: {verdict.reason}", custom)

    def _custom(self, policies: Sequence[AuthorizationPolicy], attrs: Attributes,
                trace: list[str]) -> AuthorizationPolicy | None:
        for policy in policies:
            if policy.action != "CUSTOM":
                continue
            for index, rule in enumerate(policy.rules or ()):
                if match_rule(rule, replace(attrs, policy_namespace=policy.namespace),
                              "CUSTOM").matched:
                    trace.append(f"CUSTOM {policy.key}: rule {index} matches: provider "
                                 f"{policy.provider!r} decides")
                    return policy
            trace.append(f"CUSTOM {policy.key}: no rule matches")
        return None

    def _authenticate(self, request: Request, target: Target, trace: list[str]
                      ) -> tuple[Verdict | None, Identity | None]:
        authentications = self.model.request_authentications_for(target)
        token = request.jwt
        if authentications and request.method == "OPTIONS" and request.header("origin") \
                and request.header("access-control-request-method"):
            trace.append("JWT: a CORS preflight (OPTIONS with Origin and "
                         "Access-Control-Request-Method) is not checked")
            return None, None
        if token is None:
            trace.append("JWT: no token" + ("" if authentications else
                                            " (and no RequestAuthentication applies)"))
            return None, None
        if not authentications:
            trace.append("JWT: no RequestAuthentication applies, so the token is not validated "
                         "and gives no identity")
            return None, None
        rules = [(ra, rule) for ra in authentications for rule in ra.jwt_rules]
        same_issuer = [(ra, rule) for ra, rule in rules if rule.issuer == token.issuer]
        if not same_issuer:
            declared = sorted({rule.issuer for _, rule in rules})
            return Verdict("DENY", 401, f"JWT issuer {token.issuer!r} is not declared by the "
                           f"RequestAuthentications that apply (declared: "
                           f"{', '.join(map(repr, declared))})", authentications[0]), None
        loadable = [(ra, rule) for ra, rule in same_issuer if _keys_loadable(rule)]
        if not loadable:
            ra, rule = same_issuer[0]
            return Verdict("DENY", 401, f"the keys of issuer {token.issuer!r} can never be "
                           "loaded: the jwtRule has no jwksUri or jwks and the issuer is not an "
                           "http(s) URL for OIDC discovery, so every token is rejected", ra,
                           rule.index), None
        audiences = set(token.audiences) or _claim_list(token.claims.get("aud"))
        accepted = [(ra, rule) for ra, rule in loadable if not rule.audiences
                    or set(rule.audiences) & audiences]
        if not accepted:
            ra, rule = loadable[0]
            return Verdict("DENY", 403, f"JWT audiences {list(token.audiences)} are not "
                           f"accepted (allowed: {list(rule.audiences)})", ra, rule.index), None
        ra, rule = accepted[0]
        presenter = token.presenter or _claim_text(token.claims.get("azp"))
        space_delimited = frozenset(SPACE_DELIMITED_CLAIMS) | {
            claim for _, r in accepted for claim in r.space_delimited_claims}
        trace.append(f"JWT: valid for issuer {token.issuer!r} ({ra.key} jwtRules[{rule.index}])"
                     + ("" if any(r.jwks or r.jwks_uri for _, r in accepted) else
                        "; keys come from OIDC discovery at the issuer"))
        return None, Identity(token.issuer, token.subject, tuple(sorted(audiences)),
                              token.claims, presenter, space_delimited)

    def _rbac(self, policies: Sequence[AuthorizationPolicy], attrs: Attributes,
              trace: list[str]) -> Verdict:
        allow_policies = []
        for action in ("AUDIT", "DENY", "ALLOW"):
            for policy in policies:
                if policy.action != action:
                    continue
                if policy.dry_run:
                    trace.append(f"{action} {policy.key}: dry-run (istio.io/dry-run), "
                                 "not enforced")
                    continue
                if action == "ALLOW":
                    allow_policies.append(policy)
                matched = self._first_match(policy, attrs, trace)
                if matched is not None and action == "DENY":
                    return Verdict("DENY", 403, f"denied by DENY policy {policy.key} rule "
                                   f"{matched}", policy, matched)
                if matched is not None and action == "ALLOW":
                    return Verdict("ALLOW", 200, f"allowed by ALLOW policy {policy.key} rule "
                                   f"{matched}", policy, matched)
        if not allow_policies:
            return Verdict("ALLOW", 200, "allowed: no ALLOW policy applies to the workload")
        names = ", ".join(p.key for p in allow_policies)
        return Verdict("DENY", 403, f"denied: ALLOW policies apply ({names}) and none of their "
                       "rules matches", allow_policies[0])

    def _first_match(self, policy: AuthorizationPolicy, attrs: Attributes,
                     trace: list[str]) -> int | None:
        label = f"{policy.action} {policy.key}"
        if policy.rules is None:
            trace.append(f"{label}: has no rules, so it matches nothing"
                         + (" (it denies everything else)" if policy.action == "ALLOW" else ""))
            return None
        scoped = replace(attrs, policy_namespace=policy.namespace)
        for index, rule in enumerate(policy.rules):
            outcome = match_rule(rule, scoped, policy.action)
            if outcome.widened:
                trace.append(f"{label} rule {index}: on a TCP port its HTTP-only conditions are "
                             f"ignored ({', '.join(outcome.widened)})")
            if outcome.matched:
                if policy.action == "AUDIT":
                    trace.append(f"{label} rule {index}: matches (audit only)")
                    return None
                trace.append(f"{label} rule {index}: matches")
                return index
            trace.append(f"{label} rule {index}: {outcome.why}")
        return None
