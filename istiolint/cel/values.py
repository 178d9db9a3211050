"""Instance values as the Kubernetes API server hands them to CEL (the conversion itself is in
:mod:`istiolint.cel.convert`, which imports cel-python).

The API server decodes JSON, prunes nulls of non-nullable fields and unknown fields, and types
values by the structural schema (``number`` is a double even when written ``1``). YAML adds what
kubectl's YAML-to-JSON step changes: non-string map keys become strings (``8080:`` is ``"8080"``),
dates become strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["child_schema", "key_text", "pruned", "type_matches", "value_types"]

Schema = Mapping[str, Any]


def key_text(key: object) -> str:
    """A map key as the JSON text kubectl sends."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def child_schema(schema: Schema, keyword: str) -> Schema | None:
    """``properties`` entries, ``items`` or ``additionalProperties``; booleans mean no schema."""
    child = schema.get(keyword)
    return child if isinstance(child, Mapping) else None


def type_matches(schema: Schema, value: object) -> bool:
    """Whether a non-null value has the schema's type (no type, or int-or-string, is lenient)."""
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, (int, str)) and not isinstance(value, bool)
    expected = schema.get("type")
    if expected == "object":
        return isinstance(value, dict)
    if expected == "array":
        return isinstance(value, list)
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    return True


_TYPES: dict[object, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,),
    "number": (int, float), "boolean": (bool,)}


def value_types(schema: Schema) -> tuple[tuple[type, ...], bool] | None:
    """:func:`type_matches` worked out once per schema node: the Python types a value may have,
    and whether a bool is refused among them; None when any value matches."""
    if schema.get("x-kubernetes-int-or-string"):
        return (int, str), True
    types = _TYPES.get(schema.get("type"))
    if types is None:
        return None
    return types, types != (bool,)


def pruned(schema: Schema | None, value: object) -> bool:
    return value is None and not (schema is not None and schema.get("nullable"))
