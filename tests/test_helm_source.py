"""``helm template ... | istiolint check -``: findings shown in the chart templates."""

from __future__ import annotations

import io
import json
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from istiolint.documents import Document
from istiolint.helm import (
    MAX_FILE_BYTES,
    VIA,
    ChartFiles,
    HelmDocument,
    Template,
    TemplateOrigin,
    TemplatePath,
    may_be_helm_output,
    outline,
    rendered_by_helm,
    template_paths,
)
from istiolint.positions import Position
from istiolint.resources import Location, extract_resources
from istiolint.sources import SourceFile, parse_source

Run = Callable[..., tuple[int, str, str]]
Lint = Callable[[str | bytes], list[dict[str, Any]]]

CHART = "apiVersion: v2\nname: httpbin\nversion: 0.1.0\n"

AUTHZ_TEMPLATE = """\
{{- if .Values.authz.enabled }}
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: {{ .Release.Name }}-authz
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "httpbin.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      app: {{ .Values.app }}
  action: {{ .Values.authz.action }}
  rules:
  {{- range .Values.authz.rules }}
  - from:
    - source:
        principals: {{ .principals | toJson }}
    to:
    - operation:
        methods: {{ .methods | toJson }}
  {{- end }}
{{- end }}
"""

RA_TEMPLATE = """\
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: {{ .Release.Name }}-internal
  namespace: {{ .Release.Namespace }}
spec:
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: "https://login.internal.corp"
    jwksUri: "https://login.internal.corp/jwks.json"
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: {{ .Release.Name }}-partner
  namespace: {{ .Release.Namespace }}
spec:
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: "https://partner.corp"
    jwksUri: "https://partner.corp/jwks.json"
  - issuer: {{ .Values.legacyIssuer | quote }}
"""

AUTHZ_RENDERED = """\
---
# Source: httpbin/templates/authz.yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: demo-authz
  namespace: demo
  labels:
    app.kubernetes.io/name: httpbin
spec:
  selector:
    matchLabels:
      app: httpbin
  action: ALOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/demo/sa/sleep"]
    to:
    - operation:
        methods: ["GET"]
  - from:
    - source:
        principals: ["cluster.local/ns/demo/sa/curl"]
    to:
    - operation:
        methods: ["get"]
"""

RA_RENDERED = """\
---
# Source: httpbin/templates/ra.yaml
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: demo-internal
  namespace: demo
spec:
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: "https://login.internal.corp"
    jwksUri: "https://login.internal.corp/jwks.json"
---
# Source: httpbin/templates/ra.yaml
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: demo-partner
  namespace: demo
spec:
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: "https://partner.corp"
    jwksUri: "https://partner.corp/jwks.json"
  - issuer: "legacy"
"""

NOT_FROM_A_TEMPLATE = """\
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: added-by-a-post-renderer
  namespace: demo
spec:
  action: DENNY
"""

FROM_A_MISSING_TEMPLATE = """\
---
# Source: httpbin/templates/gone.yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: gone
  namespace: demo
spec:
  action: DENNY
"""


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _chart(root: Path, directory: str = "httpbin", chart: str = CHART) -> None:
    _write(root, {f"{directory}/Chart.yaml": chart,
                  f"{directory}/values.yaml": "authz: {enabled: true}\n",
                  f"{directory}/templates/authz.yaml": AUTHZ_TEMPLATE,
                  f"{directory}/templates/ra.yaml": RA_TEMPLATE})


def _line_of(text: str, needle: str, *, start: int = 1) -> int:
    lines = text.splitlines()
    return next(n for n, line in enumerate(lines, 1) if n >= start and needle in line)


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


@pytest.fixture
def lint_stdin(run_cli: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Lint:
    """``istiolint check - --stdin-filename rendered.yaml`` in ``tmp_path``: the findings."""
    monkeypatch.chdir(tmp_path)

    def lint(stream: str | bytes) -> list[dict[str, Any]]:
        data = stream.encode() if isinstance(stream, str) else stream
        monkeypatch.setattr(sys, "stdin", _Stdin(data))
        code, out, err = run_cli("check", "-", "--stdin-filename", "rendered.yaml",
                                 "-f", "json", "--isolated")
        assert code in (0, 1), err
        findings: list[dict[str, Any]] = json.loads(out)["findings"]
        return findings

    return lint


def _only(findings: Sequence[dict[str, Any]], code: str, name: str) -> dict[str, Any]:
    matching = [f for f in findings if f["rule"] == code and f["resource"]["name"] == name]
    assert len(matching) == 1, findings
    return matching[0]


def _source(text: str, cwd: Path, chart_dirs: Sequence[Path] = ()) -> SourceFile:
    return parse_source(text.encode(), "rendered.yaml", lambda api_version, kind: True,
                        origins=rendered_by_helm(cwd, chart_dirs))


def _location(text: str, cwd: Path, pointer: str, *, name: str | None = None,
              chart_dirs: Sequence[Path] = ()) -> Location:
    resources = list(extract_resources(_source(text, cwd, chart_dirs)))
    if name is not None:
        resources = [r for r in resources if r.ref.name == name]
    return resources[0].location(pointer)


# --- the command line -----------------------------------------------------------------------

def test_findings_are_shown_on_the_template_line_of_the_field(
        tmp_path: Path, lint_stdin: Lint) -> None:
    _chart(tmp_path)
    findings = lint_stdin(AUTHZ_RENDERED)
    action = _only(findings, "SC003", "demo-authz")
    assert (action["path"], action["line"], action["column"]) == \
        ("httpbin/templates/authz.yaml", _line_of(AUTHZ_TEMPLATE, "action:"), 3)
    assert action["via"] == "helm template"
    # rules[1] is rendered by the one item inside {{ range }}
    method = _only(findings, "AP005", "demo-authz")
    assert (method["path"], method["line"]) == \
        ("httpbin/templates/authz.yaml", _line_of(AUTHZ_TEMPLATE, "methods:"))


def test_a_template_of_several_documents_shows_the_one_that_rendered_the_object(
        tmp_path: Path, lint_stdin: Lint) -> None:
    _chart(tmp_path)
    findings = [f for f in lint_stdin(RA_RENDERED) if f["rule"] == "RA001"]
    assert [(f["path"], f["line"], f["resource"]["name"]) for f in findings] == \
        [("httpbin/templates/ra.yaml", _line_of(RA_TEMPLATE, "legacyIssuer"), "demo-partner")]


def test_a_document_without_a_source_comment_keeps_the_stream_and_its_line(
        tmp_path: Path, lint_stdin: Lint) -> None:
    _chart(tmp_path)
    stream = AUTHZ_RENDERED + NOT_FROM_A_TEMPLATE
    found = _only(lint_stdin(stream), "SC003", "added-by-a-post-renderer")
    assert (found["path"], found["line"]) == ("rendered.yaml", _line_of(stream, "DENNY"))
    assert "via" not in found


def test_a_missing_template_keeps_the_stream_and_its_line(
        tmp_path: Path, lint_stdin: Lint) -> None:
    _chart(tmp_path)
    stream = AUTHZ_RENDERED + FROM_A_MISSING_TEMPLATE
    found = _only(lint_stdin(stream), "SC003", "gone")
    assert (found["path"], found["line"]) == ("rendered.yaml", _line_of(stream, "DENNY"))


def test_an_edited_template_is_never_answered_from_the_cache(
        tmp_path: Path, lint_stdin: Lint) -> None:
    _chart(tmp_path)
    before = _only(lint_stdin(AUTHZ_RENDERED), "SC003", "demo-authz")
    _write(tmp_path, {"httpbin/templates/authz.yaml": "# a new first line\n" + AUTHZ_TEMPLATE})
    after = _only(lint_stdin(AUTHZ_RENDERED), "SC003", "demo-authz")
    assert after["line"] == before["line"] + 1


HOSTILE_NAMES = [
    "/etc/passwd", "../../../etc/passwd", "httpbin/templates/../../../../etc/passwd",
    "httpbin/templates/", "httpbin", "httpbin//templates/authz.yaml", "C:\\\\x\\\\y.yaml",
    "httpbin/templates/" + "a" * 20_000 + ".yaml", "h\u00e9/templates/\u202e.yaml",
    "httpbin/charts/../templates/authz.yaml", "~/templates/x.yaml", " ",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_odd_source_paths_keep_the_stream(tmp_path: Path, name: str,
                                          lint_stdin: Lint
                                          ) -> None:
    _chart(tmp_path)
    stream = FROM_A_MISSING_TEMPLATE.replace("httpbin/templates/gone.yaml", name)
    found = _only(lint_stdin(stream), "SC003", "gone")
    assert (found["path"], found["line"]) == ("rendered.yaml", _line_of(stream, "DENNY"))


def test_a_stream_that_is_not_utf8_is_still_an_input_problem(
        tmp_path: Path, lint_stdin: Lint) -> None:
    found = lint_stdin(b"---\n# Source: httpbin/templates/\xff.yaml\nkind: X\n")
    assert [f["rule"] for f in found] == ["IL004"]


# --- which documents come from a template ---------------------------------------------------

@pytest.mark.parametrize("stream", [
    "# Source: httpbin/templates/authz.yaml\n" + AUTHZ_RENDERED.split("\n", 2)[2],
    AUTHZ_RENDERED,
    "---\n# Source: httpbin/templates/ra.yaml\n---\n" + AUTHZ_RENDERED,  # an empty template
])
def test_helms_form_is_recognised(tmp_path: Path, stream: str) -> None:
    _chart(tmp_path)
    where = _location(stream, tmp_path, "/spec/action")
    assert where.path == "httpbin/templates/authz.yaml"


@pytest.mark.parametrize("header", [
    "--- # Source: httpbin/templates/authz.yaml\n",  # not on its own line
    "---\n  # Source: httpbin/templates/authz.yaml\n",  # not at column 1
    "---\n#Source: httpbin/templates/authz.yaml\n",
    "---\n# source: httpbin/templates/authz.yaml\n",
    "---\n\n# Source: httpbin/templates/authz.yaml\n",  # not right after the ---
    "---\n# other\n# Source: httpbin/templates/authz.yaml\n",
    "--- \n# Source: httpbin/templates/authz.yaml\n",
    "---\n# Source: \n",
])
def test_other_comments_are_not_helms(tmp_path: Path, header: str) -> None:
    _chart(tmp_path)
    stream = header + AUTHZ_RENDERED.split("\n", 2)[2]
    source = _source(stream, tmp_path)
    assert not any(isinstance(d, HelmDocument) for d in source.documents)
    assert _location(stream, tmp_path, "/spec/action").path == "rendered.yaml"


def test_a_source_comment_belongs_to_its_own_document_only(tmp_path: Path) -> None:
    _chart(tmp_path)
    stream = AUTHZ_RENDERED + "--- {apiVersion: security.istio.io/v1, kind: X, " \
        "metadata: {name: inline}}\n"
    source = _source(stream, tmp_path)
    assert [type(d) for d in source.documents] == [HelmDocument, Document]


def test_helm_documents_name_what_rendered_them(tmp_path: Path) -> None:
    source = _source(FROM_A_MISSING_TEMPLATE + NOT_FROM_A_TEMPLATE, tmp_path)
    assert [d.via for d in source.documents] == [VIA, None]


def test_may_be_helm_output() -> None:
    assert may_be_helm_output(AUTHZ_RENDERED.encode())
    assert not may_be_helm_output(NOT_FROM_A_TEMPLATE.encode())


# --- which file ------------------------------------------------------------------------------

def test_the_chart_is_found_by_its_name_in_a_directory_named_for_the_caller(
        tmp_path: Path) -> None:
    _chart(tmp_path, "deploy/helm/httpbin-chart")
    assert _location(AUTHZ_RENDERED, tmp_path, "/spec/action").path == "rendered.yaml"
    where = _location(AUTHZ_RENDERED, tmp_path, "/spec/action",
                      chart_dirs=[Path("deploy/helm/httpbin-chart")])
    assert where.path == "deploy/helm/httpbin-chart/templates/authz.yaml"
    assert where.position.line == _line_of(AUTHZ_TEMPLATE, "action:")


def test_a_chart_is_found_in_charts_and_in_the_working_directory(tmp_path: Path) -> None:
    _chart(tmp_path, "charts/httpbin")
    assert _location(AUTHZ_RENDERED, tmp_path, "/spec/action").path == \
        "charts/httpbin/templates/authz.yaml"
    inside = tmp_path / "charts" / "httpbin"
    assert _location(AUTHZ_RENDERED, inside, "/spec/action").path == "templates/authz.yaml"


def test_a_directory_of_another_chart_is_not_taken_for_it(tmp_path: Path) -> None:
    _chart(tmp_path, "httpbin", chart="name: not-httpbin\n")
    assert _location(AUTHZ_RENDERED, tmp_path, "/spec/action").path == "rendered.yaml"


def test_subcharts_are_found_by_name_and_alias(tmp_path: Path) -> None:
    _write(tmp_path, {
        "umbrella/Chart.yaml": "name: shop\ndependencies:\n- {name: httpbin, alias: api}\n",
        "umbrella/charts/httpbin-1.0.0/Chart.yaml": CHART,
        "umbrella/charts/httpbin-1.0.0/templates/authz.yaml": AUTHZ_TEMPLATE,
        "umbrella/charts/other/Chart.yaml": "name: other\n",
        "umbrella/charts/other/templates/authz.yaml": AUTHZ_TEMPLATE,
    })
    for shown in ("httpbin", "api"):
        stream = AUTHZ_RENDERED.replace("httpbin/templates", f"shop/charts/{shown}/templates")
        where = _location(stream, tmp_path, "/spec/action", chart_dirs=[Path("umbrella")])
        assert where.path == "umbrella/charts/httpbin-1.0.0/templates/authz.yaml"
    missing = AUTHZ_RENDERED.replace("httpbin/templates", "shop/charts/nope/templates")
    assert _location(missing, tmp_path, "/spec/action",
                     chart_dirs=[Path("umbrella")]).path == "rendered.yaml"


def test_crds_are_files_of_the_chart_too(tmp_path: Path) -> None:
    _chart(tmp_path)
    _write(tmp_path, {"httpbin/crds/authz.yaml": AUTHZ_RENDERED})
    stream = AUTHZ_RENDERED.replace("httpbin/templates", "httpbin/crds")
    where = _location(stream, tmp_path, "/spec/action")
    assert (where.path, where.position.line) == \
        ("httpbin/crds/authz.yaml", _line_of(AUTHZ_RENDERED, "action:"))


# --- never leave the directory, never read what is not a small regular file ------------------

def test_symlinks_out_of_the_working_directory_are_not_followed(tmp_path: Path) -> None:
    outside, cwd = tmp_path / "outside", tmp_path / "work"
    _chart(outside)
    cwd.mkdir()
    try:
        (cwd / "httpbin").symlink_to(outside / "httpbin", target_is_directory=True)
    except OSError:
        pytest.skip("no symlinks here")
    assert _location(AUTHZ_RENDERED, cwd, "/spec/action").path == "rendered.yaml"
    # a template that is a link out of its chart
    _chart(cwd, "charts/httpbin")
    template = cwd / "charts/httpbin/templates/authz.yaml"
    template.unlink()
    template.symlink_to(outside / "httpbin/templates/authz.yaml")
    assert _location(AUTHZ_RENDERED, cwd, "/spec/action").path == "rendered.yaml"


def test_links_inside_the_working_directory_are_followed(tmp_path: Path) -> None:
    _chart(tmp_path, "src/httpbin")
    try:
        (tmp_path / "httpbin").symlink_to(tmp_path / "src/httpbin", target_is_directory=True)
    except OSError:
        pytest.skip("no symlinks here")
    assert _location(AUTHZ_RENDERED, tmp_path, "/spec/action").path == \
        "httpbin/templates/authz.yaml"


@pytest.mark.parametrize("content", [
    b"\0\x01\x02binary" * 10,
    b"kind: AuthorizationPolicy\nspec:\n  action: x\n" + b"#" * MAX_FILE_BYTES,
    b"kind: \xfa\xfb not utf-8\n",
])
def test_unreadable_templates_keep_the_stream(tmp_path: Path, content: bytes) -> None:
    _chart(tmp_path)
    _write(tmp_path, {"httpbin/templates/authz.yaml": content})
    where = _location(AUTHZ_RENDERED, tmp_path, "/spec/action")
    assert (where.path, where.position.line) == \
        ("rendered.yaml", _line_of(AUTHZ_RENDERED, "action:"))


def test_a_fifo_or_a_directory_is_not_read(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    _chart(tmp_path)
    (tmp_path / "httpbin/templates/authz.yaml").unlink()
    os.mkfifo(tmp_path / "httpbin/templates/authz.yaml")  # opening it blocking would hang
    (tmp_path / "httpbin/templates/ra.yaml").unlink()
    (tmp_path / "httpbin/templates/ra.yaml").mkdir()
    assert _location(AUTHZ_RENDERED, tmp_path, "/spec/action").path == "rendered.yaml"
    assert _location(RA_RENDERED, tmp_path, "/spec").path == "rendered.yaml"


@pytest.mark.parametrize("chart", [
    "", "- name: httpbin\n", "name: [httpbin]\n", "name: !!python/object:os.system x\n",
    "a: &a [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e]\n"
    "name: httpbin\n",
    "[" * 5000 + "\n",
])
def test_odd_chart_files_do_not_crash(tmp_path: Path, chart: str) -> None:
    _chart(tmp_path, chart=chart)
    assert _location(AUTHZ_RENDERED, tmp_path, "/spec/action").path == "rendered.yaml"


@pytest.mark.parametrize("name", [
    "/etc/passwd", "../../../etc/passwd", "httpbin/templates/../../../../etc/passwd",
    "httpbin/templates/", "httpbin", "httpbin//templates/authz.yaml", "C:\\x\\y.yaml",
    "httpbin/templates/" + "a" * 20_000 + ".yaml", "httpbin/charts/../templates/authz.yaml",
    " ", "a\0b/templates/x.yaml", "httpbin/templates/x\0.yaml", "httpbin/./templates/x.yaml",
    "httpbin/values.yaml", "httpbin/charts/sub/values.yaml", "httpbin/charts/templates/x",
])
def test_odd_names_are_no_template_paths(name: str) -> None:
    assert TemplatePath.parse(name) is None


@pytest.mark.parametrize("name", [
    "httpbin/templates/\udcff.yaml", "httpbin/templates/\x1b[31m.yaml", "\ud800/templates/x",
    "httpbin/templates/" + "a" * 4000 + ".yaml", "httpbin/templates/" + "a/" * 1500 + "x",
    "httpbin/charts/" + "x/charts/" * 300 + "x/templates/y.yaml",
])
def test_names_the_file_system_cannot_hold_are_missing_templates(tmp_path: Path,
                                                                 name: str) -> None:
    _chart(tmp_path)
    assert ChartFiles(tmp_path).template(name) is None


# --- which line -------------------------------------------------------------------------------

@pytest.mark.parametrize(("pointer", "needle"), [
    ("", "apiVersion:"),
    ("/spec/action", "action:"),
    ("/metadata/name", "name: {{"),
    ("/metadata/labels/app.kubernetes.io~1name", "labels:"),  # rendered by an include
    ("/spec/selector/matchLabels/app", "app: {{"),
    ("/spec/rules/0/from/0/source/principals/0", "principals:"),  # a flow list
    ("/spec/rules/1/to/0/operation/methods", "methods:"),  # the item inside {{ range }}
    ("/spec/rules/0/to/7/operation", "    to:"),  # beyond the items: the list
    ("/spec/notThere/0", "spec:"),
    ("/nothing", "apiVersion:"),
])
def test_the_line_of_the_deepest_field_found(tmp_path: Path, pointer: str, needle: str) -> None:
    _chart(tmp_path)
    where = _location(AUTHZ_RENDERED, tmp_path, pointer)
    assert where.path == "httpbin/templates/authz.yaml"
    assert where.position.line == _line_of(AUTHZ_TEMPLATE, needle)


def test_positions_start_at_the_key_or_the_item(tmp_path: Path) -> None:
    _chart(tmp_path)
    line = _line_of(AUTHZ_TEMPLATE, "- operation:")
    assert _location(AUTHZ_RENDERED, tmp_path, "/spec/rules/0/to/0").position == \
        Position(line, 7, line, 17)  # operation:
    line = _line_of(AUTHZ_TEMPLATE, "action:")
    assert _location(AUTHZ_RENDERED, tmp_path, "/spec/action").position == \
        Position(line, 3, line, 37)


def test_list_items_are_counted_in_order_and_indentless(tmp_path: Path) -> None:
    template = """\
kind: AuthorizationPolicy
spec:
  rules:
  - to:
    - operation: {methods: [GET]}
  # a comment
  - from:
    - source:
        "namespaces": [a]
{{/* a comment
- from: that is not YAML
*/}}
    - source:
        'principals':
        - x
        - {{ .Values.principal }}
  - - nested
    - {{ include "x" (dict
        "a" 1) }}
    - deep
"""
    rendered = "---\n# Source: httpbin/templates/authz.yaml\napiVersion: security.istio.io/v1\n" \
        "kind: AuthorizationPolicy\nmetadata: {name: x}\n"
    _chart(tmp_path)
    _write(tmp_path, {"httpbin/templates/authz.yaml": template})
    for pointer, needle in [
        ("/spec/rules/1/from/0/source/namespaces", '"namespaces"'),
        ("/spec/rules/1/from/1/source/principals/1", "- {{ .Values.principal }}"),
        ("/spec/rules/1/from/2", "- from:"),  # beyond the items of a list without a range
        ("/spec/rules/2/0", "- - nested"),
        ("/spec/rules/2/2", "- deep"),
        ("/spec/rules/3", "rules:"),
    ]:
        where = _location(rendered, tmp_path, pointer)
        assert where.position.line == _line_of(template, needle), pointer


def test_outline_leaves_out_comments_and_multi_line_actions() -> None:
    documents = outline("---\n# c\nkind: X\n{{- if x }}\n\n{{ f (a\nb) }}\nspec: {}\n---\n"
                        "{{ toYaml .Values.extra }}\n")
    assert [[(line.number, line.content, line.directive) for line in lines]
            for lines in documents] == [[(3, "kind: X", False), (4, "{{- if x }}", True),
                                         (6, "{{ f (a", True), (8, "spec: {}", False)]]


def test_a_template_without_structure_points_at_its_start(tmp_path: Path) -> None:
    _chart(tmp_path)
    _write(tmp_path, {"httpbin/templates/authz.yaml": "{{ toYaml .Values.policy }}\n"})
    where = _location(AUTHZ_RENDERED, tmp_path, "/spec/action")
    assert (where.path, where.position) == ("httpbin/templates/authz.yaml",
                                            Position(1, 1, 1, 2))


def test_objects_of_a_range_share_their_template_document(tmp_path: Path) -> None:
    template = "{{- range .Values.policies }}\n---\nkind: AuthorizationPolicy\nspec:\n" \
               "  action: {{ .action }}\n{{- end }}\n"
    _chart(tmp_path)
    _write(tmp_path, {"httpbin/templates/authz.yaml": template})
    stream = "".join(f"---\n# Source: httpbin/templates/authz.yaml\napiVersion: "
                     f"security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n"
                     f"  name: p{n}\nspec:\n  action: ALLOW\n" for n in range(3))
    for name in ("p0", "p1", "p2"):
        where = _location(stream, tmp_path, "/spec/action", name=name)
        assert where.position.line == _line_of(template, "action:")


def test_documents_are_matched_by_kind_and_rank(tmp_path: Path) -> None:
    _chart(tmp_path)
    second = _line_of(RA_TEMPLATE, "kind: RequestAuthentication", start=4)
    for name, start in (("demo-internal", 1), ("demo-partner", second)):
        where = _location(RA_RENDERED, tmp_path, "/spec/jwtRules/0/issuer", name=name)
        assert where.position.line == _line_of(RA_TEMPLATE, "- issuer:", start=start)


# --- values --------------------------------------------------------------------------------------

def test_helm_documents_survive_pickling(tmp_path: Path) -> None:
    _chart(tmp_path)
    source = _source(AUTHZ_RENDERED, tmp_path)
    document = source.documents[0]
    copy = pickle.loads(pickle.dumps(document))
    assert isinstance(copy, HelmDocument) and copy.node is None
    assert copy.location("/spec/action") == document.location("/spec/action")
    missing = _source(FROM_A_MISSING_TEMPLATE, tmp_path).documents[0]
    assert pickle.loads(pickle.dumps(missing)).location("/spec/action") == \
        missing.location("/spec/action")


def test_templates_are_read_once_and_named_for_the_report(tmp_path: Path) -> None:
    _chart(tmp_path)
    source = _source(AUTHZ_RENDERED + RA_RENDERED + FROM_A_MISSING_TEMPLATE, tmp_path)
    assert template_paths(source.documents) == {"httpbin/templates/authz.yaml",
                                                "httpbin/templates/ra.yaml"}
    (tmp_path / "httpbin/templates/authz.yaml").unlink()
    assert template_paths(source.documents) == {"httpbin/templates/authz.yaml",
                                                "httpbin/templates/ra.yaml"}


_FRAGMENTS = ["kind: AuthorizationPolicy", "kind: {{ .Values.kind }}", "spec:", "rules:",
              "- from:", "- to:", "-", "- - x", "source:", "'principals':", "- a", "---",
              "...", "{{- range .Values.x }}", "{{- end }}", "{{ include \"x\" (dict", "}}",
              "{{/*", "*/}}", "# comment", "action: {{ .Values.a }}", "key: |", "  text: x",
              "\t- tab", "", "- {{ .x }}", "\"from\":", "from: [a, b]"]


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(lines=st.lists(st.tuples(st.integers(0, 8), st.sampled_from(_FRAGMENTS)), max_size=40),
       tokens=st.lists(st.sampled_from(["spec", "rules", "0", "1", "7", "from", "source",
                                         "principals", "action", "kind", "x"]), max_size=8),
       kind=st.sampled_from([None, "AuthorizationPolicy", "Other"]), rank=st.integers(0, 3))
def test_any_template_and_pointer_give_a_line_of_the_template(
        lines: list[tuple[int, str]], tokens: list[str], kind: str | None, rank: int) -> None:
    text = "\n".join(" " * indent + fragment for indent, fragment in lines)
    template = Template.of("t.yaml", text)
    pointer = "".join("/" + token for token in tokens)
    position = template.position(TemplateOrigin("t.yaml", kind, rank), pointer)
    assert 1 <= position.line <= max(1, len(lines))
    assert 1 <= position.column < position.end_column


def test_a_suppression_in_the_template_is_used_and_its_copy_in_the_stream_is_not_reported(
        tmp_path: Path, lint_stdin: Lint) -> None:
    _chart(tmp_path)
    template = tmp_path / "httpbin/templates/authz.yaml"
    commented = AUTHZ_TEMPLATE.replace("  action:", "  # istiolint: disable-next-line=SC003 -- "
                                                    "migrating\n  action:", 1)
    template.write_text(commented)
    stream = AUTHZ_RENDERED.replace("  action:", "  # istiolint: disable-next-line=SC003 -- "
                                                 "migrating\n  action:", 1)
    findings = lint_stdin(stream)
    assert not [f for f in findings if f["rule"] in ("SC003", "IL100")]
