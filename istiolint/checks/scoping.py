"""Where policies apply: selectors and namespaces that match nothing, objects defined twice,
PeerAuthentications that istiod must choose between or ignores, policies that sidecars ignore,
and the reach of allow-nothing, allow-all, mesh-wide and merged policies."""

from __future__ import annotations

import difflib
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from istiolint.context import CheckContext
from istiolint.model.kube import namespace_of, string_map
from istiolint.model.mesh import MeshModel, Target, labels_match
from istiolint.model.security import AuthorizationPolicy, PeerAuthentication, Policy
from istiolint.positions import join_pointer
from istiolint.resources import Resource
from istiolint.rules import Detection, builtin_rules

SELECTOR_MATCHES_NOTHING, UNDEFINED_NAMESPACE, DUPLICATE_OBJECT = "SP001", "SP002", "SP003"
AMBIGUOUS_PEER_AUTHENTICATION, ROOT_SELECTOR_PEER_AUTHENTICATION = "SP004", "SP005"
TARGET_REFS_IGNORED, ALLOW_NOTHING, ALLOW_ALL = "SP006", "SP007", "SP008"
MESH_WIDE_SELECTOR, MERGED_REQUEST_AUTHENTICATIONS = "SP009", "SP010"

# namespaces every cluster has
WELL_KNOWN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
# labels Istio puts on the pods it deploys for a Gateway-API Gateway
GATEWAY_NAME_LABELS = ("gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name")
CLUSTER_SCOPED_KINDS = frozenset({("", "Namespace")})
RULE_KEYS = ("from", "to", "when")
DIGITS = re.compile(r"\d")
SELECTOR_NOTE = " (the manifests hold no workload of the namespace: judged by selectors only)"


@dataclass(frozen=True)
class _Duplicate:
    resource: Resource
    first: Resource


# the labels of the pods the manifests define or imply, by namespace (None: any namespace)
PodLabels = dict[str | None, list[Mapping[str, str]]]


@dataclass
class _Facts:
    model: MeshModel
    pods: PodLabels
    workload_namespaces: set[str]
    copies: set[int]  # id() of the resources that repeat an earlier object

    @property
    def root(self) -> str:
        return self.model.root_namespace

    def judged(self, namespace: str) -> bool:
        """The manifests hold the workloads a policy of ``namespace`` can select."""
        if namespace == self.root:
            return bool(self.workload_namespaces)
        return namespace in self.workload_namespaces

    def selects_pods(self, policy: Policy) -> bool:
        if policy.namespace == self.root:
            candidates = chain.from_iterable(self.pods.values())
        else:
            candidates = chain(self.pods.get(policy.namespace, ()), self.pods.get(None, ()))
        return any(labels_match(policy.selector, labels) for labels in candidates)

    def targets(self, policy: Policy) -> tuple[Target, ...]:
        """The workloads of the policy; a synthetic target (no workload) stands for the pods
        its selector picks when the manifests hold no workload of its namespace."""
        scope = self.model.scope_of(policy)
        if scope.by_selector and self.judged(policy.namespace):
            return ()
        return scope.targets

    def original(self, policy: Policy) -> bool:
        return id(policy.resource) not in self.copies


@dataclass
class _Overlap:
    """Other policies sharing workloads with one policy, and the workloads they share."""

    policy: Policy
    others: dict[str, None] = field(default_factory=dict)
    targets: dict[str, None] = field(default_factory=dict)
    by_selector: bool = False

    def add(self, target: Target, others: Iterable[Policy]) -> None:
        self.targets[_describe(target)] = None
        self.others.update((o.key, None) for o in others if o is not self.policy)
        self.by_selector |= target.workload is None


class ScopeCheck:
    namespace_scoped = True
    needs_model = True
    rules = builtin_rules(
        SELECTOR_MATCHES_NOTHING, UNDEFINED_NAMESPACE, DUPLICATE_OBJECT,
        AMBIGUOUS_PEER_AUTHENTICATION, ROOT_SELECTOR_PEER_AUTHENTICATION, TARGET_REFS_IGNORED,
        ALLOW_NOTHING, ALLOW_ALL, MESH_WIDE_SELECTOR, MERGED_REQUEST_AUTHENTICATIONS)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        model = context.model
        duplicates = _find_duplicates(context.resources)
        facts = _Facts(model, _pods(model, context.resources),
                       {w.namespace for w in model.workloads.values()},
                       {id(d.resource) for d in duplicates})
        yield from (_duplicate(d) for d in duplicates)
        policies: list[Policy] = [*model.authorization_policies,
                                  *model.request_authentications, *model.peer_authentications]
        for policy in context.focused(policies):
            yield from _matches_nothing(facts, policy)
        yield from _undefined_namespaces(model, context)
        yield from _ambiguous_peer_authentications(facts)
        yield from _root_selector_peer_authentications(model)
        for policy in context.focused((*model.authorization_policies,
                                       *model.request_authentications)):
            yield from _target_refs(policy)
            yield from _mesh_wide_selector(model, policy)
        for authorization in context.focused(model.authorization_policies):
            yield from _allow_nothing_or_all(authorization, model.root_namespace)
        yield from _merged_request_authentications(facts)


def _labels(selector: Mapping[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items()))


def _describe(target: Target) -> str:
    if target.workload is None and not target.labels:
        return f"every pod of namespace {target.namespace}"
    return target.describe()


def _named(kind: str, keys: Iterable[str]) -> str:
    names = sorted(keys)
    return f"{kind}{'s' if len(names) > 1 else ''} {', '.join(names)}"


def _selector_pointer(policy: Policy) -> str:
    return "/spec/selector" if policy.selector else "/spec"


def _pods(model: MeshModel, resources: Sequence[Resource]) -> PodLabels:
    pods: PodLabels = defaultdict(list)
    for workload in model.workloads.values():
        pods[workload.namespace].append(workload.labels)
    for resource in resources:
        if resource.kind != "Gateway":
            continue
        if resource.group == GATEWAY_API_GROUP:
            name = resource.ref.name
            pods[namespace_of(resource)].append({label: name for label in GATEWAY_NAME_LABELS})
        elif resource.group == "networking.istio.io":
            selector = string_map(resource.spec.get("selector"))
            if selector:
                pods[None].append(selector)
    return pods


# SP003


def _identity(resource: Resource) -> tuple[str, str, str | None, str]:
    return resource.group, resource.kind, resource.ref.namespace, resource.ref.name


def _same_object(first: Resource, other: Resource) -> bool:
    """Two definitions collide when they are applied together: in one directory, or one in a
    subdirectory of the other's. Sibling trees (clusters/dev and clusters/prod, overlays, the
    steps of a tutorial) usually go to different clusters. Objects without a namespace get one
    where they are applied: only the same directory tells that two land in the same one."""
    first_dir = posixpath.dirname(first.source.path)
    other_dir = posixpath.dirname(other.source.path)
    if first.ref.namespace is None and (first.group, first.kind) not in CLUSTER_SCOPED_KINDS:
        return first_dir == other_dir
    inside = (first_dir, other_dir) if len(first_dir) <= len(other_dir) else (other_dir, first_dir)
    return inside[0] == inside[1] or inside[0] in ("", ".") or \
        inside[1].startswith(inside[0].rstrip("/") + "/")


def _find_duplicates(resources: Iterable[Resource]) -> list[_Duplicate]:
    """Every definition of an object after its first one (generated names are unique)."""
    seen: dict[tuple[str, str, str | None, str], list[Resource]] = defaultdict(list)
    found = []
    for resource in resources:
        if resource.ref.name.endswith("*"):
            continue
        earlier = seen[_identity(resource)]
        first = next((r for r in earlier if _same_object(r, resource)), None)
        if first is None:
            earlier.append(resource)
        else:
            found.append(_Duplicate(resource, first))
    return found


def _duplicate(duplicate: _Duplicate) -> Detection:
    resource, first = duplicate.resource, duplicate.first
    return Detection(DUPLICATE_OBJECT, resource, "/metadata/name", {
        "kind": resource.kind, "object": first.ref.name if first.ref.namespace is None
        else f"{first.ref.namespace}/{first.ref.name}",
        "path": first.location().path, "line": first.location().position.line})


# SP001


def _matches_nothing(facts: _Facts, policy: Policy) -> Iterator[Detection]:
    if not policy.selector or policy.has_target_refs or not facts.judged(policy.namespace):
        return
    root = facts.root
    if isinstance(policy, PeerAuthentication) and policy.namespace == root:
        return
    if facts.selects_pods(policy):
        return
    where = "of any namespace" if policy.namespace == root else \
        f"of namespace {policy.namespace}"
    yield Detection(SELECTOR_MATCHES_NOTHING, policy.resource, "/spec/selector", {
        "labels": _labels(policy.selector), "where": where, "kind": policy.resource.kind})


# SP002


def _source_namespaces(policy: AuthorizationPolicy) -> Iterator[tuple[str, str, str]]:
    """(pointer, field, value) of every source.namespaces and notNamespaces value."""
    for i, rule in enumerate(policy.rules or ()):
        froms = rule.get("from") if isinstance(rule, dict) else None
        for j, item in enumerate(froms if isinstance(froms, list) else []):
            source = item.get("source") if isinstance(item, dict) else None
            if not isinstance(source, dict):
                continue
            for name in ("namespaces", "notNamespaces"):
                values = source.get(name)
                for k, value in enumerate(values if isinstance(values, list) else []):
                    if isinstance(value, str):
                        pointer = join_pointer("/spec/rules", i, "from", j, "source", name, k)
                        yield pointer, f"source.{name}", value


def _closest(value: str, known: set[str]) -> str | None:
    """A known namespace that ``value`` looks like a misspelling of (letter case, a character
    or two; names that differ only in digits, such as team-1 and team-2, are distinct)."""
    candidates = sorted(known)
    same_case = [n for n in candidates if n.casefold() == value.casefold()]
    if same_case:
        return same_case[0]
    close = [n for n in difflib.get_close_matches(value, candidates, n=3, cutoff=0.8)
             if DIGITS.sub("", n) != DIGITS.sub("", value)]
    return close[0] if close else None


def _undefined_namespaces(model: MeshModel, context: CheckContext) -> Iterator[Detection]:
    """Only misspellings: a namespace merely absent from the manifests is often another
    team's, managed in another repository. Judged against the whole tree's namespaces, also
    when only part of it is loaded (``context.facts``)."""
    facts = context.facts
    namespace_objects = facts.namespace_objects if facts is not None else set(model.namespaces)
    if not namespace_objects:
        return
    known = {*namespace_objects, *WELL_KNOWN_NAMESPACES, model.root_namespace,
             *(facts.namespaces if facts is not None else
               (r.ref.namespace for r in context.resources if r.ref.namespace))}
    for policy in context.focused(model.authorization_policies):
        for pointer, field_name, value in _source_namespaces(policy):
            suggestion = None if "*" in value or value in known else _closest(value, known)
            if suggestion is not None:
                yield Detection(UNDEFINED_NAMESPACE, policy.resource, pointer, {
                    "namespace": value, "field": field_name, "suggestion": suggestion})


# SP004


def _ambiguous_peer_authentications(facts: _Facts) -> Iterator[Detection]:
    root = facts.root
    namespace_wide: dict[str, list[PeerAuthentication]] = defaultdict(list)
    selecting: dict[str, list[PeerAuthentication]] = defaultdict(list)
    for policy in facts.model.peer_authentications:
        if not facts.original(policy):
            continue
        if not policy.selector:
            namespace_wide[policy.namespace].append(policy)
        elif policy.namespace != root:
            selecting[policy.namespace].append(policy)
    for namespace, group in namespace_wide.items():
        where = (f"the whole mesh (no selector in the root namespace {root})"
                 if namespace == root else f"namespace {namespace} (no selector)")
        for policy in group if len(group) > 1 else ():
            others = (p.key for p in group if p is not policy)
            yield Detection(AMBIGUOUS_PEER_AUTHENTICATION, policy.resource, "/spec", {
                "others": _named("PeerAuthentication", others), "where": where, "note": ""})
    for group in selecting.values():
        for overlap in _overlaps(facts, group):
            yield Detection(AMBIGUOUS_PEER_AUTHENTICATION, overlap.policy.resource,
                            "/spec/selector", {
                                "others": _named("PeerAuthentication", overlap.others),
                                "where": ", ".join(overlap.targets),
                                "note": SELECTOR_NOTE if overlap.by_selector else ""})


def _overlaps(facts: _Facts, group: Sequence[PeerAuthentication]) -> list[_Overlap]:
    """Policies of one namespace whose selectors match a common workload."""
    found: dict[int, _Overlap] = {}
    for policy in group:
        for target in facts.targets(policy):
            matched = [p for p in group if labels_match(p.selector, target.labels)]
            for other in matched if len(matched) > 1 else ():
                found.setdefault(id(other), _Overlap(other)).add(target, matched)
    return list(found.values())


# SP005


def _root_selector_peer_authentications(model: MeshModel) -> Iterator[Detection]:
    for policy in model.peer_authentications:
        if policy.selector and policy.namespace == model.root_namespace:
            yield Detection(ROOT_SELECTOR_PEER_AUTHENTICATION, policy.resource,
                            "/spec/selector", {"root": model.root_namespace})


# SP006


def _describe_refs(refs: Sequence[Any]) -> str:
    described = [f"{ref.get('kind', '?')} {ref.get('name', '?')}"
                 for ref in refs if isinstance(ref, dict)]
    return ", ".join(described) or "its targets"


def _target_refs(policy: Policy) -> Iterator[Detection]:
    if not policy.has_target_refs:
        return
    spec = policy.resource.spec
    refs = spec.get("targetRefs")
    field_name = "targetRefs" if isinstance(refs, list) and refs else "targetRef"
    described = _describe_refs(spec[field_name] if field_name == "targetRefs"
                               else [spec[field_name]])
    yield Detection(TARGET_REFS_IGNORED, policy.resource, f"/spec/{field_name}", {
        "kind": policy.resource.kind, "field": field_name, "targets": described})


# SP007, SP008


def _scope(policy: AuthorizationPolicy, root: str) -> str:
    if policy.has_target_refs:
        return "the waypoints and gateways its targetRefs name"
    if not policy.selector:
        return ("every workload of the mesh (mesh-wide)" if policy.namespace == root
                else f"every workload of namespace {policy.namespace}")
    where = "every namespace" if policy.namespace == root else f"namespace {policy.namespace}"
    return f"the workloads labelled {_labels(policy.selector)} in {where}"


def _is_empty_rule(rule: Any) -> bool:
    return isinstance(rule, dict) and set(rule) <= set(RULE_KEYS) \
        and not any(rule.get(key) for key in RULE_KEYS)


def _allow_nothing_or_all(policy: AuthorizationPolicy, root: str) -> Iterator[Detection]:
    if policy.action != "ALLOW" or policy.dry_run:
        return
    raw_rules = policy.resource.spec.get("rules")
    if raw_rules is None or raw_rules == []:
        yield Detection(ALLOW_NOTHING, policy.resource, "/spec/rules",
                        {"scope": _scope(policy, root)})
        return
    for index, rule in enumerate(policy.rules or ()):
        if _is_empty_rule(rule):
            yield Detection(ALLOW_ALL, policy.resource, join_pointer("/spec/rules", index),
                            {"index": index, "scope": _scope(policy, root)})


# SP009


def _mesh_wide_selector(model: MeshModel, policy: Policy) -> Iterator[Detection]:
    root = model.root_namespace
    if policy.namespace != root or not policy.selector or policy.has_target_refs:
        return
    elsewhere = sorted(f"{w.kind} {w.key}" for w in model.workloads.values()
                       if w.namespace != root and labels_match(policy.selector, w.labels))
    matched = f"; in the manifests it selects {', '.join(elsewhere)}" if elsewhere else ""
    yield Detection(MESH_WIDE_SELECTOR, policy.resource, "/spec/selector", {
        "kind": policy.resource.kind, "root": root, "labels": _labels(policy.selector),
        "matched": matched})


# SP010


def _merged_request_authentications(facts: _Facts) -> Iterator[Detection]:
    root = facts.root
    authentications = [a for a in facts.model.request_authentications
                       if not a.has_target_refs and facts.original(a)]
    rank = {id(a): (a.namespace != root, bool(a.selector), i)
            for i, a in enumerate(authentications)}
    targets = {_describe(t): t for a in authentications for t in facts.targets(a)}
    merged: dict[int, _Overlap] = {}
    for target in targets.values():
        applying = sorted((a for a in facts.model.request_authentications_for(target)
                           if id(a) in rank), key=lambda a: rank[id(a)])
        for extra in applying[1:]:
            merged.setdefault(id(extra), _Overlap(extra)).add(target, applying)
    for overlap in merged.values():
        policy = overlap.policy
        yield Detection(MERGED_REQUEST_AUTHENTICATIONS, policy.resource,
                        _selector_pointer(policy), {
                            "others": _named("RequestAuthentication", overlap.others),
                            "targets": ", ".join(overlap.targets),
                            "note": SELECTOR_NOTE if overlap.by_selector else ""})


CHECKS = [ScopeCheck()]
