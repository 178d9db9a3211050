"""What the Kubernetes API server rejects: the Istio CRD schemas, their CEL rules, metadata."""

from __future__ import annotations

import difflib
import functools
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from istiolint.context import CheckContext
from istiolint.documents import TYPE_WORDS, schema_type
from istiolint.positions import join_pointer, pointer_from_path, pointer_to_dotted
from istiolint.resources import Resource
from istiolint.rules import Detection, builtin_rules
from istiolint.schemas import SchemaStore, subtree_has

if TYPE_CHECKING:
    import jsonschema

    from istiolint.cel import CelValidator

UNKNOWN_FIELD, WRONG_TYPE, INVALID_VALUE, MISSING_FIELD = "SC001", "SC002", "SC003", "SC004"
CEL_RULE, UNKNOWN_KIND, INVALID_METADATA = "SC005", "SC006", "SC007"

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    options = list(candidates)
    folded: dict[str, str] = {}
    for candidate in sorted(options, key=lambda c: "_" in c):  # prefer camelCase spellings
        folded.setdefault(candidate.lower().replace("_", ""), candidate)
    exact = folded.get(word.lower().replace("_", "").replace("-", ""))
    if exact is not None:
        return exact
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.75)
    return close[0] if close else None


def _hint(suggestion: str | None) -> str:
    return f'; did you mean "{suggestion}"?' if suggestion else ""


def _expected(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(TYPE_WORDS.get(t, t) for t in names if t != "null")


class SchemaCheck:
    per_source = True
    rules = builtin_rules(UNKNOWN_FIELD, WRONG_TYPE, INVALID_VALUE, MISSING_FIELD, CEL_RULE,
                          UNKNOWN_KIND, INVALID_METADATA)

    def __init__(self) -> None:
        # compiled CEL programs and schema facts, kept across runs (one run per file) for the
        # schemas they were computed from; holding the store keeps its node ids meaningful
        self._cached_for: SchemaStore | None = None
        self._cel: CelValidator | None = None
        self._list_types: dict[int, bool] = {}
        self._outcomes: dict[tuple[str, str], bool | str] = {}  # remembered from earlier runs

    def remember(self, state: object) -> None:
        """Take the CEL outcomes an earlier run found (see :meth:`remembered`)."""
        if isinstance(state, dict):
            self._outcomes = state
            if self._cel is not None:
                self._cel.learn(state)

    def remembered(self) -> object:
        """What is worth keeping for later runs: the CEL outcomes, when new ones were found."""
        return self._cel.remembered() if self._cel is not None and self._cel.learned else None

    def prepare(self, store: SchemaStore) -> None:
        """Import cel-python and compile the security kinds' schemas (the ones most trees
        hold) once, before the work is shared out."""
        self._cel_for(store).warm()
        for (group, kind), info in store.kinds.items():
            if group == "security.istio.io":
                for version in info.versions:
                    store.surely_valid(group, kind, version, {})

    def _cel_for(self, store: SchemaStore) -> CelValidator:
        if self._cel is None or self._cached_for is not store:
            # cel-python takes 0.15 s to import: a run whose results are cached never pays it
            from istiolint.cel import CelValidator  # noqa: PLC0415
            from istiolint.cel.parsed import FILE_NAME, ParsedRules  # noqa: PLC0415

            self._cached_for, self._list_types = store, {}
            self._cel = CelValidator(ParsedRules(store.root / FILE_NAME), self._outcomes)
        return self._cel

    def run(self, context: CheckContext) -> Iterator[Detection]:
        store = context.schemas
        cel, list_types = self._cel_for(store), self._list_types
        for resource in context.resources:
            if not resource.is_istio() and resource.group not in store.groups:
                continue
            info = store.kinds.get((resource.group, resource.kind))
            if info is None:
                if resource.group in store.groups:
                    known = store.kinds_in_group(resource.group)
                    release = f" (Istio {store.istio_version})" if resource.is_istio() else ""
                    yield Detection(UNKNOWN_KIND, resource, "/kind", {
                        "problem": f'kind "{resource.kind}" does not exist in API group '
                                   f"{resource.group}{release}"
                                   + _hint(did_you_mean(resource.kind, known))})
                continue
            if resource.version not in info.versions:
                server = f"Istio {store.istio_version}" if info.is_istio else \
                    f"The {resource.kind} CRD"
                yield Detection(UNKNOWN_KIND, resource, "/apiVersion", {
                    "problem": f"{server} does not serve "
                               f"{resource.ref.api_version} for {resource.kind}; served versions: "
                               + ", ".join(f"{info.group}/{v}" for v in info.versions)})
                continue
            gvk = resource.group, resource.kind, resource.version
            if not store.surely_valid(*gvk, resource.obj):
                with warnings.catch_warnings():
                    # CRD patterns are Go (RE2) syntax; Python's re warns about some ("[[")
                    warnings.simplefilter("ignore", FutureWarning)
                    errors = sorted(store.validator(*gvk).iter_errors(resource.obj),
                                    key=lambda e: [str(p) for p in e.absolute_path])
                for error in errors:
                    yield from _describe(resource, error)
            schema = store.schema(*gvk)
            if _has_list_types(schema, list_types):
                yield from _duplicate_list_entries(resource, schema, resource.obj, "",
                                                   list_types)
            for violation in cel.violations(schema, resource.obj):
                yield Detection(CEL_RULE, resource, violation.pointer, {
                    "field": pointer_to_dotted(violation.pointer) or "the object",
                    "problem": violation.message, "rule": violation.rule})
            yield from _metadata_problems(resource)


def _describe(resource: Resource, error: jsonschema.ValidationError) -> Iterator[Detection]:
    pointer = pointer_from_path(error.absolute_path)
    field = pointer_to_dotted(pointer) or "the object"
    kind, instance = str(error.validator), error.instance
    expected: Any = error.validator_value
    schema: Any = error.schema
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        for key in instance:
            if key not in known:
                child = join_pointer(pointer, key)
                yield Detection(UNKNOWN_FIELD, resource, child, {
                    "field": pointer_to_dotted(child), "hint": _hint(did_you_mean(key, known))})
    elif kind == "type":
        yield Detection(WRONG_TYPE, resource, pointer, {
            "field": field, "expected": _expected(expected),
            "actual": TYPE_WORDS[schema_type(instance)]})
    elif kind == "required" and isinstance(instance, dict):
        for name in expected:
            if name not in instance:
                yield Detection(MISSING_FIELD, resource, pointer, {
                    "field": pointer_to_dotted(join_pointer(pointer, name))})
    elif kind == "enum":
        choices = ", ".join(f'"{c}"' for c in expected)
        suggestion = did_you_mean(str(instance), [str(c) for c in expected])
        yield Detection(INVALID_VALUE, resource, pointer, {
            "field": field, "problem": f"unsupported value {_quote(instance)}; supported values: "
                                       f"{choices}{_hint(suggestion)}"})
    elif kind == "anyOf" and all(set(s) <= {"type"} for s in expected):
        yield Detection(WRONG_TYPE, resource, pointer, {
            "field": field, "expected": _expected([s["type"] for s in expected]),
            "actual": TYPE_WORDS[schema_type(instance)]})
    else:
        yield Detection(INVALID_VALUE, resource, pointer, {
            "field": field, "problem": _constraint_problem(kind, expected, instance,
                                                          error.message)})


def _has_list_types(schema: Any, memo: dict[int, bool]) -> bool:
    return subtree_has(schema, lambda s: s.get("x-kubernetes-list-type") in ("set", "map"), memo)


def _duplicate_list_entries(resource: Resource, schema: Mapping[str, Any], value: Any,
                            pointer: str, memo: dict[int, bool]) -> Iterator[Detection]:
    """``x-kubernetes-list-type: set|map``: the API server rejects repeated items (sets) and
    items that repeat the list's map keys (maps)."""
    if not _has_list_types(schema, memo):
        return
    if isinstance(value, list):
        items = schema.get("items")
        list_type = schema.get("x-kubernetes-list-type")
        keys = schema.get("x-kubernetes-list-map-keys") or ()
        seen: set[str] = set()
        for index, item in enumerate(value):
            child = join_pointer(pointer, index)
            if list_type in ("set", "map"):
                identity = (repr(item) if list_type == "set" or not isinstance(item, dict)
                            else repr([item.get(k) for k in keys]))
                if identity in seen:
                    what = _quote(item) if list_type == "set" else ", ".join(
                        f"{k}={_quote(item.get(k))}" for k in keys)
                    yield Detection(INVALID_VALUE, resource, child, {
                        "field": pointer_to_dotted(child), "problem": f"duplicate value ({what})"})
                seen.add(identity)
            if isinstance(items, dict):
                yield from _duplicate_list_entries(resource, items, item, child, memo)
    elif isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key) if isinstance(properties, dict) else None
            sub = sub if isinstance(sub, dict) else extra
            if isinstance(sub, dict):
                yield from _duplicate_list_entries(resource, sub, item, join_pointer(pointer, key),
                                                   memo)


def _quote(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _constraint_problem(kind: str, expected: Any, instance: Any, fallback: str) -> str:
    problems = {
        "pattern": f"{_quote(instance)} does not match the pattern '{expected}'",
        "maxLength": f"may not be longer than {expected} characters",
        "minLength": f"must be at least {expected} character{'s' if expected != 1 else ''} long",
        "maxItems": f"must have at most {expected} items",
        "minItems": f"must have at least {expected} item{'s' if expected != 1 else ''}",
        "maximum": f"must be less than or equal to {expected}",
        "minimum": f"must be greater than or equal to {expected}",
        "maxProperties": f"must have at most {expected} entries",
        "minProperties": f"must have at least {expected} entr{'ies' if expected != 1 else 'y'}",
    }
    if kind in problems:
        return problems[kind]
    if kind == "oneOf" and isinstance(instance, dict):
        fields = sorted({name for branch in expected for name in _required_in(branch)})
        present = [name for name in fields if name in instance]
        if len(present) > 1:
            return f"only one of {', '.join(present)} may be set"
    return fallback


def _required_in(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        yield from schema.get("required", ())
        for key in ("not", "anyOf", "oneOf", "allOf"):
            value = schema.get(key)
            for sub in value if isinstance(value, list) else [value]:
                yield from _required_in(sub)


def _metadata_problems(resource: Resource) -> Iterator[Detection]:
    metadata = resource.metadata
    name = metadata.get("name")
    if isinstance(name, str) and (len(name) > 253 or not _DNS_SUBDOMAIN.match(name)):
        yield Detection(INVALID_METADATA, resource, "/metadata/name", {
            "problem": f'name "{name}" must be a lowercase RFC 1123 subdomain: lowercase letters, '
                       "digits, '-' and '.', starting and ending with a letter or digit, "
                       "at most 253 characters"})
    namespace = metadata.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or len(namespace) > 63
                                  or not _DNS_LABEL.match(namespace)):
        yield Detection(INVALID_METADATA, resource, "/metadata/namespace", {
            "problem": f"namespace {_quote(namespace)} must be a lowercase RFC 1123 label: "
                       "lowercase letters, digits and '-', at most 63 characters"})
    for section in ("labels", "annotations"):
        entries = metadata.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            yield Detection(INVALID_METADATA, resource, f"/metadata/{section}", {
                "problem": f"{section} must be a map of strings"})
            continue
        for key, value in entries.items():
            problem = _key_problem(key) or _value_problem(section, value)
            if problem:
                yield Detection(INVALID_METADATA, resource,
                                join_pointer("", "metadata", section, key), {
                                    "problem": f"{section[:-1]} {_quote(key)}: {problem}"})


@functools.lru_cache(maxsize=4096)  # trees repeat their label and annotation keys
def _key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "the prefix must be a lowercase RFC 1123 subdomain"
    if len(name) > 63 or not _LABEL_NAME.match(name):
        return ("the name must be at most 63 characters: letters, digits, '-', '_' and '.', "
                "starting and ending with a letter or digit")
    return None


def _value_problem(section: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"the value must be a string, not {TYPE_WORDS[schema_type(value)]} (quote it)"
    if section == "labels" and value and (len(value) > 63 or not _LABEL_NAME.match(value)):
        return ("a label value must be at most 63 characters: letters, digits, '-', '_' and "
                "'.', starting and ending with a letter or digit")
    return None
