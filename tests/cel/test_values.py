"""How instance values are typed against a schema node."""

from __future__ import annotations

from typing import Any

import pytest

from istiolint.cel.values import type_matches, value_types

SCHEMAS: list[dict[str, Any]] = [
    {}, {"type": "object"}, {"type": "array"}, {"type": "string"}, {"type": "integer"},
    {"type": "number"}, {"type": "boolean"}, {"type": "unknown"},
    {"x-kubernetes-int-or-string": True}, {"type": "string", "x-kubernetes-int-or-string": True},
]
VALUES: list[Any] = [{}, {"a": 1}, [], [1], "", "x", 0, 7, -1, 1.5, True, False]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_types_worked_out_once_match_as_type_matches_does(schema: dict[str, Any]) -> None:
    types = value_types(schema)
    for value in VALUES:
        expected = type_matches(schema, value)
        if types is None:
            assert expected, (schema, value)
        else:
            accepted = isinstance(value, types[0]) and not (types[1] and isinstance(value, bool))
            assert accepted == expected, (schema, value)
