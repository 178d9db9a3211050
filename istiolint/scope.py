"""What a focused run (the pre-commit hook) must load of the tree around the files it reports.

A whole-tree check that declares ``namespace_scoped = True`` promises that what it finds about
an object of namespace N depends only on the objects of N and of the root namespace, on the
objects of the namespaces N's objects name, on the objects that name N (in the spec of
an Istio policy, a gateway or an APIRule), and on the
:class:`TreeFacts` of the whole tree. A file's :class:`Footprint` (where its objects live, what
namespaces they name) is small and kept in the results cache, so the hook reads and checks the
few namespaces around the changed files instead of a whole monorepo.

Files that hold objects of the root namespace or classic Gateways (their selectors are judged
against every namespace's policies) are always loaded; everything is loaded when a reported
file holds one, names namespaces by a wildcard, or when the tree holds Kyma APIRules (the
policies generated from them land in the namespace of the Service they name, the root one
included, and take their hosts from a Gateway elsewhere).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from istiolint.kyma.generated import is_apirule
from istiolint.resources import Resource

DEFAULT_NAMESPACE = "default"
CLASSIC_GATEWAY_GROUP = "networking.istio.io"
ANY = "*"
NAMESPACE_KEYS = frozenset({"namespace", "namespaces", "notNamespaces"})
# the objects whose names of other namespaces a check may follow (policies, gateways,
# APIRules): workloads' and Services' specs name none that any check reads
NAMING_GROUP_SUFFIXES = (".istio.io", "gateway.networking.k8s.io", "gateway.kyma-project.io")
_PRINCIPAL_NAMESPACE = re.compile(r"/ns/([^/]*)")
_SERVICE_HOST_NAMESPACE = re.compile(r"[^./]+\.([^./]+)\.svc(?:\.|$|:)")
_QUALIFIED_NAME = re.compile(r"^([^/:\s]+)/[^/]")  # a gateway's "namespace/name"
_MAX_STRINGS = 10_000  # a hostile object cannot make this walk long

Key = TypeVar("Key")


@dataclass(frozen=True)
class Footprint:
    """Where a file's objects live, and the namespaces they name (``*``: any)."""

    namespaces: frozenset[str]
    mentions: frozenset[str]
    wide: bool  # an object of the root namespace, or one whose reach is not a namespace
    namespace_objects: frozenset[str] = frozenset()  # the Namespace objects it holds
    derives: bool = False  # holds objects others are generated from (Kyma APIRules)


@dataclass(frozen=True)
class TreeFacts:
    """What namespace-scoped checks may know of the whole tree beyond the part loaded."""

    namespace_objects: frozenset[str]  # names of the tree's Namespace objects
    namespaces: frozenset[str]  # namespaces the tree's objects are in (as written)


def footprint(resources: Iterable[Resource], root_namespace: str) -> Footprint:
    namespaces: set[str] = set()
    mentions: set[str] = set()
    namespace_objects: set[str] = set()
    wide = derives = False
    for resource in resources:
        if resource.kind == "Namespace" and not resource.group:
            namespaces.add(resource.ref.name)
            namespace_objects.add(resource.ref.name)
            continue
        namespace = resource.ref.namespace or DEFAULT_NAMESPACE
        namespaces.add(namespace)
        wide = wide or namespace == root_namespace or (
            resource.kind == "Gateway" and resource.group == CLASSIC_GATEWAY_GROUP)
        derives = derives or is_apirule(resource)
        if resource.group.endswith(NAMING_GROUP_SUFFIXES):
            mentions.update(_named_namespaces(resource.obj.get("spec")))
    return Footprint(frozenset(namespaces), frozenset(mentions), wide,
                     frozenset(namespace_objects), derives)


def facts_of(footprints: Iterable[Footprint]) -> TreeFacts:
    found = list(footprints)
    return TreeFacts(frozenset(n for f in found for n in f.namespace_objects),
                     frozenset(n for f in found for n in f.namespaces))


def _named_namespaces(spec: Any) -> Iterator[str]:
    for key, text in _strings(spec):
        if key in NAMESPACE_KEYS:
            yield ANY if ANY in text else text
        if "/" not in text and ".svc" not in text:  # what every pattern needs: most strings
            continue
        for pattern in (_PRINCIPAL_NAMESPACE, _SERVICE_HOST_NAMESPACE, _QUALIFIED_NAME):
            for match in pattern.finditer(text):
                yield ANY if ANY in match.group(1) else match.group(1)


def _strings(value: Any) -> Iterator[tuple[str | None, str]]:
    """Every string below ``value``, with the mapping key it sits under."""
    pending: list[tuple[str | None, Any]] = [(None, value)]
    budget = _MAX_STRINGS
    while pending and budget > 0:
        key, item = pending.pop()
        if isinstance(item, str):
            budget -= 1
            yield key, item
        elif isinstance(item, Mapping):
            pending.extend((str(k), v) for k, v in item.items())
        elif isinstance(item, list):
            pending.extend((key, v) for v in item)
    if pending:  # too large to read: it may name anything
        yield None, "/ns/*"


def needed(reported: Sequence[Footprint], others: Mapping[Key, Footprint],
           root_namespace: str) -> set[Key] | None:
    """The other files a focused run must load with the reported ones, or None for all."""
    if any(f.wide or ANY in f.mentions for f in reported) or \
            any(f.derives for f in (*reported, *others.values())):
        return None
    homes = {n for f in reported for n in f.namespaces}
    reach = {*homes, *(n for f in reported for n in f.mentions), root_namespace}
    return {key for key, found in others.items()
            if found.wide or ANY in found.mentions or not found.namespaces.isdisjoint(reach)
            or not found.mentions.isdisjoint(homes)}
