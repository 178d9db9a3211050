"""The quick door for ``check`` (istiolint.entry) must mean exactly what the typer CLI means."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from istiolint import check_command, cli, entry
from istiolint.check_command import CheckOptions

REPO = Path(__file__).resolve().parents[1]

QUICK = [
    ["check"],
    ["check", "manifests"],
    ["check", "a.yaml", "b", "-"],
    ["check", "--no-git", "--context", "manifests", "manifests/a.yaml", "--context=other"],
    ["check", "-f", "json", "-o", "out.json", "--no-cache", "-j", "2"],
    ["check", "--format=sarif", "--output=report.sarif", "--jobs=0", "manifests"],
    ["check", "--select", "AP,SC001", "--select", "IL", "--extend-select", "AP008",
     "--ignore", "AP004", "--extend-ignore=AP005", "--severity", "AP001=info"],
    ["check", "--ignore", "", "--exclude", "**/vendor/**", "--exclude", "x/*.yaml"],
    ["check", "-c", "conf.yaml", "--isolated", "--istio-version", "1.28",
     "--root-namespace", "mesh-root", "--fail-level", "warning", "--exit-zero"],
    ["check", "--stdin-filename", "x.yaml", "-", "--no-inline-suppressions",
     "--color", "never", "--verbose", "-v"],
    ["check", "--report", "sarif=a.sarif", "--report", "junit=b.xml", "--baseline", "b.json"],
    ["check", "--write-baseline", "b.json", "--new-only", "--base", "origin/main"],
    ["check", "-f", "json", "-f", "text", "--", "--looks-like-a-flag.yaml", "-"],
    ["check", "--format", "nonsense"],  # both doors leave the refusal to run_check
    ["check", "--color", "always", "-j", "7", "p"],
    ["check", "--render", "kustomize", "--allow-remote-bases", "--allow-kustomize-plugins",
     "--helm-chart", "charts/a", "--helm-chart=b", "-"],
    ["check", "--render", "sideways"],  # refused by run_check, whichever door
]

FULL_CLI_ONLY = [
    [],
    ["--version"],
    ["simulate", "manifests"],
    ["check", "--help"],
    ["check", "-h"],
    ["check", "--unknown-flag"],
    ["check", "-fjson"],
    ["check", "-vj", "2"],
    ["check", "--no-git=yes"],
    ["check", "--format"],
    ["check", "--format", "--no-git"],
    ["check", "-j", "-1"],
    ["check", "-j", "two"],
    ["check", "--color", "ALWAYS"],
    ["check", "--fail-level", "critical"],
    ["check", "-o", "."],
    ["check", "-c=conf.yaml"],
]


def _through_cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> CheckOptions:
    seen: list[CheckOptions] = []

    def record(options: CheckOptions) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(cli, "run_check", record)
    assert cli.main(args) == 0
    (options,) = seen
    return options


@pytest.mark.parametrize("args", QUICK, ids=" ".join)
def test_quick_door_reads_what_the_cli_reads(args: list[str], monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ISTIOLINT_CONFIG", "ISTIOLINT_FORMAT", "ISTIOLINT_JOBS"):
        monkeypatch.delenv(name, raising=False)
    quick = entry.read_check_args(args, {})
    assert quick is not None
    assert quick == _through_cli(args, monkeypatch)


@pytest.mark.parametrize("environment", [
    {"ISTIOLINT_FORMAT": "json"}, {"ISTIOLINT_JOBS": "3"}, {"ISTIOLINT_CONFIG": "c.yaml"},
    {"ISTIOLINT_FORMAT": "json", "ISTIOLINT_JOBS": "1", "ISTIOLINT_CONFIG": "x.toml"},
])
@pytest.mark.parametrize("args", [["check"], ["check", "-f", "sarif", "-j", "2", "-c", "y"]],
                         ids=" ".join)
def test_environment_variables_count_as_the_cli_counts_them(
        args: list[str], environment: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ISTIOLINT_CONFIG", "ISTIOLINT_FORMAT", "ISTIOLINT_JOBS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    quick = entry.read_check_args(args, environment)
    assert quick is not None
    assert quick == _through_cli(args, monkeypatch)


@pytest.mark.parametrize("args", FULL_CLI_ONLY, ids=lambda a: " ".join(a) or "(none)")
def test_anything_else_goes_to_the_full_cli(args: list[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert entry.read_check_args(args, {}) is None


def test_an_empty_environment_variable_goes_to_the_full_cli() -> None:
    assert entry.read_check_args(["check"], {"ISTIOLINT_FORMAT": ""}) is None


def test_the_program_answers_like_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Same exit codes and output through either door, for a run, an error and a bad flag."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.yaml").write_text(
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
        "metadata: {name: p, namespace: ns}\nspec: {action: ALOW}\n")
    for args in (["check", "--isolated", "-f", "json", "policy.yaml"],
                 ["check", "--isolated", "missing.yaml"],
                 ["check", "--isolated", "--report", "nonsense"],
                 ["check", "--isolated", "--bogus"]):
        answers = []
        for door in (entry.main, cli.main):
            code = door(args)
            captured = capsys.readouterr()
            answers.append((code, captured.out, captured.err))
        assert answers[0] == answers[1], args
        assert answers[0][0] in (1, 2)


def test_the_quick_door_does_not_import_the_cli(tmp_path: Path) -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    probe = ("import sys; from istiolint.entry import main; code = main(['check', "
             "'--isolated', '--no-cache', '.']); "
             "print(code, sorted(m for m in ('typer', 'istiolint.cli', 'rich.console') "
             "if m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                               cwd=tmp_path, check=True)
    assert completed.stdout.split("\n")[-2] == "0 []"


def test_check_options_cover_every_cli_flag() -> None:
    """A flag added to the CLI must be added to the quick door too (or be refused by it)."""
    import typer.main  # noqa: PLC0415

    command = typer.main.get_command(cli.app)
    check = command.commands["check"]  # type: ignore[attr-defined]
    flags = {opt for param in check.params for opt in param.opts if opt.startswith("-")}
    known = set(entry._VALUE_FLAGS) | set(entry._LIST_FLAGS) | set(entry._SWITCHES)
    assert flags - {"--help", "-h"} == known
    assert set(check_command.CheckOptions.__dataclass_fields__) == \
        {param.name for param in check.params} | {"paths"} - {"help"}


def _leaving(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text("import atexit, sys, threading, time\nfrom istiolint.entry import leave\n"
                      + body, encoding="utf-8")
    return subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                          text=True, check=False, timeout=60)


def test_leaving_runs_the_exit_handlers_and_flushes_the_output(tmp_path: Path) -> None:
    done = _leaving(tmp_path, (
        "atexit.register(lambda: open(sys.argv[1] + '/handled', 'w').close())\n"
        "sys.stdout.write('buffered, no newline')\n"
        "sys.stderr.write('and on stderr')\n"
        "leave(3)\n"
        "print('never')\n"))
    assert (done.returncode, done.stdout, done.stderr) == (3, "buffered, no newline",
                                                           "and on stderr")
    assert (tmp_path / "handled").exists()


def test_leaving_waits_for_a_thread_that_is_still_running(tmp_path: Path) -> None:
    done = _leaving(tmp_path, (
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    print('the thread finished', flush=True)\n"
        "threading.Thread(target=late).start()\n"
        "leave(1)\n"))
    assert (done.returncode, done.stdout) == (1, "the thread finished\n")


def test_the_program_leaves_with_its_exit_code(tmp_path: Path) -> None:
    policy = REPO / "rules" / "SC003-invalid-value" / "bad.yaml"
    done = subprocess.run([sys.executable, "-m", "istiolint", "check", str(policy),
                           "--no-cache", "-f", "json"], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 1
    assert json.loads(done.stdout)["findings"]
