"""``istiolint check`` behind its flags: the options it takes and what it does with them.

Kept apart from the typer command line (and free of its imports) so that the pre-commit hook's
common invocations can run without building the whole CLI; see :mod:`istiolint.entry`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from istiolint.cache import NO_CACHE_ENV
from istiolint.errors import UsageError

if TYPE_CHECKING:
    from istiolint.engine import Inputs, Linter, LintResult
    from istiolint.report import Reporter, ReportOptions

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

COLORS = ("auto", "always", "never")
LEVELS = ("error", "warning", "info")


@dataclass(frozen=True)
class CheckOptions:
    """Every flag of ``check``, as given (None or empty: not given)."""

    paths: tuple[str, ...] = ()
    config: Path | None = None
    isolated: bool = False
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    extend_ignore: tuple[str, ...] | None = None
    severity: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    istio_version: str | None = None
    root_namespace: str | None = None
    output_format: str = "text"
    output: Path | None = None
    fail_level: str | None = None
    exit_zero: bool = False
    stdin_filename: str = "<stdin>"
    context: tuple[str, ...] = ()
    no_git: bool = False
    no_inline_suppressions: bool = False
    no_cache: bool = False
    color: str = "auto"
    jobs: int = 0
    report: tuple[str, ...] = ()
    baseline: Path | None = None
    write_baseline: Path | None = None
    new_only: bool = False
    base: str | None = None
    verbose: bool = False
    render: str | None = None
    allow_remote_bases: bool = False
    allow_kustomize_plugins: bool = False
    helm_chart: tuple[str, ...] = ()


def split_values(values: tuple[str, ...] | list[str] | None) -> list[str] | None:
    """Comma-separated, repeatable flag values as one list (None when the flag was absent)."""
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def use_color(choice: str, stream: Any) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"


def resolve_format(name: str) -> str:
    """``auto``: GitHub annotations inside GitHub Actions, text elsewhere."""
    if name == "auto":
        return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    return name


def run_check(options: CheckOptions) -> int:
    """Lint as ``options`` say, write the reports and return the exit code."""
    # imported here: the entry point decides between this and the full CLI before paying them
    from istiolint.baseline import new_findings, read_baseline  # noqa: PLC0415
    from istiolint.baseline import write_baseline as write_baseline_file  # noqa: PLC0415
    from istiolint.config import (  # noqa: PLC0415
        apply_overrides,
        load_settings,
        parse_severity_overrides,
    )
    from istiolint.engine import Inputs, Linter  # noqa: PLC0415
    from istiolint.progress import file_progress  # noqa: PLC0415
    from istiolint.report import ReportOptions, get_reporter  # noqa: PLC0415
    from istiolint.rules import Severity, load_registry  # noqa: PLC0415

    if options.new_only != (options.base is not None):
        raise UsageError("--new-only and --base go together: --new-only --base REV")
    if options.write_baseline is not None and (options.baseline is not None or
                                               options.new_only):
        raise UsageError("--write-baseline records every finding: drop --baseline/--new-only")
    if options.no_cache:
        os.environ[NO_CACHE_ENV] = "1"
    settings = load_settings(Path.cwd(), options.config, isolated=options.isolated)
    severities = dict(settings.severity)
    severities.update(parse_severity_overrides(list(options.severity)))
    settings = apply_overrides(
        settings,
        paths=list(options.paths) or None,
        select=[*(split_values(options.select) or settings.select),
                *(split_values(options.extend_select) or [])],
        ignore=[*(settings.ignore if options.ignore is None else
                  split_values(options.ignore) or []),
                *(split_values(options.extend_ignore) or [])],
        exclude=[*settings.exclude, *options.exclude],
        severity=severities,
        istio_version=options.istio_version,
        root_namespace=options.root_namespace,
        fail_level=Severity.parse(options.fail_level) if options.fail_level else None,
        inline_suppressions=False if options.no_inline_suppressions else None,
        render=render_choice(options.render),
    )
    reporter = get_reporter(resolve_format(options.output_format))
    extra_reports = [(get_reporter(resolve_format(name)), target)
                     for name, target in _report_targets(options.report)]
    registry = load_registry(settings.plugins)
    linter = Linter(registry, settings, Path.cwd())
    linter.jobs = options.jobs
    linter.helm_chart_dirs = tuple(Path(directory) for directory in options.helm_chart)
    if options.allow_remote_bases or options.allow_kustomize_plugins:
        from istiolint.render.build import BuildOptions  # noqa: PLC0415

        linter.build_options = BuildOptions(allow_remote=options.allow_remote_bases,
                                            allow_plugins=options.allow_kustomize_plugins)
    linter.use_cache = True  # off with --no-cache (ISTIOLINT_NO_CACHE), see cache_dir()
    stdin = sys.stdin.buffer.read() if "-" in settings.paths else None
    inputs = Inputs(settings.paths, context=options.context, stdin=stdin,
                    stdin_filename=options.stdin_filename, use_git=not options.no_git)
    try:
        with file_progress() as progress:
            linter.progress = progress
            result = _new_since(linter, inputs, options.base) if options.base is not None \
                else linter.lint(inputs)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    if options.write_baseline is not None:
        count = write_baseline_file(options.write_baseline, result.findings)
        print(f"istiolint: recorded {count} finding(s) in {options.write_baseline}",
              file=sys.stderr)
        return EXIT_OK
    if options.baseline is not None:
        shown = new_findings(result.findings, read_baseline(options.baseline))
        result = replace(result, findings=shown,
                         not_shown=result.not_shown + len(result.findings) - len(shown))
    report_options = ReportOptions(color=False, verbose=options.verbose, rules=registry.rules)
    for extra, target in extra_reports:
        _write_report(extra, result, target, report_options)
    if options.output is not None:
        _write_report(reporter, result, options.output, report_options)
    else:
        reporter(result, sys.stdout,
                 replace(report_options, color=use_color(options.color, sys.stdout)))
    failing = any(f.severity >= settings.fail_level for f in result.findings)
    return EXIT_FINDINGS if failing and not options.exit_zero else EXIT_OK


RENDERERS = ("none", "kustomize")


def render_choice(value: str | None) -> str | None:
    if value is not None and value not in RENDERERS:
        raise UsageError(f"--render takes {' or '.join(RENDERERS)}, got {value!r}")
    return value


def _report_targets(values: tuple[str, ...]) -> list[tuple[str, Path]]:
    targets = []
    for value in values:
        name, sep, target = value.partition("=")
        if not sep or not name or not target:
            raise UsageError(f"--report takes FORMAT=PATH, got {value!r}")
        targets.append((name, Path(target)))
    return targets


def _write_report(reporter: Reporter, result: LintResult, target: Path,
                  options: ReportOptions) -> None:
    try:
        with target.open("w", encoding="utf-8") as stream:
            reporter(result, stream, options)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _new_since(linter: Linter, inputs: Inputs, revision: str) -> LintResult:
    """The findings of ``inputs`` that the same paths did not have at ``revision``."""
    from istiolint.baseline import new_findings  # noqa: PLC0415
    from istiolint.diffing.compare import Differ  # noqa: PLC0415 (imports deepdiff)
    from istiolint.fingerprints import fingerprint_set  # noqa: PLC0415

    differ = Differ(linter, inputs.paths, use_git=inputs.use_git)
    result = linter.lint(inputs)
    known = fingerprint_set(differ.findings_at(revision))
    shown = new_findings(result.findings, known)
    return replace(result, findings=shown, not_shown=len(result.findings) - len(shown))
