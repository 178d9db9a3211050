"""The command line through ``main(argv)``: exit codes, formats, config, suppression."""

from __future__ import annotations

import io
import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from istiolint import cli
from istiolint.check_command import use_color

REPO = Path(__file__).resolve().parents[1]
FINDINGS_SCHEMA = json.loads((REPO / "docs/schemas/findings-v1.schema.json").read_text())
Run = Callable[..., tuple[int, str, str]]

BROKEN = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: demo
spec:
  action: allow
  rules:
  - to:
    - operation:
        methods: ["GET"]
"""
WARNING_ONLY = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-admin
  namespace: demo
spec:
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/admin", "/admin/*"]
"""


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests/broken.yaml").write_text(BROKEN)
    (tmp_path / "manifests/warn.yaml").write_text(WARNING_ONLY)
    (tmp_path / "manifests/values.yaml").write_text("replicas: 3\nimage: {tag: x}\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_json_report_follows_the_published_contract(tree: Path, run_cli: Run) -> None:
    code, out, _ = run_cli("check", "manifests", "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, FINDINGS_SCHEMA)
    assert code == 1
    assert report["summary"] == {"files": 3, "documents": 3, "errors": 1, "warnings": 1,
                                 "infos": 0, "not_shown": 0}
    error = next(f for f in report["findings"] if f["severity"] == "error")
    assert error == {
        "rule": "SC003", "name": "invalid-value", "severity": "error",
        "message": 'spec.action: unsupported value "allow"; supported values: "ALLOW", "DENY", '
                   '"AUDIT", "CUSTOM"; did you mean "ALLOW"?',
        "path": "manifests/broken.yaml", "line": 7, "column": 3, "end_line": 7, "end_column": 16,
        "pointer": "/spec/action",
        "resource": {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                     "namespace": "demo", "name": "httpbin"},
    }


def test_text_report_lines_and_summary(tree: Path, run_cli: Run) -> None:
    code, out, _ = run_cli("check", "manifests", "--color", "never")
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith("manifests/broken.yaml:7:3: SC003 error spec.action: unsupported")
    assert lines[0].endswith("[AuthorizationPolicy demo/httpbin]")
    assert lines[1].startswith("manifests/warn.yaml:9:5: AD002 warning Istio warns:")
    assert lines[-1] == ("Found 1 error, 1 warning and 0 infos (3 files, 3 documents checked "
                         "against Istio 1.30.3).")
    assert "\x1b[" not in out


def test_color_only_when_asked_or_on_a_terminal(tree: Path, run_cli: Run) -> None:
    assert "\x1b[" in run_cli("check", "manifests", "--color", "always")[1]


@pytest.mark.parametrize(("args", "expected"), [
    ((), 1),
    (("--fail-level", "warning", "--ignore", "SC003"), 1),
    (("--ignore", "SC003"), 0),
    (("--exit-zero",), 0),
    (("--select", "AD"), 0),
    (("--severity", "SC003=warning"), 0),
    (("--severity", "invalid-value=info", "--fail-level", "info"), 1),
])
def test_exit_codes_follow_the_fail_level(tree: Path, run_cli: Run, args: tuple[str, ...],
                                          expected: int) -> None:
    assert run_cli("check", "manifests", *args)[0] == expected


@pytest.mark.parametrize("args", [
    ("check", "does-not-exist"),
    ("check", "manifests", "--select", "SC999"),
    ("check", "manifests", "--ignore", "unknwon-field"),
    ("check", "manifests", "--format", "yaml"),
    ("check", "manifests", "--istio-version", "0.9"),
    ("check", "manifests", "--severity", "SC001"),
    ("check", "--bogus-flag"),
    ("rule", "nope"),
])
def test_usage_errors_exit_2(tree: Path, run_cli: Run, args: tuple[str, ...]) -> None:
    code, _, err = run_cli(*args)
    assert code == 2
    assert err.strip()
    assert "Traceback" not in err


def test_unknown_rule_suggests_the_right_name(tree: Path, run_cli: Run) -> None:
    _, _, err = run_cli("check", "manifests", "--ignore", "unknwon-field")
    assert "did you mean 'unknown-field'?" in err


def test_internal_errors_exit_3_without_traceback(tree: Path, run_cli: Run,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli.Linter, "lint", explode)
    code, _, err = run_cli("check", "manifests")
    assert code == 3
    assert "internal error: RuntimeError: boom" in err
    assert "Traceback" not in err
    code, _, err = run_cli("check", "manifests", "--verbose")
    assert "Traceback" in err


def test_an_internal_error_names_a_way_to_the_traceback_that_the_command_takes(
        tree: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("istiolint.diffing.compare.Differ.compare", explode)
    code, _, err = run_cli("diff", "manifests", "--against", "manifests")
    assert code == 3
    assert "set ISTIOLINT_TRACEBACK=1 for details" in err  # diff has no --verbose
    assert "Traceback" not in err
    monkeypatch.setenv("ISTIOLINT_TRACEBACK", "1")
    code, _, err = run_cli("diff", "manifests", "--against", "manifests")
    assert code == 3
    assert "Traceback" in err


def test_stdin_with_a_filename(tree: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BROKEN.encode())))
    code, out, _ = run_cli("check", "-", "--stdin-filename", "from/stdin.yaml", "-f", "json")
    report = json.loads(out)
    assert code == 1
    assert [(f["path"], f["line"]) for f in report["findings"]] == [("from/stdin.yaml", 7)]


def test_parse_errors_do_not_stop_other_files(tree: Path, run_cli: Run) -> None:
    (tree / "manifests/bad-syntax.yaml").write_text("kind: [\n")
    code, out, _ = run_cli("check", "manifests", "-f", "json")
    rules = sorted(f["rule"] for f in json.loads(out)["findings"])
    assert code == 1
    assert rules == ["AD002", "IL001", "SC003"]


def test_context_loads_everything_but_reports_only_named_files(tree: Path, run_cli: Run) -> None:
    code, out, _ = run_cli("check", "--context", "manifests", "manifests/warn.yaml", "-f", "json")
    report = json.loads(out)
    assert code == 0
    assert {f["path"] for f in report["findings"]} == {"manifests/warn.yaml"}


def test_config_file_is_found_validated_and_overridden(tree: Path, run_cli: Run) -> None:
    (tree / ".istiolint.yaml").write_text("paths: [manifests]\nignore: [invalid-value]\n"
                                          "fail-level: warning\n")
    assert run_cli("check")[0] == 1  # the warning now fails
    assert run_cli("check", "--fail-level", "error")[0] == 0
    assert run_cli("check", "--ignore", "AD002")[0] == 1  # --ignore replaces: SC003 is back
    (tree / ".istiolint.yaml").write_text("ignore: SC003\nfail_level: error\n")
    code, _, err = run_cli("check")
    assert code == 2
    assert "ignore: 'SC003' is not of type 'array'" in err
    assert "fail_level" in err


def test_pyproject_section_is_read(tree: Path, run_cli: Run) -> None:
    (tree / "pyproject.toml").write_text('[tool.istiolint]\npaths = ["manifests"]\n'
                                         'select = ["AD"]\n')
    assert run_cli("check")[0] == 0
    assert run_cli("check", "--isolated", "manifests")[0] == 1


def test_per_path_ignores(tree: Path, run_cli: Run) -> None:
    (tree / ".istiolint.yaml").write_text("per-path-ignores:\n  'manifests/broken.yaml': [SC]\n")
    assert run_cli("check", "manifests")[0] == 0


def test_suppression_comment_annotation_and_unused_report(tree: Path, run_cli: Run) -> None:
    (tree / "manifests/broken.yaml").write_text(
        BROKEN.replace("action: allow", "action: allow  # istiolint: disable=SC003 -- legacy"))
    (tree / "manifests/warn.yaml").write_text(WARNING_ONLY.replace(
        "  namespace: demo\n", "  namespace: demo\n  annotations:\n"
        "    ignore.istiolint.io/admission-warning: HTTP only\n"
        "    ignore.istiolint.io/SC001: nothing to suppress\n"))
    code, out, _ = run_cli("check", "manifests", "-f", "json")
    findings = json.loads(out)["findings"]
    assert [(f["rule"], f["path"], f["line"]) for f in findings] == [
        ("IL100", "manifests/warn.yaml", 8)]
    assert code == 0
    code, out, _ = run_cli("check", "manifests", "-f", "json", "--no-inline-suppressions")
    assert sorted(f["rule"] for f in json.loads(out)["findings"]) == ["AD002", "SC003"]


def test_output_file_is_written_only_when_asked(tree: Path, run_cli: Run) -> None:
    before = sorted(p.name for p in tree.rglob("*"))
    run_cli("check", "manifests")
    assert sorted(p.name for p in tree.rglob("*")) == before
    code, out, _ = run_cli("check", "manifests", "-f", "json", "-o", "report.json")
    assert code == 1
    assert out == ""
    assert json.loads((tree / "report.json").read_text())["version"] == 1


def test_terminal_escapes_from_manifests_never_reach_the_output(tree: Path, run_cli: Run) -> None:
    (tree / "manifests/evil.yaml").write_text(BROKEN.replace("action: allow",
                                                             'action: "\\e]0;pwned\\a"'))
    _, out, _ = run_cli("check", "manifests", "--color", "never")
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07" in out


def test_rules_listing_and_rule_docs(run_cli: Run) -> None:
    code, out, _ = run_cli("rules", "--format", "json")
    listing = json.loads(out)
    assert code == 0 and listing["version"] == 1
    assert {"code": "SC001", "name": "unknown-field", "severity": "error",
            "summary": "A field that the Istio CRD schema does not define."} in listing["rules"]
    code, out, _ = run_cli("rules")
    assert code == 0 and "SC001  unknown-field" in out
    code, out, _ = run_cli("rule", "unknown-field")
    assert code == 0
    assert out.startswith("# SC001 unknown-field")
    assert "## How to fix it" in out and "jwksURI" in out


def test_version(run_cli: Run) -> None:
    code, out, _ = run_cli("--version")
    assert code == 0 and out.startswith("istiolint ")


def test_kind_list_items_are_checked_with_their_own_positions(tree: Path, run_cli: Run) -> None:
    item = textwrap.indent(BROKEN, "  ")
    (tree / "manifests/list.yaml").write_text("apiVersion: v1\nkind: List\nitems:\n-"
                                              + item[1:])
    code, out, _ = run_cli("check", "manifests/list.yaml", "-f", "json")
    (finding,) = json.loads(out)["findings"]
    assert code == 1
    assert (finding["rule"], finding["line"], finding["pointer"]) == ("SC003", 10, "/spec/action")


def test_no_color_environment_wins(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_color("auto", Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color("auto", Terminal())
    assert use_color("always", Terminal())


def test_document_and_file_suppressions(tree: Path, run_cli: Run) -> None:
    (tree / "manifests/broken.yaml").write_text(
        "# istiolint: disable-file=invalid-value -- migrating\n" + BROKEN)
    (tree / "manifests/warn.yaml").write_text(
        "kind: ConfigMap\napiVersion: v1\nmetadata: {name: x}\n---\n"
        + WARNING_ONLY.replace("spec:\n", "spec:  # istiolint: disable-document=AD -- HTTP only\n"))
    code, out, _ = run_cli("check", "manifests", "-f", "json")
    assert json.loads(out)["findings"] == []
    assert code == 0
