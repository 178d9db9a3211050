"""Evaluate the CEL rules (``x-kubernetes-validations``) of CRD schemas as the API server does.

The API server walks the structural schema beside the object and, at every node whose value is
present, evaluates each rule with ``self`` bound to that value. A rule that yields false fails the
object with its ``message`` (``failed rule: <rule>`` without one); a runtime error fails it too.
Transition rules (those reading ``oldSelf``) only run on update and are skipped here.
``messageExpression`` is not evaluated: the static ``message`` is reported.

cel-python evaluates the rules (:mod:`istiolint.cel.runtime`, imported only when a rule must be
compiled or evaluated); :mod:`istiolint.cel.library` gives it the Kubernetes functions,
:mod:`istiolint.cel.convert` converts instances the way the API server types them, and
:mod:`istiolint.cel.parsed` holds the CRDs' rules parsed when the schemas were generated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from istiolint.cel.values import child_schema, key_text, value_types
from istiolint.golang.errors import GoError
from istiolint.golang.urls import CEL_STRICT_COLONS, parse_request_uri
from istiolint.schemas import subtree_has

if TYPE_CHECKING:
    from celpy import celtypes

    from istiolint.cel.parsed import ParsedRules
    from istiolint.cel.runtime import Runtime

__all__ = ["CANNOT_EVALUATE", "CelValidator", "CelViolation"]

#: Start of the message of a violation for a rule istiolint could not compile.
CANNOT_EVALUATE = "istiolint cannot evaluate CEL rule"

_STRING_LITERAL = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""")
_OLD_SELF = re.compile(r"\boldSelf\b")
_MAX_OUTCOMES = 100_000
_MAX_REMEMBERED = 20_000  # outcomes kept between runs
_MAX_REMEMBERED_KEY = 2_000
_SELF = re.compile(r"\bself\b(?:\s*\.\s*([A-Za-z_]\w*)(\s*\()?)?")
_HAS_SELF_FIELD = re.compile(r"\bhas\(\s*self\s*\.\s*([A-Za-z_]\w*)\s*\)")
_URL_OF_SELF = re.compile(r"\burl\(\s*self\s*\)")
_ABSENT = object()


class _Rule:
    """One rule of a schema node, read once: its text, its message, and what it observes."""

    __slots__ = ("fields", "message", "text", "url_only")

    def __init__(self, text: str, message: str) -> None:
        self.text = text
        self.message = message
        self.fields = observed_fields(text)
        self.url_only = observes_only_url(text)


class _Plan:
    """A schema node with rules at or below it: its rules, and the children that have some."""

    __slots__ = ("below_keys", "extra", "items", "named", "rules", "schema", "types")

    def __init__(self, schema: Mapping[str, Any], rules: tuple[_Rule, ...] | None,
                 named: dict[str, _Plan | None], extra: _Plan | None,
                 items: _Plan | None) -> None:
        self.schema = schema
        self.rules = rules
        self.named = named  # every property with a schema (one without rules: None)
        self.extra = extra  # additionalProperties, for the keys not named
        self.items = items
        self.below_keys = extra is not None or any(p is not None for p in named.values())
        self.types = value_types(schema)


@dataclass(frozen=True)
class CelViolation:
    """One rule that the API server would reject the instance for."""

    pointer: str  # RFC 6901 JSON pointer (relative to the instance root) of the rule's node
    message: str  # the rule's message, or "failed rule: <rule>";
    #               for runtime errors: "<message or rule>: <error text>"
    rule: str  # the CEL expression


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _is_transition_rule(rule: str) -> bool:
    return _OLD_SELF.search(_STRING_LITERAL.sub('""', rule)) is not None


def observed_fields(rule: str) -> tuple[tuple[str, bool], ...] | None:
    """The fields of ``self`` a rule can observe, each with "only its presence", or None when
    the rule uses ``self`` as a whole (``self.all(...)``, ``self.size()``, ``self``).

    Two values that agree on these fields give the same outcome, which lets policies that differ
    elsewhere share one evaluation.
    """
    code = _STRING_LITERAL.sub('""', rule)
    presence_only = {m.group(1) for m in _HAS_SELF_FIELD.finditer(code)}
    fields: dict[str, bool] = {}
    has_spans = [m.span() for m in _HAS_SELF_FIELD.finditer(code)]
    for match in _SELF.finditer(code):
        name, call = match.group(1), match.group(2)
        if name is None or call is not None:
            return None
        inside_has = any(start <= match.start() < end for start, end in has_spans)
        fields[name] = fields.get(name, True) and inside_has and name in presence_only
    return tuple(sorted(fields.items()))


def observes_only_url(rule: str) -> bool:
    """Whether a rule reads ``self`` only as ``url(self)``: then its outcome depends only on
    what ``url`` makes of the value (a scheme, or an error), which lets every URL of a scheme
    share one evaluation."""
    code = _STRING_LITERAL.sub('""', rule)
    return bool(_URL_OF_SELF.search(code)) and not _SELF.search(_URL_OF_SELF.sub("", code))


def _url_outcome(value: str) -> str:
    """What ``url(value)`` gives a rule: the scheme, or the text of its error."""
    try:
        return "scheme " + parse_request_uri(value, strict_colons=CEL_STRICT_COLONS).scheme
    except GoError as err:
        return f"error {err}"


def _presence(value: Mapping[str, Any], name: str) -> str:
    if name not in value:
        return "absent"
    return "null" if value[name] is None else "set"


class CelValidator:
    """Evaluates rules, remembering each outcome by what the rule can observe of the value.

    Rules are pure, and policies repeat values: ``outcomes`` from an earlier run (see
    :meth:`remembered`) answer most rules of a run without cel-python, which is imported only
    when a rule must really be compiled or evaluated."""

    def __init__(self, parsed: ParsedRules | None = None,
                 outcomes: Mapping[tuple[str, str], bool | str] | None = None) -> None:
        self._parsed = parsed
        self._runtime: Runtime | None = None
        # id(schema node) -> whether rules hang below it, and where; schemas outlive the
        # validator
        self._subtree_has_rules: dict[int, bool] = {}
        self._plans: dict[int, tuple[Mapping[str, Any], _Plan | None]] = {}
        # (rule, what the rule can observe of the value) -> outcome
        self._outcomes: dict[tuple[str, str], bool | str] = dict(outcomes or {})
        self._new = 0  # outcomes found by this validator

    def remembered(self) -> dict[tuple[str, str], bool | str]:
        """The outcomes worth keeping for later runs (bounded in number and key size)."""
        kept = [(key, outcome) for key, outcome in self._outcomes.items()
                if len(key[1]) <= _MAX_REMEMBERED_KEY]
        return dict(kept[-_MAX_REMEMBERED:])

    def learn(self, outcomes: Mapping[tuple[str, str], bool | str]) -> None:
        """Take outcomes found elsewhere (an earlier run's)."""
        for key, outcome in outcomes.items():
            self._outcomes.setdefault(key, outcome)

    @property
    def learned(self) -> bool:
        """Whether outcomes were added since the validator was made."""
        return self._new > 0

    def warm(self) -> None:
        """Import cel-python now (before work is shared out, so that it is imported once)."""
        self._cel()

    def _cel(self) -> Runtime:
        if self._runtime is None:
            from istiolint.cel.runtime import Runtime  # noqa: PLC0415

            self._runtime = Runtime(self._parsed)
        return self._runtime

    def violations(self, schema: Mapping[str, Any], instance: Any) -> list[CelViolation]:
        """Walk the (OpenAPI v3 structural) schema alongside the instance: at every schema
        node that has x-kubernetes-validations and whose instance value is present, evaluate each
        rule with `self` bound to that value. Recurse through `properties`, `items` (each list
        element) and `additionalProperties` (each map value). Skip subtrees whose instance type
        does not match the schema type (type errors are reported by another component).

        A rule istiolint cannot compile is reported once per call, at the first node carrying it,
        with a message starting with :data:`CANNOT_EVALUATE`.
        """
        found: list[CelViolation] = []
        plan = self._plan(schema)
        if plan is not None:
            self._walk(plan, instance, "", found, set())
        return found

    def _plan(self, schema: Mapping[str, Any]) -> _Plan | None:
        """Where the rules hang at and below ``schema`` (None: nowhere), worked out once per
        schema node: most subtrees carry none, and walking them would be most of the cost."""
        known = self._plans.get(id(schema))
        if known is not None and known[0] is schema:
            return known[1]
        plan = None
        if subtree_has(schema, lambda s: bool(s.get("x-kubernetes-validations")),
                       self._subtree_has_rules):
            rules = schema.get("x-kubernetes-validations")
            properties = schema.get("properties")
            named = {name: self._plan(sub) for name, sub in properties.items()
                     if isinstance(sub, dict)} if isinstance(properties, dict) else {}
            extra = child_schema(schema, "additionalProperties")
            items = child_schema(schema, "items")
            plan = _Plan(schema, self._rules(rules) if isinstance(rules, list) else None, named,
                         self._plan(extra) if extra is not None else None,
                         self._plan(items) if items is not None else None)
        self._plans[id(schema)] = (schema, plan)  # holding the node keeps its id its own
        return plan

    def _walk(self, plan: _Plan, value: Any, pointer: str, found: list[CelViolation],
              reported: set[str]) -> None:
        """At every node with rules whose value is present and of the schema's type, evaluate
        them; then go down ``properties`` (or ``additionalProperties``) and ``items``."""
        types = plan.types
        if value is None or (types is not None and (
                not isinstance(value, types[0]) or (types[1] and isinstance(value, bool)))):
            return
        if plan.rules is not None:
            self._check(plan.schema, value, pointer, plan.rules, found, reported)
        if isinstance(value, dict):
            if not plan.below_keys:
                return
            named, extra = plan.named, plan.extra
            for key, item in value.items():
                name = key if type(key) is str else key_text(key)
                sub = named.get(name, extra)  # a named property without rules: None
                if sub is not None:
                    self._walk(sub, item, f"{pointer}/{_pointer_token(name)}", found, reported)
        elif isinstance(value, list) and plan.items is not None:
            for index, item in enumerate(value):
                self._walk(plan.items, item, f"{pointer}/{index}", found, reported)

    def _check(
        self,
        schema: Mapping[str, Any],
        value: Any,
        pointer: str,
        rules: tuple[_Rule, ...],
        found: list[CelViolation],
        reported: set[str],
    ) -> None:
        cel_value: celtypes.Value | None = None
        whole_key: str | None = None
        for entry in rules:
            rule = entry.text
            value_key = _value_key(entry, value)
            if value_key is None:
                whole_key = whole_key or repr(value)
                value_key = whole_key
            outcome = self._outcomes.get((rule, value_key))
            if outcome is None:  # only a rule that compiles has outcomes
                program = self._cel().program(rule)
                if isinstance(program, str):
                    if rule not in reported:
                        reported.add(rule)
                        found.append(CelViolation(pointer, f"{CANNOT_EVALUATE}: {program}",
                                                  rule))
                    continue
                if len(self._outcomes) >= _MAX_OUTCOMES:
                    self._outcomes.clear()
                if cel_value is None:
                    try:
                        cel_value = self._cel().value(schema, value)
                    except (ValueError, OverflowError):  # past CEL's 64-bit integers: the
                        return  # value's type or range is reported by the schema check
                outcome = self._outcomes[rule, value_key] = self._cel().run(program, cel_value)
                self._new += 1
            if outcome is True:
                continue
            if outcome is False:
                text = entry.message or f"failed rule: {rule.strip()}"
            else:
                text = f"{entry.message or rule.strip()}: {outcome}"
            found.append(CelViolation(pointer, text, rule))

    def _rules(self, entries: list[Any]) -> tuple[_Rule, ...] | None:
        """The rules of a node that run on create (transition rules, and entries without a
        rule, are left out); None when none does."""
        rules = []
        for entry in entries:
            rule = entry.get("rule") if isinstance(entry, dict) else None
            if not isinstance(rule, str) or _is_transition_rule(rule):
                continue
            message = entry.get("message")
            rules.append(_Rule(rule, message.strip() if isinstance(message, str) else ""))
        return tuple(rules) or None


def _value_key(rule: _Rule, value: Any) -> str | None:
    """What the rule can observe of the value, as text (None: all of it)."""
    if rule.url_only and isinstance(value, str):
        return _url_outcome(value)
    fields = rule.fields
    if fields is None or not isinstance(value, dict):
        return None
    return repr([(name, _presence(value, name) if presence else value.get(name, _ABSENT))
                 for name, presence in fields])
