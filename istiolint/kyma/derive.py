"""The Istio objects generated from the linted APIRules, as resources that every check and the
simulator see like any other, reported on the APIRule's own lines."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from istiolint.kyma.expand import Expansion, Generated, expand_apirule
from istiolint.kyma.generated import GeneratedDocument, is_apirule
from istiolint.resources import Resource, ResourceRef


def _service_selectors(resources: Iterable[Resource]
                       ) -> Callable[[str, str], Mapping[str, str] | None]:
    selectors: dict[tuple[str, str], Mapping[str, str]] = {}
    for resource in resources:
        if resource.kind == "Service" and resource.group == "":
            selector = resource.spec.get("selector")
            selectors[resource.ref.namespace or "default", resource.ref.name] = \
                {str(k): str(v) for k, v in selector.items()} \
                if isinstance(selector, Mapping) else {}
    return lambda namespace, name: selectors.get((namespace, name))


def _gateway_hosts(resources: Iterable[Resource]) -> Callable[[str, str], Sequence[str] | None]:
    hosts: dict[tuple[str, str], list[str]] = {}
    for resource in resources:
        if resource.kind != "Gateway" or resource.group != "networking.istio.io":
            continue
        found = hosts.setdefault((resource.ref.namespace or "default", resource.ref.name), [])
        servers = resource.spec.get("servers")
        for server in servers if isinstance(servers, list) else ():
            listed = server.get("hosts") if isinstance(server, Mapping) else None
            for host in listed if isinstance(listed, list) else ():
                if isinstance(host, str):
                    found.append(host.rpartition("/")[2])  # "namespace/host" in a Gateway
    return lambda namespace, name: hosts.get((namespace, name))


def expand_all(resources: Sequence[Resource]) -> list[tuple[Resource, Expansion]]:
    """Every APIRule of ``resources`` with what it expands to."""
    rules = [r for r in resources if is_apirule(r)]
    if not rules:
        return []
    selectors, gateways = _service_selectors(resources), _gateway_hosts(resources)
    return [(rule, expand_apirule(rule.obj, service_selector=selectors,
                                  gateway_hosts=gateways)) for rule in rules]


def generated_resources(resources: Sequence[Resource]) -> list[Resource]:
    """The objects api-gateway would generate from the APIRules among ``resources``."""
    out = []
    for owner, expansion in expand_all(resources):
        for generated in expansion.generated:
            out.append(_resource(owner, generated))
    return out


def _resource(owner: Resource, generated: Generated) -> Resource:
    obj: dict[str, Any] = generated.obj
    metadata = obj.get("metadata", {})
    namespace = metadata.get("namespace")
    ref = ResourceRef(str(obj.get("apiVersion")), str(obj.get("kind")),
                      namespace if isinstance(namespace, str) and namespace else None,
                      str(metadata.get("name")))
    return Resource(owner.source, GeneratedDocument(owner, generated), "", obj, ref)
