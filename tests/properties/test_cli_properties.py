"""Property tests: ``check``, ``simulate`` and ``diff`` never crash, and ``simulate`` is
deterministic, on mutated real manifests and on random request files.

The inputs start from the repository's own valid manifests (``examples/``, ``rules/*/good.yaml``
and ``bad.yaml``, the golden request tables of ``tests/authz/cases``) and apply structured
mutations (delete a key, change a value's JSON type, duplicate list items, graft subtrees of
other manifests, change case, swap namespaces, nest deeply...) and raw-text mutations of the
dumped YAML (truncation, inserted characters, invalid UTF-8...).

Tiers: by default every property runs 100 derandomized examples (reproducible, for CI). Set
``ISTIOLINT_HYPOTHESIS_EXAMPLES=N`` for N random examples per property, e.g. the slow tier::

    ISTIOLINT_HYPOTHESIS_EXAMPLES=2500 python -m pytest -q tests/properties -p no:cacheprovider
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import os
import random
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer.main
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource

from istiolint.entry import main

# celpy raises the recursion limit to 2500 when first used, inside a test: Hypothesis warns
pytestmark = pytest.mark.filterwarnings(
    "ignore:The recursion limit will not be reset:hypothesis.errors.HypothesisWarning")

REPO = Path(__file__).resolve().parents[2]
_SCHEMAS = {name: json.loads((REPO / "docs/schemas" / f"{name}-v1.schema.json").read_text())
            for name in ("findings", "simulate", "diff")}
_REGISTRY = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema)) for schema in _SCHEMAS.values())
# the JSON contracts of check, simulate and diff (diff's refers to findings')
CONTRACTS = {name: jsonschema.Draft202012Validator(schema, registry=_REGISTRY)
             for name, schema in _SCHEMAS.items()}

_ENV = "ISTIOLINT_HYPOTHESIS_EXAMPLES"
_SLOW_EXAMPLES = os.environ.get(_ENV, "").strip()
EXAMPLES = int(_SLOW_EXAMPLES) if _SLOW_EXAMPLES else 100

# The fast tier is derandomized and keeps no example database, so CI sees the same cases on
# every run; the slow tier explores new random cases each time.
_RANDOM = settings(
    deadline=None,
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)
SETTINGS = _RANDOM if _SLOW_EXAMPLES else settings(_RANDOM, derandomize=True, database=None)

# --------------------------------------------------------------------------------------------
# The corpus: real manifests, loaded once at import time
# --------------------------------------------------------------------------------------------

_BOMB = "IL006"  # its alias bomb expands to 10^6 nodes when copied: raw-text seeds only


def _load_all(path: Path) -> list[Any]:
    try:
        return [doc for doc in yaml.safe_load_all(path.read_bytes()) if doc is not None]
    except (yaml.YAMLError, UnicodeDecodeError):
        return []


def _manifest_files() -> list[Path]:
    files = [p for p in sorted(REPO.glob("examples/**/*.yaml")) if p.name != "requests.yaml"]
    files += sorted(REPO.glob("rules/*/good.yaml")) + sorted(REPO.glob("rules/*/bad.yaml"))
    return files


# (file name, documents) of every manifest file that parses; the names keep kustomization.yaml
MANIFEST_FILES: list[tuple[str, list[Any]]] = [
    (path.name, docs) for path in _manifest_files()
    if _BOMB not in str(path) and (docs := _load_all(path))]
ALL_DOCS: list[Any] = [doc for _, docs in MANIFEST_FILES for doc in docs]
# raw bytes of every manifest file, the broken ones (IL001, IL003, IL004, IL006) included
RAW_SEEDS: list[bytes] = [path.read_bytes() for path in _manifest_files()]

POLICY_KINDS = ("AuthorizationPolicy", "RequestAuthentication", "PeerAuthentication")


def _scenarios() -> list[tuple[list[Any], list[dict[str, Any]]]]:
    """(manifests, valid requests) pairs: the golden tables and the seed tutorial."""
    out = []
    for path in sorted(REPO.glob("tests/authz/cases/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append((data["manifests"], data["requests"]))
    for step in ("step1", "step2"):
        base = REPO / "examples/seed" / step
        docs = [doc for p in sorted(base.glob("*.yaml")) if p.name != "requests.yaml"
                for doc in _load_all(p)]
        requests = yaml.safe_load((base / "requests.yaml").read_text(encoding="utf-8"))
        out.append((docs, requests["requests"]))
    return out


SCENARIOS = _scenarios()
GOLDEN_REQUESTS: list[dict[str, Any]] = [r for _, requests in SCENARIOS for r in requests]


def _strings(node: Any, key: str) -> set[str]:
    """Every string value found under ``key`` anywhere in ``node``."""
    found: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                found.add(v)
            found |= _strings(v, key)
    elif isinstance(node, list):
        for item in node:
            found |= _strings(item, key)
    return found


ISSUERS = sorted(_strings(ALL_DOCS + [m for m, _ in SCENARIOS], "issuer")
                 | _strings(GOLDEN_REQUESTS, "issuer"))

# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------

FIELD_NAMES = [
    "apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations", "spec",
    "selector", "matchLabels", "targetRef", "targetRefs", "group", "action", "provider",
    "rules", "from", "to", "when", "source", "operation", "principals", "notPrincipals",
    "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces", "ipBlocks",
    "notIpBlocks", "remoteIpBlocks", "hosts", "notHosts", "ports", "notPorts", "methods",
    "notMethods", "paths", "notPaths", "key", "values", "notValues", "jwtRules", "issuer",
    "jwksUri", "jwks", "audiences", "fromHeaders", "fromParams", "forwardOriginalToken",
    "outputPayloadToHeader", "mtls", "mode", "portLevelMtls", "containers", "containerPort",
    "targetPort", "port", "protocol", "serviceAccountName", "template", "resources",
    "istio.io/dry-run", "istiolint.io/ignore", "servers", "tls", "credentialName",
]

INTERESTING_STRINGS = [
    "", "*", "**", "*/*", "ALLOW", "allow", "DENY", "Deny", "CUSTOM", "AUDIT", "STRICT",
    "strict", "PERMISSIVE", "DISABLE", "UNSET", "GET", "get", "POST", "*GET", "CONNECT",
    "/", "/admin", "/admin/*", "*/admin", "/{*}/x", "/{**}", "/a/../b", "/%2e%2e/", "//x",
    "istio-system", "default", "demo", "kube-system", "Demo", "-bad-", "a" * 300,
    "cluster.local/ns/demo/sa/default", "cluster.local/ns/*/sa/*", "spiffe://x/ns/a/sa/b",
    "issuer-foo/*", "*/bob", "https://example.com/.well-known/jwks.json", "http://10.0.0.1/k",
    "https://localhost:99999/", "http://[::1", "https://[x]/k", "https://[::1]:x/",
    "https://a:abc/", "http://user@/", "file:///etc/passwd", "10.0.0.0/8",
    "10.0.0.0/33", "::1/128", "fe80::/10", "1.2.3.4", "999.1.1.1", "not-an-ip",
    "example.com", "example.com:80", "*.example.com", "*.example.com:443", "host:*", "a:b:c",
    "request.auth.claims[groups]", "request.auth.claims[nested][key]", "request.headers[x]",
    "request.auth.principal", "source.ip", "remote.ip", "source.namespace",
    "destination.port", "destination.ip", "connection.sni", "experimental.envoy.filters.x",
    "request.auth.claims[", "request.headers[]", "80", "-1", "0", "65536", "1e3", "0x50",
    "true", "null", "~", "yes", "NaN", "\x00", "\t", "\u200b", "\ufeff", "é", "\U0001f600",
    "\u202e", "line\nbreak", "\x1b[31mred", "${VAR}", "{{ .Values.x }}", "&anchor", "!tag",
    "# comment", "- item", "key: value", "'", '"', "\\", "%",
]

_CONTROL = st.sampled_from([chr(c) for c in range(0xA0) if not chr(c).isprintable()])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 80, 443, 65535, 65536, 2**31, 2**63, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.text(_CONTROL, min_size=1, max_size=4),
    st.sampled_from(INTERESTING_STRINGS),
    st.integers(min_value=200, max_value=5000).map(lambda n: "x" * n),
    # YAML's own types beyond JSON, which istiolint reads as text: !!timestamp, !!binary
    st.dates(),
    st.datetimes(),
    st.binary(max_size=4),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)),
                        children, max_size=4),
    ),
    max_leaves=8,
)
# what mutations write into manifests: also a !!set, a tag istiolint refuses
any_values = st.one_of(json_values, st.sets(st.integers(0, 3), max_size=2))

# --------------------------------------------------------------------------------------------
# Structured mutations
# --------------------------------------------------------------------------------------------

Slot = tuple[Any, Any]  # (container, key or index)


def _slots(node: Any, depth: int = 0) -> Iterator[Slot]:
    """Every (container, key) pair under ``node``: the places a mutation can change."""
    if depth > 60:
        return
    if isinstance(node, dict):
        for key in list(node):
            yield node, key
            yield from _slots(node[key], depth + 1)
    elif isinstance(node, list):
        for index in range(len(node)):
            yield node, index
            yield from _slots(node[index], depth + 1)


def _depth(node: Any) -> int:
    """How deeply ``node`` nests (iteratively: it may be deep)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


MAX_DEPTH = 230  # what yaml.safe_dump survives with Hypothesis's frames on the stack


def _nest(draw: Callable[..., Any], value: Any) -> Any:
    # around the linter's 200-level limit; deeper nesting comes from mutate_raw, as text
    depth = draw(st.one_of(st.integers(1, 20), st.integers(190, 210)))
    as_list = draw(st.booleans())
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    return value


def _mutate_slot(draw: Callable[..., Any], container: Any, key: Any) -> None:
    value = container[key]
    kind = draw(st.sampled_from([
        "delete", "delete", "json", "json", "string", "string", "case", "empty", "duplicate",
        "insert-key", "nest", "graft", "edit-string", "wrap-list", "to-string"]))
    if kind == "delete":
        del container[key]
    elif kind == "json":
        container[key] = draw(any_values)
    elif kind == "string":
        container[key] = draw(st.sampled_from(INTERESTING_STRINGS))
    elif kind == "case":
        if isinstance(value, str):
            container[key] = draw(st.sampled_from([str.upper, str.lower, str.swapcase,
                                                   str.title]))(value)
        elif isinstance(container, dict) and isinstance(key, str):  # change a key's case
            container[draw(st.sampled_from([key.upper(), key.lower(), key.title()]))] = \
                container.pop(key)
    elif kind == "empty":
        container[key] = draw(st.sampled_from([[], {}, "", None, [None], [""], [{}]]))
    elif kind == "duplicate":
        if isinstance(value, list) and value:
            index = draw(st.integers(0, len(value) - 1))
            value.insert(index, copy.deepcopy(value[index]))
        elif isinstance(container, list):
            container.insert(key, copy.deepcopy(value))
    elif kind == "insert-key":
        target = value if isinstance(value, dict) else container
        if isinstance(target, dict):
            new_key = draw(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=10),
                                     st.integers(-5, 5), st.booleans(), st.none()))
            target[new_key] = draw(any_values)
    elif kind == "nest":
        container[key] = _nest(draw, value)
    elif kind == "graft":  # a subtree of another real manifest, e.g. rules of another policy
        donor = copy.deepcopy(draw(st.sampled_from(ALL_DOCS)))
        slots = list(_slots(donor))
        if slots:
            parent, donor_key = draw(st.sampled_from(slots))
            container[key] = parent[donor_key]
    elif kind == "edit-string":
        if isinstance(value, str):
            position = draw(st.integers(0, len(value)))
            extra = draw(st.one_of(st.text(max_size=4), st.text(_CONTROL, min_size=1,
                                                                 max_size=2),
                                   st.sampled_from(["*", "/", ":", "[", "]", ".", "\\"])))
            container[key] = value[:position] + extra + value[position:]
        else:
            container[key] = str(value)
    elif kind == "wrap-list":
        container[key] = [value, copy.deepcopy(value)] if draw(st.booleans()) else [value]
    elif kind == "to-string":
        container[key] = json.dumps(value, default=str)


def mutate_documents(draw: Callable[..., Any], docs: list[Any], count: int) -> None:
    """Apply ``count`` random structured mutations to ``docs`` in place."""
    for _ in range(count):
        if not docs:
            return
        index = draw(st.integers(0, len(docs) - 1))
        doc = docs[index]
        roll = draw(st.integers(0, 19))
        if roll == 0:  # the whole document becomes another JSON value
            docs[index] = draw(any_values)
        elif roll == 1 and len(docs) > 1:  # swap two documents' namespaces
            other = docs[draw(st.integers(0, len(docs) - 1))]
            if isinstance(doc, dict) and isinstance(other, dict) and \
                    isinstance(doc.get("metadata"), dict) and \
                    isinstance(other.get("metadata"), dict):
                a, b = doc["metadata"], other["metadata"]
                a["namespace"], b["namespace"] = b.get("namespace"), a.get("namespace")
        elif roll == 2 and isinstance(doc, dict):  # change the namespace
            metadata = doc.get("metadata")
            if isinstance(metadata, dict):
                metadata["namespace"] = draw(st.sampled_from(
                    ["istio-system", "default", "demo", "", "UPPER", "a" * 70, None]))
        elif roll == 3:  # drop or duplicate a whole document
            if draw(st.booleans()):
                docs.pop(index)
            else:
                docs.insert(index, copy.deepcopy(doc))
        else:
            slots = list(_slots(doc))
            if slots:
                container, key = draw(st.sampled_from(slots))
                before = container[key]
                _mutate_slot(draw, container, key)
                if _depth(doc) > MAX_DEPTH:  # undo: too deep for yaml.safe_dump
                    container[key] = before


def _dump(draw: Callable[..., Any], docs: list[Any], suffix: str) -> bytes:
    if suffix == ".json":  # one JSON document per file
        return json.dumps(docs[0] if docs else None, ensure_ascii=False,
                          default=str).encode("utf-8", "surrogatepass")
    text = yaml.safe_dump_all(docs, allow_unicode=True, sort_keys=False,
                              default_flow_style=draw(st.sampled_from([False, None, True])),
                              explicit_start=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


RAW_INSERTS = [
    "\x00", "\t", "\r", "\n", ":", ": ", "- ", "-", "[", "]", "{", "}", "'", '"', "#", "&a ",
    "*a", "!", "!!python/object:os.system ", "!!binary ", "!!set ", "!!timestamp ", "%YAML 1.1\n",
    "---\n", "...\n", "? ", "|", ">", "@", "`", "\ufeff", "\u2028", "\x85", "\ud800", "é",
    "  ", "<<: *a\n", "2024-01-01", "0o17", "1_000", ".inf", "\\",
]


def mutate_raw(draw: Callable[..., Any], data: bytes) -> bytes:
    """Byte- and line-level damage: truncation, inserted or deleted characters, swapped
    lines, invalid UTF-8."""
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "insert", "insert", "delete", "duplicate-line",
                                     "swap-lines", "bytes", "indent", "nest"]))
        position = draw(st.integers(0, len(data)))
        if kind == "truncate":
            data = data[:position]
        elif kind == "insert":
            extra = draw(st.one_of(st.sampled_from(RAW_INSERTS), st.text(max_size=3)))
            data = data[:position] + extra.encode("utf-8", "surrogatepass") + data[position:]
        elif kind == "delete":
            data = data[:position] + data[position + draw(st.integers(1, 8)):]
        elif kind == "nest":  # deep flow nesting, far below where libyaml overflows (~20,000)
            depth = draw(st.one_of(st.integers(190, 210), st.integers(500, 3000)))
            data = data[:position] + b"[" * depth + b"x" + b"]" * depth + data[position:]
        elif kind == "bytes":
            extra = draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3", b"\xe2\x82", b"\x80",
                                          b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x00\x00"]))
            data = data[:position] + extra + data[position:]
        else:
            lines = data.split(b"\n")
            index = draw(st.integers(0, len(lines) - 1))
            if kind == "duplicate-line":  # duplicate keys
                lines.insert(index, lines[index])
            elif kind == "swap-lines":
                other = draw(st.integers(0, len(lines) - 1))
                lines[index], lines[other] = lines[other], lines[index]
            else:
                lines[index] = draw(st.sampled_from([b" ", b"  ", b"\t", b""])) + lines[index]
            data = b"\n".join(lines)
    return data


@st.composite
def manifest_trees(draw: Callable[..., Any]) -> dict[str, bytes]:
    """A small tree of mutated manifest files: {relative path: content}."""
    files: dict[str, bytes] = {}
    for number in range(draw(st.integers(1, 3))):
        name, docs = draw(st.sampled_from(MANIFEST_FILES))
        docs = copy.deepcopy(docs)
        if draw(st.integers(0, 3)) == 0:  # mix in documents of other files
            docs += copy.deepcopy(draw(st.lists(st.sampled_from(ALL_DOCS), max_size=3)))
        mutate_documents(draw, docs, draw(st.integers(0, 6)))
        suffix = draw(st.sampled_from([".yaml", ".yaml", ".yaml", ".yml", ".json"]))
        keep_name = name.startswith("kustomization") and suffix == ".yaml"
        path = f"{number}/{name}" if keep_name else f"f{number}{suffix}"
        files[path] = _dump(draw, docs, suffix)
        if draw(st.integers(0, 3)) == 0:
            files[path] = mutate_raw(draw, files[path])
    return files


def _write_tree(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return root


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------

_LABEL_TEXT = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1,
                      max_size=8)
_SMALL_TEXT = st.one_of(st.sampled_from(INTERESTING_STRINGS), st.text(max_size=10))


@st.composite
def valid_requests(draw: Callable[..., Any], workloads: list[str]) -> dict[str, Any]:
    """One request ``parse_request`` accepts, aimed at one of ``workloads`` or at labels."""
    request: dict[str, Any] = {}
    if workloads and draw(st.integers(0, 3)):
        request["to"] = {"workload": draw(st.sampled_from(workloads))}
    else:
        request["to"] = {"namespace": draw(st.sampled_from(["demo", "default", "istio-system",
                                                            "shop", "x"])),
                         "labels": draw(st.dictionaries(
                             st.sampled_from(["app", "version", "team"]),
                             st.one_of(_LABEL_TEXT, st.sampled_from(workloads or ["a"])),
                             max_size=2))}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "host": st.one_of(st.sampled_from(["example.com", "example.com:80", "a.demo:8000",
                                           "*.example.com", "[::1]:80", "EXAMPLE.COM"]),
                          _SMALL_TEXT),
        "method": st.one_of(st.sampled_from(["GET", "POST", "get", "DELETE", "PATCH",
                                             "CONNECT", "*"]), _SMALL_TEXT),
        "path": st.one_of(st.sampled_from(["/", "/headers", "/admin", "/admin/x", "/healthz",
                                           "/a/../admin", "/%61dmin", "/x?q=1", "//admin",
                                           "/ADMIN", "/status/200#frag"]), _SMALL_TEXT),
        "port": st.one_of(st.sampled_from([80, 443, 8000, 8080, 9000, 15021]),
                          st.integers(1, 65535)),
        "headers": st.dictionaries(st.one_of(st.sampled_from(["x-tenant", "X-Tenant", ":authority",
                                                              "user-agent"]), st.text(max_size=6)),
                                   _SMALL_TEXT, max_size=3),
        "sni": _SMALL_TEXT,
        "expect": st.sampled_from(["200", "401", "403", "ALLOW", "DENY", "UNKNOWN", "allow",
                                   200, 403, 401]),
        "jwt": st.fixed_dictionaries(
            {"issuer": st.one_of(st.sampled_from(ISSUERS), _SMALL_TEXT)},
            optional={"subject": _SMALL_TEXT,
                      "audiences": st.one_of(_SMALL_TEXT, st.lists(_SMALL_TEXT, max_size=3)),
                      "claims": st.dictionaries(
                          st.sampled_from(["groups", "scope", "nested", "iss", "sub", "aud",
                                           "exp", "roles"]), json_values, max_size=3),
                      "presenter": _SMALL_TEXT}),
        "source": st.fixed_dictionaries({}, optional={
            "principal": st.sampled_from(["cluster.local/ns/shop/sa/frontend",
                                          "cluster.local/ns/demo/sa/default",
                                          "spiffe://cluster.local/ns/a/sa/b", "", "*"]),
            "namespace": st.sampled_from(["demo", "shop", "istio-system", "other"]),
            "serviceAccount": st.sampled_from(["default", "frontend", "sleep"]),
            "ip": st.sampled_from(["10.0.0.7", "192.168.1.1", "::1", "2001:db8::1",
                                   "999.1.1.1", "not-an-ip", ""]),
            "remoteIp": st.sampled_from(["10.0.0.7", "1.2.3.4", "fe80::1", "bogus"])}),
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), unique=True)):
        request[key] = draw(optional[key])
    return request


def _damaged_request(draw: Callable[..., Any], workloads: list[str]) -> Any:
    """A request with random damage (it may still be valid): a golden or generated one."""
    if draw(st.booleans()):
        request = copy.deepcopy(draw(st.sampled_from(GOLDEN_REQUESTS)))
    else:
        request = draw(valid_requests(workloads))
    holder = [request]
    mutate_documents(draw, holder, draw(st.integers(1, 3)))
    if holder and isinstance(holder[0], dict) and draw(st.integers(0, 3)) == 0:
        holder[0][draw(st.sampled_from(["name", "to", "port", "jwt", "source", "headers",
                                        "expect", "namespace", "why", "unknown"]))] = \
            draw(json_values)
    return holder[0] if holder else None


@st.composite
def request_files(draw: Callable[..., Any], workloads: list[str]) -> tuple[str, bytes, bool]:
    """(file name, content, whether it is certainly valid) of a request file for manifests
    holding ``workloads``. Half are valid; the rest are damaged in the data (a damaged
    request, a duplicate name, a wrong top level) and/or in the text."""
    requests = draw(st.lists(valid_requests(workloads), max_size=5))
    data: Any = {"requests": requests}
    valid = draw(st.booleans())
    as_json = draw(st.integers(0, 4)) == 0
    if not valid:
        roll = draw(st.integers(0, 9))
        if roll == 0:
            data = draw(json_values)
        elif roll == 1:
            data["requests"] = draw(json_values)
        elif roll == 2:
            data["manifests"] = draw(st.one_of(json_values, st.just(["."])))
        elif roll == 3 and requests:  # duplicate request names
            for request in requests:
                request["name"] = "same"
        elif roll == 4:  # a lone surrogate: a JSON escape can carry one, YAML's cannot
            request = draw(valid_requests(workloads))
            request[draw(st.sampled_from(["name", "host", "method", "path", "sni"]))] = \
                draw(st.sampled_from(["\ud800", "/a\udc80", "\udfff\ud800"]))
            requests.append(request)
            as_json = True
        else:
            requests.insert(draw(st.integers(0, len(requests))),
                            _damaged_request(draw, workloads))
    if as_json:
        content = json.dumps(data, ensure_ascii=draw(st.booleans()), default=str).encode(
            "utf-8", "surrogatepass")
        name = "requests.json"
    else:
        content = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode(
            "utf-8", "surrogatepass")
        name = "requests.yaml"
    if not valid and draw(st.integers(0, 2)) == 0:
        content = mutate_raw(draw, content)
    return name, content, valid


# --------------------------------------------------------------------------------------------
# Running the CLI in-process
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _reuse_the_click_command() -> Iterator[None]:
    """Build typer's click command once instead of on every ``main`` call (half the cost of
    a small run); the command is stateless, so reusing it changes nothing else."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.main, "get_command", functools.cache(typer.main.get_command))
        yield


def run(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """``istiolint ARGS`` in-process: (exit code, stdout, stderr). The streams are UTF-8 with
    strict errors, like a real terminal's, so unencodable output counts as a crash."""
    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", errors="strict")
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", errors="strict")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        code = main(list(args))
    out.flush()
    err.flush()
    return code, out_bytes.getvalue().decode("utf-8"), err_bytes.getvalue().decode("utf-8")


def assert_clean(code: int, err: str, allowed: set[int], args: tuple[str, ...]) -> None:
    assert "Traceback" not in err and "internal error" not in err, (args, err)
    assert code in allowed, (code, args, err)
    if code == 2:
        assert err.startswith("istiolint: error: "), (args, err)


def _check_json(root: Path) -> None:
    args = ("check", "--isolated", "--no-git", "-f", "json", str(root))
    code, out, err = run(*args)
    event(f"check exit {code}")
    assert_clean(code, err, {0, 1}, args)
    report = json.loads(out)
    CONTRACTS["findings"].validate(report)
    for finding in report["findings"]:
        assert finding["line"] >= 1, finding
        assert (finding["end_line"], finding["end_column"]) >= \
            (finding["line"], finding["column"]), finding


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(files=manifest_trees())
def test_check_never_crashes_on_mutated_manifests(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        _check_json(_write_tree(Path(directory) / "tree", files))


@SETTINGS
@given(seed=st.sampled_from(RAW_SEEDS), data=st.data(),
       output_format=st.sampled_from(["json", "text", "sarif", "github", "gitlab", "junit",
                                      "markdown"]))
def test_check_never_crashes_on_damaged_text(seed: bytes, data: st.DataObject,
                                             output_format: str) -> None:
    content = mutate_raw(data.draw, seed)
    name = data.draw(st.sampled_from(["a.yaml", "a.yml", "a.json", "-"]))  # -: standard input
    fail_level = data.draw(st.sampled_from(["error", "warning", "info"]))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        if name != "-":
            path.write_bytes(content)
        args = ("check", "--isolated", "--no-git", "-f", output_format,
                "--fail-level", fail_level, "-" if name == "-" else str(path),
                "--stdin-filename", str(Path(directory) / "stdin.yaml"))
        code, out, err = run(*args, stdin=content if name == "-" else b"")
        event(f"check exit {code}")
        assert_clean(code, err, {0, 1}, args)
        if output_format == "json":
            CONTRACTS["findings"].validate(json.loads(out))
        elif output_format in ("sarif", "gitlab"):
            json.loads(out)


def _workloads(requests: list[dict[str, Any]]) -> list[str]:
    return sorted({r["to"]["workload"] for r in requests if "workload" in r.get("to", {})})


def _trim(manifests: list[Any], workloads: list[str]) -> list[Any]:
    """The documents that can matter to ``workloads``: theirs, and every one without a
    selector (namespace- and mesh-wide policies, namespaces). Keeps simulate fast."""
    names = [w.partition("/")[2] for w in workloads]
    kept = []
    for doc in manifests:
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
        scoped = any(k in spec for k in ("selector", "targetRef", "targetRefs"))
        if (doc.get("kind") in POLICY_KINDS and not scoped) or \
                doc.get("kind") == "Namespace" or any(n in json.dumps(doc) for n in names):
            kept.append(doc)
    return kept


@st.composite
def simulations(draw: Callable[..., Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """(mutated manifests, named valid requests) drawn from one scenario."""
    manifests, golden = draw(st.sampled_from(SCENARIOS))
    workloads = _workloads(golden)
    chosen = draw(st.lists(st.sampled_from(workloads), min_size=1, max_size=2, unique=True))
    docs = copy.deepcopy(_trim(manifests, chosen))
    policies = [d for d in docs if d.get("kind") in POLICY_KINDS]
    if policies and draw(st.integers(0, 4)):  # mostly mutate policies: the workloads remain
        mutate_documents(draw, policies, draw(st.integers(0, 5)))
        others = [d for d in docs if d.get("kind") not in POLICY_KINDS]
        docs = others + policies
    else:
        mutate_documents(draw, docs, draw(st.integers(0, 4)))
    requests = [copy.deepcopy(r) for r in golden
                if r.get("to", {}).get("workload") in chosen][:4]
    requests += draw(st.lists(valid_requests(chosen), max_size=4))
    for index, request in enumerate(requests):
        request["name"] = f"r{index}"
    return docs, requests


def _simulate(manifest: Path, requests: list[dict[str, Any]], target: Path) -> tuple[int, str]:
    target.write_text(yaml.safe_dump({"requests": requests}, allow_unicode=True),
                      encoding="utf-8")
    args = ("simulate", "--isolated", "-f", "json", str(manifest), "--requests", str(target))
    code, out, err = run(*args)
    event(f"simulate exit {code}")
    # the one usage error a valid request file can meet: its workload was mutated away
    assert_clean(code, err, {0, 2}, args)
    if code == 2:
        assert "is not in the manifests" in err, err
    else:
        CONTRACTS["simulate"].validate(json.loads(out))
    return code, out


@SETTINGS
@given(case=simulations(), shuffle_seed=st.integers(0, 2**32 - 1))
def test_simulate_is_deterministic_and_order_independent(
        case: tuple[list[Any], list[dict[str, Any]]], shuffle_seed: int) -> None:
    docs, requests = case
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        manifest = root / "manifests.yaml"
        manifest.write_bytes(yaml.safe_dump_all(docs, allow_unicode=True).encode(
            "utf-8", "surrogatepass"))
        code, first = _simulate(manifest, requests, root / "requests.yaml")
        again, second = _simulate(manifest, requests, root / "requests.yaml")
        assert (again, second) == (code, first)
        shuffled = list(requests)
        random.Random(shuffle_seed).shuffle(shuffled)
        other, third = _simulate(manifest, shuffled, root / "shuffled.yaml")
        assert other == code
    if code == 0:
        by_name = {r["name"]: r for r in json.loads(first)["results"]}
        assert [r["name"] for r in json.loads(first)["results"]] == [
            r["name"] for r in requests]
        assert {r["name"]: r for r in json.loads(third)["results"]} == by_name


# manifest directories and the workloads they hold
SIMULATED_TREES = {"examples/seed/step1": ["demo/httpbin"],
                   "examples/gitops": ["payments/payments", "shop/catalog", "storefront/web"],
                   "examples/mistakes": []}


@SETTINGS
@given(scenario=st.sampled_from(sorted(SIMULATED_TREES)), data=st.data(),
       output_format=st.sampled_from(["json", "text"]), verbose=st.booleans())
def test_simulate_takes_any_request_file_cleanly(scenario: str, data: st.DataObject,
                                                 output_format: str, verbose: bool) -> None:
    name, content, valid = data.draw(request_files(SIMULATED_TREES[scenario]))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(content)
        args = ("simulate", "--isolated", "-f", output_format, str(REPO / scenario),
                "--requests", str(path), *(["--verbose"] if verbose else []))
        code, out, err = run(*args)
        event(f"simulate exit {code} ({'valid' if valid else 'damaged'} requests)")
        assert_clean(code, err, {0} if valid else {0, 2}, args)
        if code == 0 and output_format == "json":
            CONTRACTS["simulate"].validate(json.loads(out))


@SETTINGS
@given(head=manifest_trees(), base=st.one_of(manifest_trees(), st.none()), data=st.data(),
       output_format=st.sampled_from(["json", "text", "markdown"]))
def test_diff_never_crashes_on_mutated_trees(head: dict[str, bytes],
                                            base: dict[str, bytes] | None,
                                            data: st.DataObject, output_format: str) -> None:
    if base is None:  # the same tree mutated a little further: a realistic change
        base = dict(head)
        path = data.draw(st.sampled_from(sorted(base)))
        try:
            docs = list(yaml.safe_load_all(base[path]))
        except (yaml.YAMLError, UnicodeDecodeError, RecursionError):  # damaged text
            docs = []
        if docs and _depth(docs) < MAX_DEPTH:
            mutate_documents(data.draw, docs, data.draw(st.integers(1, 3)))
            base[path] = _dump(data.draw, docs, ".yaml")
    fail_on = data.draw(st.lists(st.sampled_from(["widened", "narrowed", "access",
                                                  "new-findings"]), max_size=2))
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        args = ("diff", "--isolated", "--no-git", "-f", output_format,
                str(_write_tree(root / "head", head)), "--against",
                str(_write_tree(root / "base", base)),
                *(["--exit-code"] if data.draw(st.booleans()) else []),
                *[f"--fail-on={reason}" for reason in fail_on])
        code, out, err = run(*args)
        event(f"diff exit {code}")
        assert_clean(code, err, {0, 1}, args)
        if output_format == "json":
            CONTRACTS["diff"].validate(json.loads(out))
