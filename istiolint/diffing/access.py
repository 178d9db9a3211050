"""Access changes: the requests whose outcome differs between two mesh models.

Targets are the workloads both sides hold; in a namespace where neither side holds workloads,
they are the pods the policies' selectors (and pairs of them) pick. A target is evaluated only
when something that decides its requests differs: the policies that apply (by content, not by
name), its effective mTLS modes or its ports' protocols. Its candidate requests
(:mod:`istiolint.diffing.witnesses`) are decided on both sides with the simulator, and the ones
that flip are grouped by what decided them, each group keeping its simplest request as the
witness.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from istiolint.authz.evaluate import Decider, Evaluator, Verdict
from istiolint.authz.request import Request, To
from istiolint.diffing.normalize import normalized_spec
from istiolint.diffing.witnesses import CandidateSpace
from istiolint.model.kube import Service, Workload
from istiolint.model.mesh import MeshModel, Target, labels_match
from istiolint.model.security import (
    AuthorizationPolicy,
    PeerAuthentication,
    Policy,
    RequestAuthentication,
)
from istiolint.parallel import run_split
from istiolint.simulate import policy_json

WIDENED, NARROWED = "widened", "narrowed"
_LEVEL = {"DENY": 0, "UNKNOWN": 1, "ALLOW": 2}
MAX_SELECTOR_TARGETS = 64


@dataclass(frozen=True)
class AccessChange:
    direction: str
    target: To
    target_description: str
    by_selector: bool
    request: Request
    before: Verdict
    after: Verdict
    match: Mapping[str, Any]
    witnesses: int
    via: str | None = None  # the overlay (cluster) whose objects these are, when several


def _fingerprint(policy: Policy) -> str:
    resource = policy.resource
    dry_run = policy.dry_run if isinstance(policy, AuthorizationPolicy) else False
    return json.dumps([resource.kind, policy.namespace, normalized_spec(resource), dry_run],
                      sort_keys=True, default=str)


class _Side:
    def __init__(self, model: MeshModel) -> None:
        self.model = model
        self.evaluator = Evaluator(model)
        self._fingerprints: dict[int, str] = {}

    def fingerprint(self, policy: Policy) -> str:
        found = self._fingerprints.get(id(policy))
        if found is None:
            found = self._fingerprints[id(policy)] = _fingerprint(policy)
        return found

    def target(self, to: To) -> Target:
        if to.workload is not None:
            target = self.model.workload_target(to.workload)
            assert target is not None
            return target
        return self.model.target(to.namespace or "default", to.labels)

    def state(self, target: Target, ports: Sequence[int]) -> tuple[Any, ...]:
        """Everything the decisions for ``target`` depend on."""
        model = self.model
        policies = sorted(self.fingerprint(p) for p in (
            *model.authorization_policies_for(target), *model.request_authentications_for(target)))
        mtls = [(port, model.peer_authentication_for(target, port).mode)
                for port in (None, *ports)]
        protocols = [(port, model.port_protocol(target, port).protocol) for port in ports]
        return tuple(policies), tuple(mtls), tuple(protocols)


def _ports(side: _Side, target: Target) -> list[int]:
    found: dict[int, None] = {}
    if target.workload is not None:
        found.update(dict.fromkeys(p.port for p in target.workload.ports))
    for policy in side.model.peer_authentications:
        if labels_match(policy.selector, target.labels):
            found.update(dict.fromkeys(policy.port_modes))
    return sorted(found)


def _selector_targets(base: MeshModel, head: MeshModel) -> Iterator[To]:
    """Pod label sets worth trying in namespaces where neither side holds workloads."""
    root = base.root_namespace
    with_workloads = {w.namespace for m in (base, head) for w in m.workloads.values()}
    selectors: dict[str, dict[tuple[tuple[str, str], ...], None]] = {}
    policies = [p for m in (base, head) for p in (
        *m.authorization_policies, *m.request_authentications, *m.peer_authentications)]
    namespaces = {p.namespace for p in policies if p.namespace != root} or \
        ({root} if policies else set())
    for namespace in sorted(namespaces - with_workloads):
        found = selectors.setdefault(namespace, {(): None})
        for policy in policies:
            if policy.namespace in (namespace, root) and policy.selector:
                found.setdefault(tuple(sorted(policy.selector.items())))
    for namespace, found in selectors.items():
        label_sets = list(found)
        for first, second in combinations(list(found), 2):
            merged = dict(first)
            if all(merged.get(k, v) == v for k, v in second):
                merged.update(second)
                label_sets.append(tuple(sorted(merged.items())))
        for labels in list(dict.fromkeys(label_sets))[:MAX_SELECTOR_TARGETS]:
            yield To(namespace=namespace, labels=dict(labels))


def _objects_by_namespace(model: MeshModel) -> dict[str, set[int]]:
    """The identities of the objects that decide requests in each namespace."""
    found: dict[str, set[int]] = {}
    items: list[Policy | Service | Workload] = [
        *model.authorization_policies, *model.request_authentications,
        *model.peer_authentications, *model.services, *model.workloads.values()]
    for item in items:
        found.setdefault(item.namespace, set()).add(id(item.resource))
    return found


def _unchanged_namespaces(base: MeshModel, head: MeshModel) -> set[str]:
    """Namespaces whose deciding objects are the very same on both sides (the diff shares an
    unchanged file's objects between them), so that no request there can flip."""
    if base.root_namespace != head.root_namespace:
        return set()
    before, after = _objects_by_namespace(base), _objects_by_namespace(head)
    if before.get(base.root_namespace) != after.get(head.root_namespace):
        return set()
    return {namespace for namespace, ids in before.items() if after.get(namespace) == ids}


def _targets(base: MeshModel, head: MeshModel) -> list[To]:
    unchanged = _unchanged_namespaces(base, head)
    shared = sorted(key for key in set(base.workloads) & set(head.workloads)
                    if base.workloads[key].namespace not in unchanged)
    return [To(workload=key) for key in shared] + list(_selector_targets(base, head))


def _direction(before: Verdict, after: Verdict) -> str | None:
    change = _LEVEL[after.decision] - _LEVEL[before.decision]
    return WIDENED if change > 0 else NARROWED if change < 0 else None


def _rule_of(verdict: Verdict) -> Mapping[str, Any] | None:
    policy = verdict.policy
    if isinstance(policy, AuthorizationPolicy) and verdict.rule is not None and policy.rules:
        rule = policy.rules[verdict.rule]
        return rule if isinstance(rule, Mapping) else None
    return None


def describe_match(request: Request, before: Verdict, after: Verdict) -> dict[str, Any]:
    """The request class in Istio's words: the rule that decided it on the side where one did
    (else the request's own attributes), plus the transport or token when mTLS or JWT
    validation made the difference."""
    match: dict[str, Any] = {}
    for side, verdict in (("after", after), ("before", before)):
        rule = _rule_of(verdict)
        if rule is not None:
            match.update(rule=dict(rule), side=side)
            break
    principal = request.source.principal if request.source else None
    deciders = (before.policy, after.policy)
    if any(isinstance(p, PeerAuthentication) for p in deciders):
        match["mtls"] = "plaintext" if principal is None else "mutual"
        if request.port is not None:
            match["port"] = request.port
    if request.jwt is not None and any(isinstance(p, RequestAuthentication) for p in deciders):
        match["requestPrincipals"] = [f"{request.jwt.issuer}/*"]
        if request.jwt.audiences:
            match["audiences"] = list(request.jwt.audiences)
    if "rule" not in match and len(match) <= 2 and "mtls" not in match and \
            "requestPrincipals" not in match:
        source: dict[str, Any] = {"principals": [principal]} if principal else {}
        if request.jwt is not None:
            source["requestPrincipals"] = [f"{request.jwt.issuer}/{request.jwt.subject or ''}"]
        operation = {"methods": [request.method], "paths": [request.path]}
        match.update(rule={**({"from": [{"source": source}]} if source else {}),
                           "to": [{"operation": operation}]}, side="request")
    return match


def _decider_key(verdict: Verdict) -> str | None:
    decider: Decider | None = verdict.policy
    return f"{decider.resource.kind} {decider.key}" if decider is not None else None


def _changes_for(to: To, base: _Side, head: _Side) -> tuple[list[AccessChange], str | None]:
    base_target, head_target = base.target(to), head.target(to)
    ports = sorted(set(_ports(base, base_target)) | set(_ports(head, head_target)))
    if base.state(base_target, ports) == head.state(head_target, ports):
        return [], None
    space = CandidateSpace(to, base_target.namespace, _host(to, base_target))
    seen: set[int] = set()
    for side, target in ((base, base_target), (head, head_target)):
        for policy in side.model.authorization_policies_for(target):
            if id(policy) not in seen:
                seen.add(id(policy))
                space.policies.append(policy)
        space.authentications.extend(side.model.request_authentications_for(target))
    space.ports = ports
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for request in space.candidates():
        before = base.evaluator.evaluate(request)
        after = head.evaluator.evaluate(request)
        direction = _direction(before, after)
        if direction is None:
            continue
        key = (direction, before.decision, before.status, _decider_key(before), before.rule,
               after.decision, after.status, _decider_key(after), after.rule)
        group = groups.get(key)
        if group is None:
            groups[key] = [request, before, after, 1]
        else:
            group[3] += 1
    description = base_target.describe()
    note = None
    if space.dropped:
        note = (f"{description}: the policies yield more candidate requests than istiolint "
                f"decides per workload; {space.dropped:,} of the least simple were not tried")
    return [AccessChange(key[0], to, description, to.workload is None, request, before, after,
                         describe_match(request, before, after), count)
            for key, (request, before, after, count) in groups.items()], note


def _host(to: To, target: Target) -> str:
    if target.workload is not None:
        return f"{target.workload.name}.{target.namespace}.svc.cluster.local"
    app = target.labels.get("app") or target.labels.get("app.kubernetes.io/name") or "workload"
    return f"{app}.{target.namespace}.svc.cluster.local"


def access_changes(base: MeshModel, head: MeshModel, *, jobs: int = 1
                   ) -> tuple[list[AccessChange], list[str]]:
    """The flips, and notes on what could not be tried in full."""
    base_side, head_side = _Side(base), _Side(head)

    def changes(to: To) -> tuple[list[AccessChange], str | None]:
        return _changes_for(to, base_side, head_side)

    found: list[AccessChange] = []
    notes: list[str] = []
    for per_target, note in run_split(changes, _targets(base, head), jobs):
        found.extend(per_target)
        if note:
            notes.append(note)
    return found, notes


def policies_json(verdict: Verdict) -> dict[str, Any] | None:
    decider = policy_json(verdict)
    return None if decider is None else {**decider, "rule": verdict.rule}
