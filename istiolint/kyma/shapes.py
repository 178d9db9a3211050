"""The parts of an APIRule that v1beta1 and v2 share: the APIRule's own identity, the Service a
rule exposes (whose selector the generated policies take), a rule's path and methods, and the
JWT configuration (authentications and authorizations)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from istiolint.kyma.fields import FieldReader, Sourced, StringList
from istiolint.positions import join_pointer

DEFAULT_NAMESPACE = "default"
APIRULE_NOT_EXPANDED = "the APIRule is not expanded"
RULE_NOT_EXPANDED = "the rule is not expanded"

ServiceSelector = Callable[[str, str], Mapping[str, str] | None]


@dataclass(frozen=True)
class Owner:
    """The APIRule: the generated objects' names and owner labels come from it."""

    name: Sourced[str]
    namespace: Sourced[str]


@dataclass(frozen=True)
class Target:
    """Where a rule's policies go: the Service's namespace, and the Service's selector."""

    namespace: Sourced[str]
    selector: Sourced[dict[str, str]]  # the pointer is the service field the rule uses


@dataclass(frozen=True)
class Route:
    path: Sourced[str]
    methods: StringList


@dataclass(frozen=True)
class Authentication:
    pointer: str
    issuer: Sourced[str]
    jwks_uri: Sourced[str] | None
    from_headers: Sourced[tuple[Sourced[dict[str, str]], ...]] | None
    from_params: StringList | None


@dataclass(frozen=True)
class Authorization:
    index: int  # its position in the APIRule's authorizations list
    pointer: str
    required_scopes: tuple[Sourced[str], ...]
    audiences: tuple[Sourced[str], ...]


@dataclass(frozen=True)
class JwtConfig:
    pointer: str
    authentications: Sourced[tuple[Authentication, ...]]
    # only those that could be read; an unreadable one is left out with its policy, never
    # replaced by the policy of "no authorizations" (that one requires less)
    authorizations: tuple[Authorization, ...]
    authorization_count: int  # how many entries the APIRule lists


def read_owner(reader: FieldReader, apirule: Sourced[Mapping[str, Any]]) -> Owner | None:
    metadata = reader.mapping(apirule, "metadata", APIRULE_NOT_EXPANDED, required=True)
    if metadata is None:
        return None
    name = reader.string(metadata, "name", APIRULE_NOT_EXPANDED, required=True)
    if name is None:
        return None
    if not name.value:
        reader.report(name.pointer, f"metadata.name is empty: {APIRULE_NOT_EXPANDED}")
        return None
    namespace = reader.string(metadata, "namespace", "the APIRule is taken to be in namespace "
                                                     f"{DEFAULT_NAMESPACE}")
    if namespace is None or not namespace.value:
        namespace = Sourced(DEFAULT_NAMESPACE, metadata.pointer)
    return Owner(name, namespace)


def read_target(reader: FieldReader, owner: Owner, spec: Sourced[Mapping[str, Any]],
                rule: Sourced[Mapping[str, Any]], service_selector: ServiceSelector
                ) -> Target | None:
    """The rule's Service (the rule's own, else the spec's), looked up in its namespace: the
    rule's service namespace, else the spec's service namespace, else the APIRule's."""
    rule_service = reader.field(rule, "service", RULE_NOT_EXPANDED)
    spec_service = reader.field(spec, "service", RULE_NOT_EXPANDED)
    chosen = rule_service or spec_service
    if chosen is None:
        reader.report(rule.pointer, "the rule has no service, and neither has spec: api-gateway "
                                    f"requires one; {RULE_NOT_EXPANDED}")
        return None
    service = reader.as_mapping(chosen, RULE_NOT_EXPANDED)
    if service is None:
        return None
    name = reader.string(service, "name", RULE_NOT_EXPANDED, required=True)
    if name is None:
        return None
    namespace = _service_namespace(reader, owner, _mapping_or_none(rule_service),
                                   _mapping_or_none(spec_service))
    selector = service_selector(namespace.value, name.value)
    service_key = f"{namespace.value}/{name.value}"
    if selector is None:
        reader.report(service.pointer, f"Service {service_key} is not in the linted files: its "
                                       "selector decides which workloads the generated policies "
                                       f"select; {RULE_NOT_EXPANDED}")
        return None
    if not selector:
        reader.report(service.pointer, f"Service {service_key} has no selector: api-gateway "
                                       "rejects the APIRule and generates no policies; "
                                       f"{RULE_NOT_EXPANDED}")
        return None
    labels = {str(key): str(value) for key, value in selector.items()}
    return Target(namespace, Sourced(labels, service.pointer))


def _mapping_or_none(value: Sourced[Any] | None) -> Sourced[Mapping[str, Any]] | None:
    if value is None or not isinstance(value.value, Mapping):
        return None
    return Sourced(value.value, value.pointer)


def _service_namespace(reader: FieldReader, owner: Owner,
                       *services: Sourced[Mapping[str, Any]] | None) -> Sourced[str]:
    for service in services:
        if service is None:
            continue
        namespace = reader.string(service, "namespace", "the next namespace in line is used")
        if namespace is not None:
            return namespace if namespace.value else Sourced(DEFAULT_NAMESPACE, namespace.pointer)
    return owner.namespace


def read_route(reader: FieldReader, rule: Sourced[Mapping[str, Any]],
               consequence: str = RULE_NOT_EXPANDED) -> Route | None:
    """The path and methods; an empty list of methods would allow every method, so a rule
    without a usable method is not expanded."""
    path = reader.string(rule, "path", consequence, required=True)
    methods = reader.strings(rule, "methods", consequence, required=True)
    if path is None or methods is None:
        return None
    if not methods.items:
        reader.report(methods.pointer, "the rule has no method (an empty list allows every "
                                       f"method, and the APIRule requires one): {consequence}")
        return None
    return Route(path, methods)


def read_jwt_config(reader: FieldReader, config: Sourced[Mapping[str, Any]]) -> JwtConfig | None:
    """Authentications and authorizations; a configuration without a usable authentication
    would let any caller through the gateway, so its rule is not expanded."""
    entries = reader.sequence(config, "authentications", RULE_NOT_EXPANDED, required=True)
    authentications = tuple(
        authentication for entry in entries or ()
        if (authentication := _read_authentication(reader, entry)) is not None)
    if entries is not None and not authentications:
        reader.report(join_pointer(config.pointer, "authentications"),
                      f"no usable authentication (api-gateway requires one): {RULE_NOT_EXPANDED}")
    if not authentications:
        return None
    listed = reader.sequence(config, "authorizations", "its policy is not expanded") or ()
    authorizations = tuple(authorization for index, entry in enumerate(listed)
                           if (authorization := _read_authorization(reader, index, entry)))
    return JwtConfig(config.pointer,
                     Sourced(authentications, join_pointer(config.pointer, "authentications")),
                     authorizations, len(listed))


def _read_authentication(reader: FieldReader, entry: Sourced[Any]) -> Authentication | None:
    left_out = "this authentication is left out"
    authentication = reader.as_mapping(entry, left_out)
    if authentication is None:
        return None
    issuer = reader.string(authentication, "issuer", left_out, required=True)
    if issuer is None:
        return None
    jwks_uri = reader.string(authentication, "jwksUri",
                             "the generated jwtRule has no jwksUri", required=True)
    return Authentication(entry.pointer, issuer, jwks_uri,
                          _read_from_headers(reader, authentication),
                          reader.strings(authentication, "fromParams",
                                         "the generated jwtRule has no fromParams"))


def _read_from_headers(reader: FieldReader, authentication: Sourced[Mapping[str, Any]]
                       ) -> Sourced[tuple[Sourced[dict[str, str]], ...]] | None:
    left_out = "the header is left out"
    entries = reader.sequence(authentication, "fromHeaders", left_out)
    if entries is None:
        return None
    headers = []
    for entry in entries:
        header = reader.as_mapping(entry, left_out)
        name = None if header is None else reader.string(header, "name", left_out, required=True)
        if header is None or name is None:
            continue
        prefix = reader.string(header, "prefix", "the header is read without a prefix")
        fields = {"name": name.value} | ({"prefix": prefix.value} if prefix and prefix.value
                                         else {})
        headers.append(Sourced(fields, entry.pointer))
    return Sourced(tuple(headers), join_pointer(authentication.pointer, "fromHeaders"))


def _read_authorization(reader: FieldReader, index: int, entry: Sourced[Any]
                        ) -> Authorization | None:
    """Every required scope and audience is a condition: leaving one out would allow more,
    so an authorization with a value that is not a string is not expanded at all."""
    left_out = "the policy of this authorization is not expanded"
    authorization = reader.as_mapping(entry, left_out)
    if authorization is None:
        return None
    scopes = reader.strings(authorization, "requiredScopes", left_out, left_out=left_out)
    audiences = reader.strings(authorization, "audiences", left_out, left_out=left_out)
    if (scopes and not scopes.complete) or (audiences and not audiences.complete):
        return None
    return Authorization(index, entry.pointer, scopes.items if scopes else (),
                         audiences.items if audiences else ())
