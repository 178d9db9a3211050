"""``--format text``: ``path:line:col: CODE severity message [Kind namespace/name]``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from istiolint.report import ReportOptions, printable
from istiolint.rules import Severity

if TYPE_CHECKING:
    from istiolint.engine import LintResult

_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


Segments = list[tuple[str, str]]  # (text, rich style) of one output line


def report(result: LintResult, stream: TextIO, options: ReportOptions) -> None:
    lines = list(_lines(result, options))
    if not options.color:  # rich (and its import) only for colour
        stream.writelines("".join(text for text, _ in segments) + "\n" for segments in lines)
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True,
                      emoji=False)
    for segments in lines:
        console.print(Text.assemble(*segments))


def _lines(result: LintResult, options: ReportOptions) -> Iterator[Segments]:
    for finding in result.findings:
        line: Segments = [
            (printable(finding.path), "bold"),
            (f":{finding.position.line}:{finding.position.column}: ", ""),
            (finding.code, "bold"), (" ", ""),
            (str(finding.severity), _STYLES[finding.severity]),
            (" " + printable(finding.message), "")]
        if finding.resource is not None:
            line.append((f" [{printable(str(finding.resource))}]", "dim"))
        if finding.via is not None:
            line.append((f" (via {printable(finding.via)})", "dim"))
        yield line
    if options.verbose:
        for skipped in result.skipped:
            yield [(f"skipped {printable(skipped.path)}: {skipped.reason}", "dim")]
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
    yield [(summary, style)]
