"""Rules: their documentation, the checks that detect them, and the registry of both.

A *check* is the unit of detection. It declares the rules it reports and yields small
``Detection`` values; the engine turns those into findings (code, name, severity, message,
position). Checks are found through the ``istiolint.checks`` entry-point group, the built-in ones
included, so a third-party package registers its rules exactly as istiolint does.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import importlib
import os
import string
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

import yaml

from istiolint.cache import cache_dir, read_memo, write_memo
from istiolint.data import data_dir
from istiolint.errors import UsageError
from istiolint.plugins import entry_points_of
from istiolint.trees import RACY_NS

if TYPE_CHECKING:
    from istiolint.context import CheckContext
    from istiolint.positions import Position
    from istiolint.resources import Resource
    from istiolint.sources import SourceFile

ENTRY_POINT_GROUP = "istiolint.checks"


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.upper()]
        except KeyError:
            raise UsageError(f"unknown severity {value!r}; use error, warning or info") from None


@dataclass(frozen=True)
class RuleDoc:
    """What a rule reports and why it matters; human text lives in ``rules/<code>-<name>/``."""

    code: str
    name: str
    severity: Severity
    summary: str
    message: str
    description: str
    consequence: str
    fix: str
    references: tuple[str, ...] = ()
    examples: Path | None = None

    def render(self, args: Mapping[str, object]) -> str:
        return string.Formatter().vformat(self.message, (), _Lenient(args))


class _Lenient(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_REQUIRED_DOC_KEYS = ("code", "name", "severity", "summary", "message", "description",
                      "consequence", "fix")


def load_rule_docs(directory: Path, codes: Iterable[str] | None = None) -> tuple[RuleDoc, ...]:
    """Read ``<directory>/<CODE>-<name>/rule.yaml`` entries, optionally only the given codes."""
    every = _rule_docs_in(directory)
    if codes is None:
        return tuple(every.values())
    wanted = list(codes)
    missing = sorted(set(wanted) - set(every))
    if missing:
        raise ValueError(f"no rule documentation for {missing}")
    return tuple(every[code] for code in sorted(wanted))


@functools.cache
def _rule_docs_in(directory: Path) -> dict[str, RuleDoc]:
    """Every rule documentation file of ``directory``, read once per process."""
    files = sorted(directory.glob("*/rule.yaml"))
    docs = {}
    for rule_file, data in zip(files, _rule_data(directory, files), strict=True):
        missing = [k for k in _REQUIRED_DOC_KEYS if not isinstance(data, dict) or k not in data]
        if missing:
            raise ValueError(f"{rule_file}: missing {', '.join(missing)}")
        docs[data["code"]] = RuleDoc(
            code=data["code"], name=data["name"], severity=Severity.parse(data["severity"]),
            summary=data["summary"].strip(), message=data["message"].strip(),
            description=data["description"].strip(), consequence=data["consequence"].strip(),
            fix=data["fix"].strip(), references=tuple(data.get("references") or ()),
            examples=rule_file.parent,
        )
    return docs


def _rule_data(directory: Path, files: Sequence[Path]) -> list[Any]:
    """The YAML of ``files`` (of ``directory``), remembered in the cache directory by what the
    files look like (their modification and change times, size and inode): parsing sixty of
    them takes 10 ms, a twentieth of the pre-commit hook."""
    cache = cache_dir()
    stamps = _stamps(files) if cache is not None else None
    if cache is None or stamps is None:
        return [_read_yaml(path) for path in files]
    memo = f"rule-docs-{hashlib.sha256(str(directory).encode()).hexdigest()[:16]}.json"
    stored = read_memo(cache, memo, stamps)
    if _usable(stored, len(files)):
        return stored
    data = [_read_yaml(path) for path in files]
    write_memo(cache, memo, stamps, data)
    return data


def _usable(data: object, count: int) -> TypeGuard[list[Any]]:
    """Whether remembered data is rule documentation (a tampered cache file is a miss)."""
    return isinstance(data, list) and len(data) == count and all(
        isinstance(doc, dict) and all(isinstance(doc.get(key), str) for key in _REQUIRED_DOC_KEYS)
        and isinstance(doc.get("references") or [], list) for doc in data)


def _read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


_now_ns = time.time_ns


def _stamps(files: Sequence[Path]) -> list[list[object]] | None:
    """What the files look like; None when one cannot be looked at, or changed so recently
    that a later change may keep its times (as git's racy entries)."""
    stamps: list[list[object]] = []
    recent = _now_ns() - RACY_NS
    for path in files:
        try:
            found = os.stat(path)
        except OSError:
            return None
        if max(found.st_mtime_ns, found.st_ctime_ns) >= recent:
            return None
        stamps.append([str(path), found.st_mtime_ns, found.st_ctime_ns, found.st_size,
                       found.st_ino])
    return stamps


def builtin_rules(*codes: str) -> tuple[RuleDoc, ...]:
    return load_rule_docs(data_dir("rules"), codes)


@dataclass(frozen=True)
class Detection:
    """What a check found. The engine adds everything else.

    Point at a field of a resource with ``resource`` + ``pointer`` (a JSON pointer relative to
    the object), or at a place in a file with ``source`` + ``position`` for problems that have no
    object (a file that does not parse).
    """

    code: str
    resource: Resource | None = None
    pointer: str = ""
    args: Mapping[str, object] = field(default_factory=dict)
    source: SourceFile | None = None
    position: Position | None = None
    path: str | None = None  # with ``position``: a file other than the resource's own


@runtime_checkable
class Check(Protocol):
    """A detector. ``rules`` documents every code that ``run`` may report.

    A check may also define ``defers_to``: rule codes or prefixes whose finding on the same
    object and field makes this check's finding redundant (it is then dropped);
    ``needs_model = True`` when it reads the mesh model (workloads, Services, Namespaces); and
    ``per_source = True`` when what it finds in a file depends on that file alone: it then runs
    once per file, possibly in a worker process, and only its detections are sent back. Such a
    check may define ``prepare(schemas)``, called before the workers start, to build once what
    it would otherwise build lazily in each of them.
    """

    rules: Sequence[RuleDoc]

    def run(self, context: CheckContext) -> Iterable[Detection]: ...


@dataclass(frozen=True)
class LoadedCheck:
    origin: str
    check: Check


class Registry:
    """All known rules and their checks, in a stable order."""

    def __init__(self, checks: Iterable[LoadedCheck]) -> None:
        self.checks = tuple(checks)
        self.rules: dict[str, RuleDoc] = {}
        self.by_name: dict[str, RuleDoc] = {}
        for loaded in self.checks:
            for doc in loaded.check.rules:
                clash = self.rules.get(doc.code) or self.by_name.get(doc.name)
                if clash is not None:
                    raise UsageError(f"rule {doc.code} ({doc.name}) from {loaded.origin} clashes "
                                     f"with {clash.code} ({clash.name})")
                self.rules[doc.code] = doc
                self.by_name[doc.name] = doc

    def lookup(self, code_or_name: str) -> RuleDoc | None:
        return self.rules.get(code_or_name.upper()) or self.by_name.get(code_or_name.lower())

    def sorted_rules(self) -> list[RuleDoc]:
        return sorted(self.rules.values(), key=lambda doc: doc.code)


def _instantiate(origin: str, obj: Any) -> LoadedCheck:
    check = obj() if isinstance(obj, type) else obj
    if not isinstance(check, Check):
        raise UsageError(f"plugin {origin} is not an istiolint check (needs 'rules' and 'run')")
    return LoadedCheck(origin, check)


def load_registry(plugin_modules: Sequence[str] = ()) -> Registry:
    """Checks from the entry-point group, then from modules named in the configuration.

    A configured module must be importable (installed, or on ``PYTHONPATH``); istiolint never
    imports code from the tree it lints. It exposes ``CHECKS``, a sequence of checks.
    """
    loaded: list[LoadedCheck] = []
    for entry in sorted(entry_points_of(ENTRY_POINT_GROUP), key=lambda e: e.name):
        origin = f"entry point {entry.name} = {entry.value}"
        try:
            loaded.append(_instantiate(origin, entry.load()))
        except UsageError:
            raise
        except Exception as exc:
            raise UsageError(f"cannot load {origin}: {exc}") from exc
    for module_name in plugin_modules:
        origin = f"plugin module {module_name}"
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise UsageError(f"cannot import {origin}: {exc}") from exc
        checks = getattr(module, "CHECKS", None)
        if not isinstance(checks, Sequence):
            raise UsageError(f"{origin} must define CHECKS, a list of checks")
        loaded.extend(_instantiate(origin, check) for check in checks)
    return Registry(loaded)
