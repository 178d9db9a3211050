"""``--format junit``: JUnit XML for CI test reports (GitLab ``artifacts: reports: junit``,
Jenkins ``junit``, Azure Pipelines and the like).

``<testsuites name="istiolint">`` holds one ``<testsuite name=PATH>`` per file with findings
(files without findings are not listed; ``tests`` on ``<testsuites>`` is the total) and one
``<testcase classname=PATH name="CODE Kind ns/name line N" file=PATH>`` per finding.

Mapping, chosen for how CI systems display it:

- error and warning -> ``<failure message=MESSAGE type=CODE>``: a failed test, listed with its
  message in the merge request (GitLab) and marking the build unstable (Jenkins). The severity
  is in the failure text. ``<error>`` is not used: in JUnit it means the test itself crashed.
- info -> ``<skipped message=MESSAGE>``: listed apart from passing tests, with its message,
  without failing anything; info findings are advice, not failures.

A run without findings has one passing test case (``no findings``), because Jenkins and some
other CI systems treat a report without any test case as an error.

The XML is built with ElementTree, so markup characters are escaped; characters that XML 1.0
forbids (most control characters) are written as ``\\xNN`` text, and non-ASCII characters as
character references, so the document is valid whatever the output stream's encoding.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import TYPE_CHECKING, TextIO

from istiolint.positions import pointer_to_dotted
from istiolint.report import ReportOptions, printable
from istiolint.rules import Severity

if TYPE_CHECKING:
    from istiolint.engine import LintResult
    from istiolint.findings import Finding

# Not allowed in XML 1.0 even as character references (printable() handles the C0 controls).
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", printable(text))


def _case_name(finding: Finding) -> str:
    where = f" {finding.resource}" if finding.resource is not None else ""
    return f"{finding.code}{where} line {finding.position.line}"


def _details(finding: Finding, options: ReportOptions) -> str:
    position = finding.position
    lines = [f"{finding.path}:{position.line}:{position.column}: {finding.code} "
             f"{finding.name} ({finding.severity})", finding.full_message]
    if finding.resource is not None:
        lines.append(f"object: {finding.resource}")
    if finding.pointer:
        lines.append(f"field: {pointer_to_dotted(finding.pointer)}")
    doc = options.rules.get(finding.code)
    if doc is not None:
        lines.append(f"fix: {doc.fix}")
    return "\n".join(lines) + "\n"


def _suite(path: str, findings: list[Finding], options: ReportOptions) -> ET.Element:
    counts = Counter(f.severity for f in findings)
    suite = ET.Element("testsuite", {
        "name": xml_text(path),
        "tests": str(len(findings)),
        "failures": str(counts[Severity.ERROR] + counts[Severity.WARNING]),
        "errors": "0",
        "skipped": str(counts[Severity.INFO]),
    })
    names: Counter[str] = Counter()
    for finding in findings:
        name = _case_name(finding)
        names[name] += 1
        if names[name] > 1:  # the same rule twice on one line: keep names unique
            name += f" ({names[name]})"
        case = ET.SubElement(suite, "testcase", {"classname": xml_text(path),
                                                 "name": xml_text(name),
                                                 "file": xml_text(path)})
        message = xml_text(finding.full_message)
        if finding.severity is Severity.INFO:
            outcome = ET.SubElement(case, "skipped", {"message": message})
        else:
            outcome = ET.SubElement(case, "failure", {"message": message, "type": finding.code})
        outcome.text = xml_text(_details(finding, options))
    return suite


def junit_xml(result: LintResult, options: ReportOptions) -> str:
    findings = result.findings
    counts = Counter(f.severity for f in findings)
    root = ET.Element("testsuites", {
        "name": "istiolint",
        "tests": str(len(findings) or 1),
        "failures": str(counts[Severity.ERROR] + counts[Severity.WARNING]),
        "errors": "0",
        "skipped": str(counts[Severity.INFO]),
    })
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.path, []).append(finding)
    for path, own in by_file.items():
        root.append(_suite(path, own, options))
    if not findings:
        suite = ET.SubElement(root, "testsuite", {"name": "istiolint", "tests": "1",
                                                  "failures": "0", "errors": "0",
                                                  "skipped": "0"})
        ET.SubElement(suite, "testcase", {
            "classname": "istiolint",
            "name": f"no findings in {result.files} file{'' if result.files == 1 else 's'}"})
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    # ASCII only (character references for the rest), so the UTF-8 declaration always holds.
    body = body.encode("ascii", "xmlcharrefreplace").decode("ascii")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def report(result: LintResult, stream: TextIO, options: ReportOptions) -> None:
    stream.write(junit_xml(result, options))
