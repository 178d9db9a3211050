"""Reading the fields of an APIRule that may hold any JSON type.

An APIRule may come from hostile YAML: any field can be null, a number, a list or a map where a
string is expected. The reader hands back what is well typed, each value with the pointer it was
read from, and records a problem for everything else, so the expansion never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from istiolint.documents import TYPE_WORDS, schema_type
from istiolint.kyma.expansion import ExpansionProblem
from istiolint.positions import join_pointer, pointer_to_dotted

# No APIRule needs more; the cap bounds the work (and the notPaths, quadratic in the rules)
# that a hostile document can cause.
MAX_LIST_ITEMS = 1000

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Sourced(Generic[T_co]):
    """A value and the JSON pointer inside the APIRule it comes from."""

    value: T_co
    pointer: str


@dataclass(frozen=True)
class StringList:
    """A list of strings read from the APIRule."""

    pointer: str
    items: tuple[Sourced[str], ...]
    complete: bool  # False when entries were left out (not strings, or beyond the cap)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(item.value for item in self.items)


def _field_name(pointer: str) -> str:
    return pointer_to_dotted(pointer) or "the APIRule"


class FieldReader:
    """Reads fields and collects the problems: each method takes the consequence of a bad value
    ("the rule is not expanded") so that the problem says what the reader does about it."""

    def __init__(self) -> None:
        self._problems: list[ExpansionProblem] = []

    def problems(self) -> tuple[ExpansionProblem, ...]:
        return tuple(dict.fromkeys(self._problems))

    def report(self, pointer: str, message: str) -> None:
        self._problems.append(ExpansionProblem(pointer, message))

    def field(self, parent: Sourced[Mapping[str, Any]], key: str, consequence: str, *,
              required: bool = False) -> Sourced[Any] | None:
        """The value under ``key``; null counts as absent, as the API server drops it."""
        value = parent.value.get(key)
        if value is None:
            if required:
                self.report(parent.pointer, f"{_field_name(join_pointer(parent.pointer, key))} "
                                            f"is missing: {consequence}")
            return None
        return Sourced(value, join_pointer(parent.pointer, key))

    def mapping(self, parent: Sourced[Mapping[str, Any]], key: str, consequence: str, *,
                required: bool = False) -> Sourced[Mapping[str, Any]] | None:
        value = self.field(parent, key, consequence, required=required)
        return None if value is None else self.as_mapping(value, consequence)

    def string(self, parent: Sourced[Mapping[str, Any]], key: str, consequence: str, *,
               required: bool = False) -> Sourced[str] | None:
        value = self.field(parent, key, consequence, required=required)
        return None if value is None else self.as_string(value, consequence)

    def sequence(self, parent: Sourced[Mapping[str, Any]], key: str, consequence: str, *,
                 required: bool = False) -> tuple[Sourced[Any], ...] | None:
        """The entries of a list (at most MAX_LIST_ITEMS), each with its pointer."""
        value = self.field(parent, key, consequence, required=required)
        if value is None or not self._is(value, isinstance(value.value, list), "a list",
                                         consequence):
            return None
        entries = value.value
        if len(entries) > MAX_LIST_ITEMS:
            self.report(value.pointer, f"{_field_name(value.pointer)} has {len(entries)} entries: "
                                       f"only the first {MAX_LIST_ITEMS} are expanded")
        return tuple(Sourced(entry, join_pointer(value.pointer, index))
                     for index, entry in enumerate(entries[:MAX_LIST_ITEMS]))

    def strings(self, parent: Sourced[Mapping[str, Any]], key: str, consequence: str, *,
                required: bool = False, left_out: str = "the entry is left out"
                ) -> StringList | None:
        """A list of strings; an entry that is not a string is reported (with ``left_out``, the
        consequence of leaving it out) and left out."""
        entries = self.sequence(parent, key, consequence, required=required)
        if entries is None:
            return None
        items = tuple(item for entry in entries
                      if (item := self.as_string(entry, left_out)) is not None)
        complete = len(items) == len(entries) == len(parent.value[key])
        return StringList(join_pointer(parent.pointer, key), items, complete)

    def as_mapping(self, value: Sourced[Any], consequence: str
                   ) -> Sourced[Mapping[str, Any]] | None:
        if not self._is(value, isinstance(value.value, Mapping), "a map", consequence):
            return None
        return Sourced(value.value, value.pointer)

    def as_boolean(self, value: Sourced[Any], consequence: str) -> Sourced[bool] | None:
        if not self._is(value, isinstance(value.value, bool), "a boolean", consequence):
            return None
        return Sourced(value.value, value.pointer)

    def as_string(self, value: Sourced[Any], consequence: str) -> Sourced[str] | None:
        if not self._is(value, isinstance(value.value, str), "a string", consequence):
            return None
        return Sourced(value.value, value.pointer)

    def _is(self, value: Sourced[Any], well_typed: bool, expected: str, consequence: str) -> bool:
        if not well_typed:
            self.report(value.pointer, f"{_field_name(value.pointer)} must be {expected}, "
                                       f"not {TYPE_WORDS[schema_type(value.value)]}: {consequence}")
        return well_typed
