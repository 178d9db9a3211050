#!/usr/bin/env python3
"""Generate istiolint's JSON Schemas from the official Istio CRDs.

Reads ``<upstream>/<istio-version>/crd-all.gen.yaml`` for every bundled Istio release and writes
one JSON Schema per group, kind and API version::

    schemas/<istio-version>/<group>/<kind>_<api-version>.json
    schemas/index.json

and, the same way, the CRDs of other projects whose objects generate Istio policy (Kyma's
APIRule), which do not depend on the Istio release::

    schemas/crds/<group>/<kind>_<api-version>.json
    schemas/crds/index.json

Each schema is the CRD's ``openAPIV3Schema`` turned into plain JSON Schema the way the Kubernetes
API server reads it:

* objects that list ``properties`` reject unknown fields (``additionalProperties: false``), as the
  API server's strict field validation does, unless they preserve unknown fields;
* ``x-kubernetes-int-or-string`` becomes ``anyOf: [integer, string]`` and ``nullable`` adds
  ``null`` to the type;
* the root object gains ``apiVersion``, ``kind`` and ``metadata``, which the API server adds to
  every CRD schema;
* ``description`` texts are dropped (they are documentation, not constraints);
* ``x-kubernetes-validations`` (CEL rules) are kept as they are, for istiolint's CEL evaluator.

Every CEL rule of those schemas is also parsed here, with cel-python, into
``schemas/cel-rules.json`` (see :mod:`istiolint.cel.parsed`), so that runs do not build the
parser. The file is tied to cel-python's grammar: with another grammar installed, ``--check``
does not compare it (the file is then ignored at run time, and rules are parsed there).

Usage::

    python scripts/generate_schemas.py [--upstream DIR] [--crds FILE...] [--out DIR] [--check]

``--check`` writes nothing and exits 1 when the committed schemas differ from a fresh generation.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import celpy
import yaml

from istiolint.cel import parsed

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_UPSTREAM = REPO_ROOT.parent / "shared" / "upstream" / "istio"
DEFAULT_CRDS = (REPO_ROOT.parent / "shared" / "upstream" / "kyma-api-gateway" /
                "gateway.kyma-project.io_apirules.yaml",)
DEFAULT_OUT = REPO_ROOT / "schemas"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def convert(node: Any, *, root: bool = False) -> Any:
    """Return the JSON Schema equivalent of one OpenAPI v3 structural schema node."""
    if isinstance(node, list):
        return [convert(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description":
            continue
        if key == "properties":
            out[key] = {name: convert(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = convert(value) if isinstance(value, Mapping) else value
        elif key in ("anyOf", "oneOf", "allOf"):
            out[key] = [convert(sub) for sub in value]
        else:
            out[key] = value
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        int_or_string = [{"type": "integer"}, {"type": "string"}]
        if "anyOf" in out:
            out["allOf"] = [*out.get("allOf", []), {"anyOf": out.pop("anyOf")}]
        out["anyOf"] = int_or_string
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if root:
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", {"type": "object"})
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _dump(document: Any) -> str:
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _crd_schemas(crds: list[Any], directory: str, project: str
                 ) -> tuple[dict[str, str], list[dict[str, Any]]]:
    files: dict[str, str] = {}
    kinds: list[dict[str, Any]] = []
    for crd in crds:
        spec = crd["spec"]
        group, kind = spec["group"], spec["names"]["kind"]
        served = []
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            served.append(version["name"])
            schema = convert(version["schema"]["openAPIV3Schema"], root=True)
            schema["$schema"] = "http://json-schema.org/draft-04/schema#"
            schema["title"] = f"{kind} {group}/{version['name']} ({project})"
            files[f"{directory}/{group}/{kind.lower()}_{version['name']}.json"] = _dump(schema)
        kinds.append({"group": group, "kind": kind, "plural": spec["names"]["plural"],
                      "scope": spec.get("scope", "Namespaced"), "versions": served})
    kinds.sort(key=lambda entry: (entry["group"], entry["kind"]))
    return files, kinds


def _load_crds(path: Path) -> list[Any]:
    with path.open("rb") as stream:
        return [doc for doc in yaml.load_all(stream, Loader=LOADER) if doc]


def generate(upstream: Path, crd_files: tuple[Path, ...] = ()) -> dict[str, str]:
    """Map each output path (relative to the schemas directory) to its file content."""
    files: dict[str, str] = {}
    index: dict[str, Any] = {
        "generatedFrom": "istio/istio manifests/charts/base/files/crd-all.gen.yaml",
        "versions": {},
    }
    for crd_file in sorted(upstream.glob("*/crd-all.gen.yaml")):
        istio_version = crd_file.parent.name
        schemas, kinds = _crd_schemas(_load_crds(crd_file), istio_version,
                                      f"Istio {istio_version}")
        files.update(schemas)
        index["versions"][istio_version] = {"kinds": kinds}
    files["index.json"] = _dump(index)
    if crd_files:
        every_kind: list[dict[str, Any]] = []
        for crd_file in crd_files:
            schemas, kinds = _crd_schemas(_load_crds(crd_file), "crds", crd_file.name)
            files.update(schemas)
            every_kind += kinds
        files["crds/index.json"] = _dump({
            "generatedFrom": [path.name for path in crd_files],
            "kinds": sorted(every_kind, key=lambda entry: (entry["group"], entry["kind"]))})
    files[parsed.FILE_NAME] = parsed.table(_parsed_rules(files.values()))
    return files


def _parsed_rules(schemas: Iterable[str]) -> dict[str, Any]:
    rules: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, Mapping):
            for entry in node.get("x-kubernetes-validations") or ():
                if isinstance(entry, Mapping) and isinstance(entry.get("rule"), str):
                    rules.add(entry["rule"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for content in schemas:
        collect(json.loads(content))
    environment = celpy.Environment()
    return {rule: environment.compile(rule) for rule in sorted(rules)}


def _stale(out: Path, files: Mapping[str, str]) -> list[str]:
    existing = {p.relative_to(out).as_posix() for p in out.rglob("*.json")}
    problems = [f"unexpected {name}" for name in sorted(existing - set(files))]
    for name, content in sorted(files.items()):
        target = out / name
        if name == parsed.FILE_NAME and target.exists() and \
                _grammar_of(target) != parsed.grammar_digest():
            print(f"note: {name} was written with another cel-python grammar; not compared",
                  file=sys.stderr)
            continue
        if not target.exists():
            problems.append(f"missing {name}")
        elif target.read_text(encoding="utf-8") != content:
            problems.append(f"outdated {name}")
    return problems


def _grammar_of(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("grammar")
    except (OSError, ValueError, AttributeError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", type=Path, default=DEFAULT_UPSTREAM)
    parser.add_argument("--crds", type=Path, nargs="*", default=list(DEFAULT_CRDS),
                        help="CRD files of other projects (default: Kyma's APIRule)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="only report stale schemas")
    args = parser.parse_args(argv)
    if not args.upstream.is_dir():
        print(f"error: no Istio CRDs at {args.upstream}", file=sys.stderr)
        return 2
    missing = [path for path in args.crds if not path.is_file()]
    if missing:
        print(f"error: no CRD file at {missing[0]}", file=sys.stderr)
        return 2
    files = generate(args.upstream, tuple(args.crds))
    if args.check:
        problems = _stale(args.out, files)
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    for stale in _stale(args.out, files):
        if stale.startswith("unexpected "):
            (args.out / stale.removeprefix("unexpected ")).unlink()
    for name, content in files.items():
        target = args.out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != content:
            target.write_text(content, encoding="utf-8")
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
