"""Envoy's matchers as istiod configures them. Each case names its upstream source and would
fail under the naive reading noted beside it."""

from __future__ import annotations

import pytest

from istiolint.authz import matchers as m


@pytest.mark.parametrize(("pattern", "value", "expected"), [
    # pilot/pkg/security/authz/matcher/string.go StringMatcherWithPrefix
    ("*", "", False),            # naive: '*' accepts anything, even empty
    ("*", "x", True),
    ("*.example.com", "api.example.com", True),
    ("/api/*", "/api/v1", True),
    ("/api/*", "/api", False),   # naive: prefix includes the bare directory
    ("/admin*", "/administrator", True),
    ("/a*b", "/aXb", False),     # naive: interior '*' as a wildcard (it is literal)
    ("/a*b", "/a*b", True),
    ("GET", "get", False),       # naive: methods compared case-insensitively
])
def test_generic_string_match(pattern: str, value: str, expected: bool) -> None:
    assert m.string_match(pattern, value) is expected


@pytest.mark.parametrize(("pattern", "authority", "expected"), [
    # pilot/pkg/security/authz/matcher/header.go HostMatcher: raw :authority, ignore_case
    ("example.com", "example.com", True),
    ("example.com", "example.com:443", False),   # naive: port stripped
    ("example.com", "EXAMPLE.com", True),        # naive: case-sensitive (CVE-2021-39155)
    ("example.com:*", "example.com:8080", True),
    ("*.example.com", "API.Example.com", True),
])
def test_host_match(pattern: str, authority: str, expected: bool) -> None:
    assert m.string_match(pattern, authority, ignore_case=True) is expected


@pytest.mark.parametrize(("pattern", "issuer", "subject", "expected"), [
    # pilot/pkg/security/authz/model/generator.go requestPrincipalGenerator (split at last '/')
    ("https://idp.example.com/realms/a/alice", "https://idp.example.com/realms/a", "alice", True),
    ("https://idp.example.com/*", "https://idp.example.com", "bob", True),
    ("https://idp.example.com/*", "https://idp.example.com", None, False),  # '*' needs sub
    ("*", "issuer", None, False),      # istio/istio#22540: '*' requires a non-empty sub
    ("*", "issuer", "s", True),
    ("issuer-foo/*", "issuer-foo", "x", True),
    ("issuer-foo/*", "issuer-foobar", "x", False),
    ("*@example.com", "any", "alice@example.com", True),  # suffix on sub, not on iss
    ("*/alice", "https://a.example.com", "alice", True),
    ("*.example.com/alice", "https://a.example.com", "alice", True),
    ("plainissuer", "plainissuer", "alice", False),  # no '/': sub must be empty
])
def test_request_principal_match(pattern: str, issuer: str, subject: str | None,
                                 expected: bool) -> None:
    assert m.request_principal_match(pattern, issuer, subject) is expected


def test_request_principal_needs_a_validated_token() -> None:
    assert not m.request_principal_match("*", None, None)


@pytest.mark.parametrize(("pattern", "principal", "expected"), [
    # matcher.StringMatcherWithPrefix(v, "spiffe://") on the peer principal
    ("cluster.local/ns/shop/sa/web", "cluster.local/ns/shop/sa/web", True),
    ("cluster.local/ns/shop/*", "cluster.local/ns/shop/sa/web", True),
    ("*/sa/web", "cluster.local/ns/shop/sa/web", True),
    ("spiffe://cluster.local/ns/shop/sa/web", "cluster.local/ns/shop/sa/web", False),
    ("*", None, False),   # plaintext has no principal
])
def test_principal_match(pattern: str, principal: str | None, expected: bool) -> None:
    assert m.principal_match(pattern, principal) is expected


@pytest.mark.parametrize(("pattern", "principal", "expected"), [
    # generator.go srcNamespaceGenerator: regex .*/ns/<glob>/.*
    ("shop", "cluster.local/ns/shop/sa/web", True),
    ("shop", "cluster.local/ns/shopping/sa/web", False),
    ("shop*", "cluster.local/ns/shopping/sa/web", True),
    ("*", "cluster.local/ns/any/sa/web", True),
    ("shop", None, False),
])
def test_namespace_match(pattern: str, principal: str | None, expected: bool) -> None:
    assert m.namespace_match(pattern, principal) is expected


@pytest.mark.parametrize(("pattern", "principal", "expected"), [
    # generator.go serviceAccountGenerator: a bare account belongs to the POLICY's namespace
    ("web", "cluster.local/ns/policy-ns/sa/web", True),
    ("web", "cluster.local/ns/other/sa/web", False),
    ("shop/web", "cluster.local/ns/shop/sa/web", True),
    ("shop/w.b", "cluster.local/ns/shop/sa/wxb", False),  # CVE-2026-39350: '.' is literal
])
def test_service_account_match(pattern: str, principal: str, expected: bool) -> None:
    assert m.service_account_match(pattern, principal, "policy-ns") is expected


@pytest.mark.parametrize(("raw", "normalized"), [
    # Istio docs reference/config/security/normalization (BASE)
    ("/status?x=1", "/status"),        # naive: query kept
    ("/a/./b/../c", "/a/c"),
    ("/%61dmin", "/admin"),
    ("/a%2Fb", "/a%2Fb"),             # %2F kept encoded without DECODE_AND_MERGE_SLASHES
    ("/a\\b", "/a/b"),
    ("//admin", "//admin"),           # slashes merged only with MERGE_SLASHES
    ("/user/profile#section", "/user/profile"),
])
def test_path_normalization(raw: str, normalized: str) -> None:
    assert m.normalize_path(raw) == normalized


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    # istio/api security/v1beta1/authorization_policy.proto Operation.paths examples
    ("/foo/{*}", "/foo/bar", True),
    ("/foo/{*}", "/foo/bar/baz", False),
    ("/foo/{*}/bar", "/foo/x/bar", True),
    ("/foo/{**}", "/foo/bar/baz", True),
])
def test_path_templates(pattern: str, path: str, expected: bool) -> None:
    assert m.path_match(pattern, path) is expected


@pytest.mark.parametrize(("block", "address", "expected"), [
    ("10.0.0.0/8", "10.1.2.3", True),
    ("10.0.0.1", "10.0.0.1", True),
    ("10.0.0.0/8", "192.168.0.1", False),
    ("2001:db8::/32", "2001:db8::1", True),
])
def test_ip_match(block: str, address: str, expected: bool) -> None:
    assert m.ip_match(block, address) is expected
