"""Values Istio accepts but that can never match a request as written."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from istiolint.context import CheckContext
from istiolint.model.security import rule_entries
from istiolint.positions import join_pointer
from istiolint.resources import Resource
from istiolint.rules import Detection, builtin_rules

BAD_METHOD, BAD_PATH, LITERAL_WILDCARD = "AP005", "AP006", "AP007"
BAD_REQUEST_PRINCIPAL, BAD_PRINCIPAL = "AP008", "AP009"

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
                          "PATCH"})
_REGEX_SYNTAX = re.compile(r"\.\*|\\[dws.]|\[[^\]]*\]|\(|\)|\||\^|\$|\+")
_PRINCIPAL_SHAPE = re.compile(r"^[^/]+/ns/[^/]+/sa/[^/]+$")


def _interior_star(value: str) -> bool:
    return "*" in value.strip("*") or (value.count("*") > 1 and value != "*")


def _method_problem(value: str) -> str | None:
    if value == "*" or value.startswith("*") or value.endswith("*"):
        return None
    if value.upper() in HTTP_METHODS and value != value.upper():
        return (f'"{value}" is compared case-sensitively and Envoy rejects non-upper-case '
                f'methods with 400; write "{value.upper()}"')
    if value not in HTTP_METHODS:
        return f'"{value}" is not an HTTP method'
    return None


def path_problem(value: str) -> str | None:
    if "{*}" in value or "{**}" in value or value == "*":
        return None
    if "?" in value or "#" in value:
        return (f'"{value}" contains a query or fragment, but paths are matched without them '
                "(use a when condition on request.headers for query-based decisions)")
    if not value.startswith(("/", "*")):
        return f'"{value}" does not start with "/": request paths always do'
    if _REGEX_SYNTAX.search(value.strip("*")):
        return (f'"{value}" looks like a regular expression, but paths are matched literally '
                "(exact, prefix \"x*\", suffix \"*x\" or templates {*} and {**})")
    return None


def _request_principal_problem(value: str) -> str | None:
    if value == "*" or "/" in value or value.startswith("*") or value.endswith("*"):
        return None
    return (f'"{value}" has no "/": Istio splits request principals at the last "/" into '
            'issuer and subject, so this matches only tokens without a subject; write '
            f'"{value}/*"')


def _principal_problem(value: str) -> str | None:
    if value.startswith("spiffe://"):
        return (f'"{value}" starts with spiffe://, which Istio adds itself: it compares '
                f'spiffe://{value} and never matches; write "{value.removeprefix("spiffe://")}"')
    if "*" in value or _PRINCIPAL_SHAPE.match(value):
        return None
    return (f'"{value}" is not of the form <trust-domain>/ns/<namespace>/sa/<service-account> '
            "(for example cluster.local/ns/shop/sa/web), so it matches no peer")


_FIELDS: dict[str, tuple[str, Any]] = {
    "methods": (BAD_METHOD, _method_problem), "notMethods": (BAD_METHOD, _method_problem),
    "paths": (BAD_PATH, path_problem), "notPaths": (BAD_PATH, path_problem),
    "requestPrincipals": (BAD_REQUEST_PRINCIPAL, _request_principal_problem),
    "notRequestPrincipals": (BAD_REQUEST_PRINCIPAL, _request_principal_problem),
    "principals": (BAD_PRINCIPAL, _principal_problem),
    "notPrincipals": (BAD_PRINCIPAL, _principal_problem),
}
_WILDCARD_FIELDS = ("hosts", "notHosts", "methods", "notMethods", "paths", "notPaths",
                    "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals")


class NeverMatchingCheck:
    namespace_scoped = True
    rules = builtin_rules(BAD_METHOD, BAD_PATH, LITERAL_WILDCARD, BAD_REQUEST_PRINCIPAL,
                          BAD_PRINCIPAL)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        for policy in context.focused(context.model.authorization_policies):
            resource = policy.resource
            for entry in rule_entries(policy):
                yield from self._entry(resource, entry.pointer, entry.fields, policy.action)

    def _entry(self, resource: Resource, base: str, entry: Mapping[str, Any], action: str
               ) -> Iterator[Detection]:
        effect = ("this DENY rule does not protect what it names" if action == "DENY"
                  else "this rule never grants what it names")
        for field, values in entry.items():
            if not isinstance(values, list):
                continue
            for k, value in enumerate(values):
                if not isinstance(value, str):
                    continue
                if field in _WILDCARD_FIELDS and _interior_star(value) and "{" not in value:
                    yield Detection(LITERAL_WILDCARD, resource, join_pointer(base, field, k), {
                        "field": field, "value": value, "effect": effect})
                    continue
                code, problem_of = _FIELDS.get(field, (None, None))
                problem = problem_of(value) if problem_of else None
                if code and problem:
                    yield Detection(code, resource, join_pointer(base, field, k), {
                        "field": field, "problem": problem, "effect": effect})
