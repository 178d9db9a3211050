"""Instance values converted to cel-python's types, typed by the structural schema as the API
server types them (see :mod:`istiolint.cel.values`)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from celpy import celtypes

from istiolint.cel.values import Schema, child_schema, key_text, pruned, type_matches

__all__ = ["to_cel"]


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
                if not pruned(sub_schema, item):
                    fields[celtypes.StringType(name)] = to_cel(sub_schema, item)
            return celtypes.MapType(fields)
        values_schema = child_schema(schema, "additionalProperties")
        return celtypes.MapType({
            celtypes.StringType(key_text(key)): to_cel(values_schema, item)
            for key, item in value.items()
            if not pruned(values_schema, item)
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
