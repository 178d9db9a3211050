"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run. ``tool.driver.rules`` describes the rules that occur in the findings (sorted by code),
each with its documentation in ``help`` and a ``security-severity`` that GitHub uses to bucket
alerts (error 8.0 = high, warning 5.0 = medium, info 2.0 = low). Every result has a region
(GitHub rejects results without one), the object it is about as a logical location, and the
finding's stable fingerprint (:mod:`istiolint.fingerprints`) as ``partialFingerprints``, so
alerts survive edits elsewhere in the file.

Paths relative to the working directory are given relative to ``%SRCROOT%`` (run istiolint from
the repository root); absolute paths become ``file:`` URIs and pseudo-paths such as
``<stdin>`` are kept, percent-encoded, without a base. Columns count Unicode code points, which
the run declares (``columnKind``).
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from istiolint import __version__
from istiolint.fingerprints import fingerprints
from istiolint.report import ReportOptions
from istiolint.rules import RuleDoc, Severity

if TYPE_CHECKING:
    from istiolint.engine import LintResult
    from istiolint.findings import Finding

SCHEMA_URI = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
              "sarif-schema-2.1.0.json")
FINGERPRINT_KEY = "istiolint/v1"
SRCROOT = "%SRCROOT%"
MAX_FULL_DESCRIPTION = 1000  # GitHub code scanning's limit for fullDescription.text

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.0", Severity.INFO: "2.0"}

# RFC 3986 characters that may stay literal in a relative path; ':' is left out so that a first
# segment such as "a:b.yaml" is not read as a scheme.
_PATH_SAFE = "/!$&'()*+;=@-._~,"
# A line break inside a paragraph of rule documentation (not before a list item, a heading,
# a quote, a table or a code fence, nor indented text).
_SOFT_BREAK = re.compile(r"(?<=\S)\n(?=[^\s\-*+#>|`\d])")


def unwrap(text: str) -> str:
    """Plain-text fields are shown as they are: join the lines of each paragraph."""
    return _SOFT_BREAK.sub(" ", text)


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def artifact_location(path: str) -> dict[str, str]:
    if path.startswith("/"):
        return {"uri": PurePosixPath(path).as_uri()}
    if PureWindowsPath(path).is_absolute():
        return {"uri": PureWindowsPath(path).as_uri()}
    uri = quote(path, safe=_PATH_SAFE)
    if path.startswith("<") and path.endswith(">"):  # <stdin>: no file in the repository
        return {"uri": uri}
    return {"uri": uri, "uriBaseId": SRCROOT}


def _help(doc: RuleDoc) -> dict[str, str]:
    sections = (("What it detects", doc.description),
                ("What happens at runtime", doc.consequence),
                ("How to fix it", doc.fix))
    text = "\n\n".join(f"{title}: {unwrap(body)}" for title, body in sections)
    markdown = "\n\n".join(f"## {title}\n\n{body}" for title, body in sections)
    if doc.references:
        text += "\n\nReferences:\n" + "\n".join(f"- {ref}" for ref in doc.references)
        markdown += "\n\n## References\n\n" + "\n".join(f"- <{ref}>" for ref in doc.references)
    return {"text": text, "markdown": markdown}


def rule_descriptor(code: str, doc: RuleDoc | None, first: Finding,
                    severity: Severity) -> dict[str, Any]:
    """``severity`` is the highest severity this run gives the rule's findings (a configured
    override included): GitHub ranks alerts by ``security-severity``, so it follows the
    configuration; ``defaultConfiguration.level`` stays the rule's documented default."""
    properties = {"tags": ["security"], "security-severity": SECURITY_SEVERITY[severity]}
    if doc is None:  # a finding from a check whose documentation is not at hand
        return {"id": code, "name": first.name, "shortDescription": {"text": first.name},
                "defaultConfiguration": {"level": LEVELS[first.severity]},
                "properties": properties}
    return {
        "id": code,
        "name": doc.name,
        "shortDescription": {"text": unwrap(doc.summary)},
        "fullDescription": {"text": _truncate(unwrap(doc.description), MAX_FULL_DESCRIPTION)},
        "help": _help(doc),
        "defaultConfiguration": {"level": LEVELS[doc.severity]},
        "properties": properties,
    }


def _region(finding: Finding) -> dict[str, int]:
    position = finding.position
    line, column = max(position.line, 1), max(position.column, 1)
    end_line = max(position.end_line, line)
    end_column = max(position.end_column, column if end_line == line else 1)
    return {"startLine": line, "startColumn": column, "endLine": end_line,
            "endColumn": end_column}


def _result(finding: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": artifact_location(finding.path),
                             "region": _region(finding)},
    }
    if finding.resource is not None:
        ref = finding.resource
        location["logicalLocations"] = [{
            "name": ref.name,
            "fullyQualifiedName": str(ref),
            "kind": "resource",
            "properties": ref.as_json(),
        }]
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.full_message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }


def sarif_log(result: LintResult, options: ReportOptions) -> dict[str, Any]:
    findings = result.findings
    codes = sorted({f.code for f in findings})
    index = {code: i for i, code in enumerate(codes)}
    rules = []
    for code in codes:
        own = [f for f in findings if f.code == code]
        severity = max(f.severity for f in own)
        rules.append(rule_descriptor(code, options.rules.get(code), own[0], severity))
    results = [_result(f, index[f.code], fp) for f, fp in zip(findings, fingerprints(findings),
                                                               strict=True)]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "istiolint",
                "semanticVersion": __version__,
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {"istioVersion": result.istio_version},
        }],
    }


def report(result: LintResult, stream: TextIO, options: ReportOptions) -> None:
    stream.write(json.dumps(sarif_log(result, options), indent=2) + "\n")
