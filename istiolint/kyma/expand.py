"""Expand a Kyma APIRule into the Istio security objects api-gateway would generate from it.

Pure: the Services and Gateways the expansion needs come from the two callables, and it never
raises, whatever the APIRule holds. It does not re-run api-gateway's validation: an APIRule that
api-gateway would reject is expanded as far as its values allow (other checks report the
rejection), and a rule whose objects cannot be built faithfully is left out with a problem,
never replaced by something that allows more.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from istiolint.kyma.expansion import Expansion, ExpansionProblem, Generated, Origin
from istiolint.kyma.fields import FieldReader, Sourced
from istiolint.kyma.generated import GROUP, V1BETA1_VERSION
from istiolint.kyma.shapes import APIRULE_NOT_EXPANDED, ServiceSelector, read_owner
from istiolint.kyma.v1beta1 import expand_v1beta1
from istiolint.kyma.v2 import GatewayHosts, expand_v2

__all__ = ["Expansion", "ExpansionProblem", "Generated", "Origin", "expand_apirule"]

V2_VERSIONS = (f"{GROUP}/v2", f"{GROUP}/v2alpha1")
# How many generated values (leaves, roughly) one APIRule may expand to: far above any real
# APIRule, low enough that a hostile one (thousands of rules, each excluding the paths of all
# the others) cannot exhaust memory.
MAX_GENERATED_VALUES = 200_000


def expand_apirule(apirule: Mapping[str, Any], *, service_selector: ServiceSelector,
                   gateway_hosts: GatewayHosts) -> Expansion:
    """``service_selector(namespace, name)`` is the Service's ``spec.selector`` (None when the
    Service is unknown); ``gateway_hosts(namespace, name)`` every host of every server of the
    Gateway (None when it is unknown)."""
    reader = FieldReader()
    generated = _within_budget(reader, _expand(reader, apirule, service_selector, gateway_hosts))
    return Expansion(tuple(generated), reader.problems())


def _expand(reader: FieldReader, apirule: Any, service_selector: ServiceSelector,
            gateway_hosts: GatewayHosts) -> Iterator[Generated]:
    root = reader.as_mapping(Sourced(apirule, ""), APIRULE_NOT_EXPANDED)
    if root is None:
        return
    api_version = root.value.get("apiVersion")
    if api_version not in (*V2_VERSIONS, V1BETA1_VERSION):
        reader.report("/apiVersion" if "apiVersion" in root.value else "",
                      f"APIRule API version {api_version!r} is not one of "
                      f"{', '.join((*V2_VERSIONS, V1BETA1_VERSION))}: {APIRULE_NOT_EXPANDED}")
        return
    owner = read_owner(reader, root)
    if owner is None:
        return
    if api_version == V1BETA1_VERSION:
        yield from expand_v1beta1(reader, owner, root, service_selector)
    else:
        yield from expand_v2(reader, owner, root, service_selector, gateway_hosts)


def _within_budget(reader: FieldReader, objects: Iterable[Generated]) -> list[Generated]:
    kept: list[Generated] = []
    size = 0
    for generated in objects:
        size += len(generated.origins)
        if size > MAX_GENERATED_VALUES:
            reader.report("/spec", f"the APIRule expands to more than {MAX_GENERATED_VALUES} "
                                   f"values: only the first {len(kept)} objects are expanded")
            break
        kept.append(generated)
    return kept
