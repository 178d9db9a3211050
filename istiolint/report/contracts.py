"""The versioned JSON contracts (docs/schemas/), for reading reports istiolint wrote elsewhere:
``istiolint markdown`` renders them only after they validate."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from istiolint.data import data_dir
from istiolint.errors import UsageError

CONTRACTS = ("findings", "diff", "simulate")


@cache
def _registry() -> Registry[Any]:
    directory = data_dir("docs/schemas")
    resources = []
    for name in CONTRACTS:
        schema = json.loads((directory / f"{name}-v1.schema.json").read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def load_report(path: Path, contract: str) -> dict[str, Any]:
    """A report of ``contract`` (findings or diff) read from ``path`` and validated."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from exc
    registry = _registry()
    schema_id = next(uri for uri in registry if f"/{contract}-v1" in uri)
    validator = jsonschema.Draft202012Validator(registry[schema_id].contents, registry=registry)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(step) for step in error.absolute_path) or "the top level"
        raise UsageError(f"{path} is not an istiolint {contract} report (version 1): at "
                         f"{where}: {error.message[:200]}")
    return data  # type: ignore[no-any-return]
