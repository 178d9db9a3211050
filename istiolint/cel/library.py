"""The Kubernetes CEL environment, as cel-python functions.

Kubernetes evaluates CRD rules with cel-go, its ``ext.Strings`` extension and its own libraries
(``k8s.io/apiserver/pkg/cel/library``). The functions here give cel-python those semantics for
the calls Istio's rules make: ``url``/``isURL``/``getScheme`` (Go ``url.ParseRequestURI``),
``substring`` (code points, errors out of range), ``int(string)`` (``strconv.ParseInt``),
``duration(string)`` (``time.ParseDuration``), and the logical operators (the first error wins
when neither side decides the result, as in cel-go).

Every error text a function produces is also appended to ``errors``: cel-python replaces an
error that meets another error in ``&&`` inside a macro by a generic "no such overload", and the
evaluator uses the recorded text to report the original cause instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard, cast

from celpy import celtypes
from celpy.evaluation import CELEvalError, CELFunction, Result, base_functions

from istiolint.golang.durations import parse_duration
from istiolint.golang.errors import GoError
from istiolint.golang.strconv import parse_int
from istiolint.golang.urls import CEL_STRICT_COLONS, parse_request_uri

__all__ = ["KNOWN_FUNCTIONS", "Url", "kubernetes_functions"]


@dataclass(frozen=True)
class Url:
    """The value of ``url(s)``: the parts of the URL the rules read."""

    scheme: str


_NANOS = 1_000_000_000


def kubernetes_functions(errors: list[str]) -> dict[str, CELFunction]:
    """The function table to bind into every program; errors are recorded into ``errors``."""

    def fail(text: str) -> CELEvalError:
        errors.append(text)
        return CELEvalError(text)

    def url(arg: Result) -> Result:
        if not isinstance(arg, str):
            raise TypeError("no such overload")
        try:
            parsed = parse_request_uri(str(arg), strict_colons=CEL_STRICT_COLONS)
        except GoError as err:
            return fail(f"URL parse error during conversion from string: {err}")
        # An opaque value for cel-python: only getScheme() reads it.
        return cast(Result, Url(parsed.scheme))

    def is_url(arg: Result) -> Result:
        if not isinstance(arg, str):
            raise TypeError("no such overload")
        try:
            parse_request_uri(str(arg), strict_colons=CEL_STRICT_COLONS)
        except GoError:
            return celtypes.BoolType(False)
        return celtypes.BoolType(True)

    def get_scheme(arg: Result) -> Result:
        if not isinstance(arg, Url):
            raise TypeError("no such overload")
        return celtypes.StringType(arg.scheme)

    def substring(arg: Result, start: Result, end: Result | None = None) -> Result:
        if not (isinstance(arg, str) and _is_int(start) and (end is None or _is_int(end))):
            raise TypeError("no such overload")
        text = str(arg)  # Python indexes code points, as cel-go's []rune does
        first, last = int(start), len(text) if end is None else int(end)
        if first > last:
            return fail(f"invalid substring range. start: {first}, end: {last}")
        for index in (first, last):
            if not 0 <= index <= len(text):
                return fail(f"index out of range: {index}")
        return celtypes.StringType(text[first:last])

    def to_int(arg: Result) -> Result:
        if isinstance(arg, str):
            try:
                return celtypes.IntType(parse_int(str(arg)))
            except GoError:
                return fail("type conversion error from 'string' to 'int'")
        return celtypes.IntType(arg)

    def to_duration(arg: Result) -> Result:
        if isinstance(arg, str):
            try:
                seconds, nanos = divmod(parse_duration(str(arg)), _NANOS)
            except GoError:
                return fail("type conversion error from 'string' to 'google.protobuf.Duration'")
            return celtypes.DurationType(seconds, nanos)
        return celtypes.DurationType(arg)

    return {
        "url": url,
        "isURL": is_url,
        "getScheme": get_scheme,
        "substring": substring,
        "int": to_int,
        "duration": to_duration,
        "_&&_": _and,
        "_||_": _or,
        "!_": _not,
        "_?_:_": _conditional,
    }


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _and(left: Result, right: Result) -> Result:
    return _logical(left, right, decisive=False)


def _or(left: Result, right: Result) -> Result:
    return _logical(left, right, decisive=True)


def _truth(value: Result) -> bool | None:
    """The boolean a CEL bool stands for; None for anything else (errors included)."""
    return bool(value) if isinstance(value, (celtypes.BoolType, bool)) else None


def _logical(left: Result, right: Result, *, decisive: bool) -> Result:
    """cel-go's commutative ``&&`` (decisive False) and ``||`` (decisive True)."""
    truths = (_truth(left), _truth(right))
    if decisive in truths:
        return celtypes.BoolType(decisive)
    if None not in truths:
        return celtypes.BoolType(not decisive)
    for side in (left, right):
        if isinstance(side, CELEvalError):
            return side
    raise TypeError("no such overload")


def _not(arg: Result) -> Result:
    if isinstance(arg, CELEvalError):
        return arg
    truth = _truth(arg)
    if truth is None:
        raise TypeError("no such overload")
    return celtypes.BoolType(not truth)


def _conditional(cond: Result, when_true: Result, when_false: Result) -> Result:
    if isinstance(cond, CELEvalError):
        return cond
    truth = _truth(cond)
    if truth is None:
        raise TypeError("no such overload")
    return when_true if truth else when_false


_MACROS = frozenset({"has", "dyn", "all", "exists", "exists_one", "map", "filter"})

#: Names a rule may call; any other name means istiolint cannot evaluate the rule.
KNOWN_FUNCTIONS: frozenset[str] = (
    frozenset(base_functions) | frozenset(kubernetes_functions([])) | _MACROS
)
