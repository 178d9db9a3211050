"""DENY rules a request can walk past, and host values that miss requests carrying a port."""

from __future__ import annotations

from collections.abc import Iterator

from istiolint.context import CheckContext
from istiolint.model.security import (
    AuthorizationPolicy,
    rule_conditions,
    rule_entries,
    string_values,
)
from istiolint.positions import join_pointer
from istiolint.rules import Detection, builtin_rules

BYPASSABLE_DENY, HOST_WITHOUT_PORT, HOST_PORT_BYPASS = "AP012", "AP014", "AP015"
OMITTABLE_KEYS = ("request.headers[", "request.auth.")


def _exact_host(value: str) -> bool:
    return "*" not in value and ":" not in value


def _port_variant(host: str, values: list[str]) -> bool:
    lowered = host.lower()
    return any(v.lower().startswith(lowered + ":") for v in values)


class BypassCheck:
    namespace_scoped = True
    rules = builtin_rules(BYPASSABLE_DENY, HOST_WITHOUT_PORT, HOST_PORT_BYPASS)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        for policy in context.focused(context.model.authorization_policies):
            if policy.action not in ("ALLOW", "DENY"):
                continue
            yield from self._hosts(policy)
            if policy.action == "DENY":
                yield from self._omittable(policy)

    def _hosts(self, policy: AuthorizationPolicy) -> Iterator[Detection]:
        for entry in rule_entries(policy):
            for field in ("hosts", "notHosts"):
                values = string_values(entry.fields, field)
                plain = [v for _, v in values]
                for k, value in values:
                    if not _exact_host(value) or _port_variant(value, plain):
                        continue
                    bypass = (policy.action == "DENY") == (field == "hosts")
                    effect = (f'a request with "Host: {value}:80" is not covered, which walks '
                              "past this policy" if bypass else
                              f'a request with "Host: {value}:443" (a port in the authority) '
                              "is not covered and gets 403")
                    yield Detection(HOST_PORT_BYPASS if bypass else HOST_WITHOUT_PORT,
                                    policy.resource, join_pointer(entry.pointer, field, k),
                                    {"field": field, "host": value, "effect": effect})

    def _omittable(self, policy: AuthorizationPolicy) -> Iterator[Detection]:
        for entry in rule_entries(policy):
            for k, value in string_values(entry.fields, "requestPrincipals")[:1]:
                yield Detection(BYPASSABLE_DENY, policy.resource,
                                join_pointer(entry.pointer, "requestPrincipals", k), {
                                    "what": f'requestPrincipals "{value}"',
                                    "bypass": "a request without any token",
                                    "fix": 'DENY notRequestPrincipals naming the issuers you '
                                           'accept, e.g. ["https://issuer.example/*"]'})
            paths = [v for _, v in string_values(entry.fields, "paths")]
            for k, value in string_values(entry.fields, "paths"):
                if value.endswith(("*", "}")) or value + "/*" in paths or value + "*" in paths:
                    continue
                yield Detection(BYPASSABLE_DENY, policy.resource,
                                join_pointer(entry.pointer, "paths", k), {
                                    "what": f'the exact path "{value}"',
                                    "bypass": f'"{value}/" or "{value};x"',
                                    "fix": f'add "{value}/*", or DENY notPaths of what is '
                                           "public"})
        for condition in rule_conditions(policy):
            if condition.key.startswith(OMITTABLE_KEYS) and condition.fields.get("values"):
                yield Detection(BYPASSABLE_DENY, policy.resource,
                                join_pointer(condition.pointer, "values"), {
                                    "what": f"a positive match on {condition.key}",
                                    "bypass": "a request that omits it",
                                    "fix": "notValues of what is allowed"})
