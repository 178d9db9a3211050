"""Kyma APIRules: what api-gateway generates from them that their fields do not say, and what
istiolint could not expand.

The objects an APIRule expands to are linted by every other rule (their findings land on the
APIRule's lines); these rules report only what is specific to the APIRule, and stay silent
where a rule on the generated objects already reports the same value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

# AP006 is the rule on generated paths that KY006 must not repeat
from istiolint.checks.never_matching import path_problem as ap006_path_problem
from istiolint.context import CheckContext
from istiolint.kyma.generated import V1BETA1_VERSION, GeneratedDocument, is_apirule
from istiolint.model.kube import Workload
from istiolint.model.mesh import MeshModel, Target, is_gateway, labels_match
from istiolint.model.security import AuthorizationPolicy
from istiolint.positions import join_pointer
from istiolint.resources import Resource
from istiolint.rules import Detection, builtin_rules
from istiolint.urls import split_url

if TYPE_CHECKING:  # the expansion is imported only when the tree holds APIRules
    from istiolint.kyma import Expansion, Generated

NOT_EXPANDED, AUDIENCES_ALL_REQUIRED, SCOPES_SAME_CLAIM = "KY001", "KY002", "KY003"
BLOCKS_IN_CLUSTER_CALLERS, CORS_WITHOUT_OPTIONS, REGEX_PATH = "KY004", "KY005", "KY006"
DEPRECATED_VERSION, ISSUER_NOT_URL = "KY007", "KY008"

OPTIONS = "OPTIONS"
CATCH_ALL_PATHS = ("/*", "/{**}")
JWT_HANDLER = "jwt"
# regular-expression syntax in a v1beta1 path: a quantified ".", classes, groups, alternation,
# anchors, escapes and quantifiers
REGEX_SYNTAX = re.compile(r"\.[*+?]|[\[\]()|^$\\+?]|\{\d")
MAX_LISTED_CALLERS = 3


@dataclass(frozen=True)
class Node:
    """A value of the APIRule, of any JSON type, and its pointer."""

    value: Any
    pointer: str

    def get(self, key: str) -> Node | None:
        if not isinstance(self.value, Mapping) or self.value.get(key) is None:
            return None
        return Node(self.value[key], join_pointer(self.pointer, key))

    def at(self, *keys: str) -> Node | None:
        node: Node | None = self
        for key in keys:
            node = node.get(key) if node is not None else None
        return node

    def each(self, *keys: str) -> Iterator[Node]:
        """The entries of the list at ``keys`` (none when it is missing or not a list)."""
        node = self.at(*keys)
        values = node.value if node is not None and isinstance(node.value, list) else ()
        for index, value in enumerate(values):
            yield Node(value, join_pointer(node.pointer if node else "", index))

    def each_map(self, *keys: str) -> Iterator[Node]:
        return (entry for entry in self.each(*keys) if isinstance(entry.value, Mapping))

    def string(self, key: str) -> str | None:
        child = self.get(key)
        return child.value if child is not None and isinstance(child.value, str) else None

    def strings(self, key: str) -> list[str]:
        """The distinct strings of the list under ``key``."""
        return list(dict.fromkeys(entry.value for entry in self.each(key)
                                  if isinstance(entry.value, str)))


@dataclass(frozen=True)
class ExpandedApiRule:
    resource: Resource
    expansion: Expansion

    @property
    def root(self) -> Node:
        return Node(self.resource.obj, "")

    @property
    def is_v1beta1(self) -> bool:
        return self.resource.obj.get("apiVersion") == V1BETA1_VERSION


class ApiRuleCheck:
    namespace_scoped = True
    needs_model = True
    rules = builtin_rules(NOT_EXPANDED, AUDIENCES_ALL_REQUIRED, SCOPES_SAME_CLAIM,
                          BLOCKS_IN_CLUSTER_CALLERS, CORS_WITHOUT_OPTIONS, REGEX_PATH,
                          DEPRECATED_VERSION, ISSUER_NOT_URL)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        if not any(is_apirule(resource) for resource in context.resources):
            return
        from istiolint.kyma.derive import expand_all  # noqa: PLC0415

        expanded = [ExpandedApiRule(resource, expansion)
                    for resource, expansion in expand_all(context.resources)]
        for apirule in context.focused(expanded):
            yield from _not_expanded(apirule)
            yield from _deprecated_version(apirule)
            yield from _authorizations(apirule)
            yield from _issuers(apirule)
            yield from _cors_without_options(apirule)
            yield from _regex_paths(apirule)
            yield from _blocked_in_cluster_callers(apirule, context.model)


# --- KY001, KY007 -------------------------------------------------------------------------------

def _not_expanded(apirule: ExpandedApiRule) -> Iterator[Detection]:
    for problem in apirule.expansion.problems:
        yield Detection(NOT_EXPANDED, apirule.resource, problem.pointer,
                        {"problem": problem.message})


def _deprecated_version(apirule: ExpandedApiRule) -> Iterator[Detection]:
    if apirule.is_v1beta1:
        yield Detection(DEPRECATED_VERSION, apirule.resource, "/apiVersion",
                        {"api_version": V1BETA1_VERSION})


# --- the JWT configurations: KY002, KY003, KY008 ------------------------------------------------

def _jwt_configs(apirule: ExpandedApiRule) -> Iterator[Node]:
    """Every ``authentications``/``authorizations`` holder: v2 ``jwt`` and
    ``extAuth.restrictions``, v1beta1 ``jwt`` handler ``config``."""
    for rule in apirule.root.each_map("spec", "rules"):
        if apirule.is_v1beta1:
            configs = [strategy.get("config") for strategy in rule.each_map("accessStrategies")
                       if strategy.string("handler") == JWT_HANDLER]
        else:
            configs = [rule.get("jwt"), rule.at("extAuth", "restrictions")]
        yield from (config for config in configs
                    if config is not None and isinstance(config.value, Mapping))


def _authorizations(apirule: ExpandedApiRule) -> Iterator[Detection]:
    for config in _jwt_configs(apirule):
        for authorization in config.each_map("authorizations"):
            audiences = authorization.strings("audiences")
            if len(audiences) > 1:
                yield Detection(AUDIENCES_ALL_REQUIRED, apirule.resource,
                                join_pointer(authorization.pointer, "audiences"),
                                {"audiences": _quoted(audiences)})
            scopes = authorization.strings("requiredScopes")
            if len(scopes) > 1:
                yield Detection(SCOPES_SAME_CLAIM, apirule.resource,
                                join_pointer(authorization.pointer, "requiredScopes"),
                                {"scopes": _quoted(scopes)})


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f'"{value}"' for value in values)


def _issuers(apirule: ExpandedApiRule) -> Iterator[Detection]:
    """The RA rules check a generated jwtRule's jwksUri (or its issuer, when it has no
    jwksUri and keys come from discovery): those values are theirs."""
    with_jwks_uri, without_jwks_uri = _generated_authentications(apirule.expansion)
    for config in _jwt_configs(apirule):
        for authentication in config.each_map("authentications"):
            pointer = authentication.pointer
            if pointer not in without_jwks_uri:
                yield from _issuer(apirule.resource, authentication)
            if pointer not in with_jwks_uri and pointer not in without_jwks_uri:
                yield from _jwks_uri(apirule.resource, authentication)


def _generated_authentications(expansion: Expansion) -> tuple[set[str], set[str]]:
    """The APIRule pointers of the authentications that a generated RequestAuthentication
    holds: those with a jwksUri, and those without."""
    with_jwks_uri: set[str] = set()
    without_jwks_uri: set[str] = set()
    for generated in _of_kind(expansion, "RequestAuthentication"):
        for rule in Node(generated.obj, "").each_map("spec", "jwtRules"):
            pointer = generated.source_pointer(rule.pointer)
            (with_jwks_uri if "jwksUri" in rule.value else without_jwks_uri).add(pointer)
    return with_jwks_uri, without_jwks_uri


def _issuer(resource: Resource, authentication: Node) -> Iterator[Detection]:
    issuer = authentication.string("issuer")
    if issuer is None:
        return
    parts = split_url(issuer)
    if parts is None or not parts.hostname or parts.scheme not in ("http", "https"):
        problem = ("is not a URL: an OpenID Connect provider's issuer is an https URL, and "
                   f'a token is accepted only when its "iss" claim is exactly "{issuer}"')
    elif parts.scheme == "http":
        problem = ("is an http URL: an OpenID Connect provider's issuer is an https URL, and a "
                   'token is accepted only when its "iss" claim is exactly this value')
    else:
        return
    yield Detection(ISSUER_NOT_URL, resource, join_pointer(authentication.pointer, "issuer"),
                    {"field": "issuer", "value": issuer, "problem": problem})


def _jwks_uri(resource: Resource, authentication: Node) -> Iterator[Detection]:
    jwks_uri = authentication.string("jwksUri")
    parts = split_url(jwks_uri) if jwks_uri is not None else None
    if jwks_uri is None or parts is None or parts.scheme != "http":
        return
    yield Detection(ISSUER_NOT_URL, resource, join_pointer(authentication.pointer, "jwksUri"),
                    {"field": "jwksUri", "value": jwks_uri,
                     "problem": "is fetched over plain http: anyone on the path can substitute "
                                "keys and forge tokens"})


# --- KY005 --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleRoute:
    path: str
    methods: frozenset[str]


def _cors_without_options(apirule: ExpandedApiRule) -> Iterator[Detection]:
    """v2 only: a v1beta1 VirtualService routes every method of a path."""
    cors = apirule.root.at("spec", "corsPolicy")
    if apirule.is_v1beta1 or cors is None or not cors.value:
        return
    routes = _routes(apirule)
    preflight_paths = [route.path for route in routes if OPTIONS in route.methods]
    uncovered = [route.path for route in routes if OPTIONS not in route.methods
                 and not any(_covers(path, route.path) for path in preflight_paths)]
    if uncovered:
        yield Detection(CORS_WITHOUT_OPTIONS, apirule.resource, cors.pointer,
                        {"paths": _quoted(dict.fromkeys(uncovered))})


def _routes(apirule: ExpandedApiRule) -> list[RuleRoute]:
    return [RuleRoute(path, frozenset(rule.strings("methods")))
            for rule in apirule.root.each_map("spec", "rules")
            if (path := rule.string("path")) is not None]


def _covers(pattern: str, path: str) -> bool:
    """Whether a rule on ``pattern`` matches the requests of a rule on ``path`` (a template
    is compared by a sample request of it)."""
    if pattern in CATCH_ALL_PATHS or pattern == path:
        return True
    sample = path.replace("{**}", "a/b").replace("{*}", "a")
    return _template_regex(pattern).fullmatch(sample) is not None


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\*\*\}|\{\*\})", template)
    return re.compile("".join(".*" if part == "{**}" else "[^/]+" if part == "{*}"
                              else re.escape(part) for part in parts))


# --- KY006 --------------------------------------------------------------------------------------

def _regex_paths(apirule: ExpandedApiRule) -> Iterator[Detection]:
    """The paths of the generated policies (v1beta1 copies them from the rules, ``/.*``
    translated); AP006 reports the regex syntax it recognises itself."""
    if not apirule.is_v1beta1:
        return
    for pointer, path in _generated_paths(apirule.expansion).items():
        if REGEX_SYNTAX.search(path) and ap006_path_problem(path) is None:
            yield Detection(REGEX_PATH, apirule.resource, pointer,
                            {"path": path, "reading": _istio_reading(path)})


def _generated_paths(expansion: Expansion) -> dict[str, str]:
    """APIRule pointer -> the path value a generated AuthorizationPolicy holds."""
    paths: dict[str, str] = {}
    for generated in _of_kind(expansion, "AuthorizationPolicy"):
        for pointer, value in _operation_values(generated, "paths"):
            paths.setdefault(generated.source_pointer(pointer), value)
    return paths


def _operation_values(generated: Generated, field: str) -> Iterator[tuple[str, str]]:
    for rule in Node(generated.obj, "").each_map("spec", "rules"):
        for to in rule.each_map("to"):
            for entry in to.each("operation", field):
                if isinstance(entry.value, str):
                    yield entry.pointer, entry.value


def _istio_reading(path: str) -> str:
    if path.endswith("*"):
        return f'the prefix "{path[:-1]}"'
    if path.startswith("*"):
        return f'the suffix "{path[1:]}"'
    return "an exact path"


# --- KY004 --------------------------------------------------------------------------------------

def _blocked_in_cluster_callers(apirule: ExpandedApiRule, model: MeshModel
                                ) -> Iterator[Detection]:
    """Per Service the APIRule exposes, each workload its policies apply to that no ALLOW
    policy opens to callers other than the gateways."""
    own = _own_policies(apirule.resource, model)
    by_service: dict[str, list[AuthorizationPolicy]] = {}
    for generated in _of_kind(apirule.expansion, "AuthorizationPolicy"):
        policy = own.get(_key(generated))
        if policy is not None and policy.action == "ALLOW":
            by_service.setdefault(generated.source_pointer("/spec/selector"), []).append(policy)
    principals = _gateway_principals()
    for pointer, policies in by_service.items():
        admitted = sorted({principals[p] for policy in policies
                           for p in _principals(policy) if p in principals})
        if not admitted:  # v1beta1 jwt rules: any caller with a token
            continue
        for target in _targets(model, policies):
            if not any(_admits_in_cluster_callers(other)
                       for other in model.authorization_policies_for(target)):
                yield Detection(BLOCKS_IN_CLUSTER_CALLERS, apirule.resource, pointer, {
                    "target": target.describe(), "admitted": " and ".join(admitted),
                    "callers": _possible_callers(model, target)})


def _gateway_principals() -> dict[str, str]:
    """The identities api-gateway's ALLOW policies admit besides token holders."""
    from istiolint.kyma.policies import (  # noqa: PLC0415
        INGRESS_GATEWAY_PRINCIPAL,
        OATHKEEPER_PRINCIPAL,
    )

    return {INGRESS_GATEWAY_PRINCIPAL: "the ingress gateway",
            OATHKEEPER_PRINCIPAL: "Ory Oathkeeper"}


def _own_policies(resource: Resource, model: MeshModel) -> dict[str, AuthorizationPolicy]:
    return {policy.key: policy for policy in model.authorization_policies
            if isinstance(policy.resource.document, GeneratedDocument)
            and policy.resource.document.owner is resource}


def _key(generated: Generated) -> str:
    metadata = generated.obj.get("metadata", {})
    return f"{metadata.get('namespace')}/{metadata.get('name')}"


def _targets(model: MeshModel, policies: Sequence[AuthorizationPolicy]) -> list[Target]:
    targets: dict[tuple[str, tuple[tuple[str, str], ...]], Target] = {}
    for policy in policies:
        for target in model.scope_of(policy).targets:
            key = (target.namespace, tuple(sorted(target.labels.items())))
            targets.setdefault(key, target)
    return list(targets.values())


def _sources(policy: AuthorizationPolicy) -> Iterator[Any]:
    """Each rule's sources; a rule without ``from`` has one source that is anyone."""
    for rule in policy.rules or ():
        listed = rule.get("from") if isinstance(rule, Mapping) else None
        if not isinstance(listed, list) or not listed:
            yield {}
            continue
        for entry in listed:
            yield entry.get("source") if isinstance(entry, Mapping) else None


def _principals(policy: AuthorizationPolicy) -> Iterator[str]:
    for source in _sources(policy):
        listed = source.get("principals") if isinstance(source, Mapping) else None
        yield from (p for p in listed if isinstance(p, str)) if isinstance(listed, list) else ()


def _admits_in_cluster_callers(policy: AuthorizationPolicy) -> bool:
    """An enforced ALLOW policy with a source that is not restricted to the gateways'
    identities (a token alone, a namespace, another workload's principal)."""
    if policy.action != "ALLOW" or policy.dry_run:
        return False
    gateways = _gateway_principals()
    for source in _sources(policy):
        listed = source.get("principals") if isinstance(source, Mapping) else None
        if not isinstance(listed, list) or not all(
                isinstance(principal, str) and principal in gateways for principal in listed):
            return True
    return False


def _possible_callers(model: MeshModel, target: Target) -> str:
    """The other workloads of the target's namespace: the callers most likely to exist."""
    others = [w for w in model.workloads.values() if _is_other_workload(w, target)]
    if not others:
        return ""
    listed = ", ".join(f"{w.kind} {w.key}" for w in others[:MAX_LISTED_CALLERS])
    more = f" and {len(others) - MAX_LISTED_CALLERS} more" if len(others) > \
        MAX_LISTED_CALLERS else ""
    return f" (the linted files hold other workloads in namespace {target.namespace}: " \
           f"{listed}{more})"


def _is_other_workload(workload: Workload, target: Target) -> bool:
    if workload.namespace != target.namespace or is_gateway(workload.labels):
        return False
    if target.workload is not None:
        return workload.key != target.workload.key
    return not labels_match(target.labels, workload.labels)


def _of_kind(expansion: Expansion, kind: str) -> Iterator[Generated]:
    return (generated for generated in expansion.generated if generated.obj.get("kind") == kind)
