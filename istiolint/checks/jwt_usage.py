"""Issuers in both directions: policies that name issuers nobody validates, policies that need a
token no RequestAuthentication reads, and RequestAuthentications that nothing enforces."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from istiolint.context import CheckContext
from istiolint.kyma.generated import generated_from_apirule
from istiolint.model.mesh import MeshModel, Scope, Target
from istiolint.model.security import (
    AuthorizationPolicy,
    RequestAuthentication,
    rule_conditions,
    rule_entries,
    string_values,
)
from istiolint.positions import join_pointer
from istiolint.rules import Detection, builtin_rules
from istiolint.urls import split_url

ORPHANED_ISSUER, NO_REQUEST_AUTHENTICATION, UNENFORCED_JWT = "AP001", "AP002", "RA007"
REQUEST_AUTH_KEYS = "request.auth."


@dataclass(frozen=True)
class TokenUse:
    """A place where a policy reads the validated token."""

    pointer: str
    field: str
    value: str | None  # a request-principal pattern, or the issuer of a claims[iss] condition
    issuer_only: bool = False


def token_uses(policy: AuthorizationPolicy) -> Iterator[TokenUse]:
    for entry in rule_entries(policy):
        for field in ("requestPrincipals", "notRequestPrincipals"):
            for k, value in string_values(entry.fields, field):
                yield TokenUse(join_pointer(entry.pointer, field, k), field, value)
    for condition in rule_conditions(policy):
        key = condition.key
        if not key.startswith(REQUEST_AUTH_KEYS):
            continue
        found = False
        for field in ("values", "notValues"):
            for k, value in string_values(condition.fields, field):
                pointer = join_pointer(condition.pointer, field, k)
                if key == "request.auth.principal":
                    yield TokenUse(pointer, key, value)
                    found = True
                elif key == "request.auth.claims[iss]":
                    yield TokenUse(pointer, key, value, issuer_only=True)
                    found = True
        if not found:
            yield TokenUse(join_pointer(condition.pointer, "key"), key, None)


def issuer_part(pattern: str, *, issuer_only: bool = False) -> str | None:
    """The issuer pattern of a request principal (split at the last ``/``); None when the
    pattern accepts any issuer."""
    if issuer_only:
        return None if pattern == "*" else pattern
    if pattern == "*" or (pattern.startswith("*") and "/" not in pattern):
        return None
    if "/" in pattern:
        issuer = pattern.rpartition("/")[0]
        return None if issuer == "*" else issuer
    return pattern


def issuer_matches(pattern: str, issuer: str) -> bool:
    if pattern.startswith("*"):
        return issuer.endswith(pattern[1:])
    if pattern.endswith("*"):
        return issuer.startswith(pattern[:-1])
    return issuer == pattern


def _folded(issuer: str) -> str:
    parts = split_url(issuer.lower())
    core = (parts.netloc + parts.path) if parts else issuer.lower()
    return core.rstrip("/")


def near_miss(pattern: str, issuers: set[str]) -> str | None:
    """A declared issuer that differs only by scheme, trailing slash or case."""
    folded = _folded(pattern.rstrip("*"))
    return next((i for i in sorted(issuers) if _folded(i) == folded), None)


def _issuers(model: MeshModel, target: Target) -> set[str]:
    return {rule.issuer for ra in model.request_authentications_for(target)
            for rule in ra.jwt_rules}


def _scope_note(scope: Scope) -> str:
    return " (the manifests hold none of its workloads: judged by selectors only)" \
        if scope.by_selector else ""


class IssuerCheck:
    namespace_scoped = True
    needs_model = True
    rules = builtin_rules(ORPHANED_ISSUER, NO_REQUEST_AUTHENTICATION, UNENFORCED_JWT)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        model = context.model
        for policy in context.focused(model.authorization_policies):
            if policy.has_target_refs or policy.action == "CUSTOM":
                continue
            yield from self._policy(model, policy)
        for authentication in context.focused(model.request_authentications):
            # api-gateway generates an APIRule's RequestAuthentication only with the ALLOW
            # policies that require its tokens; token-less paths are its noAuth rules
            if not authentication.has_target_refs and \
                    not generated_from_apirule(authentication.resource):
                yield from self._unenforced(model, authentication)

    def _policy(self, model: MeshModel, policy: AuthorizationPolicy) -> Iterator[Detection]:
        uses = list(token_uses(policy))
        if not uses:
            return
        scope = model.scope_of(policy)
        issuers = [(t, _issuers(model, t)) for t in scope.targets]
        bare = [t for t, found in issuers if not found]
        if bare:
            use = uses[0]
            yield Detection(NO_REQUEST_AUTHENTICATION, policy.resource, use.pointer, {
                "field": use.field, "targets": ", ".join(t.describe() for t in bare),
                "effect": _no_token_effect(policy.action, use.field),
                "note": _scope_note(scope)})
            if len(bare) == len(scope.targets):
                return
        for use in uses:
            pattern = issuer_part(use.value, issuer_only=use.issuer_only) if use.value else None
            if pattern is None:
                continue
            lacking = [(t, found) for t, found in issuers if found
                       and not any(issuer_matches(pattern, i) for i in found)]
            if not lacking:
                continue
            declared = set().union(*(found for _, found in lacking))
            suggestion = near_miss(pattern, declared)
            hint = f'; did you mean "{suggestion}"?' if suggestion else \
                f" (declared: {', '.join(sorted(declared))})"
            partial = len(lacking) < len([t for t, found in issuers if found])
            where = (f"for {', '.join(t.describe() for t, _ in lacking)}" if partial else
                     "for any workload of the policy")
            yield Detection(ORPHANED_ISSUER, policy.resource, use.pointer, {
                "issuer": pattern, "where": where, "hint": hint, "note": _scope_note(scope)})

    def _unenforced(self, model: MeshModel, authentication: RequestAuthentication
                    ) -> Iterator[Detection]:
        scope = model.scope_of(authentication)
        open_targets = [t for t in scope.targets
                        if not _requires_token(model.authorization_policies_for(t))]
        if not open_targets:
            return
        pointer = "/spec/selector" if authentication.selector else "/spec"
        yield Detection(UNENFORCED_JWT, authentication.resource, pointer, {
            "targets": ", ".join(t.describe() for t in open_targets),
            "note": _scope_note(scope)})


def _no_token_effect(action: str, field: str) -> str:
    negative = field.startswith("not") or field.endswith("notValues")
    if action == "ALLOW":
        return "this ALLOW rule never matches, so its requests are denied (403)"
    if action == "DENY" and negative:
        return "this DENY rule matches every request, so everything is denied (403)"
    if action == "DENY":
        return "this DENY rule never fires, so nothing is denied by it"
    return "the condition never holds"


def _rule_requires_token(rule: Any) -> bool:
    if not isinstance(rule, dict):
        return True
    froms = rule.get("from")
    if isinstance(froms, list) and froms and all(
            isinstance(f, dict) and isinstance(f.get("source"), Mapping)
            and f["source"].get("requestPrincipals") for f in froms):
        return True
    conditions = rule.get("when")
    return isinstance(conditions, list) and any(
        isinstance(c, dict) and str(c.get("key", "")).startswith(REQUEST_AUTH_KEYS)
        and c.get("values") for c in conditions)


def _denies_missing_token(policy: AuthorizationPolicy) -> bool:
    for rule in policy.rules or ():
        if not isinstance(rule, dict):
            continue
        froms = rule.get("from")
        if isinstance(froms, list) and any(
                isinstance(f, dict) and isinstance(f.get("source"), Mapping)
                and "*" in (f["source"].get("notRequestPrincipals") or []) for f in froms):
            return True
    return False


def _requires_token(policies: list[AuthorizationPolicy]) -> bool:
    """A token-less request is refused everywhere: a DENY of missing tokens, or ALLOW
    policies whose every rule needs a validated token."""
    enforced = [p for p in policies if not p.dry_run]
    if any(p.action == "DENY" and _denies_missing_token(p) for p in enforced):
        return True
    allows = [p for p in enforced if p.action == "ALLOW"]
    return bool(allows) and all(_rule_requires_token(r) for p in allows for r in p.rules or ())
