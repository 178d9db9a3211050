"""Every report format of check (and of diff) against golden files.

Each check format's report of the fixed tree ``tests/report/cases/mixed`` (errors, a warning,
infos, a finding without an object, a file without findings) is compared byte for byte with
``tests/report/golden/mixed.<format>``; istiolint's version is replaced by ``VERSION`` first.
diff's formats are compared likewise on the seed tutorial, step 1 to step 2
(``tests/report/golden/seed-diff.<format>``). After an intended change of a format (or of a
rule's text), rewrite the golden files with::

    ISTIOLINT_UPDATE_GOLDEN=1 python -m pytest tests/report

and review the diff. The other tests check each format's contract: SARIF against the official
2.1.0 schema (read from disk, never fetched), GitLab fingerprints, JUnit counts, and GitHub
escaping and annotation caps.
"""

from __future__ import annotations

import io
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from istiolint import __version__
from istiolint.engine import LintResult
from istiolint.entry import main
from istiolint.findings import Finding
from istiolint.fingerprints import fingerprints
from istiolint.positions import Position
from istiolint.report import ReportOptions, available_formats
from istiolint.report import github as github_format
from istiolint.report import gitlab as gitlab_format
from istiolint.report import junit as junit_format
from istiolint.report import sarif as sarif_format
from istiolint.resources import ResourceRef
from istiolint.rules import RuleDoc, Severity

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
GOLDEN = HERE / "golden"
FORMATS = ("sarif", "github", "gitlab", "junit", "markdown", "text", "json")
UPDATE = os.environ.get("ISTIOLINT_UPDATE_GOLDEN") == "1"
# The official schema (oasis-tcs/sarif-spec); ISTIOLINT_SARIF_SCHEMA names another copy.
SARIF_SCHEMA = Path(os.environ.get(
    "ISTIOLINT_SARIF_SCHEMA",
    Path(__file__).resolve().parents[3] / "shared/upstream/sarif/sarif-schema-2.1.0.json"))
URI_REFERENCE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def run_check(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
              case: str, fmt: str) -> str:
    monkeypatch.chdir(REPO)
    path = (CASES / case).relative_to(REPO).as_posix()
    code = main(["check", path, "--format", fmt, "--isolated", "--no-git"])
    out, err = capsys.readouterr()
    assert code == 1, err  # the case has errors
    return out


def sarif_schema() -> dict[str, Any]:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SARIF_SCHEMA} (set ISTIOLINT_SARIF_SCHEMA)")
    schema: dict[str, Any] = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return schema


def validate_sarif(log: Any) -> None:
    schema = sarif_schema()
    validator_class = jsonschema.validators.validator_for(schema)  # draft-04, as it declares
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def finding(code: str = "AP007", severity: Severity = Severity.ERROR, message: str = "bad",
            path: str = "clusters/prod/authz.yaml", line: int = 3,
            resource: ResourceRef | None = None, pointer: str | None = None) -> Finding:
    return Finding(code=code, name="literal-wildcard", severity=severity, message=message,
                   path=path, position=Position(line, 5, line, 10), pointer=pointer,
                   resource=resource)


def render(reporter: Any, findings: list[Finding], rules: dict[str, RuleDoc] | None = None,
           files: int = 1) -> str:
    stream = io.StringIO()
    result = LintResult(findings=findings, files=files, documents=files, istio_version="1.30.3")
    reporter(result, stream, ReportOptions(rules=rules or {}))
    return stream.getvalue()


def test_the_formats_are_registered() -> None:
    assert set(FORMATS) <= set(available_formats())


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(fmt: str, capsys: pytest.CaptureFixture[str],
                monkeypatch: pytest.MonkeyPatch) -> None:
    out = run_check(capsys, monkeypatch, "mixed", fmt).replace(__version__, "VERSION")
    golden = GOLDEN / f"mixed.{fmt}"
    if UPDATE:
        golden.write_bytes(out.encode("utf-8"))
    assert golden.is_file(), f"no golden file {golden}: run with ISTIOLINT_UPDATE_GOLDEN=1"
    assert out.encode("utf-8") == golden.read_bytes(), (
        f"{fmt} output differs from {golden.relative_to(REPO)} "
        "(if intended: ISTIOLINT_UPDATE_GOLDEN=1 python -m pytest tests/report)")


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_diff_golden(fmt: str, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    capsys.readouterr()
    assert main(["diff", "examples/seed/step2", "--against", "examples/seed/step1",
                 "--isolated", "--no-git", "--format", fmt]) == 0
    out = capsys.readouterr().out.replace(__version__, "VERSION")
    golden = GOLDEN / f"seed-diff.{fmt}"
    if UPDATE:
        golden.write_bytes(out.encode("utf-8"))
    assert golden.is_file(), f"no golden file {golden}: run with ISTIOLINT_UPDATE_GOLDEN=1"
    assert out.encode("utf-8") == golden.read_bytes(), (
        f"diff {fmt} output differs from {golden.relative_to(REPO)} "
        "(if intended: ISTIOLINT_UPDATE_GOLDEN=1 python -m pytest tests/report)")


def test_the_case_has_every_severity_in_several_files(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    report = json.loads(run_check(capsys, monkeypatch, "mixed", "json"))
    assert {f["severity"] for f in report["findings"]} == {"error", "warning", "info"}
    assert len({f["path"] for f in report["findings"]}) >= 2
    assert any(f["resource"] is None for f in report["findings"])
    assert report["summary"]["files"] > len({f["path"] for f in report["findings"]})


# --- SARIF ---------------------------------------------------------------------------------

def test_sarif_is_valid_and_complete(capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    findings = json.loads(run_check(capsys, monkeypatch, "mixed", "json"))["findings"]
    log = json.loads(run_check(capsys, monkeypatch, "mixed", "sarif"))
    validate_sarif(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "istiolint"
    assert driver["semanticVersion"] == __version__
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted({f["rule"] for f in findings})
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert rule["help"]["markdown"].startswith("## What it detects")
        assert len(rule["fullDescription"]["text"]) <= 1000
        assert rule["properties"]["tags"] == ["security"]
    results = run["results"]
    assert len(results) == len(findings)
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for res, found in zip(results, findings, strict=True):
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"] == found["rule"]
        assert res["level"] == levels[found["severity"]]
        assert res["message"]["text"] == found["message"]
        (location,) = res["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": found["path"], "uriBaseId": "%SRCROOT%"}
        assert physical["region"] == {
            "startLine": found["line"], "startColumn": found["column"],
            "endLine": found["end_line"], "endColumn": found["end_column"]}
        if found["resource"] is None:
            assert "logicalLocations" not in location
        else:
            (logical,) = location["logicalLocations"]
            assert logical["name"] == found["resource"]["name"]
            assert logical["properties"] == found["resource"]
    prints = [r["partialFingerprints"]["istiolint/v1"] for r in results]
    assert len(set(prints)) == len(prints)
    security = {r["id"]: r["properties"]["security-severity"] for r in rules}
    assert {security[f["rule"]] for f in findings if f["severity"] == "error"} == {"8.0"}
    assert {security[f["rule"]] for f in findings if f["severity"] == "warning"} == {"5.0"}
    assert {security[f["rule"]] for f in findings if f["severity"] == "info"} == {"2.0"}


def test_sarif_rule_text_is_bounded_and_paths_are_uris() -> None:
    doc = RuleDoc(code="AP007", name="literal-wildcard", severity=Severity.ERROR,
                  summary="summary", message="m", description="word " * 600,
                  consequence="consequence", fix="fix")
    findings = [finding(), finding(path="/abs/dir/a b.yaml", line=4),
                finding(path="<stdin>", line=5), finding(path="a:b #1.yaml", line=6),
                finding(code="XX001", severity=Severity.INFO, line=7)]
    log = json.loads(render(sarif_format.report, findings, {"AP007": doc}))
    validate_sarif(log)
    (run,) = log["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert len(rules["AP007"]["fullDescription"]["text"]) <= 1000
    assert rules["XX001"]["defaultConfiguration"]["level"] == "note"  # undocumented rule
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"]
                 for r in run["results"]]
    assert locations == [
        {"uri": "clusters/prod/authz.yaml", "uriBaseId": "%SRCROOT%"},
        {"uri": "file:///abs/dir/a%20b.yaml"},
        {"uri": "%3Cstdin%3E"},
        {"uri": "a%3Ab%20%231.yaml", "uriBaseId": "%SRCROOT%"},
        {"uri": "clusters/prod/authz.yaml", "uriBaseId": "%SRCROOT%"},
    ]
    assert all(URI_REFERENCE.fullmatch(loc["uri"]) for loc in locations)
    assert all("region" in r["locations"][0]["physicalLocation"] for r in run["results"])


# --- GitLab --------------------------------------------------------------------------------

def test_gitlab_is_an_array_with_unique_fingerprints(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    findings = json.loads(run_check(capsys, monkeypatch, "mixed", "json"))["findings"]
    issues = json.loads(run_check(capsys, monkeypatch, "mixed", "gitlab"))
    assert isinstance(issues, list)
    assert len(issues) == len(findings)
    prints = [issue["fingerprint"] for issue in issues]
    assert len(set(prints)) == len(prints)
    severities = {"error": "critical", "warning": "major", "info": "info"}
    for issue, found in zip(issues, findings, strict=True):
        assert issue["check_name"] == found["rule"]
        assert issue["description"] == f"{found['rule']}: {found['message']}"
        assert issue["severity"] == severities[found["severity"]]
        assert issue["location"] == {"path": found["path"],
                                     "lines": {"begin": found["line"], "end": found["end_line"]}}


def test_gitlab_fingerprints_are_the_shared_ones() -> None:
    ref = ResourceRef("security.istio.io/v1", "AuthorizationPolicy", "demo", "httpbin")
    # the same rule on the same field twice: still two fingerprints
    findings = [finding(resource=ref, pointer="/spec"), finding(resource=ref, pointer="/spec")]
    issues = json.loads(render(gitlab_format.report, findings))
    assert [i["fingerprint"] for i in issues] == fingerprints(findings)
    assert len({i["fingerprint"] for i in issues}) == 2


# --- JUnit ---------------------------------------------------------------------------------

def test_junit_parses_and_counts_match(capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    report = json.loads(run_check(capsys, monkeypatch, "mixed", "json"))
    findings, summary = report["findings"], report["summary"]
    root = ET.fromstring(run_check(capsys, monkeypatch, "mixed", "junit"))
    assert root.tag == "testsuites" and root.get("name") == "istiolint"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == list(dict.fromkeys(f["path"] for f in findings))
    assert not any(s.get("name", "").endswith("clean.yaml") for s in suites)
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("skipped", "-1")) == len(suite.findall("testcase/skipped"))
        assert suite.get("errors") == "0"
        assert all(c.get("classname") == suite.get("name") for c in cases)
    assert int(root.get("tests", "-1")) == len(findings) == len(root.findall(".//testcase"))
    assert int(root.get("failures", "-1")) == summary["errors"] + summary["warnings"]
    assert int(root.get("skipped", "-1")) == summary["infos"]
    types = [f.get("type") for f in root.iter("failure")]
    assert types == [f["rule"] for f in findings if f["severity"] != "info"]
    names = [c.get("name") for c in root.iter("testcase")]
    assert "AP007 AuthorizationPolicy demo/httpbin line 14" in names
    assert "IL001 line 12" in names


def test_junit_escapes_markup_and_removes_forbidden_characters() -> None:
    hostile = 'a <b> & "c" \x00\x1b[31m\x0c \ufffe done'
    findings = [finding(message=hostile, path="dir/<x>&.yaml"),
                finding(message=hostile, severity=Severity.INFO)]
    text = render(junit_format.report, findings)
    assert text.isascii()
    root = ET.fromstring(text)  # raises on a forbidden character
    failure = root.find(".//failure")
    assert failure is not None
    assert failure.get("message") == 'a <b> & "c" \\x00\\x1b[31m\\x0c \\ufffe done'
    assert root.find("testsuite").get("name") == "dir/<x>&.yaml"  # type: ignore[union-attr]
    assert root.find(".//skipped") is not None


def test_junit_without_findings_has_one_passing_case() -> None:
    root = ET.fromstring(render(junit_format.report, [], files=3))
    assert root.get("tests") == "1" and root.get("failures") == "0"
    (case,) = root.iter("testcase")
    assert case.get("name") == "no findings in 3 files" and len(case) == 0


# --- GitHub --------------------------------------------------------------------------------

COMMAND = re.compile(r"::(group|endgroup|error|warning|notice)( [^:]*)?::")


def assert_no_injection(text: str) -> None:
    """Every line is one of our commands, or a plain line the runner reads as no command."""
    for line in text.splitlines():
        if line.lstrip().startswith("::"):
            assert COMMAND.match(line), line
        else:
            assert "##[" not in line, line


def test_github_escapes_hostile_text() -> None:
    hostile = finding(message="100% sure,\r\n::error::pwned: a,b", path="evil,dir/a:b%.yaml")
    out = render(github_format.report, [hostile])
    assert out.splitlines() == [
        "::group::evil,dir/a:b%25.yaml",
        "::error file=evil%2Cdir/a%3Ab%25.yaml,line=3,endLine=3,col=5,endColumn=9,"
        "title=AP007 literal-wildcard::100%25 sure,%0D%0A::error::pwned: a,b",
        "::endgroup::",
        "::notice title=istiolint::istiolint found 1 finding (1 error, 0 warnings, 0 infos) "
        "in 1 of 1 file checked; all of them are shown as annotations.",
    ]
    assert_no_injection(out)


def test_github_escapes_group_titles_and_plain_lines() -> None:
    findings = [finding(line=n) for n in range(1, 11)]
    findings.append(finding(line=11, path="x\n::error::pwned.yaml",
                            message="m\n::error::pwned ##[set-output name=x]y\x1b[2J"))
    out = render(github_format.report, findings)
    assert "::group::x%0A::error::pwned.yaml" in out.splitlines()
    assert ("x\\x0a::error::pwned.yaml:11:5: AP007 error "
            "m\\x0a::error::pwned ##\\x5bset-output name=x]y\\x1b[2J") in out.splitlines()
    assert_no_injection(out)
    out = render(github_format.report, [*[finding(line=n) for n in range(10)],
                                        finding(path="::error::x.yaml")])
    assert "./::error::x.yaml:3:5: AP007 error bad" in out.splitlines()
    assert_no_injection(out)


def test_github_caps_annotations_and_keeps_every_finding() -> None:
    errors = [finding(line=n, path=f"dir/{n % 3}.yaml", message=f"error {n}")
              for n in range(1, 31)]
    warnings = [finding(severity=Severity.WARNING, line=n, message=f"warning {n}")
                for n in range(1, 13)]
    infos = [finding(severity=Severity.INFO, line=n, path="z.yaml", message=f"info {n}")
             for n in range(1, 13)]
    out = render(github_format.report, errors + warnings + infos, files=6)
    lines = out.splitlines()
    assert sum(line.startswith("::error ") for line in lines) == 10
    assert sum(line.startswith("::warning ") for line in lines) == 10
    assert sum(line.startswith("::notice ") for line in lines) == 10  # 9 infos + the summary
    plain = [line for line in lines if not line.startswith("::")]
    assert len(plain) == 20 + 2 + 3
    for n in range(1, 31):  # every error is still in the log, once
        assert sum(line.endswith(f"::error {n}") or line.endswith(f" error error {n}")
                   for line in lines) == 1
    assert sum(" error error " in line for line in plain) == 20
    assert lines[-1] == (
        "::notice title=istiolint::istiolint found 54 findings (30 errors, 12 warnings, "
        "12 infos) in 5 of 6 files checked; 29 shown as annotations (GitHub shows at most 10 "
        "errors and 10 warnings per step), all 54 are listed in this step's log. For the full "
        "report, run: istiolint check --format text")
    groups = [line for line in lines if line.startswith("::group::")]
    assert len(groups) == len(set(groups)) == 5
    assert lines.count("::endgroup::") == 5
    assert_no_injection(out)


def test_github_columns_follow_github_conventions() -> None:
    one_line = finding()
    several = Finding(code="AP017", name="redundant-allow", severity=Severity.INFO,
                      message="m", path="a.yaml", position=Position(12, 5, 14, 3))
    lines = render(github_format.report, [one_line, several]).splitlines()
    assert ",line=3,endLine=3,col=5,endColumn=9," in lines[1]  # inclusive end column
    assert lines[4] == ("::notice file=a.yaml,line=12,endLine=14,"
                        "title=AP017 redundant-allow::m")
