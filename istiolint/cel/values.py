"""Instance values as the Kubernetes API server hands them to CEL.

The API server decodes JSON, prunes nulls of non-nullable fields and unknown fields, and types
values by the structural schema (``number`` is a double even when written ``1``). YAML adds what
kubectl's YAML-to-JSON step changes: non-string map keys become strings (``8080:`` is ``"8080"``),
dates become strings.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from celpy import celtypes

__all__ = ["child_schema", "key_text", "to_cel", "type_matches"]

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


def _pruned(schema: Schema | None, value: object) -> bool:
    return value is None and not (schema is not None and schema.get("nullable"))


def to_cel(schema: Schema | None, value: Any) -> celtypes.Value:
    """Convert ``value`` for CEL, typed by ``schema`` where it matches (see module doc)."""
    if schema is None or value is None or not type_matches(schema, value):
        return _generic(value)
    if isinstance(value, Mapping):
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            keep_unknown = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
            fields: dict[celtypes.Value, celtypes.Value] = {}
            for key, item in value.items():
                name = key_text(key)
                sub = properties.get(name)
                if not isinstance(sub, Mapping) and not keep_unknown:
                    continue  # unknown fields are pruned
                sub_schema = sub if isinstance(sub, Mapping) else None
                if not _pruned(sub_schema, item):
                    fields[celtypes.StringType(name)] = to_cel(sub_schema, item)
            return celtypes.MapType(fields)
        values_schema = child_schema(schema, "additionalProperties")
        return celtypes.MapType({
            celtypes.StringType(key_text(key)): to_cel(values_schema, item)
            for key, item in value.items()
            if not _pruned(values_schema, item)
        })
    if isinstance(value, list):
        items_schema = child_schema(schema, "items")
        return celtypes.ListType([to_cel(items_schema, item) for item in value])
    if schema.get("type") == "number":
        return celtypes.DoubleType(float(value))
    return _generic(value)


def _generic(value: Any) -> celtypes.Value:
    """Convert without a schema (or against a schema the value does not match)."""
    if value is None:
        return None  # cel-python's null
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, Mapping):
        return celtypes.MapType({
            celtypes.StringType(key_text(key)): _generic(item) for key, item in value.items()
        })
    if isinstance(value, (list, tuple)):
        return celtypes.ListType([_generic(item) for item in value])
    if isinstance(value, (datetime.date, datetime.datetime)):
        return celtypes.StringType(value.isoformat())
    return celtypes.StringType(str(value))
