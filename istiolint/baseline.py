"""Baselines: the findings a repository already had, recorded so that only new ones are
reported while the old ones are worked off (``--write-baseline``, ``--baseline``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from istiolint import __version__
from istiolint.errors import UsageError
from istiolint.findings import Finding
from istiolint.fingerprints import fingerprints

BASELINE_VERSION = 1


def write_baseline(path: Path, findings: Sequence[Finding]) -> int:
    entries = sorted(
        ({"fingerprint": fingerprint, "rule": finding.code, "path": finding.path,
          "object": str(finding.resource) if finding.resource else None,
          "pointer": finding.pointer, "message": finding.message}
         for finding, fingerprint in zip(findings, fingerprints(findings), strict=True)),
        key=lambda entry: (entry["path"], entry["rule"], entry["fingerprint"]))
    document = {"version": BASELINE_VERSION, "tool": {"name": "istiolint", "version": __version__},
                "findings": entries}
    try:
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the baseline {path}: {exc.strerror or exc}") from exc
    return len(entries)


def read_baseline(path: Path) -> set[str]:
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the baseline {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise UsageError(f"the baseline {path} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION or \
            not isinstance(document.get("findings"), list):
        raise UsageError(f"{path} is not an istiolint baseline (version {BASELINE_VERSION}); "
                         "write one with --write-baseline")
    known = set()
    for index, entry in enumerate(document["findings"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise UsageError(f"{path}: findings[{index}] has no fingerprint")
        known.add(entry["fingerprint"])
    return known


def new_findings(findings: Sequence[Finding], known: set[str]) -> list[Finding]:
    """The findings whose fingerprint is not in ``known``."""
    return [finding for finding, fingerprint in zip(findings, fingerprints(findings), strict=True)
            if fingerprint not in known]
