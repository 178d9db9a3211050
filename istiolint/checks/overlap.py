"""ALLOW rules that can never take effect: fully shadowed by a DENY, or covered by another ALLOW.

Candidates come from a structural containment test of rules (every request the first matches,
the second matches too); each finding is then confirmed by simulating a concrete example
request built from the rule, so a finding always comes with a request that shows it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from istiolint.authz.evaluate import Evaluator
from istiolint.authz.matchers import example_match
from istiolint.authz.request import Jwt, Peer, Request, To
from istiolint.context import CheckContext
from istiolint.model.mesh import MeshModel, Target
from istiolint.model.security import AuthorizationPolicy
from istiolint.positions import join_pointer
from istiolint.rules import Detection, builtin_rules
from istiolint.simulate import describe_request

SHADOWED_ALLOW, REDUNDANT_ALLOW, OVERLAPPING_GRANTS = "AP016", "AP017", "AP018"
_GRANTEE_FIELDS = ("principals", "requestPrincipals", "namespaces", "serviceAccounts")
_CASE_INSENSITIVE = ("hosts", "notHosts")


@dataclass(frozen=True)
class RuleRef:
    policy: AuthorizationPolicy
    index: int
    rule: Mapping[str, Any]

    @property
    def label(self) -> str:
        resource = self.policy.resource
        where = resource.location(join_pointer("/spec/rules", self.index))
        return f"{self.policy.key} rule {self.index} ({where.path}:{where.position.line})"


def covers(general: str, specific: str, *, ignore_case: bool = False) -> bool:
    """Whether every value ``specific`` matches is matched by ``general`` (Istio's forms)."""
    if ignore_case:
        general, specific = general.lower(), specific.lower()
    if general == "*":
        return True
    if "{" in general or "{" in specific:
        return general == specific
    if general.startswith("*"):
        if specific.startswith("*"):
            return specific[1:].endswith(general[1:])
        return specific.endswith(general[1:])
    if general.endswith("*"):
        return specific.startswith(general[:-1]) and not specific.startswith("*")
    return general == specific


def _entries(rule: Mapping[str, Any], side: str, inner: str) -> list[Mapping[str, Any]] | None:
    items = rule.get(side)
    if not isinstance(items, list) or not items:
        return None
    found = [item.get(inner) for item in items if isinstance(item, dict)]
    return [f for f in found if isinstance(f, dict)] if len(found) == len(items) else []


def _values(entry: Mapping[str, Any], field: str) -> list[str] | None:
    values = entry.get(field)
    if not isinstance(values, list):
        return None
    return [str(v) for v in values]


def entry_within(specific: Mapping[str, Any], general: Mapping[str, Any]) -> bool:
    for field, raw in general.items():
        wide = _values(general, field)
        if wide is None or not raw:
            continue
        narrow = _values(specific, field)
        if field.startswith("not"):
            if narrow is None or not set(wide) <= set(narrow):
                return False
        elif narrow is None or not all(
                any(covers(w, n, ignore_case=field in _CASE_INSENSITIVE) for w in wide)
                for n in narrow):
            return False
    return True


def rule_within(specific: Mapping[str, Any], general: Mapping[str, Any]) -> bool:
    for side, inner in (("from", "source"), ("to", "operation")):
        wide = _entries(general, side, inner)
        if wide is None:
            continue
        narrow = _entries(specific, side, inner)
        if not narrow or not all(any(entry_within(n, w) for w in wide) for n in narrow):
            return False
    wide_when = general.get("when")
    if isinstance(wide_when, list) and wide_when:
        narrow_when = specific.get("when")
        if not isinstance(narrow_when, list) or not all(
                isinstance(c, dict) and c in narrow_when for c in wide_when):
            return False
    return True


def _example_principal(source: Mapping[str, Any], namespace: str) -> str | None:
    principals = _values(source, "principals")
    if principals:
        return example_match(principals[0], "cluster.local/ns/x/sa/x")
    namespaces = _values(source, "namespaces")
    if namespaces:
        return f"cluster.local/ns/{example_match(namespaces[0])}/sa/x"
    accounts = _values(source, "serviceAccounts")
    if accounts:
        account_namespace, _, account = accounts[0].rpartition("/")
        return f"cluster.local/ns/{account_namespace or namespace}/sa/{account}"
    return None


def example_request(target: Target, rule: Mapping[str, Any]) -> Request | None:
    """A request the rule matches, built from the first value of each of its fields."""
    request: dict[str, Any] = {"host": None, "method": None, "path": None, "port": None}
    source = (_entries(rule, "from", "source") or [{}])[0]
    operation = (_entries(rule, "to", "operation") or [{}])[0]
    if any(k.startswith("not") for k in (*source, *operation)) or rule.get("when"):
        return None
    for field, key, filler in (("hosts", "host", "x.example"), ("methods", "method", "GET"),
                               ("paths", "path", "x")):
        values = _values(operation, field)
        request[key] = example_match(values[0], filler) if values else None
    ports = _values(operation, "ports")
    if ports:
        if not ports[0].isdigit():
            return None
        request["port"] = int(ports[0])
    elif target.workload and target.workload.ports:
        request["port"] = target.workload.ports[0].port
    principal = _example_principal(source, target.namespace)
    jwt = None
    request_principals = _values(source, "requestPrincipals")
    if request_principals:
        issuer, _, subject = request_principals[0].rpartition("/")
        if not issuer or "*" in issuer.strip("*"):
            return None
        jwt = Jwt(example_match(issuer, "https://issuer.x"), example_match(subject or "*", "x"))
    to = To(workload=target.workload.key) if target.workload else \
        To(namespace=target.namespace, labels=target.labels)
    return Request(to, host=request["host"], method=request["method"], path=request["path"],
                   port=request["port"], jwt=jwt,
                   source=Peer(principal or "cluster.local/ns/x/sa/x", "10.0.0.1"))


def _grantees(rule: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    return frozenset((field, value) for entry in _entries(rule, "from", "source") or []
                     for field in _GRANTEE_FIELDS for value in _values(entry, field) or [])


def _narrower(first: list[str], second: list[str], field: str) -> list[str] | None:
    """Values matched by both fields: the more specific side of each covering pair."""
    ignore_case = field in _CASE_INSENSITIVE
    common = [b for a in first for b in second if covers(a, b, ignore_case=ignore_case)]
    common += [a for a in first for b in second if covers(b, a, ignore_case=ignore_case)]
    return list(dict.fromkeys(common)) or None


def _shared_operation(first: Mapping[str, Any], second: Mapping[str, Any]
                      ) -> dict[str, list[str]] | None:
    """An operation both rules' ``to`` accept, if their positive fields intersect."""
    for a in _entries(first, "to", "operation") or []:
        for b in _entries(second, "to", "operation") or []:
            if any(k.startswith("not") for k in (*a, *b)):
                continue
            merged: dict[str, list[str]] = {}
            for field in {*a, *b}:
                left, right = _values(a, field), _values(b, field)
                values = _narrower(left, right, field) if left and right else left or right
                if not values:
                    break
                merged[field] = values
            else:
                return merged
    return None


def _rules(policies: Sequence[AuthorizationPolicy], action: str) -> list[RuleRef]:
    return [RuleRef(p, i, r) for p in policies if p.action == action and not p.dry_run
            for i, r in enumerate(p.rules or ()) if isinstance(r, dict)]


class _Run:
    """What one run of the check works out once: the rules that apply to a workload (asked for
    every ALLOW policy of its scope) and each rule's grantees (asked for every pair of rules).
    Keyed by the id of the workload or rule, which the model holds for the whole run."""

    def __init__(self, model: MeshModel, evaluator: Evaluator) -> None:
        self.model = model
        self.evaluator = evaluator
        self.reported: set[tuple[int, int]] = set()
        self._rules: dict[int, tuple[list[RuleRef], list[RuleRef]]] = {}
        self._grantees: dict[int, frozenset[tuple[str, str]]] = {}

    def rules_for(self, target: Target) -> tuple[list[RuleRef], list[RuleRef]]:
        """The DENY and the ALLOW rules of the policies that apply to ``target``."""
        workload = target.whole_workload
        known = self._rules.get(id(workload)) if workload is not None else None
        if known is None:
            applicable = self.model.authorization_policies_for(target)
            known = (_rules(applicable, "DENY"), _rules(applicable, "ALLOW"))
            if workload is not None:
                self._rules[id(workload)] = known
        return known

    def grantees(self, rule: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
        found = self._grantees.get(id(rule))
        if found is None:
            found = self._grantees[id(rule)] = _grantees(rule)
        return found


class OverlapCheck:
    namespace_scoped = True
    needs_model = True
    rules = builtin_rules(SHADOWED_ALLOW, REDUNDANT_ALLOW, OVERLAPPING_GRANTS)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        model = context.model
        run = _Run(model, Evaluator(model))
        for policy in context.focused(model.authorization_policies):
            if policy.action != "ALLOW" or policy.dry_run or policy.has_target_refs:
                continue
            scope = model.scope_of(policy)
            for target in scope.targets:
                yield from self._target(run, policy, target)

    def _target(self, run: _Run, policy: AuthorizationPolicy, target: Target
                ) -> Iterator[Detection]:
        denies, allows = run.rules_for(target)
        reported = run.reported
        for mine in _rules([policy], "ALLOW"):
            key = (id(policy), mine.index)
            if key in reported:
                continue
            shadow = next((d for d in denies if rule_within(mine.rule, d.rule)), None)
            wider = None if shadow else next((a for a in allows if not (
                a.policy is policy and a.index == mine.index) and rule_within(mine.rule, a.rule)
                and (not rule_within(a.rule, mine.rule) or (a.policy.key, a.index) <
                     (policy.key, mine.index))), None)
            example = example_request(target, mine.rule) if shadow or wider else None
            if example is None:
                continue
            verdict = run.evaluator.evaluate(example)
            if shadow is not None and verdict.status == 403 and \
                    verdict.policy is shadow.policy:
                reported.add(key)
                yield self._detection(SHADOWED_ALLOW, mine, shadow, example, target)
            elif wider is not None and verdict.decision == "ALLOW":
                reported.add(key)
                yield self._detection(REDUNDANT_ALLOW, mine, wider, example, target)
        yield from self._overlaps(run, policy, target, allows)

    def _overlaps(self, run: _Run, policy: AuthorizationPolicy, target: Target,
                  allows: list[RuleRef]) -> Iterator[Detection]:
        """Two grantees (different callers) granted a common request: worth a reviewer's look."""
        reported, grantees = run.reported, run.grantees
        for mine in _rules([policy], "ALLOW"):
            key = (id(policy), mine.index)
            mine_grantees = grantees(mine.rule)
            if key in reported or not mine_grantees:
                continue
            for other in allows:
                if (other.policy.key, other.index) >= (policy.key, mine.index):
                    continue
                other_grantees = grantees(other.rule)
                if not other_grantees or other_grantees == mine_grantees:
                    continue
                shared = _shared_operation(mine.rule, other.rule)
                if shared is None:
                    continue
                examples = [example_request(target, {**r.rule, "to": [{"operation": shared}]})
                            for r in (mine, other)]
                if None in examples or any(
                        run.evaluator.evaluate(e).decision != "ALLOW" for e in examples if e):
                    continue
                reported.add(key)
                example = examples[0]
                assert example is not None
                yield self._detection(OVERLAPPING_GRANTS, mine, other, example, target)
                break

    def _detection(self, code: str, mine: RuleRef, other: RuleRef, example: Request,
                   target: Target) -> Detection:
        return Detection(code, mine.policy.resource, join_pointer("/spec/rules", mine.index), {
            "other": other.label, "target": target.describe(),
            "example": describe_request(example)})
