"""Tests of istiolint.cel: the CEL rules of Istio's CRDs with the API server's semantics."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import celpy
import pytest
import yaml

from istiolint.cel import (
    CANNOT_EVALUATE,
    CelValidator,
    CelViolation,
    observed_fields,
    observes_only_url,
)

UPSTREAM = Path(__file__).parents[2].parent / "shared" / "upstream" / "istio"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PASS = "pass"
FAIL = "fail"

# The rules of the CRDs, by a short name (text exactly as in crd-all.gen.yaml).
SE_CIDR = (
    '!((has(self.addresses) ? self.addresses : []).exists(k, k.contains("/")) && '
    '!((has(self.resolution) ? self.resolution : "NONE") in ["STATIC", "NONE"]))'
)
NO_WILDCARD = '!self.contains("*")'
TAG_REMOVE = '((has(self.operation) ? self.operation : "") == "REMOVE") ? !has(self.value) : true'
TAG_UPSERT = '((has(self.operation) ? self.operation : "") == "UPSERT") ? (self.value != "") : true'
SE_DNS_RR = (
    '((has(self.resolution) ? self.resolution : "") == "DNS_ROUND_ROBIN") ? '
    "((has(self.endpoints) ? self.endpoints : []).size() <= 1) : true"
)
SE_NONE = (
    '((has(self.resolution) ? self.resolution : "NONE") == "NONE") ? !has(self.endpoints) : true'
)
UDS_PORTS = (
    '(has(self.address) ? self.address : "").startsWith("unix://") ? !has(self.ports) : true'
)
CRED_NAME_NAMES = "(has(self.credentialName) ? 1 : 0) + (has(self.credentialNames) ? 1 : 0) <= 1"
CRED_NAMES_CERTS = "(has(self.credentialNames) ? 1 : 0) + (has(self.tlsCertificates) ? 1 : 0) <= 1"
CERTS_CRED_NAMES = "(has(self.tlsCertificates) ? 1 : 0) + (has(self.credentialNames) ? 1 : 0) <= 1"
JWKS = "(has(self.jwksUri) ? 1 : 0) + (has(self.jwks_uri) ? 1 : 0) + (has(self.jwks) ? 1 : 0) <= 1"
SELECTOR_3 = (
    "(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + "
    "(has(self.targetRefs) ? 1 : 0) <= 1"
)
SELECTOR_2 = "(has(self.selector) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1"
SERVICE_ACCOUNTS = (
    "(has(self.serviceAccounts) || has(self.notServiceAccounts)) ? (!has(self.principals) &&\n"
    "!has(self.notPrincipals) && !has(self.namespaces) && !has(self.notNamespaces)) : true"
)
ENV_VALUE_FROM = '(has(self.valueFrom) ? self.valueFrom : "") != "HOST" || !has(self.value)'
SE_SELECTOR_ENDPOINTS = "(has(self.workloadSelector) ? 1 : 0) + (has(self.endpoints) ? 1 : 0) <= 1"
EF_SELECTOR_TARGETS = "(has(self.workloadSelector) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1"
PORT_RANGE = "0 < self && self <= 65535"
DURATION = "duration(self) >= duration('1ms')"
ADDRESS_REQUIRED = "has(self.address) || has(self.network)"
WAYPOINT = (
    'has(self.context) ? ((self.context == "WAYPOINT") ? has(self.waypoint) : '
    "!has(self.waypoint)) : !has(self.waypoint)"
)
PORT_LEVEL_MTLS = (
    "has(self.portLevelMtls) ? (((has(self.selector) && has(self.selector.matchLabels)) ? "
    "self.selector.matchLabels : {}).size() > 0) : true"
)
WASM_XOR_LUA = "has(self.wasm) != has(self.lua)"
WASM_URL_A = (
    'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "file", "oci"]) : '
    '(isURL("http://" + self) &&\nurl("http://" + self).getScheme() in '
    '["", "http", "https", "file", "oci"])'
)
WASM_URL_B = (
    'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "oci", "file"]) : '
    '(isURL("http://" + self) &&\nurl("http://" + self).getScheme() in '
    '["", "http", "https", "oci", "file"])'
)
NOT_WILDCARD_HOST = 'self != "*"'
PROBE_SCHEME = 'self in ["", "HTTP", "HTTPS"]'
KEY_NO_WILDCARD = 'self.all(key, !key.contains("*"))'
PORT_KEYS = "self.all(key, 0 < int(key) && int(key) <= 65535)"
KEY_NOT_EMPTY = "self.all(key, key.size() != 0)"
PORT_NAMES = (
    'self.all(key, size(key) < 63 && key.matches("^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$"))'
)
UNIQUE_PORTS = "self.all(l1, self.exists_one(l2, l1.number == l2.number))"
EMPTY = "self.size() == 0"
UDS_NOT_DIR = 'self.startsWith("unix://") ? !self.endsWith("/") : true'
UDS_ABSOLUTE = (
    'self.startsWith("unix://") ? (self.substring(7, 8) == "/" || '
    'self.substring(7, 8) == "@") : true'
)
JWKS_URI = 'url(self).getScheme() in ["http", "https"]'

OBJECT: dict[str, Any] = {"type": "object"}
STRING_MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
ANY_MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "object"}}
INT_MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "integer"}}
STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
LIST: dict[str, Any] = {"type": "array", "items": {"type": "object"}}

URL_ERROR = "URL parse error during conversion from string: "
INT_ERROR = "type conversion error from 'string' to 'int'"
DURATION_ERROR = "type conversion error from 'string' to 'google.protobuf.Duration'"

# (rule, message, schema, instance, expected): expected is PASS, FAIL, or the runtime error text.
CASES: list[tuple[str, str, dict[str, Any], Any, str]] = [
    (SE_CIDR, "CIDR addresses are allowed only for NONE/STATIC resolution types", OBJECT,
     {"addresses": ["10.0.0.0/8"], "resolution": "STATIC"}, PASS),
    (SE_CIDR, "CIDR addresses are allowed only for NONE/STATIC resolution types", OBJECT,
     {"addresses": ["10.0.0.0/8"]}, PASS),
    (SE_CIDR, "CIDR addresses are allowed only for NONE/STATIC resolution types", OBJECT,
     {"addresses": ["10.0.0.1"], "resolution": "DNS"}, PASS),
    (SE_CIDR, "CIDR addresses are allowed only for NONE/STATIC resolution types", OBJECT,
     {"addresses": ["10.0.0.1", "10.0.0.0/8"], "resolution": "DNS"}, FAIL),
    (NO_WILDCARD, "wildcard is not supported in selector", STRING, "reviews", PASS),
    (NO_WILDCARD, "wildcard is not supported in selector", STRING, "rev*", FAIL),
    (NO_WILDCARD, "wildcard not allowed in label value match", STRING, "v1", PASS),
    (NO_WILDCARD, "wildcard not allowed in label value match", STRING, "*", FAIL),
    (TAG_REMOVE, "value must not be set when operation is REMOVE", OBJECT,
     {"operation": "REMOVE"}, PASS),
    (TAG_REMOVE, "value must not be set when operation is REMOVE", OBJECT,
     {"value": "x"}, PASS),
    (TAG_REMOVE, "value must not be set when operation is REMOVE", OBJECT,
     {"operation": "REMOVE", "value": "x"}, FAIL),
    (TAG_UPSERT, "value must be set when operation is UPSERT", OBJECT,
     {"operation": "UPSERT", "value": "x"}, PASS),
    (TAG_UPSERT, "value must be set when operation is UPSERT", OBJECT,
     {"operation": "REMOVE"}, PASS),
    (TAG_UPSERT, "value must be set when operation is UPSERT", OBJECT,
     {"operation": "UPSERT", "value": ""}, FAIL),
    (TAG_UPSERT, "value must be set when operation is UPSERT", OBJECT,
     {"operation": "UPSERT"}, "no such key: value"),
    (SE_DNS_RR, "DNS_ROUND_ROBIN mode cannot have multiple endpoints", OBJECT,
     {"resolution": "DNS_ROUND_ROBIN", "endpoints": [{"address": "a"}]}, PASS),
    (SE_DNS_RR, "DNS_ROUND_ROBIN mode cannot have multiple endpoints", OBJECT,
     {"resolution": "DNS", "endpoints": [{"address": "a"}, {"address": "b"}]}, PASS),
    (SE_DNS_RR, "DNS_ROUND_ROBIN mode cannot have multiple endpoints", OBJECT,
     {"resolution": "DNS_ROUND_ROBIN", "endpoints": [{"address": "a"}, {"address": "b"}]}, FAIL),
    (SE_NONE, "NONE mode cannot set endpoints", OBJECT,
     {"resolution": "STATIC", "endpoints": [{"address": "1.1.1.1"}]}, PASS),
    (SE_NONE, "NONE mode cannot set endpoints", OBJECT, {"hosts": ["a.example"]}, PASS),
    (SE_NONE, "NONE mode cannot set endpoints", OBJECT,
     {"endpoints": [{"address": "1.1.1.1"}]}, FAIL),
    (SE_NONE, "NONE mode cannot set endpoints", OBJECT, {"resolution": "NONE", "endpoints": []},
     FAIL),
    (UDS_PORTS, "UDS may not include ports", OBJECT, {"address": "unix:///sock"}, PASS),
    (UDS_PORTS, "UDS may not include ports", OBJECT,
     {"address": "1.2.3.4", "ports": {"http": 80}}, PASS),
    (UDS_PORTS, "UDS may not include ports", OBJECT,
     {"address": "unix:///sock", "ports": {"http": 80}}, FAIL),
    (CRED_NAME_NAMES, "only one of credentialName or credentialNames can be set", OBJECT,
     {"credentialName": "a"}, PASS),
    (CRED_NAME_NAMES, "only one of credentialName or credentialNames can be set", OBJECT,
     {"credentialName": "a", "credentialNames": ["b"]}, FAIL),
    (CRED_NAMES_CERTS, "only one of credentialName or tlsCertificates can be set", OBJECT,
     {"tlsCertificates": [{}]}, PASS),
    (CRED_NAMES_CERTS, "only one of credentialName or tlsCertificates can be set", OBJECT,
     {"credentialNames": ["a"], "tlsCertificates": [{}]}, FAIL),
    (CERTS_CRED_NAMES, "only one of credentialNames or tlsCertificates can be set", OBJECT,
     {"credentialNames": ["a"]}, PASS),
    (CERTS_CRED_NAMES, "only one of credentialNames or tlsCertificates can be set", OBJECT,
     {"credentialNames": ["a"], "tlsCertificates": [{}]}, FAIL),
    (JWKS, "only one of jwks or jwksUri can be set", OBJECT,
     {"issuer": "i", "jwksUri": "https://x/y"}, PASS),
    (JWKS, "only one of jwks or jwksUri can be set", OBJECT,
     {"jwksUri": "https://x/y", "jwks": "{}"}, FAIL),
    (JWKS, "only one of jwks or jwksUri can be set", OBJECT,
     {"jwksUri": "https://x/y", "jwks_uri": "https://x/y"}, FAIL),
    (SELECTOR_3, "only one of targetRefs or selector can be set", OBJECT,
     {"selector": {"matchLabels": {"app": "a"}}}, PASS),
    (SELECTOR_3, "only one of targetRefs or selector can be set", OBJECT,
     {"selector": {}, "targetRefs": [{"kind": "Service", "name": "a"}]}, FAIL),
    (SELECTOR_3, "only one of targetRefs or selector can be set", OBJECT,
     {"targetRef": {"kind": "Service", "name": "a"}, "targetRefs": []}, FAIL),
    (SELECTOR_2, "only one of targetRefs or selector can be set", OBJECT,
     {"targetRefs": [{"kind": "Service", "name": "a"}]}, PASS),
    (SELECTOR_2, "only one of targetRefs or selector can be set", OBJECT,
     {"selector": {}, "targetRefs": []}, FAIL),
    (SERVICE_ACCOUNTS, "Cannot set serviceAccounts with namespaces or principals", OBJECT,
     {"serviceAccounts": ["ns/sa"]}, PASS),
    (SERVICE_ACCOUNTS, "Cannot set serviceAccounts with namespaces or principals", OBJECT,
     {"principals": ["td/ns/a/sa/b"], "namespaces": ["a"]}, PASS),
    (SERVICE_ACCOUNTS, "Cannot set serviceAccounts with namespaces or principals", OBJECT,
     {"serviceAccounts": ["ns/sa"], "namespaces": ["a"]}, FAIL),
    (SERVICE_ACCOUNTS, "Cannot set serviceAccounts with namespaces or principals", OBJECT,
     {"notServiceAccounts": ["ns/sa"], "notPrincipals": ["b"]}, FAIL),
    (ENV_VALUE_FROM, "value may only be set when valueFrom is INLINE", OBJECT,
     {"name": "a", "value": "b"}, PASS),
    (ENV_VALUE_FROM, "value may only be set when valueFrom is INLINE", OBJECT,
     {"name": "a", "valueFrom": "HOST"}, PASS),
    (ENV_VALUE_FROM, "value may only be set when valueFrom is INLINE", OBJECT,
     {"name": "a", "valueFrom": "HOST", "value": "b"}, FAIL),
    (SE_SELECTOR_ENDPOINTS, "only one of WorkloadSelector or Endpoints can be set", OBJECT,
     {"workloadSelector": {"labels": {"app": "a"}}}, PASS),
    (SE_SELECTOR_ENDPOINTS, "only one of WorkloadSelector or Endpoints can be set", OBJECT,
     {"workloadSelector": {}, "endpoints": []}, FAIL),
    (EF_SELECTOR_TARGETS, "only one of targetRefs or workloadSelector can be set", OBJECT,
     {"targetRefs": []}, PASS),
    (EF_SELECTOR_TARGETS, "only one of targetRefs or workloadSelector can be set", OBJECT,
     {"workloadSelector": {}, "targetRefs": []}, FAIL),
    (PORT_RANGE, "port must be between 1-65535", INTEGER, 1, PASS),
    (PORT_RANGE, "port must be between 1-65535", INTEGER, 65535, PASS),
    (PORT_RANGE, "port must be between 1-65535", INTEGER, 0, FAIL),
    (PORT_RANGE, "port must be between 1-65535", INTEGER, 65536, FAIL),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "1.5s", PASS),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "1ms", PASS),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "1h30m", PASS),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "1000µs", PASS),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "500us", FAIL),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "999999ns", FAIL),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "0", FAIL),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "-5s", FAIL),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "abc", DURATION_ERROR),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "1d", DURATION_ERROR),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "1e3s", DURATION_ERROR),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "10", DURATION_ERROR),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "1s ", DURATION_ERROR),
    (DURATION, "must be a valid duration greater than 1ms", STRING, "", DURATION_ERROR),
    (ADDRESS_REQUIRED, "Address is required", OBJECT, {"address": "1.2.3.4"}, PASS),
    (ADDRESS_REQUIRED, "Address is required", OBJECT, {"network": "n1"}, PASS),
    (ADDRESS_REQUIRED, "Address is required", OBJECT, {"ports": {"http": 80}}, FAIL),
    (WAYPOINT, "only support waypointMatch when context is WAYPOINT", OBJECT, {}, PASS),
    (WAYPOINT, "only support waypointMatch when context is WAYPOINT", OBJECT,
     {"context": "WAYPOINT", "waypoint": {}}, PASS),
    (WAYPOINT, "only support waypointMatch when context is WAYPOINT", OBJECT,
     {"context": "WAYPOINT"}, FAIL),
    (WAYPOINT, "only support waypointMatch when context is WAYPOINT", OBJECT,
     {"waypoint": {}}, FAIL),
    (WAYPOINT, "only support waypointMatch when context is WAYPOINT", OBJECT,
     {"context": "SIDECAR_INBOUND", "waypoint": {}}, FAIL),
    (PORT_LEVEL_MTLS, "portLevelMtls requires selector", OBJECT,
     {"selector": {"matchLabels": {"app": "a"}}, "portLevelMtls": {"8080": {}}}, PASS),
    (PORT_LEVEL_MTLS, "portLevelMtls requires selector", OBJECT, {"mtls": {}}, PASS),
    (PORT_LEVEL_MTLS, "portLevelMtls requires selector", OBJECT,
     {"portLevelMtls": {"8080": {}}}, FAIL),
    (PORT_LEVEL_MTLS, "portLevelMtls requires selector", OBJECT,
     {"selector": {}, "portLevelMtls": {"8080": {}}}, FAIL),
    (PORT_LEVEL_MTLS, "portLevelMtls requires selector", OBJECT,
     {"selector": {"matchLabels": {}}, "portLevelMtls": {"8080": {}}}, FAIL),
    (WASM_XOR_LUA, "exactly one of wasm or lua must be set", OBJECT, {"wasm": {}}, PASS),
    (WASM_XOR_LUA, "exactly one of wasm or lua must be set", OBJECT, {}, FAIL),
    (WASM_XOR_LUA, "exactly one of wasm or lua must be set", OBJECT, {"wasm": {}, "lua": {}}, FAIL),
    (WASM_URL_A, "url must have schema one of [http, https, file, oci]", STRING,
     "oci://registry.example/filter:v1", PASS),
    (WASM_URL_A, "url must have schema one of [http, https, file, oci]", STRING,
     "file:///opt/filter.wasm", PASS),
    (WASM_URL_A, "url must have schema one of [http, https, file, oci]", STRING,
     "docker.io/istio/filter:v1", PASS),
    (WASM_URL_A, "url must have schema one of [http, https, file, oci]", STRING,
     "ftp://x/filter.wasm", FAIL),
    (WASM_URL_A, "url must have schema one of [http, https, file, oci]", STRING,
     "registry.local:5000/filter", FAIL),  # Go reads "registry.local" as the scheme
    (WASM_URL_B, "url must have schema one of [http, https, file, oci]", STRING,
     "https://x/filter.wasm", PASS),
    (WASM_URL_B, "url must have schema one of [http, https, file, oci]", STRING, "/abs.wasm", PASS),
    (WASM_URL_B, "url must have schema one of [http, https, file, oci]", STRING, "%zz", FAIL),
    (WASM_URL_B, "url must have schema one of [http, https, file, oci]", STRING,
     "s3://bucket/filter.wasm", FAIL),
    (NOT_WILDCARD_HOST, "hostname cannot be wildcard", STRING, "*.example.com", PASS),
    (NOT_WILDCARD_HOST, "hostname cannot be wildcard", STRING, "*", FAIL),
    (PROBE_SCHEME, "scheme must be one of [HTTP, HTTPS]", STRING, "HTTPS", PASS),
    (PROBE_SCHEME, "scheme must be one of [HTTP, HTTPS]", STRING, "", PASS),
    (PROBE_SCHEME, "scheme must be one of [HTTP, HTTPS]", STRING, "http", FAIL),
    (KEY_NO_WILDCARD, "wildcard not allowed in label key match", STRING_MAP, {"app": "a"}, PASS),
    (KEY_NO_WILDCARD, "wildcard not allowed in label key match", STRING_MAP, {}, PASS),
    (KEY_NO_WILDCARD, "wildcard not allowed in label key match", STRING_MAP,
     {"app": "a", "*": "b"}, FAIL),
    (KEY_NO_WILDCARD, "wildcard not allowed in label key match", STRING_MAP, {"ap*p": "a"}, FAIL),
    (PORT_KEYS, "port must be between 1-65535", ANY_MAP, {"8080": {}}, PASS),
    (PORT_KEYS, "port must be between 1-65535", ANY_MAP, {8080: {}, "65535": {}}, PASS),
    (PORT_KEYS, "port must be between 1-65535", ANY_MAP, {"+80": {}}, PASS),
    (PORT_KEYS, "port must be between 1-65535", ANY_MAP, {"0": {}}, FAIL),
    (PORT_KEYS, "port must be between 1-65535", ANY_MAP, {"8080": {}, "65536": {}}, FAIL),
    (PORT_KEYS, "port must be between 1-65535", ANY_MAP, {"abc": {}}, INT_ERROR),
    (PORT_KEYS, "port must be between 1-65535", ANY_MAP, {"abc": {}, "x": {}}, INT_ERROR),
    (PORT_KEYS, "port must be between 1-65535", ANY_MAP, {"8080": {}, " 80": {}}, INT_ERROR),
    (PORT_KEYS, "port must be between 1-65535", ANY_MAP, {"1_000": {}}, INT_ERROR),
    # an error and a false in all(): false decides, whatever the order
    (PORT_KEYS, "port must be between 1-65535", ANY_MAP, {"abc": {}, "0": {}}, FAIL),
    (PORT_KEYS, "port must be between 1-65535", ANY_MAP, {"0": {}, "abc": {}}, FAIL),
    (KEY_NOT_EMPTY, "key must not be empty", STRING_MAP, {"app": "a"}, PASS),
    (KEY_NOT_EMPTY, "key must not be empty", STRING_MAP, {"app": "a", "": "b"}, FAIL),
    (PORT_NAMES, "port name must be valid", INT_MAP, {"http": 80, "grpc-web": 81}, PASS),
    (PORT_NAMES, "port name must be valid", INT_MAP, {"a" * 62: 80}, PASS),
    (PORT_NAMES, "port name must be valid", INT_MAP, {"a" * 63: 80}, FAIL),
    (PORT_NAMES, "port name must be valid", INT_MAP, {"-http": 80}, FAIL),
    (PORT_NAMES, "port name must be valid", INT_MAP, {"http_2": 80}, FAIL),
    (PORT_NAMES, "port name must be valid", INT_MAP, {"héllo": 80}, FAIL),
    # RE2's $ matches only at the end of the text (Python's re would accept "http\n").
    (PORT_NAMES, "port name must be valid", INT_MAP, {"http\n": 80}, FAIL),
    (UNIQUE_PORTS, "port number cannot be duplicated", LIST,
     [{"number": 80, "name": "http"}, {"number": 443, "name": "https"}], PASS),
    (UNIQUE_PORTS, "port number cannot be duplicated", LIST, [], PASS),
    (UNIQUE_PORTS, "port number cannot be duplicated", LIST,
     [{"number": 80, "name": "http"}, {"number": 80, "name": "http2"}], FAIL),
    (UNIQUE_PORTS, "port number cannot be duplicated", LIST,
     [{"number": 80, "name": "a"}, {"number": 81, "name": "b"}, {"number": 80, "name": "c"}],
     FAIL),
    (EMPTY, "cross namespace referencing is not currently supported", STRING, "", PASS),
    (EMPTY, "cross namespace referencing is not currently supported", STRING, "other", FAIL),
    (UDS_NOT_DIR, "UDS may not be a dir", STRING, "unix:///var/run/app.sock", PASS),
    (UDS_NOT_DIR, "UDS may not be a dir", STRING, "10.0.0.1/", PASS),
    (UDS_NOT_DIR, "UDS may not be a dir", STRING, "unix:///var/run/", FAIL),
    (UDS_ABSOLUTE, "UDS must be an absolute path or abstract socket", STRING,
     "unix:///var/run/app.sock", PASS),
    (UDS_ABSOLUTE, "UDS must be an absolute path or abstract socket", STRING, "unix://@abs", PASS),
    (UDS_ABSOLUTE, "UDS must be an absolute path or abstract socket", STRING, "unix:", PASS),
    (UDS_ABSOLUTE, "UDS must be an absolute path or abstract socket", STRING, "1.2.3.4", PASS),
    (UDS_ABSOLUTE, "UDS must be an absolute path or abstract socket", STRING, "unix://rel", FAIL),
    # substring indexes code points: "é" is one, so this is a comparison, not an error
    (UDS_ABSOLUTE, "UDS must be an absolute path or abstract socket", STRING, "unix://é", FAIL),
    (UDS_ABSOLUTE, "UDS must be an absolute path or abstract socket", STRING, "unix://",
     "index out of range: 8"),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "https://x/y", PASS),
    (JWKS_URI, "url must have scheme http:// or https://", STRING,
     "https://user:pass@example.com:8443/jwks?x=1#frag", PASS),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "HTTPS://EXAMPLE.COM/", PASS),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "https://[::1]:8443/", PASS),
    # Go's ParseRequestURI accepts these; so does the API server.
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "http://", PASS),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "http:/jwks", PASS),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "http:jwks", PASS),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "ftp://x/jwks", FAIL),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "/jwks", FAIL),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "example.com/jwks",
     URL_ERROR + 'parse "example.com/jwks": invalid URI for request'),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "https://a:b:c/",
     URL_ERROR + 'parse "https://a:b:c/": invalid port ":b:c" after host'),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "http://a b/",
     URL_ERROR + 'parse "http://a b/": invalid character " " in host name'),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "http://[1.2.3.4]/",
     URL_ERROR + 'parse "http://[1.2.3.4]/": invalid IP-literal'),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "https://x/%zz",
     URL_ERROR + 'parse "https://x/%zz": invalid URL escape "%zz"'),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "://x",
     URL_ERROR + 'parse "://x": missing protocol scheme'),
    (JWKS_URI, "url must have scheme http:// or https://", STRING, "",
     URL_ERROR + 'parse "": empty url'),
]

RULES_IN_TABLE = {rule for rule, *_ in CASES}


def _node(rule: str, message: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "x-kubernetes-validations": [{"rule": rule, "message": message}]}


@pytest.mark.parametrize(
    ("rule", "message", "schema", "instance", "expected"),
    CASES,
    ids=[f"{rule[:40]}|{instance!r:.30}" for rule, _, _, instance, _ in CASES],
)
def test_rule_table(
    rule: str, message: str, schema: dict[str, Any], instance: Any, expected: str
) -> None:
    found = CelValidator().violations(_node(rule, message, schema), instance)
    if expected == PASS:
        assert found == []
    elif expected == FAIL:
        assert found == [CelViolation("", message, rule)]
    else:
        assert found == [CelViolation("", f"{message}: {expected}", rule)]


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    outcomes: dict[tuple[str, str], set[bool]] = {}
    for rule, message, _, _, expected in CASES:
        outcomes.setdefault((rule, message), set()).add(expected == PASS)
    assert len(outcomes) == 37
    assert all(seen == {True, False} for seen in outcomes.values())


def test_message_defaults_to_failed_rule_and_trims() -> None:
    schema = {"type": "string", "x-kubernetes-validations": [{"rule": " self != 'x' "}]}
    found = CelValidator().violations(schema, "x")
    assert found == [CelViolation("", "failed rule: self != 'x'", " self != 'x' ")]
    schema = {"type": "string", "x-kubernetes-validations": [{"rule": "int(self) > 0"}]}
    found = CelValidator().violations(schema, "x")
    assert [v.message for v in found] == [f"int(self) > 0: {INT_ERROR}"]


def test_transition_rules_are_skipped() -> None:
    schema = {
        "type": "string",
        "x-kubernetes-validations": [
            {"rule": "self == oldSelf", "message": "immutable"},
            {"rule": "self != 'oldSelf'", "message": "literal only"},
        ],
    }
    found = CelValidator().violations(schema, "oldSelf")
    assert [v.message for v in found] == ["literal only"]


@pytest.mark.parametrize(
    "rule", ["self.x ==", "quantity(self) > quantity('1')", "self.lowerAscii() == 'a'"]
)
def test_rule_that_cannot_be_compiled_is_reported_once_per_call(rule: str) -> None:
    schema = {
        "type": "array",
        "items": {"type": "string", "x-kubernetes-validations": [{"rule": rule}]},
    }
    validator = CelValidator()
    for _ in range(2):
        found = validator.violations(schema, ["a", "b", "c"])
        assert len(found) == 1
        assert found[0].pointer == "/0"
        assert found[0].rule == rule
        assert found[0].message.startswith(CANNOT_EVALUATE)


def test_each_rule_is_compiled_once_per_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = celpy.Environment.compile

    def counting(env: celpy.Environment, text: str) -> Any:
        calls.append(text)
        return original(env, text)

    monkeypatch.setattr(celpy.Environment, "compile", counting)
    schema = {"type": "array", "items": _node(NO_WILDCARD, "no", STRING)}
    first = CelValidator()
    first.violations(schema, ["a", "b*", "c"])
    first.violations(schema, ["d"])
    assert calls == [NO_WILDCARD]
    CelValidator().violations(schema, ["a"])
    assert calls == [NO_WILDCARD, NO_WILDCARD]


def test_walk_skips_absent_null_and_mistyped_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-validations": [{"rule": SELECTOR_2, "message": "one"}],
                "properties": {
                    "selector": {
                        "type": "object",
                        "properties": {"matchLabels": _node(KEY_NO_WILDCARD, "kw", STRING_MAP)},
                    },
                    "targetRefs": {"type": "array", "items": {"type": "object"}},
                },
            }
        },
    }
    validator = CelValidator()
    assert validator.violations(schema, {}) == []
    assert validator.violations(schema, {"spec": None}) == []
    assert validator.violations(schema, {"spec": "text"}) == []
    # a null field is pruned before validation, so has() is false
    assert validator.violations(schema, {"spec": {"selector": None, "targetRefs": []}}) == []
    # a mistyped subtree is skipped; the rule above it still runs
    found = validator.violations(schema, {"spec": {"selector": {"matchLabels": ["*"]},
                                                   "targetRefs": []}})
    assert found == [CelViolation("/spec", "one", SELECTOR_2)]


def test_boolean_additional_properties_mean_no_schema() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"a": _node(NO_WILDCARD, "no", STRING)},
    }
    assert CelValidator().violations(schema, {"a": "*", "b": "*"}) == [
        CelViolation("/a", "no", NO_WILDCARD)
    ]
    schema = {"type": "object", "additionalProperties": True}
    assert CelValidator().violations(schema, {"a": "*"}) == []


# --- the real CRDs ----------------------------------------------------------------------------

needs_upstream = pytest.mark.skipif(
    not UPSTREAM.is_dir(), reason=f"Istio CRDs not found at {UPSTREAM} (shared/ beside the repo)"
)


def _crd_files() -> list[Path]:
    return sorted(UPSTREAM.glob("*/crd-all.gen.yaml"))


def _walk_rules(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        for entry in node.get("x-kubernetes-validations") or []:
            yield entry["rule"], entry.get("message", "")
        for value in node.values():
            yield from _walk_rules(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_rules(value)


@pytest.fixture(scope="module")
def crds() -> dict[str, dict[str, Any]]:
    """Every CRD document of every version, keyed by '<istio version>/<CRD name>'."""
    found = {}
    for path in _crd_files():
        with path.open(encoding="utf-8") as stream:
            for doc in yaml.load_all(stream, Loader=LOADER):
                if doc:
                    found[f"{path.parent.name}/{doc['metadata']['name']}"] = doc
    return found


def _schema(crds: dict[str, dict[str, Any]], name: str, version: str = "1.30.3") -> Any:
    doc = crds[f"{version}/{name}"]
    return doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@needs_upstream
def test_table_covers_every_rule_of_the_crds(crds: dict[str, dict[str, Any]]) -> None:
    assert len(_crd_files()) == 6
    pairs = {pair for doc in crds.values() for pair in _walk_rules(doc)}
    assert {rule for rule, _ in pairs} == RULES_IN_TABLE
    table_pairs = {(rule, message) for rule, message, *_ in CASES}
    assert pairs == table_pairs


@needs_upstream
def test_every_rule_of_the_crds_compiles(crds: dict[str, dict[str, Any]]) -> None:
    validator = CelValidator()
    for doc in crds.values():
        for version in doc["spec"]["versions"]:
            schema = version["schema"]["openAPIV3Schema"]
            for rule, _ in _walk_rules(schema):
                node = {"x-kubernetes-validations": [{"rule": rule}]}
                found = validator.violations(node, {})
                assert not any(v.message.startswith(CANNOT_EVALUATE) for v in found), rule


def _object(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "security.istio.io/v1", "kind": kind,
            "metadata": {"name": "x", "namespace": "ns"}, "spec": spec}


@needs_upstream
def test_request_authentication_pointers(crds: dict[str, dict[str, Any]]) -> None:
    schema = _schema(crds, "requestauthentications.security.istio.io")
    instance = _object("RequestAuthentication", {
        "selector": {"matchLabels": {"app": "a"}},
        "targetRefs": [{"kind": "Service", "name": "a"}],
        "jwtRules": [
            {"issuer": "i", "jwks": "{}", "jwksUri": "https://x/jwks"},
            {"issuer": "j", "jwksUri": "example.com/jwks", "timeout": "500us"},
            {"issuer": "k", "jwks_uri": "ftp://x/jwks", "timeout": "abc"},
            {"issuer": "l", "jwksUri": "https://ok/jwks", "timeout": "1.5s"},
        ],
    })
    found = CelValidator().violations(schema, instance)
    assert [(v.pointer, v.message) for v in found] == [
        ("/spec", "only one of targetRefs or selector can be set"),
        ("/spec/jwtRules/0", "only one of jwks or jwksUri can be set"),
        ("/spec/jwtRules/1/jwksUri", "url must have scheme http:// or https://: " + URL_ERROR
         + 'parse "example.com/jwks": invalid URI for request'),
        ("/spec/jwtRules/1/timeout", "must be a valid duration greater than 1ms"),
        ("/spec/jwtRules/2/jwks_uri", "url must have scheme http:// or https://"),
        ("/spec/jwtRules/2/timeout",
         f"must be a valid duration greater than 1ms: {DURATION_ERROR}"),
    ]


@needs_upstream
def test_authorization_policy_pointers(crds: dict[str, dict[str, Any]]) -> None:
    schema = _schema(crds, "authorizationpolicies.security.istio.io")
    instance = _object("AuthorizationPolicy", {
        "selector": {"matchLabels": {"app*": "a", "": "b", "app.kubernetes.io/name": "we*b"}},
        "targetRef": {"kind": "Service", "name": "a", "namespace": "other"},
        "rules": [
            {"from": [{"source": {"principals": ["td/ns/a/sa/b"]}}]},
            {"from": [{"source": {"principals": ["p"]}},
                      {"source": {"serviceAccounts": ["ns/sa"], "namespaces": ["ns"]}}]},
        ],
    })
    found = CelValidator().violations(schema, instance)
    assert [(v.pointer, v.message) for v in found] == [
        ("/spec", "only one of targetRefs or selector can be set"),
        ("/spec/selector/matchLabels", "wildcard not allowed in label key match"),
        ("/spec/selector/matchLabels", "key must not be empty"),
        ("/spec/selector/matchLabels/app.kubernetes.io~1name",
         "wildcard not allowed in label value match"),
        ("/spec/targetRef/namespace", "cross namespace referencing is not currently supported"),
        ("/spec/rules/1/from/1/source", "Cannot set serviceAccounts with namespaces or principals"),
    ]


@needs_upstream
def test_valid_objects_have_no_violations(crds: dict[str, dict[str, Any]]) -> None:
    validator = CelValidator()
    ap = _object("AuthorizationPolicy", {
        "selector": {"matchLabels": {"app": "web"}},
        "action": "DENY",
        "rules": [{"from": [{"source": {"serviceAccounts": ["ns/sa"]}}],
                   "to": [{"operation": {"paths": ["/admin*"]}}]}],
    })
    ra = _object("RequestAuthentication", {
        "targetRefs": [{"kind": "Service", "name": "web"}],
        "jwtRules": [{"issuer": "https://issuer", "jwksUri": "https://issuer/jwks",
                      "timeout": "5s"}],
    })
    pa = _object("PeerAuthentication", {
        "selector": {"matchLabels": {"app": "web"}},
        "mtls": {"mode": "STRICT"},
        "portLevelMtls": {8080: {"mode": "DISABLE"}},
    })
    for name, instance in [("authorizationpolicies", ap), ("requestauthentications", ra),
                           ("peerauthentications", pa)]:
        for version in ("1.26.8", "1.30.3", "1.31.0-rc.0"):
            schema = _schema(crds, f"{name}.security.istio.io", version)
            assert validator.violations(schema, instance) == [], (name, version)


@needs_upstream
def test_peer_authentication_pointers(crds: dict[str, dict[str, Any]]) -> None:
    schema = _schema(crds, "peerauthentications.security.istio.io")
    instance = _object("PeerAuthentication", {
        "selector": {"matchLabels": {}},
        "portLevelMtls": {"0": {"mode": "STRICT"}, "abc": {"mode": "DISABLE"}},
    })
    found = CelValidator().violations(schema, instance)
    assert [(v.pointer, v.message) for v in found] == [
        ("/spec", "portLevelMtls requires selector"),
        ("/spec/portLevelMtls", "port must be between 1-65535"),
    ]
    instance["spec"]["portLevelMtls"] = {"8080": {}, "abc": {}}
    found = CelValidator().violations(schema, instance)
    assert [(v.pointer, v.message) for v in found] == [
        ("/spec", "portLevelMtls requires selector"),
        ("/spec/portLevelMtls", f"port must be between 1-65535: {INT_ERROR}"),
    ]


@pytest.mark.parametrize(("rule", "fields"), [
    ("(has(self.selector) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1",
     (("selector", True), ("targetRefs", True))),
    ("has(self.portLevelMtls) ? (((has(self.selector) && has(self.selector.matchLabels)) ? "
     "self.selector.matchLabels : {}).size() > 0) : true",
     (("portLevelMtls", True), ("selector", False))),
    ('has(self.x) ? self.x != "self.y()" : true', (("x", False),)),
    ('self.all(key, !key.contains("*"))', None),
    ('!self.contains("*")', None),
    ("self.size() == 0", None),
])
def test_observed_fields_let_different_values_share_an_outcome(
        rule: str, fields: tuple[tuple[str, bool], ...] | None) -> None:
    assert observed_fields(rule) == fields


@pytest.mark.parametrize(("rule", "only_url"), [
    ('url(self).getScheme() in ["http", "https"]', True),
    ('url( self ).getScheme() == "https" || url(self).getScheme() == "http"', True),
    ('url(self).getScheme() == "https" && self.size() < 100', False),
    ('isURL(self) ? url(self).getScheme() == "https" : true', False),
    ('self.startsWith("https://")', False),
])
def test_rules_that_read_self_only_through_url(rule: str, only_url: bool) -> None:
    assert observes_only_url(rule) is only_url


def test_urls_of_one_scheme_share_an_outcome_that_full_evaluation_gives() -> None:
    rule = 'url(self).getScheme() in ["http", "https"]'
    schema = {"type": "string", "x-kubernetes-validations": [{"rule": rule, "message": "m"}]}
    urls = ["https://a.example.com/keys", "https://b.example.com/x?y=1", "http://c/",
            "ftp://d/", "gopher://e:70/", "https://a:b:c/", "not a url", "%zz", ""]
    shared = CelValidator()
    outcomes = [shared.violations(schema, url) for url in urls]
    # a validator per URL evaluates every one of them in full
    assert outcomes == [CelValidator().violations(schema, url) for url in urls]
    assert [bool(found) for found in outcomes] == [False, False, False, True, True, True, True,
                                                   True, True]
    # https (twice), http, ftp, gopher, and the error texts of the four that are not URLs
    assert len({key for key in shared.remembered() if key[0] == rule}) == 8


def test_cached_outcomes_never_mix_up_null_absent_and_set_fields() -> None:
    schema = {"type": "object", "properties": {"spec": {
        "type": "object", "x-kubernetes-validations": [{"rule": SELECTOR_2, "message": "one"}],
        "properties": {"selector": {"type": "object"},
                       "targetRefs": {"type": "array", "items": {"type": "object"}}}}}}
    validator = CelValidator()
    both = {"spec": {"selector": {"matchLabels": {"a": "b"}}, "targetRefs": [{}]}}
    # a null in a non-nullable field is pruned: has() is false
    assert validator.violations(schema, {"spec": {"selector": None, "targetRefs": [{}]}}) == []
    assert validator.violations(schema, {"spec": {"targetRefs": [{}]}}) == []
    assert validator.violations(schema, both) == [CelViolation("/spec", "one", SELECTOR_2)]
    other_labels = {"spec": {"selector": {"matchLabels": {"c": "d"}}, "targetRefs": [{}]}}
    assert validator.violations(schema, other_labels) == [CelViolation("/spec", "one", SELECTOR_2)]
