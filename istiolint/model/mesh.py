"""The mesh model: which policies apply to a workload, and how its ports are reached.

Selection follows istiod for sidecars and classic gateways: a policy applies to a workload
when it lives in the root namespace or in the workload's namespace, has no ``targetRef(s)``
(sidecars ignore those), and its selector labels are a subset of the workload's labels (no
selector, or an empty one, selects every workload in scope).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from istiolint.model.kube import Namespace, Service, Workload, kube_objects
from istiolint.model.security import (
    SECURITY_GROUP,
    AuthorizationPolicy,
    PeerAuthentication,
    Policy,
    RequestAuthentication,
    authorization_policy,
    peer_authentication,
    request_authentication,
)
from istiolint.resources import Resource

T = TypeVar("T", AuthorizationPolicy, RequestAuthentication, PeerAuthentication, Service)
HTTP_PROTOCOLS = frozenset({"http", "http2", "grpc", "grpc-web", "h2c"})
# Service port protocols Istio proxies as opaque TCP (tls and https are TLS passthrough)
TCP_PROTOCOLS = frozenset({"tcp", "tls", "https", "mongo", "mysql", "redis"})


GATEWAY_LABELS = ("gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name")


def is_gateway(labels: Mapping[str, str]) -> bool:
    """Gateway pods build listeners from Gateway resources, not from their Service's ports."""
    return labels.get("istio") in ("ingressgateway", "egressgateway") or any(
        key in labels for key in GATEWAY_LABELS)


def labels_match(selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    if selector:
        for key, value in selector.items():
            if labels.get(key) != value:
                return False
    return True


@dataclass(frozen=True)
class Target:
    """Where a request goes: a namespace and pod labels, and the workload when it is known."""

    namespace: str
    labels: Mapping[str, str]
    workload: Workload | None = None

    @property
    def whole_workload(self) -> Workload | None:
        """The workload when the target is all of it (its own labels), so that what is worked
        out for the target holds for the workload; None otherwise."""
        workload = self.workload
        return workload if workload is not None and workload.labels is self.labels else None

    def describe(self) -> str:
        if self.workload is not None:
            return f"{self.workload.kind} {self.workload.key}"
        labels = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        return f"pods {{{labels}}} in namespace {self.namespace}"


@dataclass(frozen=True)
class Scope:
    """The workloads a policy applies to. When the manifests hold none of them, one synthetic
    target stands for "the pods its selector picks" and conclusions rest on selectors only."""

    targets: tuple[Target, ...]
    by_selector: bool

    def describe(self) -> str:
        return ", ".join(t.describe() for t in self.targets)


@dataclass(frozen=True)
class PeerAuthenticationResult:
    mode: str  # STRICT, PERMISSIVE or DISABLE
    decided_by: PeerAuthentication | None
    level: str  # "port", "workload", "namespace", "mesh" or "default"
    ambiguous: tuple[PeerAuthentication, ...] = ()


@dataclass(frozen=True)
class PortProtocol:
    protocol: str  # "http", "tcp" or "auto" (no Service declares it: Istio sniffs)
    services: tuple[str, ...] = ()
    conflicting: bool = False


@dataclass
class MeshModel:
    root_namespace: str = "istio-system"
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    workloads: dict[str, Workload] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    authorization_policies: list[AuthorizationPolicy] = field(default_factory=list)
    request_authentications: list[RequestAuthentication] = field(default_factory=list)
    peer_authentications: list[PeerAuthentication] = field(default_factory=list)
    _by_namespace: dict[tuple[type, str], list[Policy | Service]] = field(
        default_factory=dict, repr=False)
    _workloads_by_namespace: dict[str, list[Workload]] = field(default_factory=dict, repr=False)
    # answers asked again by every check (the model does not change once built), by the id of
    # the policy or workload asked about, kept with it
    _scopes: dict[int, tuple[Policy, Scope]] = field(default_factory=dict, repr=False,
                                                     compare=False)
    _protocols: dict[tuple[int, str, int], tuple[Workload, PortProtocol]] = field(
        default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, resources: Iterable[Resource], root_namespace: str = "istio-system"
              ) -> MeshModel:
        model = cls(root_namespace)
        resources = list(resources)
        for obj in kube_objects(resources):
            if isinstance(obj, Namespace):
                model.namespaces[obj.name] = obj
            elif isinstance(obj, Workload):
                model.workloads.setdefault(obj.key, obj)
            else:
                model.services.append(obj)
        for resource in resources:
            if resource.group != SECURITY_GROUP:
                continue
            if resource.kind == "AuthorizationPolicy":
                model.authorization_policies.append(authorization_policy(resource))
            elif resource.kind == "RequestAuthentication":
                model.request_authentications.append(request_authentication(resource))
            elif resource.kind == "PeerAuthentication":
                model.peer_authentications.append(peer_authentication(resource))
        indexed: list[Policy | Service] = [
            *model.authorization_policies, *model.request_authentications,
            *model.peer_authentications, *model.services]
        for item in indexed:
            model._by_namespace.setdefault((type(item), item.namespace), []).append(item)
        for workload in model.workloads.values():
            model._workloads_by_namespace.setdefault(workload.namespace, []).append(workload)
        return model

    def _in(self, kind: type[T], *namespaces: str) -> list[T]:
        found: list[T] = []
        for namespace in dict.fromkeys(namespaces):
            found += self._by_namespace.get((kind, namespace), [])  # type: ignore[arg-type]
        return found

    def target(self, namespace: str, labels: Mapping[str, str]) -> Target:
        return Target(namespace, dict(labels))

    def workload_target(self, key: str) -> Target | None:
        workload = self.workloads.get(key)
        if workload is None:
            return None
        return Target(workload.namespace, workload.labels, workload)

    def _applies(self, policy: Policy, target: Target) -> bool:
        if policy.has_target_refs:
            return False
        if policy.namespace not in (self.root_namespace, target.namespace):
            return False
        return labels_match(policy.selector, target.labels)

    def scope_of(self, policy: Policy) -> Scope:
        known = self._scopes.get(id(policy))
        if known is not None and known[0] is policy:
            return known[1]
        scope = self._scope_of(policy)
        self._scopes[id(policy)] = (policy, scope)
        return scope

    def _scope_of(self, policy: Policy) -> Scope:
        candidates = self.workloads.values() if policy.namespace == self.root_namespace else \
            self._workloads_by_namespace.get(policy.namespace, [])
        workloads = [w for w in candidates if labels_match(policy.selector, w.labels)]
        if workloads:
            return Scope(tuple(Target(w.namespace, w.labels, w) for w in workloads), False)
        return Scope((Target(policy.namespace, dict(policy.selector or {})),), True)

    def authorization_policies_for(self, target: Target) -> list[AuthorizationPolicy]:
        scope = self._in(AuthorizationPolicy, self.root_namespace, target.namespace)
        return [p for p in scope if self._applies(p, target)]

    def request_authentications_for(self, target: Target) -> list[RequestAuthentication]:
        scope = self._in(RequestAuthentication, self.root_namespace, target.namespace)
        return [p for p in scope if self._applies(p, target)]

    def peer_authentication_for(self, target: Target, port: int | None
                                ) -> PeerAuthenticationResult:
        """Narrowest wins: port > workload > namespace > mesh > PERMISSIVE; UNSET inherits.

        A selector policy in the root namespace is ignored, as istiod does. Several policies at
        one level are ambiguous: istiod keeps the oldest, which a repository cannot tell.
        """
        root = self.root_namespace
        candidates = self._in(PeerAuthentication, root, target.namespace)
        workload_level = [p for p in candidates if p.selector
                          and p.namespace == target.namespace != root
                          and labels_match(p.selector, target.labels)]
        namespace_level = [p for p in candidates if not p.selector
                           and p.namespace == target.namespace != root]
        mesh_level = [p for p in candidates if not p.selector and p.namespace == root]
        result = PeerAuthenticationResult("PERMISSIVE", None, "default")
        for level, candidates in (("mesh", mesh_level), ("namespace", namespace_level),
                                  ("workload", workload_level)):
            if not candidates:
                continue
            chosen = sorted(candidates, key=lambda p: p.name)[0]
            ambiguous = tuple(candidates) if len(candidates) > 1 else ()
            if chosen.mode != "UNSET":
                result = PeerAuthenticationResult(chosen.mode, chosen, level, ambiguous)
            if level == "workload" and port is not None:
                port_mode = chosen.port_modes.get(port, "UNSET")
                if port_mode != "UNSET":
                    result = PeerAuthenticationResult(port_mode, chosen, "port", ambiguous)
        return result

    def services_for(self, target: Target) -> list[Service]:
        return [s for s in self._in(Service, target.namespace)
                if s.selector and labels_match(s.selector, target.labels)]

    def port_protocol(self, target: Target, port: int) -> PortProtocol:
        """The protocol Istio gives the workload port, from the Services that select it.

        A gateway's listeners come from Gateway resources' servers, which the model does not
        read: its ports are left to protocol detection ("auto")."""
        workload = target.whole_workload
        if workload is None:
            return self._port_protocol(target, port)
        key = (id(workload), target.namespace, port)
        known = self._protocols.get(key)
        if known is None or known[0] is not workload:
            known = self._protocols[key] = (workload, self._port_protocol(target, port))
        return known[1]

    def _port_protocol(self, target: Target, port: int) -> PortProtocol:
        if is_gateway(target.labels):
            return PortProtocol("auto")
        found: dict[str, str] = {}
        for service in self.services_for(target):
            for service_port in service.ports:
                if _targets(service_port.target_port, service_port.port, port, target):
                    found[f"{service.namespace}/{service.name}:{service_port.port}"] = \
                        _protocol(service_port.app_protocol, service_port.name,
                                  service_port.protocol)
        protocols = set(found.values())
        if not found:
            return PortProtocol("auto")
        names = tuple(sorted(found))
        if len(protocols) > 1:
            return PortProtocol("auto", names, conflicting=True)
        return PortProtocol(protocols.pop(), names)


def _targets(target_port: int | str | None, service_port: int, port: int, target: Target
             ) -> bool:
    if target_port is None:
        return service_port == port
    if isinstance(target_port, int):
        return target_port == port
    if target.workload is None:
        return False
    return any(p.name == target_port and p.port == port for p in target.workload.ports)


def _protocol(app_protocol: str | None, name: str | None, transport: str) -> str:
    if transport.upper() == "UDP":
        return "udp"
    declared = (app_protocol or (name or "").split("-", 1)[0]).lower()
    if declared in HTTP_PROTOCOLS:
        return "http"
    if declared in TCP_PROTOCOLS:
        return "tcp"
    return "auto"


def sorted_policies(policies: Sequence[AuthorizationPolicy]) -> list[AuthorizationPolicy]:
    return sorted(policies, key=lambda p: (p.namespace, p.name))
