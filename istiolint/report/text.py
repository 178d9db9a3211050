"""``--format text``: ``path:line:col: CODE severity message [Kind namespace/name]``."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.text import Text

from istiolint.report import ReportOptions, printable
from istiolint.rules import Severity

if TYPE_CHECKING:
    from istiolint.engine import LintResult

_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def report(result: LintResult, stream: TextIO, options: ReportOptions) -> None:
    console = Console(file=stream, force_terminal=options.color, no_color=not options.color,
                      highlight=False, soft_wrap=True, emoji=False)
    for finding in result.findings:
        line = Text()
        line.append(printable(finding.path), style="bold")
        line.append(f":{finding.position.line}:{finding.position.column}: ")
        line.append(finding.code, style="bold")
        line.append(" ")
        line.append(str(finding.severity), style=_STYLES[finding.severity])
        line.append(" " + printable(finding.message))
        if finding.resource is not None:
            line.append(f" [{printable(str(finding.resource))}]", style="dim")
        console.print(line)
    if options.verbose:
        for skipped in result.skipped:
            console.print(Text(f"skipped {printable(skipped.path)}: {skipped.reason}", style="dim"))
    counts = {level: sum(1 for f in result.findings if f.severity is level) for level in Severity}
    checked = (f"{_plural(result.files, 'file')}, {_plural(result.documents, 'document')} "
               f"checked against Istio {result.istio_version}")
    if result.not_shown:
        checked += f"; {result.not_shown} known before, not shown"
    if result.findings:
        summary = (f"Found {_plural(counts[Severity.ERROR], 'error')}, "
                   f"{_plural(counts[Severity.WARNING], 'warning')} and "
                   f"{_plural(counts[Severity.INFO], 'info')} ({checked}).")
        style = "bold red" if counts[Severity.ERROR] else "bold yellow"
    else:
        summary, style = f"No problems found ({checked}).", "bold green"
    console.print(Text(summary, style=style))
