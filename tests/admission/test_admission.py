"""Unit tests of the re-implemented Istio admission checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from istiolint.admission import AdmissionProblem, validate
from istiolint.admission.jwks import JSONSyntaxError, check_json_syntax, parse_jwks
from istiolint.admission.urls import jwks_uri_error

# --------------------------------------------------------------------------------------------
# helpers


def manifest(kind: str, spec: Any, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": kind,
        "metadata": {"name": "policy", "namespace": "ns", **metadata},
        "spec": spec,
    }


def ap(spec: Any, **metadata: Any) -> dict[str, Any]:
    return manifest("AuthorizationPolicy", spec, **metadata)


def ra(spec: Any, **metadata: Any) -> dict[str, Any]:
    return manifest("RequestAuthentication", spec, **metadata)


def pa(spec: Any, **metadata: Any) -> dict[str, Any]:
    return manifest("PeerAuthentication", spec, **metadata)


def errors(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(p.pointer, p.message) for p in validate(obj) if p.severity == "error"]


def warnings(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(p.pointer, p.message) for p in validate(obj) if p.severity == "warning"]


def resolve(document: Any, pointer: str) -> Any:
    """Follow an RFC 6901 pointer; raises LookupError if it does not lead anywhere."""
    if pointer == "":
        return document
    assert pointer.startswith("/")
    node = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping):
            for key in node:
                if (
                    str(key).lower() == token.lower()
                    if isinstance(key, bool)
                    else str(key) == token
                ):
                    node = node[key]
                    break
            else:
                raise LookupError(pointer)
        elif isinstance(node, list):
            node = node[int(token)]
        else:
            raise LookupError(pointer)
    return node


DENY_TCP = (
    "configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to "
    "the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify "
    "the port"
)

# --------------------------------------------------------------------------------------------
# dispatch


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"apiVersion": "v1", "kind": "ConfigMap"},
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "AuthorizationPolicy",
            "spec": {"action": "DENY"},
        },
        {"apiVersion": "security.istio.io/v1", "kind": "Sidecar", "spec": {}},
        {
            "apiVersion": "security.istio.io",
            "kind": "AuthorizationPolicy",
            "spec": {"action": "DENY"},
        },
        {"apiVersion": 1, "kind": "AuthorizationPolicy"},
    ],
)
def test_unknown_kinds_give_nothing(obj: dict[str, Any]) -> None:
    assert validate(obj) == []


@pytest.mark.parametrize("version", ["v1", "v1beta1", "v1alpha1"])
def test_any_version_of_the_group_is_checked(version: str) -> None:
    obj = ap({"action": "DENY"})
    obj["apiVersion"] = f"security.istio.io/{version}"
    assert errors(obj)


def test_problem_is_a_frozen_record() -> None:
    problem = validate(ap({"action": "DENY"}))[0]
    assert isinstance(problem, AdmissionProblem)
    with pytest.raises(AttributeError):
        problem.message = "x"  # type: ignore[misc]


def test_missing_or_null_spec_is_empty() -> None:
    for obj in (ap(None), pa(None), ra(None)):
        assert validate(obj) == []
    del_spec = ap({})
    del del_spec["spec"]
    assert validate(del_spec) == []


# --------------------------------------------------------------------------------------------
# metadata / annotations


def test_dry_run_annotation_on_other_kinds() -> None:
    obj = pa({}, annotations={"istio.io/dry-run": "true"})
    assert errors(obj) == [
        (
            "/metadata/annotations/istio.io~1dry-run",
            "ns/policy has unsupported annotation istio.io/dry-run, please remove the annotation",
        )
    ]


def test_dry_run_annotation_value_and_action() -> None:
    bad_value = ap({"action": "DENY", "rules": [{}]}, annotations={"istio.io/dry-run": "yes"})
    assert errors(bad_value) == [
        (
            "/metadata/annotations/istio.io~1dry-run",
            "ns/policy has annotation istio.io/dry-run with invalid value (yes): "
            'strconv.ParseBool: parsing "yes": invalid syntax',
        )
    ]
    for word in ("true", "False", "1", "t", "F"):
        assert errors(ap({}, annotations={"istio.io/dry-run": word})) == []
    custom = ap({"action": "CUSTOM"}, annotations={"istio.io/dry-run": "true"})
    assert errors(custom) == [
        (
            "/metadata/annotations/istio.io~1dry-run",
            "the annotation istio.io/dry-run currently only supports action ALLOW/DENY, "
            "found action CUSTOM in ns/policy",
        )
    ]


def test_annotation_error_stops_validation() -> None:
    # The spec is invalid too, but Istio never looks at it.
    obj = ap({"action": "DENY"}, annotations={"internal.istio.io/parents": "x"})
    assert errors(obj) == [
        (
            "/metadata/annotations/internal.istio.io~1parents",
            '"internal.istio.io/parents" annotation found, this may not be set by users',
        )
    ]
    reject = ra({}, annotations={"internal.istio.io/webhook-always-reject": ""})
    assert errors(reject) == [
        (
            "/metadata/annotations/internal.istio.io~1webhook-always-reject",
            '"internal.istio.io/webhook-always-reject" annotation found, rejecting',
        )
    ]


def test_unknown_top_level_field_only_when_otherwise_valid() -> None:
    obj = ap({})
    obj["extra"] = 1
    assert errors(obj) == [
        ("/extra", 'unknown field "extra" on AuthorizationPolicy resource ns/policy')
    ]
    invalid = ap({"action": "DENY"})
    invalid["extra"] = 1
    assert [pointer for pointer, _ in errors(invalid)] == ["/spec"]


# --------------------------------------------------------------------------------------------
# selector and targetRef


def test_selector_problems_point_at_labels() -> None:
    obj = ap({"selector": {"matchLabels": {"": "v", "app.kubernetes.io/na~me": "x*"}}})
    assert errors(obj) == [
        ("/spec/selector/matchLabels/", 'empty key is not supported in selector: "=v"'),
        (
            "/spec/selector/matchLabels/app.kubernetes.io~1na~0me",
            'wildcard is not supported in selector: "app.kubernetes.io/na~me=x*"',
        ),
    ]


def test_empty_selector_warns() -> None:
    assert warnings(pa({"selector": {}})) == [
        ("/spec/selector", "workload selector specified without labels")
    ]
    assert warnings(ra({"selector": {"matchLabels": {}}})) == [
        ("/spec/selector/matchLabels", "workload selector specified without labels")
    ]
    assert validate(pa({"selector": {"matchLabels": {"app": ""}}})) == []


def test_target_refs() -> None:
    obj = ap(
        {
            "targetRefs": [
                {"kind": "Gateway", "group": "networking.istio.io", "name": "gw"},
                {"kind": "Service", "group": "core", "name": "svc", "namespace": "other"},
                {"kind": "Pod", "group": ""},
                None,
            ]
        }
    )
    allowed = (
        "[core/v1/Service networking.istio.io/v1/ServiceEntry "
        "gateway.networking.k8s.io/v1/Gateway gateway.networking.k8s.io/v1/GatewayClass]"
    )
    assert errors(obj) == [
        (
            "/spec/targetRefs/0/group",
            f"targetRef must be to one of {allowed} but was networking.istio.io/Gateway",
        ),
        (
            "/spec/targetRefs/1/namespace",
            "targetRef namespace must not be set; cross namespace referencing is not supported",
        ),
        ("/spec/targetRefs/2", "targetRef name must be set"),
        ("/spec/targetRefs/2/kind", f"targetRef must be to one of {allowed} but was /Pod"),
    ]


def test_selector_and_target_ref_are_exclusive() -> None:
    obj = ra(
        {"selector": {"matchLabels": {"a": "b"}}, "targetRefs": [{"kind": "Service", "name": "s"}]}
    )
    assert errors(obj) == [("/spec", "only one of targetRefs or workloadSelector can be set")]
    # An empty targetRefs list is unset.
    assert errors(ra({"selector": {"matchLabels": {"a": "b"}}, "targetRefs": []})) == []


# --------------------------------------------------------------------------------------------
# AuthorizationPolicy


def test_rule_level_pointers() -> None:
    obj = ap(
        {
            "rules": [
                None,
                {"from": [None, {}, {"source": None}, {"source": {}}]},
                {"to": [None, {"operation": {}}]},
            ]
        }
    )
    assert errors(obj) == [
        ("/spec/rules/0", "`rule` must not be nil, found at rule 0"),
        ("/spec/rules/1/from/0", "`from` must not be nil, found at rule 1"),
        ("/spec/rules/1/from/1", "`from.source` must not be nil, found at rule 1"),
        ("/spec/rules/1/from/2/source", "`from.source` must not be nil, found at rule 1"),
        ("/spec/rules/1/from/3/source", "`from.source` must not be empty, found at rule 1"),
        ("/spec/rules/2/to/0", "`to` must not be nil, found at rule 2"),
        ("/spec/rules/2/to/1/operation", "`to.operation` must not be empty, found at rule 2"),
    ]


def test_empty_value_reports_first_offender_per_field() -> None:
    obj = ap(
        {"rules": [{"from": [{"source": {"principals": ["a", "", ""], "notNamespaces": [None]}}]}]}
    )
    assert errors(obj) == [
        (
            "/spec/rules/0/from/0/source/principals/1",
            "empty value not allowed, found in Principals",
        ),
        (
            "/spec/rules/0/from/0/source/notNamespaces/0",
            "empty value not allowed, found in NotNamespaces",
        ),
    ]


def test_ip_blocks_each_reported() -> None:
    obj = ap(
        {"rules": [{"from": [{"source": {"ipBlocks": ["1.2.3.4/33", "x", "10.0.0.0/8", "::1"]}}]}]}
    )
    assert errors(obj) == [
        (
            "/spec/rules/0/from/0/source/ipBlocks/0",
            "bad CIDR range (1.2.3.4/33): "
            'netip.ParsePrefix("1.2.3.4/33"): prefix length out of range',
        ),
        ("/spec/rules/0/from/0/source/ipBlocks/1", "bad IP address (x)"),
    ]


def test_ports_and_paths() -> None:
    obj = ap(
        {
            "rules": [
                {
                    "to": [
                        {
                            "operation": {
                                "ports": ["80", "70000", "http"],
                                "notPaths": ["/ok", "/{**}/{*}"],
                            }
                        }
                    ]
                }
            ]
        }
    )
    assert errors(obj) == [
        ("/spec/rules/0/to/0/operation/ports/1", "bad port (70000): <nil>"),
        (
            "/spec/rules/0/to/0/operation/ports/2",
            'bad port (http): strconv.ParseUint: parsing "http": invalid syntax',
        ),
        (
            "/spec/rules/0/to/0/operation/notPaths/1",
            "invalid or unsupported path {**}/{*}, found in NotPaths. "
            "{**} is not the last operator",
        ),
    ]


def test_service_accounts_and_trust_domains() -> None:
    source = {
        "serviceAccounts": ["ns/sa", "a/b/c"],
        "notServiceAccounts": [f"sa{i}" for i in range(17)],
        "trustDomains": ["td/x"],
        "notTrustDomains": ["a*b"],
    }
    assert errors(ap({"rules": [{"from": [{"source": source}]}]})) == [
        (
            "/spec/rules/0/from/0/source/serviceAccounts/1",
            "expected format 'serviceAccount' or 'namespace/serviceAccount', "
            'found "a/b/c" in ServiceAccounts',
        ),
        (
            "/spec/rules/0/from/0/source/trustDomains/0",
            "trust domain must not contain '/', found in TrustDomains: \"td/x\"",
        ),
        ("/spec/rules/0/from/0/source/notServiceAccounts", "may not have more than 16 values"),
        (
            "/spec/rules/0/from/0/source/notTrustDomains/0",
            'wildcard is only allowed at the start or end, found in NotTrustDomains: "a*b"',
        ),
    ]


def test_when_conditions() -> None:
    obj = ap(
        {
            "rules": [
                {
                    "when": [
                        {"key": "source.ip", "values": ["1.2.3.4", "nope"]},
                        {"key": "request.auth.claims.groups", "values": ["g"]},
                        {"key": "request.headers[x-a]"},
                        {"values": ["x"]},
                        None,
                    ]
                }
            ]
        }
    )
    assert errors(obj) == [
        (
            "/spec/rules/0/when/0/values/1",
            "invalid `value` for `key` source.ip: 1 error occurred:\n\t* bad IP address (nope)\n\n",
        ),
        (
            "/spec/rules/0/when/1/key",
            "invalid `value` for `key` request.auth.claims.groups: "
            "bad key (request.auth.claims.groups): should have format a[b]",
        ),
        (
            "/spec/rules/0/when/1/key",
            "invalid `notValue` for `key` request.auth.claims.groups: "
            "bad key (request.auth.claims.groups): should have format a[b]",
        ),
        (
            "/spec/rules/0/when/2",
            "at least one of `values` or `notValues` must be set for key request.headers[x-a]",
        ),
        ("/spec/rules/0/when/3", "`key` must not be empty"),
        ("/spec/rules/0/when/4", "`key` must not be empty"),
    ]


@pytest.mark.parametrize(
    ("key", "values", "valid"),
    [
        ("request.headers[:authority]", ["productpage", ""], False),
        ("request.headers[:authority]", ["productpage"], True),
        ("request.headers[]", ["productpage"], False),
        ("source.ip", ["1.2.3.4", "5.6.7.0/24"], True),
        ("source.ip", ["a.b.c.d"], False),
        ("remote.ip", ["a.b.c.d"], False),
        ("source.namespace", ["value"], True),
        ("source.user", ["value"], False),
        ("source.serviceAccount", ["too/many/slashes"], False),
        ("source.serviceAccount", ["/emptyns"], False),
        ("source.serviceAccount", ["emptysa/"], False),
        ("source.serviceAccount", ["ns/sa"], True),
        ("source.trustDomain", ["foo*"], True),
        ("source.trustDomain", ["fo*-bar"], False),
        ("source.trustDomain", ["td/with/slash"], True),  # the '/' rule is not applied here
        ("request.auth.claims[id]", ["123"], True),
        ("request.auth.claims[]", ["value"], False),
        ("destination.port", ["80", "x"], False),
        ("destination.labels[app]", ["value"], False),
        ("destination.namespace", ["value"], False),
        ("destination.user", ["value"], False),
        ("connection.sni", ["value"], True),
        ("experimental.envoy.filters.a.b[c]", ["value"], True),
        ("experimental.envoy.filters.a.b.x", ["value"], False),
    ],
)
def test_when_keys(key: str, values: list[str], valid: bool) -> None:
    obj = ap({"rules": [{"when": [{"key": key, "values": values}]}]})
    assert (errors(obj) == []) == valid


def test_custom_action() -> None:
    obj = ap(
        {
            "action": "CUSTOM",
            "rules": [
                {
                    "from": [{"source": {"principals": ["p"], "ipBlocks": ["1.2.3.4"]}}],
                    "when": [None, {"key": "request.auth.claims[iss]", "values": ["x"]}],
                }
            ],
        }
    )
    assert errors(obj) == [
        ("/spec", "`provider.name` must not be empty"),
        (
            "/spec/rules/0/from/0/source/principals",
            "From.Principals is currently not supported with CUSTOM action",
        ),
        ("/spec/rules/0/when/0", "when field cannot be nil"),
        (
            "/spec/rules/0/when/1/key",
            "request.auth.claims[iss] is currently not supported with CUSTOM action",
        ),
        ("/spec/rules/0/when/0", "`key` must not be empty"),
    ]
    assert errors(ap({"action": "CUSTOM", "rules": [], "provider": {"name": "ext"}})) == [
        (
            "/spec/rules",
            "CUSTOM action without `rules` is meaningless as it will never be triggered, "
            "add an empty rule `{}` if you want it be triggered for every request",
        )
    ]


def test_provider_requires_custom() -> None:
    assert errors(ap({"action": "AUDIT", "provider": {"name": "x"}})) == [
        ("/spec/provider", "`provider` must not be with non CUSTOM action, found AUDIT")
    ]
    assert errors(ap({"provider": {}})) == [
        ("/spec/provider", "`provider` must not be with non CUSTOM action, found ALLOW")
    ]


@pytest.mark.parametrize(
    ("rule", "warns"),
    [
        ({"from": [{"source": {"requestPrincipals": ["*"]}}]}, True),
        ({"from": [{"source": {"trustDomains": ["td"]}}]}, True),
        ({"from": [{"source": {"principals": ["p"]}}]}, False),
        ({"to": [{"operation": {"methods": ["GET"]}}]}, True),
        ({"to": [{"operation": {"ports": ["80"], "methods": ["GET"]}}]}, False),
        (
            {
                "from": [{"source": {"requestPrincipals": ["*"]}}],
                "to": [{"operation": {"ports": ["8"]}}],
            },
            False,
        ),
        ({"when": [{"key": "request.headers[a]", "values": ["b"]}]}, False),
        ({}, False),
    ],
)
def test_deny_tcp_warning(rule: dict[str, Any], warns: bool) -> None:
    assert (
        warnings(ap({"action": "DENY", "rules": [rule]})) == [("/spec/rules/0", DENY_TCP)]
    ) == warns
    assert warnings(ap({"action": "ALLOW", "rules": [rule]})) == []


# --------------------------------------------------------------------------------------------
# wrongly typed input never causes a problem


@pytest.mark.parametrize(
    "spec",
    [
        {"action": "DENY", "rules": "not a list"},
        {"action": "deny", "rules": []},  # unknown enum value: no action-based check
        {"rules": [{"from": [{"source": {"principals": "p"}}]}]},
        {"rules": [{"to": [{"operation": {"ports": [80]}}]}]},
        {"rules": [{"from": ["x"], "to": [7]}]},
        {
            "rules": [
                {"when": [{"key": 5, "values": ["x"]}, {"key": "source.ip", "values": "1.2.3.4"}]}
            ]
        },
        {"selector": "app=x", "targetRef": {"kind": 1, "name": "x", "namespace": 2}},
        {"selector": {"matchLabels": ["a"]}},
        {"action": "CUSTOM", "rules": [{}], "provider": "ext"},
        {"provider": {"name": 3}, "action": 1},
    ],
)
def test_wrong_types_are_skipped(spec: dict[str, Any]) -> None:
    assert errors(ap(spec)) == []


def test_wrong_types_are_skipped_in_other_kinds() -> None:
    assert (
        errors(ra({"jwtRules": [{"issuer": 1}, "x", {"issuer": "i", "jwksUri": 5, "timeout": 3}]}))
        == []
    )
    assert errors(pa({"portLevelMtls": {"abc": {}, "-1": {}, "8080": {}}, "selector": "x"})) == []


# --------------------------------------------------------------------------------------------
# RequestAuthentication


_RSA_N = (
    "xAE7eB6qugXyCAG3yhh7pkDkT65pHymX-P7KfIupjf59vsdo91bSP9C8H07pSAGQO1MV_xFj9VswgsCg4R6otmg5PV2H"
    "e95lZdHtOcU5DXIg_pbhLdKXbi66GlVeK6ABZOUW3WYtnNHD-91gVuoeJT_DwtGGcp4ignkgXfkiEm4sw-4sfb4qdt5o"
)


def test_jwt_rule_field_checks() -> None:
    rule = {
        "audiences": ["a", ""],
        "fromHeaders": [None, {"name": ""}, {"prefix": "Bearer "}],
        "fromParams": [""],
        "fromCookies": ["c", ""],
        "outputClaimToHeaders": [None, {"claim": "sub"}, {"claim": "sub", "header": "x y"}],
        "timeout": "500us",
    }
    assert errors(ra({"jwtRules": [rule]})) == [
        ("/spec/jwtRules/0/audiences/1", "audience must be non-empty string"),
        ("/spec/jwtRules/0", "issuer or jwksUri must be non-empty string"),
        ("/spec/jwtRules/0/fromHeaders/0", "location header name must be non-null"),
        ("/spec/jwtRules/0/fromHeaders/1/name", "location header name must be non-empty string"),
        ("/spec/jwtRules/0/fromHeaders/2", "location header name must be non-empty string"),
        ("/spec/jwtRules/0/fromParams/0", "location query must be non-empty string"),
        ("/spec/jwtRules/0/fromCookies/1", "cookie name must be non-empty string"),
        ("/spec/jwtRules/0/outputClaimToHeaders/0", "outputClaimToHeaders must not be null"),
        (
            "/spec/jwtRules/0/outputClaimToHeaders/1",
            "outputClaimToHeaders header and claim value must be non-empty string",
        ),
        (
            "/spec/jwtRules/0/outputClaimToHeaders/2/header",
            "header name x y is not a valid header name",
        ),
        ("/spec/jwtRules/0/timeout", "duration must be greater than 1ms"),
    ]


@pytest.mark.parametrize(
    ("timeout", "message"),
    [
        ("1s", None),
        ("1.5s", None),
        ("300ms", None),
        ("1h2m", None),
        ("1ms", None),
        ("1.5ms", "only durations to ms precision are supported"),
        ("999us", "duration must be greater than 1ms"),
        ("0", "duration must be greater than 1ms"),
        ("-5s", "duration must be greater than 1ms"),
        ("banana", None),  # not a duration: the decoder rejects it, reported elsewhere
    ],
)
def test_timeouts(timeout: str, message: str | None) -> None:
    obj = ra({"jwtRules": [{"issuer": "i", "timeout": timeout}]})
    expected = [] if message is None else [("/spec/jwtRules/0/timeout", message)]
    assert errors(obj) == expected


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("https://foo.bar.com", None),
        ("http://foo.bar.com:1234", None),
        ("https://foo.bar.com:1234/secure/key", None),
        ("HTTPS://foo.bar.com/keys?x=1#frag", None),
        ("foo.bar.com", 'URI scheme "" is not supported'),
        ("tcp://foo.bar.com:80", 'URI scheme "tcp" is not supported'),
        (
            "http://foo.bar.com:abc",
            'parse "http://foo.bar.com:abc": invalid port ":abc" after host',
        ),
        (
            "https://foo.com:not-a-number",
            'parse "https://foo.com:not-a-number": invalid port ":not-a-number" after host',
        ),
        ("://x", 'parse "://x": missing protocol scheme'),
        (
            "https://exa mple.com",
            'parse "https://exa mple.com": invalid character " " in host name',
        ),
        ("https://example.com/%zz", 'parse "https://example.com/%zz": invalid URL escape "%zz"'),
        (
            "https://ex\tample.com",
            'parse "https://ex\\tample.com": net/url: invalid control character in URL',
        ),
        ("a:b/c:d", 'URI scheme "a" is not supported'),
        ("https://[::1]:8443/keys", None),
        ("https://[fe80::1%25en0]/keys", None),
        ("https://[1.2.3.4]/", 'parse "https://[1.2.3.4]/": invalid IP-literal'),
        ("https://a[b]/", 'parse "https://a[b]/": invalid IP-literal'),
        ("https://us er@host/", 'parse "https://us er@host/": net/url: invalid userinfo'),
        ("https:example.com", None),  # an opaque URL parses, and its scheme is fine
        (
            "http://h:99999999999999999999/",
            'strconv.Atoi: parsing "99999999999999999999": value out of range',
        ),
        (
            "https://[not-ipv6]/keys",
            'parse "https://[not-ipv6]/keys": '
            'invalid host: ParseAddr("not-ipv6"): unable to parse IP',
        ),
    ],
)
def test_jwks_uri(uri: str, message: str | None) -> None:
    assert jwks_uri_error(uri) == message


def test_jwks_uri_proto_name_is_honoured() -> None:
    assert errors(ra({"jwtRules": [{"jwks_uri": "ftp://x"}]})) == [
        ("/spec/jwtRules/0/jwks_uri", 'URI scheme "ftp" is not supported')
    ]
    # the JSON name wins over the proto name
    assert errors(ra({"jwtRules": [{"jwks_uri": "ftp://x", "jwksUri": "https://x"}]})) == []


def test_jwks_parse_error_and_private_keys() -> None:
    assert errors(ra({"jwtRules": [{"issuer": "i", "jwks": "foo"}]})) == [
        (
            "/spec/jwtRules/0/jwks",
            "jwks parse error: failed to unmarshal JWK set: "
            "invalid character 'o' in literal false (expecting 'a')",
        )
    ]
    public = '{"keys":[{"kty":"RSA","e":"AQAB","n":"' + _RSA_N + '"}]}'
    private = (
        '{"keys":[{"kty":"RSA","e":"AQAB","n":"' + _RSA_N + '","d":"AQAB"},'
        '{"kty":"oct","k":"c2VjcmV0"}]}'
    )
    assert validate(ra({"jwtRules": [{"issuer": "i", "jwks": public}]})) == []
    assert warnings(ra({"jwtRules": [{"issuer": "i", "jwks": private}]})) == [
        (
            "/spec/jwtRules/0/jwks",
            "jwks key at index 0 contains private key material; "
            "only public keys are used for verification",
        ),
        (
            "/spec/jwtRules/0/jwks",
            "jwks key at index 1 contains private key material; "
            "only public keys are used for verification",
        ),
    ]


@pytest.mark.parametrize(
    ("jwks", "error"),
    [
        ('{"keys":[]}', None),
        ('{"kty":"EC","crv":"P-256","x":"AQAB","y":"AQAB"}', None),  # a single key
        ('{"keys":null}', None),
        ('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}', None),
        ("[]", "failed to unmarshal JWK set: expected '{', but got '['"),
        ("42", "failed to unmarshal JWK set: error reading token: EOF"),
        (
            '{"keys":{}}',
            'failed to unmarshal JWK set: failed to decode "keys": '
            "json: cannot unmarshal object into Go value of type []json.RawMessage",
        ),
        (
            '{"keys":[{"kty":"XYZ"}]}',
            'failed to unmarshal JWK set: failed to decode key #0 in "keys": '
            "invalid key type from JSON (XYZ)",
        ),
        (
            '{"keys":[{"kty":"RSA","e":"AQAB"}]}',
            'failed to unmarshal JWK set: failed to decode key #0 in "keys": '
            "failed to unmarshal JSON into key (*jwk.rsaPublicKey): required field n is missing",
        ),
        (
            '{"keys":[{"kty":"RSA","e":"AQAB","n":"!!"}]}',
            'failed to unmarshal JWK set: failed to decode key #0 in "keys": '
            "failed to unmarshal JSON into key (*jwk.rsaPublicKey): "
            "failed to decode value for key n: expected base64 encoded []byte (string)",
        ),
        (
            '{"kid":"a"}',
            "failed to unmarshal JWK set: failed to parse sole key in key set: "
            "invalid key type from JSON ()",
        ),
        (
            '{"keys":[{"kty":"EC","crv":"P-256","x":"AQAB","y":"AQAB","d":"AQAB"}]} x',
            "failed to unmarshal JWK set: invalid character 'x' after top-level value",
        ),
    ],
)
def test_jwks_parsing(jwks: str, error: str | None) -> None:
    assert parse_jwks(jwks)[1] == error


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unexpected end of JSON input"),
        ("{", "unexpected end of JSON input"),
        ('{"a":1,}', "invalid character '}' looking for beginning of object key string"),
        ("[1,]", "invalid character ']' looking for beginning of value"),
        ("tru", "invalid character ' ' in literal true (expecting 'e')"),
        ("01", "invalid character '1' after top-level value"),
        ('{"a" 1}', "invalid character '1' after object key"),
        ('{"a":1 "b":2}', "invalid character '\"' after object key:value pair"),
        ("[1 2]", "invalid character '2' after array element"),
        ('"\\x"', "invalid character 'x' in string escape code"),
        ('"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"),
        ("-", "invalid character ' ' in numeric literal"),
        ("1.e5", "invalid character 'e' after decimal point in numeric literal"),
        ("1e+", "invalid character ' ' in exponent of numeric literal"),
        ("'a'", "invalid character '\\'' looking for beginning of value"),
        ('"a\nb"', "invalid character '\\n' in string literal"),
    ],
)
def test_go_json_syntax_messages(text: str, message: str) -> None:
    with pytest.raises(JSONSyntaxError) as caught:
        check_json_syntax(text)
    assert str(caught.value) == message


def test_valid_json_passes_syntax_check() -> None:
    check_json_syntax(' {"a": [1, -2.5e+3, true, false, null, "\\u00e9\\n", {}], "b": []} ')
    check_json_syntax("[" * 500 + "]" * 500)


# --------------------------------------------------------------------------------------------
# PeerAuthentication


def test_peer_authentication() -> None:
    assert errors(pa({"portLevelMtls": {8080: {"mode": "STRICT"}}})) == [
        ("/spec/portLevelMtls", "mesh/namespace peer authentication cannot have port level mTLS")
    ]
    assert errors(pa({"selector": {"matchLabels": {"app": "a"}}, "portLevelMtls": {}})) == [
        ("/spec/portLevelMtls", "port level mTLS, if defined, must have at least one element")
    ]
    obj = pa(
        {"selector": {"matchLabels": {"app": "a"}}, "portLevelMtls": {"0": {}, 70000: {}, "80": {}}}
    )
    assert errors(obj) == [
        ("/spec/portLevelMtls/0", "port must be in range 1..65535"),
        ("/spec/portLevelMtls/70000", "port must be in range 1..65535"),
    ]


# --------------------------------------------------------------------------------------------
# robustness: random structures anywhere in the spec

_FIELD_NAMES = [
    "action", "provider", "name", "rules", "from", "to", "when", "source", "operation", "key",
    "values", "notValues", "principals", "notPrincipals", "requestPrincipals", "namespaces",
    "ipBlocks", "remoteIpBlocks", "notIpBlocks", "serviceAccounts", "notServiceAccounts",
    "trustDomains", "notTrustDomains", "ports", "notPorts", "methods", "paths", "notPaths",
    "hosts", "selector", "matchLabels", "targetRef", "targetRefs", "group", "kind", "namespace",
    "jwtRules", "issuer", "audiences", "jwksUri", "jwks_uri", "jwks", "fromHeaders", "prefix",
    "fromParams", "fromCookies", "outputClaimToHeaders", "claim", "header", "timeout",
    "portLevelMtls", "mtls", "mode",
]  # fmt: skip

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "", "*", "DENY", "CUSTOM", "AUDIT", "ALLOW", "1.2.3.4", "10.0.0.0/33", "::1", "80",
            "70000", "/{**}/{*}", "source.ip", "request.auth.claims[x]", "ns/sa", "a/b/c",
            "https://x", "x:y", '{"keys":[{"kty":"oct","k":"AA"}]}', "1.5ms", "{", "0",
        ]
    ),
    st.text(max_size=12),
)  # fmt: skip
_KEYS = st.one_of(st.sampled_from(_FIELD_NAMES), st.text(max_size=6), st.integers(0, 70000))

json_like = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(_KEYS, children, max_size=5),
    ),
    max_leaves=40,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    kind=st.sampled_from(["AuthorizationPolicy", "RequestAuthentication", "PeerAuthentication"]),
    spec=json_like,
    annotations=st.one_of(
        st.none(), st.dictionaries(st.sampled_from(["istio.io/dry-run", "a"]), _SCALARS)
    ),
)
def test_validate_never_raises(kind: str, spec: Any, annotations: Any) -> None:
    obj = manifest(kind, spec, annotations=annotations)
    problems = validate(obj)
    for problem in problems:
        assert problem.severity in ("error", "warning")
        assert isinstance(problem.message, str)
        resolve(obj, problem.pointer)  # every pointer leads to a node of the document


@settings(max_examples=200, deadline=None)
@given(
    rule=st.fixed_dictionaries(
        {},
        optional={
            "from": st.lists(st.fixed_dictionaries({}, optional={"source": json_like}), max_size=2),
            "to": st.lists(
                st.fixed_dictionaries({}, optional={"operation": json_like}), max_size=2
            ),
            "when": st.lists(json_like, max_size=2),
        },
    ),
    action=st.sampled_from(["ALLOW", "DENY", "AUDIT", "CUSTOM", None]),
)
def test_validate_never_raises_deep_in_rules(rule: dict[str, Any], action: str | None) -> None:
    obj = ap(
        {
            "action": action,
            "rules": [rule],
            "provider": {"name": "p"} if action == "CUSTOM" else None,
        }
    )
    for problem in validate(obj):
        resolve(obj, problem.pointer)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40))
def test_jwks_and_uri_helpers_never_raise(text: str) -> None:
    parse_jwks(text)
    jwks_uri_error(text)
