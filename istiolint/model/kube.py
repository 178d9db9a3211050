"""Kubernetes objects the mesh model needs: namespaces, workloads (pod templates) and Services."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from istiolint.resources import Resource

DEFAULT_NAMESPACE = "default"


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[Any]:
    """A manifest value that should be a list, as one: anything else reads as no elements."""
    return value if isinstance(value, list) else []


def string_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _map(value).items() if v is not None}


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: Mapping[str, str]
    resource: Resource | None = None


@dataclass(frozen=True)
class ContainerPort:
    port: int
    name: str | None


@dataclass(frozen=True)
class Workload:
    """A pod template: what Istio's policy selection and peer identity look at."""

    namespace: str
    name: str
    kind: str
    labels: Mapping[str, str]
    service_account: str
    ports: tuple[ContainerPort, ...]
    resource: Resource | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def principal(self, trust_domain: str = "cluster.local") -> str:
        return f"{trust_domain}/ns/{self.namespace}/sa/{self.service_account}"


@dataclass(frozen=True)
class ServicePort:
    port: int
    target_port: int | str | None
    name: str | None
    protocol: str
    app_protocol: str | None


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    selector: Mapping[str, str]
    ports: tuple[ServicePort, ...]
    resource: Resource | None = None


# kind -> path of the pod template inside the spec
_POD_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "Rollout": ("spec", "template"),
    "Pod": (),
}
WORKLOAD_KINDS = frozenset(_POD_TEMPLATES)
MODEL_KINDS = WORKLOAD_KINDS | {"Namespace", "Service"}

_IDENTITY: dict[str, Any] = {"apiVersion": True, "kind": True, "metadata": True}
_POD_TEMPLATE = {"metadata": {"labels": True},
                 "spec": {"serviceAccountName": True, "serviceAccount": True,
                          "containers": {"name": True, "ports": True}}}


def _nest(path: tuple[str, ...], leaf: dict[str, Any]) -> dict[str, Any]:
    for step in reversed(path):
        leaf = {step: leaf}
    return leaf


def _projection(kind: str) -> dict[str, Any]:
    if kind in ("Namespace", "Service"):
        return {**_IDENTITY, "spec": {"selector": True, "ports": True}}
    path = _POD_TEMPLATES[kind]
    if not path:  # a Pod is its own template
        return {**_IDENTITY, "metadata": True, "spec": _POD_TEMPLATE["spec"]}
    return {**_IDENTITY, **_nest(path, _POD_TEMPLATE)}


# The fields the model reads of each kind: the rest of these documents is never converted.
MODEL_PROJECTIONS: dict[str, dict[str, Any]] = {kind: _projection(kind) for kind in MODEL_KINDS}


def namespace_of(resource: Resource) -> str:
    return resource.ref.namespace or DEFAULT_NAMESPACE


def workload_from(resource: Resource) -> Workload | None:
    path = _POD_TEMPLATES.get(resource.kind)
    if path is None or (resource.kind == "Rollout" and resource.group != "argoproj.io"):
        return None
    template: Any = resource.obj
    for step in path:
        template = _map(template).get(step)
    template = _map(template)
    pod_spec = _map(template.get("spec"))
    ports = tuple(
        ContainerPort(port["containerPort"], _text(port.get("name")))
        for container in listed(pod_spec.get("containers"))
        for port in listed(_map(container).get("ports"))
        if isinstance(port, dict) and isinstance(port.get("containerPort"), int)
    )
    account = pod_spec.get("serviceAccountName") or pod_spec.get("serviceAccount") or "default"
    return Workload(namespace_of(resource), resource.ref.name, resource.kind,
                    string_map(_map(template.get("metadata")).get("labels")), str(account),
                    ports, resource)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def service_from(resource: Resource) -> Service | None:
    if resource.kind != "Service" or resource.group != "":
        return None
    spec = resource.spec
    ports = []
    for port in listed(spec.get("ports")):
        if not isinstance(port, dict) or not isinstance(port.get("port"), int):
            continue
        target = port.get("targetPort")
        ports.append(ServicePort(
            port["port"], target if isinstance(target, int | str) else None,
            _text(port.get("name")), str(port.get("protocol") or "TCP"),
            _text(port.get("appProtocol"))))
    return Service(namespace_of(resource), resource.ref.name, string_map(spec.get("selector")),
                   tuple(ports), resource)


def namespace_from(resource: Resource) -> Namespace | None:
    if resource.kind != "Namespace" or resource.group != "":
        return None
    return Namespace(resource.ref.name, string_map(resource.metadata.get("labels")), resource)


def kube_objects(resources: list[Resource]) -> Iterator[Namespace | Workload | Service]:
    for resource in resources:
        built = (namespace_from(resource) or workload_from(resource) or service_from(resource))
        if built is not None:
            yield built
