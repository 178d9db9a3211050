"""Reading raw YAML data the way Istio's protobuf JSON decoding would see it.

The webhook decodes the manifest into protobuf messages before it validates anything; this
module gives the checks the same view of a plain ``dict``:

* a missing key and an explicit ``null`` are the same thing (an unset field);
* an empty list decodes to a nil slice, so ``[]`` is "unset" too, while ``{}`` for a message
  is a present, empty message and ``{}`` for a map is a present, empty map;
* ``null`` inside a list of strings decodes to ``""``; ``null`` inside a list of messages is
  kept as ``None`` (a nil element, which several checks report).

A value of the wrong type (a string where a list is expected, a number where a string is
expected, ...) is a schema error that another component reports. Such a value is marked
:data:`BAD`, and the checks are written so that a ``BAD`` value never *causes* a problem: a
check that reports when something is missing treats it as present, and a check that reports
when something is set treats it as absent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final


class _Bad:
    """Marker for a field whose YAML type does not match the API schema."""

    _instance: _Bad | None = None

    def __new__(cls) -> _Bad:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "BAD"


BAD: Final = _Bad()

Obj = Mapping[Any, Any]
#: A message-typed field: the mapping, ``None`` when unset, or ``BAD``.
MaybeObj = Obj | None | _Bad
#: A string-typed field: the text (``""`` when unset) or ``BAD``.
MaybeStr = str | _Bad


def message(node: Obj, key: str) -> MaybeObj:
    value = node.get(key)
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    return BAD


def string(node: Obj, key: str) -> MaybeStr:
    value = node.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return BAD


def key_text(key: object) -> str | None:
    """The JSON text of a mapping key as the YAML-to-JSON conversion writes it, if it has one."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    return None


@dataclass(frozen=True)
class StrList:
    """A ``repeated string`` field.

    ``items`` holds ``(index, text)`` for every element; ``text`` is ``None`` for an element of
    the wrong type (it still counts for the length, but no value check looks at it).
    """

    items: tuple[tuple[int, str | None], ...] = ()
    bad: bool = False

    @property
    def is_set(self) -> bool:
        """Go's ``len(list) > 0`` / ``list != nil`` (a wrongly typed field counts as unset)."""
        return bool(self.items)

    @property
    def maybe_set(self) -> bool:
        """Like :attr:`is_set`, but a wrongly typed field counts as set."""
        return self.bad or bool(self.items)

    def texts(self) -> Iterator[tuple[int, str]]:
        for index, text in self.items:
            if text is not None:
                yield index, text

    def __len__(self) -> int:
        return len(self.items)


_NO_STRINGS = StrList()
_WRONG_STRINGS = StrList(bad=True)


def string_list(node: Obj, key: str) -> StrList:
    value = node.get(key)
    if value is None:
        return _NO_STRINGS
    if not isinstance(value, list):
        return _WRONG_STRINGS
    items: list[tuple[int, str | None]] = []
    for index, element in enumerate(value):
        if element is None:
            items.append((index, ""))
        elif isinstance(element, str):
            items.append((index, element))
        else:
            items.append((index, None))
    return StrList(tuple(items))


@dataclass(frozen=True)
class ObjList:
    """A ``repeated Message`` field: ``(index, element)`` with ``None`` for a nil element."""

    items: tuple[tuple[int, MaybeObj], ...] = ()
    bad: bool = False

    @property
    def is_set(self) -> bool:
        return bool(self.items)

    @property
    def maybe_set(self) -> bool:
        return self.bad or bool(self.items)

    def __iter__(self) -> Iterator[tuple[int, MaybeObj]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


_NO_MESSAGES = ObjList()
_WRONG_MESSAGES = ObjList(bad=True)


def message_list(node: Obj, key: str) -> ObjList:
    value = node.get(key)
    if value is None:
        return _NO_MESSAGES
    if not isinstance(value, list):
        return _WRONG_MESSAGES
    items: list[tuple[int, MaybeObj]] = []
    for index, element in enumerate(value):
        if element is None:
            items.append((index, None))
        elif isinstance(element, dict):
            items.append((index, element))
        else:
            items.append((index, BAD))
    return ObjList(tuple(items))


@dataclass(frozen=True)
class StrMap:
    """A ``map<string, string>`` field.

    ``entries`` holds ``(key, value)`` with ``value`` ``None`` when it has the wrong type (keys
    that have no JSON text are left out); ``size`` counts every entry; ``bad`` marks a field
    that is not a mapping at all.
    """

    entries: tuple[tuple[str, str | None], ...] = ()
    size: int = 0
    bad: bool = False


def string_map(node: Obj, key: str) -> StrMap | None:
    """A ``map<string, string>`` field, or ``None`` when it is unset."""
    value = node.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        return StrMap(bad=True)
    entries: list[tuple[str, str | None]] = []
    for raw_key, raw_value in value.items():
        text = key_text(raw_key)
        if text is None:
            continue
        if raw_value is None:
            entries.append((text, ""))
        elif isinstance(raw_value, str):
            entries.append((text, raw_value))
        else:
            entries.append((text, None))
    return StrMap(tuple(entries), len(value))
