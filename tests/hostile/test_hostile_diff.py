"""diff on objects built to make field comparison explode: lists nested in lists (pairing
unordered items multiplies with every level) and huge objects finish in bounded time, and
still say what changed."""

from __future__ import annotations

import time
from typing import Any

import pytest

from istiolint.diffing.objects import MAX_COMPARED_NODES, _field_changes


def _nested(depth: int, width: int, salt: int) -> Any:
    if depth == 0:
        return {"v": salt}
    return [_nested(depth - 1, width, salt * 7 + index) for index in range(width)]


@pytest.mark.parametrize(("depth", "width"), [(3, 10), (4, 5), (2, 30), (6, 4), (1, 1000)])
def test_nested_lists_compare_in_bounded_time(depth: int, width: int) -> None:
    before = {"spec": {"rules": _nested(depth, width, 0)}}
    after = {"spec": {"rules": _nested(depth, width, 1)}}
    start = time.perf_counter()
    changes = _field_changes(before, after)
    assert time.perf_counter() - start < 5  # unbounded pairing took minutes (3, 10: 85 s)
    assert changes and all(c.path[:2] == ("spec", "rules") or c.path == ("spec",)
                           for c in changes)


def test_a_huge_object_is_compared_key_by_key() -> None:
    before = {"kind": "ConfigMap", "data": {f"k{i}": str(i) for i in range(MAX_COMPARED_NODES)}}
    after = {"kind": "ConfigMap", "data": {**before["data"], "k1": "changed"}}
    (change,) = _field_changes(before, after)
    assert change.path == ("data",) and "too large" in str(change.after)


def test_real_policies_keep_their_pairing() -> None:
    """A value added inside a reordered rule is still that one value."""
    rule = {"from": [{"source": {"principals": ["a", "b"]}}], "to": [{"operation": {
        "methods": ["GET"]}}]}
    other = {"to": [{"operation": {"paths": ["/x"]}}]}
    widened = {**rule, "to": [{"operation": {"methods": ["GET", "POST"]}}]}
    (change,) = _field_changes({"spec": {"rules": [rule, other]}},
                               {"spec": {"rules": [other, widened]}})
    assert (change.change, change.after) == ("added", "POST")
