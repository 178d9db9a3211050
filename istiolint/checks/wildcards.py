"""Over-broad grants: ALLOW rules that accept any token issuer or any mTLS peer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from istiolint.context import CheckContext
from istiolint.model.security import SECURITY_GROUP, authorization_policy
from istiolint.positions import join_pointer
from istiolint.rules import Detection, builtin_rules

WILDCARD_REQUEST_PRINCIPAL, WILDCARD_PEER = "AP003", "AP004"
_PEER_FIELDS = ("principals", "namespaces")


class WildcardCheck:
    rules = builtin_rules(WILDCARD_REQUEST_PRINCIPAL, WILDCARD_PEER)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        root = context.settings.root_namespace
        for resource in context.of_kind(SECURITY_GROUP, "AuthorizationPolicy"):
            policy = authorization_policy(resource)
            if policy.action != "ALLOW":
                continue
            scope = ("every workload of the mesh" if policy.namespace == root
                     and not policy.selector else
                     f"every workload of namespace {policy.namespace}" if not policy.selector
                     else "the selected workloads")
            for i, rule in enumerate(policy.rules or ()):
                froms = rule.get("from") if isinstance(rule, Mapping) else None
                for j, item in enumerate(froms if isinstance(froms, list) else []):
                    source = item.get("source") if isinstance(item, Mapping) else None
                    if not isinstance(source, Mapping):
                        continue
                    base = join_pointer("/spec/rules", i, "from", j, "source")
                    values = source.get("requestPrincipals")
                    if isinstance(values, list) and "*" in values:
                        yield Detection(WILDCARD_REQUEST_PRINCIPAL, resource, join_pointer(
                            base, "requestPrincipals", values.index("*")), {"scope": scope})
                    for field in _PEER_FIELDS:
                        values = source.get(field)
                        if isinstance(values, list) and "*" in values:
                            yield Detection(WILDCARD_PEER, resource, join_pointer(
                                base, field, values.index("*")), {"field": field,
                                                                  "scope": scope})
