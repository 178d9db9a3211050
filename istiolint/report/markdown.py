"""``--format markdown``: a pull-request comment or job-summary body.

Everything taken from the manifests (paths, names, messages) is made inert: a pull request
cannot put markup, links, images, mentions or HTML into a comment a bot posts for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from istiolint.report import ReportOptions, printable
from istiolint.report.json import result_json
from istiolint.rules import Severity

if TYPE_CHECKING:
    from istiolint.engine import LintResult

MAX_FINDINGS_PER_FILE = 100
_INERT = str.maketrans({char: f"&#{ord(char)};" for char in "&<>\"'|@[]*_`#\\~!:()"}
                       | {"\n": " ", "\r": " "})
_ICONS = {Severity.ERROR: "🔴", Severity.WARNING: "🟡", Severity.INFO: "🔵"}


def md(text: object) -> str:
    """Manifest text made inert in Markdown: no markup, links, mentions or HTML."""
    return printable(str(text)).translate(_INERT)


def code(text: object) -> str:
    return f"<code>{md(text)}</code>"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def heading(data: Mapping[str, Any]) -> str:
    summary = data["summary"]
    checked = f"{_plural(summary['files'], 'file')}, Istio {md(data.get('istio_version', ''))}"
    if not data["findings"]:
        return f"### ✅ istiolint: no problems found ({checked})"
    icon = "❌" if summary["errors"] else "⚠️"
    return (f"### {icon} istiolint: {_plural(summary['errors'], 'error')}, "
            f"{_plural(summary['warnings'], 'warning')}, {_plural(summary['infos'], 'info')} "
            f"({checked})")


def _object(resource: Mapping[str, Any] | None) -> str:
    if not resource:
        return ""
    namespace = f"{resource['namespace']}/" if resource.get("namespace") else ""
    return code(f"{resource['kind']} {namespace}{resource['name']}")


def _row(finding: Mapping[str, Any]) -> str:
    severity = Severity.parse(finding["severity"])
    message = finding["message"]
    if finding.get("via"):
        message += f" (via {finding['via']})"
    return (f"| {int(finding['line'])}:{int(finding['column'])} | {_ICONS[severity]} {severity} "
            f"| {code(finding['rule'])} {md(finding['name'])} | {md(message)} "
            f"| {_object(finding.get('resource'))} |")


def render(data: Mapping[str, Any]) -> str:
    """The body for a findings report in its JSON form (docs/schemas/findings-v1.schema.json),
    so that a report made elsewhere (an untrusted job) renders just as safely."""
    lines = [heading(data)]
    by_file: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for finding in data["findings"]:
        by_file[finding["path"]].append(finding)
    for path, findings in by_file.items():
        worst = max(Severity.parse(f["severity"]) for f in findings)
        lines += ["", f"<details{' open' if worst is Severity.ERROR else ''}><summary>"
                      f"{_ICONS[worst]} {code(path)} ({_plural(len(findings), 'finding')})"
                      "</summary>", "",
                  "| Line | Severity | Rule | Message | Object |", "|---|---|---|---|---|"]
        lines += [_row(f) for f in findings[:MAX_FINDINGS_PER_FILE]]
        if len(findings) > MAX_FINDINGS_PER_FILE:
            lines.append(f"| | | | {len(findings) - MAX_FINDINGS_PER_FILE} more in this file: "
                         "see the full report | |")
        lines += ["", "</details>"]
    if data["summary"].get("not_shown"):
        lines += ["", f"{data['summary']['not_shown']} known finding(s) not shown "
                      "(baseline or base revision)."]
    return "\n".join(lines) + "\n"


def report(result: LintResult, stream: TextIO, options: ReportOptions) -> None:
    stream.write(render(result_json(result)))
