"""Settings in one place: rule defaults, then the project file, then command-line flags."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from istiolint.documents import load_one
from istiolint.errors import UsageError
from istiolint.rules import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

CONFIG_NAMES = (".istiolint.yaml", ".istiolint.yml")
_SCHEMA_PATH = Path(__file__).with_name("config.schema.json")


@dataclass(frozen=True)
class Settings:
    paths: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = ()
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    per_path_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    root_namespace: str = "istio-system"
    istio_version: str = "latest"
    fail_level: Severity = Severity.ERROR
    inline_suppressions: bool = True
    plugins: tuple[str, ...] = ()
    render: str = "none"  # or "kustomize": lint what each overlay builds
    config_file: Path | None = None

    @property
    def base_dir(self) -> Path | None:
        """Directory that relative paths in the config file are resolved against."""
        return self.config_file.parent if self.config_file else None


def find_config(start: Path) -> Path | None:
    """The nearest config file from ``start`` up to the git root (or the file system root)."""
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            if (directory / name).is_file():
                return directory / name
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _pyproject_section(pyproject) is not None:
            return pyproject
        if (directory / ".git").exists():
            return None
    return None


def _pyproject_section(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from exc
    section = data.get("tool", {}).get("istiolint")
    return section if isinstance(section, dict) else None


def read_config_file(path: Path) -> dict[str, Any]:
    if path.name == "pyproject.toml":
        return _pyproject_section(path) or {}
    try:
        data = load_one(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from exc
    except ValueError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the configuration must be a mapping of settings")
    return data


def _surely_valid(schema: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    try:
        import jsonschema_rs  # noqa: PLC0415
    except ImportError:  # pragma: no cover - no wheel for this platform
        return False
    return bool(jsonschema_rs.Draft7Validator(dict(schema)).is_valid(dict(data)))


def validate_config(data: Mapping[str, Any], origin: str) -> None:
    schema = json.loads(_SCHEMA_PATH.read_text(encoding="utf-8"))
    if _surely_valid(schema, data):
        return
    import jsonschema  # noqa: PLC0415 (its messages, for a file that has problems)

    validator = jsonschema.Draft7Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        if error.validator == "additionalProperties":
            known = ", ".join(sorted(schema["properties"]))
            problems.append(f"{where}: {error.message}; known settings: {known}")
        else:
            problems.append(f"{where}: {error.message}")
    if problems:
        raise UsageError(f"invalid configuration in {origin}:\n  " + "\n  ".join(problems))


def settings_from_mapping(data: Mapping[str, Any], config_file: Path | None,
                          base: Settings | None = None) -> Settings:
    validate_config(data, str(config_file) if config_file else "settings")
    settings = base or Settings()
    changes: dict[str, Any] = {"config_file": config_file} if config_file else {}
    for key, value in data.items():
        attribute = key.replace("-", "_")
        if key == "version":
            continue
        if key == "severity":
            changes[attribute] = {rule: Severity.parse(level) for rule, level in value.items()}
        elif key == "per-path-ignores":
            changes[attribute] = {glob: tuple(rules) for glob, rules in value.items()}
        elif key == "fail-level":
            changes[attribute] = Severity.parse(value)
        elif isinstance(value, list):
            changes[attribute] = tuple(value)
        else:
            changes[attribute] = value
    return replace(settings, **changes)


def load_settings(cwd: Path, explicit: Path | None = None, *, isolated: bool = False) -> Settings:
    """Defaults, overlaid by the discovered (or explicit) config file."""
    if isolated:
        return Settings()
    path = explicit if explicit is not None else find_config(cwd)
    if path is None:
        return Settings()
    if not path.is_file():
        raise UsageError(f"config file not found: {path}")
    return settings_from_mapping(read_config_file(path), path.resolve())


def apply_overrides(settings: Settings, **overrides: Any) -> Settings:
    """Command-line values win; ``None`` means the flag was not given."""
    given = {key: value for key, value in overrides.items() if value is not None}
    for key in ("paths", "exclude", "select", "ignore", "plugins"):
        if key in given:
            given[key] = tuple(given[key])
    return replace(settings, **given)


def parse_severity_overrides(pairs: Sequence[str]) -> dict[str, Severity]:
    out = {}
    for pair in pairs:
        rule, sep, level = pair.partition("=")
        if not sep or not rule:
            raise UsageError(f"--severity takes RULE=LEVEL, got {pair!r}")
        out[rule.strip()] = Severity.parse(level.strip())
    return out
