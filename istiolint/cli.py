"""Command line: thin wrappers that parse flags and call the core.

Exit codes: 0 nothing at or above the fail level, 1 findings at or above it, 2 usage,
configuration or input errors, 3 internal errors.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from istiolint import __version__
from istiolint.authz.request import parse_claim, parse_request
from istiolint.check_command import (
    EXIT_FINDINGS,
    EXIT_OK,
    CheckOptions,
    render_choice,
    run_check,
    split_values,
)
from istiolint.config import Settings, apply_overrides, load_settings
from istiolint.engine import Linter
from istiolint.entry import guarded
from istiolint.errors import UsageError
from istiolint.render.build import BuildOptions
from istiolint.report.contracts import load_report
from istiolint.report.markdown import render as render_findings_markdown
from istiolint.ruledocs import render_rule_markdown, rules_json
from istiolint.rules import load_registry
from istiolint.simulate import (
    decide,
    load_model,
    load_request_file,
    write_json,
    write_test_report,
    write_text,
)

app = typer.Typer(
    name="istiolint",
    help="Lint, simulate and diff Istio security policy in GitOps repositories.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


comment_app = typer.Typer(
    help="Post or update istiolint's pull-request comment.", no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(comment_app, name="comment")


class CommentMode(str, enum.Enum):
    update = "update"
    recreate = "recreate"
    delete = "delete"


class Color(str, enum.Enum):
    auto = "auto"
    always = "always"
    never = "never"


class Level(str, enum.Enum):
    error = "error"
    warning = "warning"
    info = "info"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"istiolint {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """istiolint: catch Istio security policy mistakes before they merge."""


def _settings(config: Path | None, isolated: bool) -> Settings:
    return load_settings(Path.cwd(), config, isolated=isolated)


ConfigOption = Annotated[Path | None, typer.Option(
    "--config", "-c", envvar="ISTIOLINT_CONFIG", dir_okay=False,
    help="Config file (default: .istiolint.yaml or [tool.istiolint] in pyproject.toml, "
         "searched from the working directory up to the git root).")]
IsolatedOption = Annotated[bool, typer.Option("--isolated", help="Ignore every config file.")]
JobsOption = Annotated[int, typer.Option(
    "--jobs", "-j", min=0, envvar="ISTIOLINT_JOBS",
    help="Processes to use; 0 uses every core for large trees and one for small ones.")]


RenderOption = Annotated[str | None, typer.Option(
    "--render", metavar="none|kustomize",
    help="kustomize: lint what every overlay builds (kustomize build or kubectl kustomize), "
         "reporting in the bases and patches; also the config's 'render'.")]
AllowRemoteOption = Annotated[bool, typer.Option(
    "--allow-remote-bases",
    help="Let kustomize fetch remote bases and resources (never allowed by the config file, "
         "which a pull request can change).")]
AllowPluginsOption = Annotated[bool, typer.Option(
    "--allow-kustomize-plugins",
    help="Let kustomize run plugins, KRM functions and helm (never allowed by the config "
         "file).")]


@app.command()
def check(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files or directories to lint ('-' for standard input). Default: 'paths' from "
             "the config, else '.'.", show_default=False)] = None,
    config: ConfigOption = None,
    isolated: IsolatedOption = False,
    select: Annotated[list[str] | None, typer.Option(
        help="Rules to run (codes, prefixes, names or ALL; comma-separated, repeatable). "
             "Replaces the config's select.")] = None,
    extend_select: Annotated[list[str] | None, typer.Option(
        help="Rules to run in addition to the config's select.")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        help="Rules not to run. Replaces the config's ignore.")] = None,
    extend_ignore: Annotated[list[str] | None, typer.Option(
        help="Rules not to run in addition to the config's ignore.")] = None,
    severity: Annotated[list[str] | None, typer.Option(
        metavar="RULE=LEVEL", help="Override a rule's severity (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        help="Glob of paths never linted (repeatable). Extends the config's exclude.")] = None,
    istio_version: Annotated[str | None, typer.Option(
        help="Istio release whose CRD schemas apply, e.g. 1.28 or 1.30.3 (default: newest "
             "bundled release).")] = None,
    root_namespace: Annotated[str | None, typer.Option(
        help="Istio's root namespace (default: istio-system).")] = None,
    output_format: Annotated[str, typer.Option(
        "--format", "-f", envvar="ISTIOLINT_FORMAT",
        help="Output format: text, json, sarif, github, gitlab, junit, markdown, or auto "
             "(github inside GitHub Actions, else text).")]
    = "text",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, help="Write the report to this file.")] = None,
    fail_level: Annotated[Level | None, typer.Option(
        help="Lowest severity that makes the exit code 1 (default: error).")] = None,
    exit_zero: Annotated[bool, typer.Option(
        help="Exit 0 even when findings reach the fail level.")] = False,
    stdin_filename: Annotated[str, typer.Option(
        help="Path to report for input read from '-'.")] = "<stdin>",
    context: Annotated[list[str] | None, typer.Option(
        help="Load this directory too, for cross-file context, but report findings only in "
             "PATHS (what the pre-commit hook uses).")] = None,
    no_git: Annotated[bool, typer.Option(
        "--no-git", help="Walk directories without asking git (.gitignore is not honoured).")]
    = False,
    no_inline_suppressions: Annotated[bool, typer.Option(
        "--no-inline-suppressions",
        help="Ignore suppression comments and annotations (for security gates).")] = False,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Neither read nor write istiolint's cache directory (also: "
        "ISTIOLINT_NO_CACHE=1).")] = False,
    color: Annotated[Color, typer.Option(help="Colour the text output.")] = Color.auto,
    jobs: JobsOption = 0,
    report: Annotated[list[str] | None, typer.Option(
        "--report", metavar="FORMAT=PATH",
        help="Also write a report in FORMAT to PATH (repeatable), e.g. sarif=istiolint.sarif.")]
    = None,
    baseline: Annotated[Path | None, typer.Option(
        dir_okay=False, help="Report only findings not recorded in this baseline file.")]
    = None,
    write_baseline: Annotated[Path | None, typer.Option(
        dir_okay=False, help="Record every current finding in this baseline file and exit 0.")]
    = None,
    new_only: Annotated[bool, typer.Option(
        "--new-only", help="Report only findings absent at the git revision --base.")] = False,
    base: Annotated[str | None, typer.Option(
        help="The git revision --new-only compares with (e.g. origin/main).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Show skipped files and tracebacks.")] = False,
    render: RenderOption = None,
    allow_remote_bases: AllowRemoteOption = False,
    allow_kustomize_plugins: AllowPluginsOption = False,
    helm_chart: Annotated[list[str] | None, typer.Option(
        "--helm-chart", metavar="DIR",
        help="Chart directory of 'helm template' output read from '-' (repeatable; default: "
             "found by the chart's name below the working directory).")] = None,
) -> None:
    """Lint manifest files and directories."""
    raise typer.Exit(run_check(CheckOptions(
        paths=tuple(paths or ()), config=config, isolated=isolated,
        select=_given(select), extend_select=_given(extend_select), ignore=_given(ignore),
        extend_ignore=_given(extend_ignore), severity=tuple(severity or ()),
        exclude=tuple(exclude or ()), istio_version=istio_version, root_namespace=root_namespace,
        output_format=output_format, output=output,
        fail_level=fail_level.value if fail_level else None, exit_zero=exit_zero,
        stdin_filename=stdin_filename, context=tuple(context or ()), no_git=no_git,
        no_inline_suppressions=no_inline_suppressions, no_cache=no_cache, color=color.value,
        jobs=jobs, report=tuple(report or ()), baseline=baseline,
        write_baseline=write_baseline, new_only=new_only, base=base, verbose=verbose,
        render=render, allow_remote_bases=allow_remote_bases,
        allow_kustomize_plugins=allow_kustomize_plugins, helm_chart=tuple(helm_chart or ()))))


def _given(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


def _linter(config: Path | None, isolated: bool, root_namespace: str | None,
            render: str | None = None, *, allow_remote: bool = False,
            allow_plugins: bool = False) -> Linter:
    settings = apply_overrides(_settings(config, isolated), root_namespace=root_namespace,
                               render=render_choice(render))
    linter = Linter(load_registry(settings.plugins), settings, Path.cwd())
    linter.build_options = BuildOptions(allow_remote=allow_remote, allow_plugins=allow_plugins)
    return linter


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    out = {}
    for value in split_values(values) or []:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} takes KEY=VALUE, got {value!r}")
        out[key.strip()] = item.strip()
    return out


RootNamespaceOption = Annotated[str | None, typer.Option(
    help="Istio's root namespace (default: istio-system).")]


@app.command()
def simulate(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Manifest files or directories (default: 'paths' from the config, else '.').",
        show_default=False)] = None,
    requests: Annotated[Path | None, typer.Option(
        "--requests", "-r", dir_okay=False, help="A YAML file of requests (see the README).")]
    = None,
    workload: Annotated[str | None, typer.Option(help="Target workload NAMESPACE/NAME.")] = None,
    namespace: Annotated[str | None, typer.Option(help="Target namespace (with --labels).")]
    = None,
    labels: Annotated[list[str] | None, typer.Option(
        help="Target pod labels k=v (comma-separated, repeatable).")] = None,
    host: Annotated[str | None, typer.Option(help="The :authority, with its port if any.")]
    = None,
    method: Annotated[str | None, typer.Option(help="HTTP method (case-sensitive).")] = None,
    path: Annotated[str | None, typer.Option(help="Request path, may include ?query.")] = None,
    port: Annotated[int | None, typer.Option(help="Workload (container) port.")] = None,
    header: Annotated[list[str] | None, typer.Option(
        help="Request header K=V (repeatable).")] = None,
    jwt_issuer: Annotated[str | None, typer.Option(help="Token issuer (iss).")] = None,
    jwt_subject: Annotated[str | None, typer.Option(help="Token subject (sub).")] = None,
    jwt_audience: Annotated[list[str] | None, typer.Option(
        help="Token audience (repeatable).")] = None,
    jwt_claim: Annotated[list[str] | None, typer.Option(
        help="Token claim K=JSON (repeatable).")] = None,
    source_principal: Annotated[str | None, typer.Option(
        help="Client mTLS identity, e.g. cluster.local/ns/shop/sa/frontend.")] = None,
    source_namespace: Annotated[str | None, typer.Option(
        help="Client namespace (identity <td>/ns/NS/sa/default).")] = None,
    source_ip: Annotated[str | None, typer.Option(help="Client IP address.")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
    config: ConfigOption = None,
    isolated: IsolatedOption = False,
    root_namespace: RootNamespaceOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Show every request's trace.")] = False,
    render: RenderOption = None,
    allow_remote_bases: AllowRemoteOption = False,
    allow_kustomize_plugins: AllowPluginsOption = False,
) -> None:
    """Decide requests against the manifests: ALLOW or DENY, the status and the policy."""
    linter = _linter(config, isolated, root_namespace, render, allow_remote=allow_remote_bases,
                     allow_plugins=allow_kustomize_plugins)
    if output_format not in ("text", "json"):
        raise UsageError(f"unknown format {output_format!r}; use text or json")
    if requests is not None:
        batch = list(load_request_file(requests).requests)
    else:
        entry: dict[str, Any] = {}
        if workload:
            entry["to"] = {"workload": workload}
        elif namespace:
            entry["to"] = {"namespace": namespace, "labels": _pairs(labels, "--labels")}
        else:
            raise UsageError("name the target: --workload NS/NAME, or --namespace NS "
                             "[--labels k=v,...], or --requests FILE")
        for key, value in (("host", host), ("method", method), ("path", path), ("port", port)):
            if value is not None:
                entry[key] = value
        if header:
            entry["headers"] = _pairs(header, "--header")
        if jwt_issuer:
            entry["jwt"] = {"issuer": jwt_issuer, "subject": jwt_subject,
                            "audiences": jwt_audience or [],
                            "claims": dict(parse_claim(c) for c in jwt_claim or [])}
        elif jwt_subject or jwt_audience or jwt_claim:
            raise UsageError("--jwt-subject, --jwt-audience and --jwt-claim need --jwt-issuer")
        if source_principal or source_namespace or source_ip:
            entry["source"] = {"principal": source_principal, "namespace": source_namespace,
                               "ip": source_ip}
        batch = [parse_request(entry, "request")]
    model = load_model(linter, paths or linter.settings.paths)
    results = decide(model, batch)
    if output_format == "json":
        write_json(results, sys.stdout)
    else:
        write_text(results, sys.stdout, verbose=verbose)


class FailOn(str, enum.Enum):
    widened = "widened"
    narrowed = "narrowed"
    access = "access"
    new_findings = "new-findings"


@app.command("diff")
def diff_command(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files or directories to compare (default: 'paths' from the config, else '.').",
        show_default=False)] = None,
    base: Annotated[str | None, typer.Option(
        help="Compare with this git revision (read with git: no checkout, no hooks).")] = None,
    head: Annotated[str | None, typer.Option(
        help="Compare this git revision instead of the working tree.")] = None,
    against: Annotated[str | None, typer.Option(
        help="Compare with another directory or file, e.g. a 'kubectl get -o yaml' dump.")]
    = None,
    cluster: Annotated[bool, typer.Option(
        "--cluster", help="Compare with the live cluster (kubectl get ... -o json).")] = False,
    kube_context: Annotated[str | None, typer.Option(
        "--context", help="kubeconfig context for --cluster.")] = None,
    kubeconfig: Annotated[str | None, typer.Option(help="kubeconfig file for --cluster.")]
    = None,
    output_format: Annotated[str, typer.Option(
        "--format", "-f", help="Output format: text, json or markdown.")] = "text",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, help="Write the report to this file.")] = None,
    exit_code: Annotated[bool, typer.Option(
        "--exit-code", help="Exit 1 when any object or access changed.")] = False,
    fail_on: Annotated[list[FailOn] | None, typer.Option(
        help="Exit 1 when access widened, narrowed, changed at all (access), or when the change "
             "brings findings at the fail level (new-findings). Repeatable.")] = None,
    config: ConfigOption = None,
    isolated: IsolatedOption = False,
    istio_version: Annotated[str | None, typer.Option(
        help="Istio release whose CRD schemas apply (default: newest bundled).")] = None,
    root_namespace: RootNamespaceOption = None,
    no_git: Annotated[bool, typer.Option(
        "--no-git", help="Walk the working tree without asking git.")] = False,
    jobs: JobsOption = 0,
    render: RenderOption = None,
    allow_remote_bases: AllowRemoteOption = False,
    allow_kustomize_plugins: AllowPluginsOption = False,
) -> None:
    """Show what a change does: objects, access (with example requests) and findings."""
    # deepdiff alone takes a third of a second to import: only diff pays for it
    from istiolint.diffing.compare import Differ, SideSpec  # noqa: PLC0415
    from istiolint.diffing.report import FORMATS, WRITERS  # noqa: PLC0415

    sources = [name for name, given in (("--base", base), ("--against", against),
                                        ("--cluster", cluster)) if given]
    if len(sources) != 1:
        raise UsageError("name what to compare with: one of --base REV, --against PATH or "
                         "--cluster" + (f" (got {' and '.join(sources)})" if sources else ""))
    if (kube_context or kubeconfig) and not cluster:
        raise UsageError("--context and --kubeconfig go with --cluster")
    if output_format not in FORMATS:
        raise UsageError(f"unknown format {output_format!r}; use {', '.join(FORMATS)}")
    settings = apply_overrides(_settings(config, isolated), istio_version=istio_version,
                               root_namespace=root_namespace, render=render_choice(render))
    linter = Linter(load_registry(settings.plugins), settings, Path.cwd())
    linter.jobs = jobs
    linter.build_options = BuildOptions(allow_remote=allow_remote_bases,
                                        allow_plugins=allow_kustomize_plugins)
    base_spec = (SideSpec("git", revision=base) if base else
                 SideSpec("path", path=against) if against else
                 SideSpec("cluster", context=kube_context, kubeconfig=kubeconfig))
    head_spec = SideSpec("git", revision=head) if head else SideSpec("worktree")
    result = Differ(linter, paths or settings.paths, use_git=not no_git).compare(
        base_spec, head_spec)
    writer = WRITERS[output_format]
    if output is not None:
        with output.open("w", encoding="utf-8") as stream:
            writer(result, stream)
    else:
        writer(result, sys.stdout)
    directions = {c.direction for c in result.access}
    failing = (exit_code and result.changed) or any(
        (reason is FailOn.widened and "widened" in directions)
        or (reason is FailOn.narrowed and "narrowed" in directions)
        or (reason is FailOn.access and bool(directions))
        or (reason is FailOn.new_findings and any(
            f.severity >= settings.fail_level for f in result.new_findings))
        for reason in fail_on or [])
    raise typer.Exit(EXIT_FINDINGS if failing else EXIT_OK)


@app.command("markdown")
def markdown_command(
    check_report: Annotated[Path | None, typer.Option(
        "--check", dir_okay=False, help="A report of 'istiolint check --format json'.")] = None,
    diff_report: Annotated[Path | None, typer.Option(
        "--diff", dir_okay=False, help="A report of 'istiolint diff --format json'.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, help="Write the body to this file.")] = None,
) -> None:
    """Render JSON reports as one pull-request comment body (safe for reports from forks)."""
    from istiolint.diffing.report import render_markdown  # noqa: PLC0415 (see diff_command)

    if check_report is None and diff_report is None:
        raise UsageError("name a report: --check FILE and/or --diff FILE")
    parts = []
    if check_report is not None:
        parts.append(render_findings_markdown(load_report(check_report, "findings")))
    if diff_report is not None:
        parts.append(render_markdown(load_report(diff_report, "diff")))
    body = "\n".join(parts)
    if output is None:
        sys.stdout.write(body)
        return
    try:
        output.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc


@comment_app.command("github")
def comment_github(
    body_file: Annotated[Path, typer.Option(
        dir_okay=False, help="The Markdown body (e.g. from 'istiolint markdown').")],
    repo: Annotated[str | None, typer.Option(
        help="OWNER/NAME (default: GITHUB_REPOSITORY).")] = None,
    pr: Annotated[int | None, typer.Option(
        help="Pull request number (default: from the GitHub Actions event).")] = None,
    mode: Annotated[CommentMode, typer.Option(
        help="update the earlier comment (or create one), recreate it, or delete it.")]
    = CommentMode.update,
    key: Annotated[str, typer.Option(
        help="Keeps several independent istiolint comments on one pull request.")]
    = "default",
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the body that would be posted; call nothing.")] = False,
) -> None:
    """Post istiolint's comment on a pull request, or update the one posted before.

    The token comes from GITHUB_TOKEN and the API from GITHUB_API_URL (GitHub Enterprise)."""
    # urllib's HTTP stack costs 0.1 s to import: only this command pays for it
    from istiolint.ci import github_comment as github  # noqa: PLC0415

    try:
        body = body_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {body_file}: {exc.strerror or exc}") from exc
    hint = github.run_url(os.environ) or ""
    if dry_run:
        sys.stdout.write(github.comment_body(body, key, report_hint=hint)[0])
        return
    target = replace(github.target_from_environment(repo, pr, os.environ), key=key)
    token = os.environ.get("GITHUB_TOKEN", "")
    result = github.post_comment(target, body, token, mode=github.Mode(mode.value),
                                 report_hint=hint)
    where = f": {result.url}" if result.url else ""
    note = " (truncated to GitHub's size limit)" if result.truncated else ""
    typer.echo(f"istiolint: comment {result.action}{where}{note}", err=True)


@app.command("test")
def run_access_tests(
    files: Annotated[list[Path], typer.Argument(
        help="Request files whose requests carry 'expect'.", show_default=False)],
    manifests: Annotated[list[str] | None, typer.Option(
        help="Manifests for files without a 'manifests' key (default: the config's paths, "
             "else '.').")] = None,
    config: ConfigOption = None,
    isolated: IsolatedOption = False,
    root_namespace: RootNamespaceOption = None,
) -> None:
    """Check an access matrix kept in git: exit 1 when a request's outcome differs."""
    linter = _linter(config, isolated, root_namespace)
    results = []
    for file in files:
        request_file = load_request_file(file)
        if request_file.manifests is not None:
            base = request_file.path.parent
            paths = [str(base / p) for p in request_file.manifests]
        else:
            paths = list(manifests or linter.settings.paths)
        results += decide(load_model(linter, paths), request_file.requests)
    if not any(r.request.expect is not None for r in results):
        raise UsageError("no request has an 'expect': nothing to test")
    write_test_report(results, sys.stdout)
    raise typer.Exit(EXIT_OK if all(r.passed for r in results) else EXIT_FINDINGS)


@app.command("rules")
def list_rules(
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
    config: ConfigOption = None,
    isolated: IsolatedOption = False,
) -> None:
    """List every rule: code, name, default severity and summary."""
    registry = load_registry(_settings(config, isolated).plugins)
    docs = registry.sorted_rules()
    if output_format == "json":
        typer.echo(rules_json(docs))
    elif output_format == "text":
        width = max(len(doc.name) for doc in docs)
        for doc in docs:
            typer.echo(f"{doc.code}  {doc.name:<{width}}  {doc.severity!s:<7}  {doc.summary}")
    else:
        raise UsageError(f"unknown format {output_format!r}; use text or json")


@app.command("rule")
def show_rule(
    rule: Annotated[str, typer.Argument(help="Rule code or name.", show_default=False)],
    config: ConfigOption = None,
    isolated: IsolatedOption = False,
) -> None:
    """Explain one rule: what it detects, what happens at runtime, how to fix it."""
    registry = load_registry(_settings(config, isolated).plugins)
    doc = registry.lookup(rule)
    if doc is None:
        raise UsageError(f"unknown rule {rule!r}; run 'istiolint rules' for the list")
    typer.echo(render_rule_markdown(doc))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the full command line with ``argv`` (default: ``sys.argv[1:]``); the program's
    entry point is :func:`istiolint.entry.main`."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)

    def invoke() -> int:
        try:
            command.main(args=args, prog_name="istiolint", standalone_mode=True)
        except SystemExit as exc:  # click exits with 2 for bad flags, typer.Exit(code) else
            return exc.code if isinstance(exc.code, int) else \
                (EXIT_OK if exc.code is None else 1)
        return EXIT_OK

    return guarded(invoke, args)


def run() -> None:
    sys.exit(main())
