"""Over-broad grants: ALLOW rules that accept any token issuer or any mTLS peer."""

from __future__ import annotations

from collections.abc import Iterator

from istiolint.context import CheckContext
from istiolint.model.security import (
    rule_entries,
    string_values,
)
from istiolint.positions import join_pointer
from istiolint.rules import Detection, builtin_rules

WILDCARD_REQUEST_PRINCIPAL, WILDCARD_PEER = "AP003", "AP004"
_FIELDS = {"requestPrincipals": WILDCARD_REQUEST_PRINCIPAL, "principals": WILDCARD_PEER,
           "namespaces": WILDCARD_PEER}


class WildcardCheck:
    namespace_scoped = True
    rules = builtin_rules(WILDCARD_REQUEST_PRINCIPAL, WILDCARD_PEER)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        root = context.settings.root_namespace
        for policy in context.focused(context.model.authorization_policies):
            resource = policy.resource
            if policy.action != "ALLOW":
                continue
            scope = ("every workload of the mesh" if policy.namespace == root
                     and not policy.selector else
                     f"every workload of namespace {policy.namespace}" if not policy.selector
                     else "the selected workloads")
            for entry in rule_entries(policy):
                for field, code in _FIELDS.items():
                    for k, value in string_values(entry.fields, field):
                        if value == "*":
                            yield Detection(code, resource, join_pointer(entry.pointer, field, k),
                                            {"field": field, "scope": scope})
