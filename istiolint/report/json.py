"""``--format json``: the versioned findings contract (docs/schemas/findings-v1.schema.json)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from istiolint import __version__
from istiolint.report import ReportOptions
from istiolint.rules import Severity

if TYPE_CHECKING:
    from istiolint.engine import LintResult
    from istiolint.findings import Finding

FORMAT_VERSION = 1


def finding_json(finding: Finding) -> dict[str, Any]:
    position = finding.position
    return {
        "rule": finding.code,
        "name": finding.name,
        "severity": str(finding.severity),
        "message": finding.message,
        "path": finding.path,
        "line": position.line,
        "column": position.column,
        "end_line": position.end_line,
        "end_column": position.end_column,
        "pointer": finding.pointer,
        "resource": finding.resource.as_json() if finding.resource else None,
        **({"via": finding.via} if finding.via else {}),
    }


def result_json(result: LintResult) -> dict[str, Any]:
    counts = {level: sum(1 for f in result.findings if f.severity is level) for level in Severity}
    return {
        "version": FORMAT_VERSION,
        "tool": {"name": "istiolint", "version": __version__},
        "istio_version": result.istio_version,
        "summary": {
            "files": result.files,
            "documents": result.documents,
            "errors": counts[Severity.ERROR],
            "warnings": counts[Severity.WARNING],
            "infos": counts[Severity.INFO],
            "not_shown": result.not_shown,
        },
        "findings": [finding_json(f) for f in result.findings],
    }


def report(result: LintResult, stream: TextIO, options: ReportOptions) -> None:
    stream.write(json.dumps(result_json(result), indent=2, ensure_ascii=False) + "\n")
