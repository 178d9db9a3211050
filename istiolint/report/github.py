"""``--format github``: GitHub Actions workflow commands, which the runner turns into annotations.

The findings of each file sit in a collapsible ``::group::<path>`` of the log. A finding is an
annotation, ``::error file=…,line=…,endLine=…,col=…,endColumn=…,title=CODE name::message``
(``::warning`` for warnings, ``::notice`` for infos), as long as GitHub shows it: a step shows at
most 10 error and 10 warning annotations and drops the rest silently (actions/toolkit#734), so
istiolint emits at most 10 ``::error``, 10 ``::warning`` and 9 ``::notice`` commands (the 10th
notice is the summary) and prints every other finding as a plain
``path:line:col: CODE severity message`` line in its group: nothing is lost from the log. A final
``::notice`` counts the findings and says how many are annotations.

Manifest text never becomes a command. Property values are escaped (``%`` ``\\r`` ``\\n`` ``:``
``,``) and message data too (``%`` ``\\r`` ``\\n``), as the runner unescapes them; other control
characters are shown as ``\\xNN``. Plain lines cannot start with ``::`` (the path is prefixed
with ``./`` if it would) and never contain ``##[``, the runner's older command syntax, which it
recognises anywhere in a line.

Columns follow GitHub's conventions (actions/toolkit ``AnnotationProperties``): they are given only
for a region on one line ("cannot be sent when startLine and endLine are different values"), and
``endColumn`` is inclusive (it "defaults to startColumn"), where istiolint's end is exclusive.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, TextIO

from istiolint.report import ReportOptions, printable
from istiolint.rules import Severity

if TYPE_CHECKING:
    from istiolint.engine import LintResult
    from istiolint.findings import Finding

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
# Annotations GitHub shows per step and kind; one notice is kept for the summary.
CAPS = {Severity.ERROR: 10, Severity.WARNING: 10, Severity.INFO: 9}
MAX_MESSAGE = 4000  # the runner truncates annotation messages at 4 KiB
FULL_REPORT = "istiolint check --format text"


def escape_data(text: str) -> str:
    """Message data of a workflow command: one line, read back verbatim by the runner."""
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(escaped)


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def plain(text: str) -> str:
    """Text for an ordinary log line: no line break, no control character, no ``##[``."""
    text = printable(text).replace("\n", "\\x0a")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.replace("##[", "##\\x5b")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _annotation(finding: Finding) -> str:
    position = finding.position
    properties = [("file", finding.path), ("line", str(position.line)),
                  ("endLine", str(max(position.end_line, position.line)))]
    if position.end_line <= position.line:
        properties += [("col", str(position.column)),
                       ("endColumn", str(max(position.end_column - 1, position.column)))]
    properties.append(("title", f"{finding.code} {finding.name}"))
    message = finding.full_message
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE - 1] + "…"
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMANDS[finding.severity]} {props}::{escape_data(message)}"


def _plain_line(finding: Finding) -> str:
    position = finding.position
    path = plain(finding.path)
    if path.lstrip().startswith("::"):
        path = "./" + path.lstrip()
    line = (f"{path}:{position.line}:{position.column}: {finding.code} {finding.severity} "
            f"{plain(finding.full_message)}")
    if finding.resource is not None:
        line += f" [{plain(str(finding.resource))}]"
    return line


def report(result: LintResult, stream: TextIO, options: ReportOptions) -> None:
    shown: Counter[Severity] = Counter()
    by_file: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_file.setdefault(finding.path, []).append(finding)
    for path, findings in by_file.items():
        stream.write(f"::group::{escape_data(path)}\n")
        for finding in findings:
            if shown[finding.severity] < CAPS[finding.severity]:
                shown[finding.severity] += 1
                stream.write(_annotation(finding) + "\n")
            else:
                stream.write(_plain_line(finding) + "\n")
        stream.write("::endgroup::\n")
    stream.write(f"::notice title=istiolint::{escape_data(summary(result, sum(shown.values())))}\n")


def summary(result: LintResult, annotated: int) -> str:
    total = len(result.findings)
    checked = f"{_plural(result.files, 'file')} checked"
    if not total:
        return f"istiolint found nothing to report ({checked})."
    counts = Counter(f.severity for f in result.findings)
    files = len({f.path for f in result.findings})
    text = (f"istiolint found {_plural(total, 'finding')} "
            f"({_plural(counts[Severity.ERROR], 'error')}, "
            f"{_plural(counts[Severity.WARNING], 'warning')}, "
            f"{_plural(counts[Severity.INFO], 'info')}) in {files} of {checked}")
    if annotated == total:
        return text + "; all of them are shown as annotations."
    return (text + f"; {annotated} shown as annotations (GitHub shows at most 10 errors and 10 "
            f"warnings per step), all {total} are listed in this step's log. For the full "
            f"report, run: {FULL_REPORT}")
