"""``--format gitlab``: a GitLab Code Quality report (``artifacts: reports: codequality``).

A JSON array with one issue per finding: ``description`` ("CODE: message"), ``check_name``
(the rule code), ``fingerprint``, ``severity`` and ``location`` (``path`` and ``lines``). The
fingerprint is the finding's stable identity (:mod:`istiolint.fingerprints`: rule, object and
field, no line number), unique within the report, so GitLab matches a finding across commits
and never merges two of them.

Severities: GitLab knows ``info``, ``minor``, ``major``, ``critical`` and ``blocker``.

- error -> ``critical``: an error is a policy that is wrong as written (it grants or denies what
  it does not say, or the API server rejects it), the most serious thing istiolint reports.
  ``blocker`` is left out: istiolint's own fail level decides whether a pipeline stops, and
  GitLab shows ``critical`` with the same prominence in the merge request.
- warning -> ``major``: a warning is a likely weakness (a wildcard principal, a bypassable
  DENY), more than the style-level ``minor``.
- info -> ``info``: advice about a working policy (a redundant or allow-all rule).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from istiolint.fingerprints import fingerprints
from istiolint.report import ReportOptions
from istiolint.rules import Severity

if TYPE_CHECKING:
    from istiolint.engine import LintResult

SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}


def code_quality(result: LintResult) -> list[dict[str, Any]]:
    issues = []
    for finding, fingerprint in zip(result.findings, fingerprints(result.findings), strict=True):
        position = finding.position
        issues.append({
            "description": f"{finding.code}: {finding.full_message}",
            "check_name": finding.code,
            "fingerprint": fingerprint,
            "severity": SEVERITIES[finding.severity],
            "location": {
                "path": finding.path,
                "lines": {"begin": position.line,
                          "end": max(position.end_line, position.line)},
            },
        })
    return issues


def report(result: LintResult, stream: TextIO, options: ReportOptions) -> None:
    stream.write(json.dumps(code_quality(result), indent=2) + "\n")
