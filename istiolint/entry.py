"""The ``istiolint`` program: a quick door for plain ``check`` runs, the full CLI for the rest.

Building the typer command line costs about a third of a second (typer, rich and pydantic
imports, parameter adapters), more than a warm ``check`` of a large tree. The pre-commit hook
and CI run ``check`` with a handful of plain flags, so those argument lists are read here and
go straight to :func:`istiolint.check_command.run_check`. Anything this reader does not fully
understand (help, an unknown or malformed flag, a value the CLI would refuse, another command)
goes to the typer CLI, which gives the answer and the error messages. Both doors must build the
same :class:`CheckOptions` for every argument list read here; tests compare them.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from istiolint.check_command import (
    COLORS,
    EXIT_INTERNAL,
    EXIT_USAGE,
    LEVELS,
    CheckOptions,
)
from istiolint.errors import UsageError

# flag -> CheckOptions field; value flags take the next argument (or ``=value``)
_VALUE_FLAGS = {
    "--config": "config", "-c": "config", "--istio-version": "istio_version",
    "--root-namespace": "root_namespace", "--format": "output_format", "-f": "output_format",
    "--output": "output", "-o": "output", "--fail-level": "fail_level",
    "--stdin-filename": "stdin_filename", "--color": "color", "--jobs": "jobs", "-j": "jobs",
    "--baseline": "baseline", "--write-baseline": "write_baseline", "--base": "base",
    "--render": "render",
}
_LIST_FLAGS = {
    "--select": "select", "--extend-select": "extend_select", "--ignore": "ignore",
    "--extend-ignore": "extend_ignore", "--severity": "severity", "--exclude": "exclude",
    "--context": "context", "--report": "report", "--helm-chart": "helm_chart",
}
_SWITCHES = {
    "--isolated": "isolated", "--exit-zero": "exit_zero", "--no-git": "no_git",
    "--no-inline-suppressions": "no_inline_suppressions", "--no-cache": "no_cache",
    "--new-only": "new_only", "--verbose": "verbose", "-v": "verbose",
    "--allow-remote-bases": "allow_remote_bases",
    "--allow-kustomize-plugins": "allow_kustomize_plugins",
}
_ENVIRONMENT = {"config": "ISTIOLINT_CONFIG", "output_format": "ISTIOLINT_FORMAT",
                "jobs": "ISTIOLINT_JOBS"}
_FILE_OPTIONS = ("config", "output", "baseline", "write_baseline")  # files, never directories


def read_check_args(args: Sequence[str], environ: Mapping[str, str]) -> CheckOptions | None:
    """The options of ``istiolint check ARGS...``, or None when the full CLI must decide."""
    if not args or args[0] != "check":
        return None
    values: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    paths: list[str] = []
    rest = list(args[1:])
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            paths.extend(rest)
            break
        if arg == "-" or not arg.startswith("-"):
            paths.append(arg)
            continue
        flag, equals, inline = arg.partition("=")
        if flag in _SWITCHES and not equals:
            values[_SWITCHES[flag]] = True
            continue
        name = _VALUE_FLAGS.get(flag) or _LIST_FLAGS.get(flag)
        if name is None or (equals and not flag.startswith("--")):
            return None
        if equals:
            value = inline
        elif rest and (rest[0] == "-" or not rest[0].startswith("-")):
            value = rest.pop(0)
        else:
            return None
        if flag in _LIST_FLAGS:
            lists.setdefault(name, []).append(value)
        else:
            values[name] = value
    for name, variable in _ENVIRONMENT.items():
        if name not in values and variable in environ:
            if not environ[variable]:
                return None  # how an empty variable counts is the full CLI's business
            values[name] = environ[variable]
    return _options(values, lists, paths)


def _options(values: dict[str, Any], lists: dict[str, list[str]],
             paths: list[str]) -> CheckOptions | None:
    jobs = values.get("jobs", "0")
    if not (isinstance(jobs, str) and jobs.isascii() and jobs.isdigit()):
        return None
    values["jobs"] = int(jobs)
    if values.get("color", "auto") not in COLORS or values.get("fail_level", "error") not in LEVELS:
        return None
    for name in _FILE_OPTIONS:
        if name in values:
            path = Path(str(values[name]))
            if path.is_dir():  # the CLI refuses it with its own message
                return None
            values[name] = path
    given: dict[str, Any] = {name: tuple(items) for name, items in lists.items()}
    return CheckOptions(paths=tuple(paths), **values, **given)


_VERBOSE_COMMANDS = ("check", "simulate")  # the commands that take --verbose


def guarded(call: Callable[[], int], args: Sequence[str]) -> int:
    """Run ``call`` and turn what escapes it into istiolint's exit codes and messages."""
    try:
        return call()
    except UsageError as exc:
        print(f"istiolint: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        verbose = bool(args) and args[0] in _VERBOSE_COMMANDS
        if (verbose and ("--verbose" in args or "-v" in args)) \
                or os.environ.get("ISTIOLINT_TRACEBACK") == "1":
            import traceback  # noqa: PLC0415

            traceback.print_exc()
        how = "run with --verbose" if verbose else "set ISTIOLINT_TRACEBACK=1"
        print(f"istiolint: internal error: {type(exc).__name__}: {exc} "
              f"({how} for details; please report it)", file=sys.stderr)
        return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Run istiolint with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    options = read_check_args(args, os.environ)
    if options is None:
        from istiolint.cli import main as full_cli  # noqa: PLC0415

        return full_cli(args)
    from istiolint.check_command import run_check  # noqa: PLC0415

    return guarded(lambda: run_check(options), args)


def run() -> None:
    """The console script: :func:`main`, then leave."""
    # A run allocates its objects once and keeps most of them to the end: the cyclic collector
    # would scan them again and again for the little it frees (as mypy's command line does).
    gc.set_threshold(200_000, 30, 30)
    leave(main())


def leave(code: int) -> NoReturn:
    """Exit as the interpreter does (atexit handlers run, then the output is flushed) but
    without freeing every object and module one by one first, which takes a tenth of the
    pre-commit hook; mypy's command line leaves the same way. With a thread still running,
    exit normally: it is waited for."""
    import threading  # noqa: PLC0415 -- already imported by then

    if any(not thread.daemon for thread in threading.enumerate()
           if thread is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()  # what interpreter shutdown runs first
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away (istiolint check | head)
            code = code or 120  # as the interpreter exits when it cannot flush
    os._exit(code)
