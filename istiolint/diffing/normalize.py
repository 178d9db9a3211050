"""Objects as the diff compares them: identity without the version, and without what the API
server, kubectl or a GitOps controller adds, with Istio's defaults made explicit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from istiolint.model.kube import MODEL_PROJECTIONS, namespace_of
from istiolint.model.security import SECURITY_GROUP
from istiolint.resources import Resource

SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp",
                   "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
                   "ownerReferences")
TOOL_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",
                    "argocd.argoproj.io/tracking-id", "deployment.kubernetes.io/revision")
TOOL_LABELS = ("argocd.argoproj.io/instance", "kustomize.toolkit.fluxcd.io/name",
               "kustomize.toolkit.fluxcd.io/namespace", "helm.toolkit.fluxcd.io/name",
               "helm.toolkit.fluxcd.io/namespace", "kubernetes.io/metadata.name")
CLUSTER_SCOPED_KINDS = frozenset({"Namespace"})


@dataclass(frozen=True, order=True)
class ObjectKey:
    group: str
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"

    def as_json(self) -> dict[str, str | None]:
        return {"group": self.group, "kind": self.kind, "namespace": self.namespace,
                "name": self.name}


def object_key(resource: Resource) -> ObjectKey:
    namespace = None if resource.kind in CLUSTER_SCOPED_KINDS else namespace_of(resource)
    return ObjectKey(resource.group, resource.kind, namespace, resource.ref.name)


def _unset(value: Any, *, drop_false: bool) -> bool:
    if value is None or (isinstance(value, list | dict) and not value):
        return True
    return drop_false and (value is False or value == "")


def _without_empty(value: Any, *, drop_false: bool) -> Any:
    """Proto3 semantics for Istio specs: an empty or absent field, and a false or zero one, is
    the same as unset."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            kept = _without_empty(item, drop_false=drop_false)
            if not _unset(kept, drop_false=drop_false):
                out[key] = kept
        return out
    if isinstance(value, list):
        return [_without_empty(item, drop_false=drop_false) for item in value]
    return value


def _without_server_defaults(value: Any) -> Any:
    """What the API server fills in: ``protocol: TCP`` on Service and container ports, and a
    pod spec's deprecated ``serviceAccount`` copied from ``serviceAccountName``."""
    if isinstance(value, Mapping):
        is_port = any("port" in key.lower() for key in value)
        return {key: _without_server_defaults(item) for key, item in value.items()
                if not (key == "protocol" and item == "TCP" and is_port)
                and not (key == "serviceAccount" and item == value.get("serviceAccountName"))}
    if isinstance(value, list):
        return [_without_server_defaults(item) for item in value]
    return value


def normalized_spec(resource: Resource, spec: Mapping[str, Any] | None = None) -> Any:
    """The spec (``resource``'s own by default) with the defaults Istio and Kubernetes apply;
    the selector is kept (it decides the scope)."""
    spec = dict(resource.spec if spec is None else spec)
    if resource.group == SECURITY_GROUP:
        if resource.kind == "AuthorizationPolicy":
            spec.setdefault("action", "ALLOW")
        if resource.kind == "PeerAuthentication":
            mtls = spec.get("mtls")
            if isinstance(mtls, Mapping) and mtls.get("mode") == "UNSET":
                spec["mtls"] = {k: v for k, v in mtls.items() if k != "mode"}
        return _without_empty(spec, drop_false=True)
    return _without_empty(_without_server_defaults(spec), drop_false=False)


def _projected(value: Any, projection: Any) -> Any:
    """The fields a projection names (as the loader keeps them of files), so that objects
    read from a ``List`` (a cluster dump) compare with objects read from files."""
    if projection is True or not isinstance(projection, Mapping):
        return value
    if isinstance(value, list):
        return [_projected(item, projection) for item in value]
    if not isinstance(value, Mapping):
        return value
    return {key: _projected(item, projection[key]) for key, item in value.items()
            if projection.get(key, False) is not False}


def normalized_object(resource: Resource) -> dict[str, Any]:
    """What the diff compares: for the Kubernetes kinds the model reads, only what it reads."""
    obj = {key: value for key, value in resource.obj.items() if key != "status"}
    if not resource.is_istio() and resource.kind in MODEL_PROJECTIONS:
        obj = _projected(obj, MODEL_PROJECTIONS[resource.kind])
    metadata = dict(resource.metadata)
    for key in SERVER_METADATA:
        metadata.pop(key, None)
    for field, dropped in (("annotations", TOOL_ANNOTATIONS), ("labels", TOOL_LABELS)):
        values = metadata.get(field)
        if isinstance(values, Mapping):
            kept = {k: v for k, v in values.items() if k not in dropped}
            metadata[field] = kept
    if resource.kind not in CLUSTER_SCOPED_KINDS:
        metadata["namespace"] = namespace_of(resource)
    obj["metadata"] = metadata
    if isinstance(obj.get("spec"), Mapping):
        obj["spec"] = normalized_spec(resource, obj["spec"])
    return _without_empty(obj, drop_false=False)  # type: ignore[no-any-return]
