"""Where a RequestAuthentication's signing keys come from, and whether they can ever load."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Any

from istiolint.context import CheckContext
from istiolint.model.security import SECURITY_GROUP
from istiolint.positions import join_pointer
from istiolint.resources import Resource
from istiolint.rules import Detection, builtin_rules
from istiolint.urls import split_url

KEYS_UNAVAILABLE, KEYS_BY_DISCOVERY, INSECURE_KEYS = "RA001", "RA002", "RA003"
PLACEHOLDER_URL, BLOCKED_KEYS, INTERNAL_KEYS = "RA004", "RA005", "RA006"

_PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")
_RESERVED_TLDS = (".example", ".test", ".invalid", ".localhost")
_TEMPLATE = re.compile(r"\$\{?[A-Za-z_]|\{\{|<[A-Za-z_-]+>|CHANGE_?ME|TODO|REPLACE_?ME", re.I)
_METADATA_HOSTS = ("metadata.google.internal", "metadata", "instance-data")
_CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")


def is_http_url(value: str) -> bool:
    parts = split_url(value)
    return parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)


def placeholder_reason(value: str) -> str | None:
    if _TEMPLATE.search(value):
        return "an unrendered template variable"
    parts = split_url(value)
    host = (parts.hostname or "") if parts else ""
    if host in _PLACEHOLDER_DOMAINS or host.endswith(tuple("." + d for d in
                                                           _PLACEHOLDER_DOMAINS)):
        return f"the documentation domain {host} (RFC 2606)"
    if host == "localhost" or host.endswith(_RESERVED_TLDS):
        return f"the reserved host name {host}"
    return None


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def blocked_reason(host: str) -> str | None:
    address = _address(host)
    if address is not None and address.is_link_local:
        return f"{host} is a link-local address (cloud metadata services live there)"
    if host in _METADATA_HOSTS:
        return f"{host} is a cloud metadata endpoint"
    return None


def internal_reason(host: str) -> str | None:
    address = _address(host)
    if address is not None and (address.is_private or address.is_loopback):
        return f"{host} is a private or loopback address"
    if host.endswith(_CLUSTER_SUFFIXES) or (host and "." not in host):
        return f"{host} is a cluster-internal name"
    return None


class JwtKeySourceCheck:
    per_source = True
    rules = builtin_rules(KEYS_UNAVAILABLE, KEYS_BY_DISCOVERY, INSECURE_KEYS, PLACEHOLDER_URL,
                          BLOCKED_KEYS, INTERNAL_KEYS)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        for resource in context.of_kind(SECURITY_GROUP, "RequestAuthentication"):
            rules = resource.spec.get("jwtRules")
            for index, rule in enumerate(rules if isinstance(rules, list) else []):
                if isinstance(rule, Mapping):
                    yield from self._rule(resource, join_pointer("/spec/jwtRules", index), rule)

    def _rule(self, resource: Resource, pointer: str, rule: Mapping[str, Any]
              ) -> Iterator[Detection]:
        raw_issuer = rule.get("issuer")
        issuer = raw_issuer if isinstance(raw_issuer, str) else ""
        key = "jwksUri" if "jwksUri" in rule else "jwks_uri"
        raw_uri = rule.get(key)
        jwks_uri = raw_uri if isinstance(raw_uri, str) else None
        if rule.get("jwks"):
            return
        if jwks_uri is None:
            if not is_http_url(issuer):
                yield Detection(KEYS_UNAVAILABLE, resource, pointer, {"issuer": issuer})
                return
            discovery = issuer.rstrip("/") + "/.well-known/openid-configuration"
            yield Detection(KEYS_BY_DISCOVERY, resource, pointer,
                            {"issuer": issuer, "discovery": discovery})
            yield from self._url(resource, join_pointer(pointer, "issuer"), issuer, "issuer")
            return
        yield from self._url(resource, join_pointer(pointer, key), jwks_uri, key)

    def _url(self, resource: Resource, pointer: str, url: str, field: str
             ) -> Iterator[Detection]:
        placeholder = placeholder_reason(url)
        if placeholder:
            yield Detection(PLACEHOLDER_URL, resource, pointer,
                            {"field": field, "url": url, "reason": placeholder})
            return
        parts = split_url(url)
        if parts is None:
            return
        if parts.scheme == "http":
            yield Detection(INSECURE_KEYS, resource, pointer, {"field": field, "url": url})
        host = parts.hostname or ""
        blocked = blocked_reason(host)
        if blocked:
            yield Detection(BLOCKED_KEYS, resource, pointer, {"url": url, "reason": blocked})
            return
        internal = internal_reason(host)
        if internal:
            yield Detection(INTERNAL_KEYS, resource, pointer, {"url": url, "reason": internal})
