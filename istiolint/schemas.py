"""The bundled JSON Schemas of every Istio kind, per Istio release.

They are generated from the official CRDs by scripts/generate_schemas.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from istiolint.data import data_dir
from istiolint.errors import UsageError

try:
    import jsonschema_rs
except ImportError:  # pragma: no cover - no wheel for this platform: explain every object
    jsonschema_rs = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import jsonschema

CRDS_DIRECTORY = "crds"  # schemas of other projects' CRDs (Kyma's APIRule), for every release
_RELEASE = re.compile(r"^\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class KindInfo:
    group: str
    kind: str
    plural: str
    versions: tuple[str, ...]
    directory: str = ""  # below the schemas root: the Istio release, or "crds"

    @property
    def is_istio(self) -> bool:
        return self.directory != CRDS_DIRECTORY


def subtree_has(schema: Any, predicate: Callable[[Mapping[str, Any]], bool],
                memo: dict[int, bool]) -> bool:
    """Whether ``predicate`` holds for the schema node or any node below it (through
    properties, items and additionalProperties), memoized by node identity."""
    if not isinstance(schema, Mapping):
        return False
    known = memo.get(id(schema))
    if known is None:
        memo[id(schema)] = False  # guards against recursive schemas
        properties = schema.get("properties")
        children = [schema.get("items"), schema.get("additionalProperties"),
                    *(properties.values() if isinstance(properties, Mapping) else ())]
        known = predicate(schema) or any(subtree_has(c, predicate, memo) for c in children)
        memo[id(schema)] = known
    return known


def _version_key(version: str) -> tuple[int, ...]:
    core, _, pre = version.partition("-")
    return (*(int(p) for p in core.split(".")), 0 if pre else 1)


class SchemaStore:
    """Schemas of one Istio release; validators are compiled on first use and kept."""

    def __init__(self, istio_version: str = "latest", root: Path | None = None) -> None:
        self.root = root or data_dir("schemas")
        index = json.loads((self.root / "index.json").read_text(encoding="utf-8"))
        self.available: list[str] = sorted(index["versions"], key=_version_key)
        self.istio_version = self.resolve_version(istio_version)
        self.kinds = {
            (entry["group"], entry["kind"]): KindInfo(entry["group"], entry["kind"],
                                                      entry["plural"], tuple(entry["versions"]),
                                                      self.istio_version)
            for entry in index["versions"][self.istio_version]["kinds"]
        }
        crds = self.root / CRDS_DIRECTORY / "index.json"
        if crds.is_file():
            for entry in json.loads(crds.read_text(encoding="utf-8"))["kinds"]:
                self.kinds[entry["group"], entry["kind"]] = KindInfo(
                    entry["group"], entry["kind"], entry["plural"], tuple(entry["versions"]),
                    CRDS_DIRECTORY)
        self.groups = frozenset(group for group, _ in self.kinds)
        self._validators: dict[tuple[str, str, str], jsonschema.Draft4Validator] = {}
        self._gates: dict[tuple[str, str, str], Any] = {}
        self._schemas: dict[tuple[str, str, str], Mapping[str, Any]] = {}

    def resolve_version(self, wanted: str) -> str:
        """``latest`` is the newest release (not a pre-release); ``1.30`` the newest 1.30.x."""
        releases = [v for v in self.available if _RELEASE.match(v)]
        if wanted == "latest":
            return releases[-1]
        matching = [v for v in self.available if v == wanted or v.startswith(wanted + ".")]
        stable = [v for v in matching if _RELEASE.match(v)]
        if stable or matching:
            return (stable or matching)[-1]
        raise UsageError(f"no bundled schemas for Istio {wanted}; available: "
                         + ", ".join(self.available))

    def kinds_in_group(self, group: str) -> list[str]:
        return sorted(kind for g, kind in self.kinds if g == group)

    def validator(self, group: str, kind: str, version: str) -> jsonschema.Draft4Validator:
        """jsonschema's validator, for the detailed errors of an object that is not valid."""
        key = (group, kind, version)
        validator = self._validators.get(key)
        if validator is None:
            import jsonschema  # noqa: PLC0415 (only an invalid object needs it)

            validator = jsonschema.Draft4Validator(self.schema(group, kind, version))
            self._validators[key] = validator
        return validator

    def surely_valid(self, group: str, kind: str, version: str, instance: Any) -> bool:
        """A fast yes/no from jsonschema-rs; only objects it rejects need jsonschema's
        detailed (and two orders of magnitude slower) error walk."""
        if jsonschema_rs is None:
            return False
        key = (group, kind, version)
        gate = self._gates.get(key)
        if gate is None:
            gate = jsonschema_rs.Draft4Validator(dict(self.schema(group, kind, version)),
                                                 validate_formats=False)
            self._gates[key] = gate
        return bool(gate.is_valid(instance))

    def schema(self, group: str, kind: str, version: str) -> Mapping[str, Any]:
        key = (group, kind, version)
        schema = self._schemas.get(key)
        if schema is None:
            info = self.kinds.get((group, kind))
            directory = info.directory if info else self.istio_version
            path = self.root / directory / group / f"{kind.lower()}_{version}.json"
            schema = self._schemas[key] = json.loads(path.read_text(encoding="utf-8"))
        return schema
