"""Object changes: added, removed, renamed and modified objects, with field-level changes.

Lists are compared as sets (every list in the kinds istiolint reads is unordered in meaning:
rules, sources, values, ports), pairing similar items so that a value added deep inside a
reordered rule shows as that one value. Paths of removed fields are in the base object, the
others in the head object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from istiolint.diffing.normalize import ObjectKey, normalized_object, object_key
from istiolint.kyma.generated import generated_from_apirule
from istiolint.positions import join_pointer
from istiolint.resources import Resource

ADDED, REMOVED, MODIFIED, RENAMED = "added", "removed", "modified", "renamed"
_REPORTS = {
    "values_changed": "changed", "type_changes": "changed",
    "dictionary_item_added": ADDED, "iterable_item_added": ADDED,
    "dictionary_item_removed": REMOVED, "iterable_item_removed": REMOVED,
}


@dataclass(frozen=True)
class FieldChange:
    change: str  # added, removed or changed
    path: tuple[str | int, ...]
    before: Any = None
    after: Any = None

    @property
    def pointer(self) -> str:
        return join_pointer("", *self.path)

    @property
    def dotted(self) -> str:
        out = ""
        for step in self.path:
            out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
        return out


@dataclass(frozen=True)
class ObjectChange:
    change: str
    key: ObjectKey
    before: Resource | None
    after: Resource | None
    renamed_from: ObjectKey | None = None
    fields: Sequence[FieldChange] = field(default_factory=tuple)


# Pairing the items of unordered lists compares every item with every other (recursively, so
# the work multiplies with every level of lists in lists), and DeepDiff's cost grows with every
# change. Objects larger than MAX_COMPARED_NODES are compared key by key at the top; objects
# whose pairing would cost more than MAX_PAIRING_WORK are compared with their lists sorted by
# content (same items, maybe less neat pairs), so that whatever a pull request holds costs
# little. Real policies stay far below both.
MAX_COMPARED_NODES = 5_000
MAX_PAIRING_WORK = 20_000


def _nodes(value: Any) -> int:
    """How many values ``value`` holds, counting no further than the limit."""
    pending = [value]
    nodes = 0
    while pending and nodes <= MAX_COMPARED_NODES:
        node = pending.pop()
        nodes += 1
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return nodes


def _pairing_work(value: Any) -> int:
    """An upper bound of the comparisons pairing costs: a list compares each pair of items."""
    if isinstance(value, dict):
        return 1 + sum(_pairing_work(child) for child in value.values())
    if isinstance(value, list):
        children = [_pairing_work(child) for child in value]
        return 1 + sum(children) + len(value) ** 2 * max(children, default=0)
    return 1


def _sorted_lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_lists(child) for key, child in value.items()}
    if isinstance(value, list):
        children = [_sorted_lists(child) for child in value]
        return sorted(children, key=lambda child: json.dumps(child, sort_keys=True, default=str))
    return value


def _summary(value: Any) -> Any:
    return value if _nodes(value) <= 1 else \
        f"({type(value).__name__} too large to compare field by field)"


def _field_changes(before: Any, after: Any) -> list[FieldChange]:
    if max(_nodes(before), _nodes(after)) > MAX_COMPARED_NODES and \
            isinstance(before, dict) and isinstance(after, dict):
        return [FieldChange("changed", (key,), _summary(before.get(key)), _summary(after.get(key)))
                for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
    if max(_pairing_work(before), _pairing_work(after)) <= MAX_PAIRING_WORK:
        found = DeepDiff(before, after, ignore_order=True, view="tree",
                         cutoff_intersection_for_pairs=1)
    else:
        found = DeepDiff(_sorted_lists(before), _sorted_lists(after), view="tree")
    changes = []
    for report, levels in found.items():
        change = _REPORTS.get(report)
        if change is None:
            continue
        for level in levels:
            path = level.path(output_format="list", use_t2=change != REMOVED)
            changes.append(FieldChange(
                change, tuple(path),
                None if change == ADDED else level.t1, None if change == REMOVED else level.t2))
    return sorted(changes, key=lambda c: [str(step) for step in c.path])


def _without_name(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = {k: v for k, v in obj.get("metadata", {}).items() if k != "name"}
    return {**obj, "metadata": metadata}


def _by_key(resources: Iterable[Resource]) -> dict[ObjectKey, Resource]:
    """The objects people write, by key: not those api-gateway generates from APIRules (the
    APIRule is compared; its policies count in the access comparison)."""
    found: dict[ObjectKey, Resource] = {}
    for resource in resources:
        if not generated_from_apirule(resource):
            found.setdefault(object_key(resource), resource)  # duplicates: a check finding
    return found


def object_changes(base: Iterable[Resource], head: Iterable[Resource], *,
                   base_is_cluster: bool = False) -> list[ObjectChange]:
    """When the base is a live cluster, objects the head does not declare are only reported for
    the security kinds (the rest are the cluster's own), and versions are not compared (the
    API server answers in its preferred version whatever was applied)."""
    before, after = _by_key(base), _by_key(head)
    changes: list[ObjectChange] = []
    removed = [k for k in before if k not in after and
               (not base_is_cluster or before[k].group.endswith(".istio.io"))]
    added = [k for k in after if k not in before]
    for key in added:
        shape = _without_name(normalized_object(after[key]))
        twin = next((old for old in removed if (old.group, old.kind) == (key.group, key.kind)
                     and _without_name(normalized_object(before[old])) == shape), None)
        if twin is not None:
            removed.remove(twin)
            changes.append(ObjectChange(RENAMED, key, before[twin], after[key], twin))
        else:
            changes.append(ObjectChange(ADDED, key, None, after[key]))
    changes += [ObjectChange(REMOVED, key, before[key], None) for key in removed]
    for key in before.keys() & after.keys():
        old, new = before[key], after[key]
        if old is new or old.obj == new.obj:  # an unchanged file is shared by both sides
            continue
        old_object, new_object = normalized_object(old), normalized_object(new)
        if base_is_cluster:
            old_object["apiVersion"] = new_object.get("apiVersion")
        if old_object != new_object:
            changes.append(ObjectChange(MODIFIED, key, old, new,
                                        fields=_field_changes(old_object, new_object)))
    return sorted(changes, key=lambda c: (c.key, c.change))
