"""--render kustomize: overlays are built, findings land in the files people edit, and a pull
request cannot make istiolint fetch or run anything without a flag of the command line."""

from __future__ import annotations

import http.server
import json
import shutil
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

REPO = Path(__file__).resolve().parents[2]
Run = Callable[..., tuple[int, str, str]]

pytestmark = pytest.mark.skipif(not (shutil.which("kubectl") or shutil.which("kustomize")),
                                reason="needs kubectl or kustomize")


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "examples" / "kustomize", tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    return tmp_path / "repo"


def _check(run_cli: Run, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    code, out, err = run_cli("check", "--isolated", "-f", "json", "--render", "kustomize", *args)
    return code, (json.loads(out)["findings"] if out else []), err


def test_the_broken_overlay_is_reported_at_its_patch_and_the_healthy_one_is_quiet(
        example: Path, run_cli: Run) -> None:
    code, findings, _ = _check(run_cli, ".")
    assert code == 1
    (finding,) = findings
    patch = (example / "overlays/prod/allow-post.yaml").read_text().splitlines()
    assert finding["path"] == "overlays/prod/allow-post.yaml"
    assert patch[finding["line"] - 1].strip() == 'methods: ["GET", "post"]'
    assert (finding["rule"], finding["via"]) == ("AP005", "kustomize build overlays/prod")
    assert finding["resource"]["name"] == "httpbin"
    assert _check(run_cli, "overlays/dev")[:2] == (0, [])


def test_without_render_the_raw_files_are_linted_and_patches_skipped(example: Path,
                                                                     run_cli: Run) -> None:
    code, out, _ = run_cli("check", "--isolated", "-f", "json", ".")
    assert code == 0 and json.loads(out)["findings"] == []


def test_a_broken_base_is_reported_once_per_overlay_at_the_base(example: Path,
                                                                run_cli: Run) -> None:
    policy = example / "base/authorization-policy.yaml"
    policy.write_text(policy.read_text().replace("action: ALLOW", "action: ALOW"))
    _, findings, _ = _check(run_cli, ".")
    broken = [f for f in findings if f["rule"] == "SC003"]
    assert {f["via"] for f in broken} == {"kustomize build overlays/dev",
                                          "kustomize build overlays/prod"}
    assert {(f["path"], f["line"]) for f in broken} == {("base/authorization-policy.yaml", 10)}
    assert {f["resource"]["namespace"] for f in broken} == {"httpbin", "httpbin-dev"}


def test_json6902_patches_and_inline_patches(example: Path, run_cli: Run) -> None:
    _write(example, {
        "overlays/prod/kustomization.yaml": """\
            resources:
            - ../../base
            patches:
            - path: deny.yaml
              target: {kind: AuthorizationPolicy, name: httpbin}
            - target: {kind: RequestAuthentication, name: httpbin-jwt}
              patch: |-
                - op: replace
                  path: /spec/jwtRules/0/jwksUri
                  value: not a url
            """,
        "overlays/prod/deny.yaml": """\
            - op: replace
              path: /spec/action
              value: DENYY
            """})
    _, findings, _ = _check(run_cli, "overlays/prod")
    by_rule = {f["rule"]: f for f in findings}
    assert (by_rule["SC003"]["path"], by_rule["SC003"]["line"]) == ("overlays/prod/deny.yaml", 3)
    inline = [f for f in findings if f["pointer"] == "/spec/jwtRules/0/jwksUri"]
    assert inline and {(f["path"], f["line"]) for f in inline} == \
        {("overlays/prod/kustomization.yaml", 7)}  # the inline patch's text


def test_the_pre_commit_hook_reports_a_changed_patch(example: Path, run_cli: Run) -> None:
    code, findings, _ = _check(run_cli, "--context", ".", "overlays/prod/allow-post.yaml")
    assert code == 1 and [f["path"] for f in findings] == ["overlays/prod/allow-post.yaml"]
    assert _check(run_cli, "--context", ".", "overlays/dev/kustomization.yaml")[:2] == (0, [])


def test_a_failing_build_is_a_usage_error(example: Path, run_cli: Run) -> None:
    _write(example, {"overlays/prod/allow-post.yaml": """\
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: nobody-has-this-name, namespace: httpbin}
        spec: {action: DENY}
        """})
    code, findings, err = _check(run_cli, ".")
    assert code == 2 and findings == []
    assert "kustomize build of overlays/prod failed" in err


def test_a_missing_binary_is_a_usage_error(example: Path, run_cli: Run,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(example / "no-such-bin"))
    code, _, err = _check(run_cli, ".")
    assert code == 2 and "needs kustomize or kubectl" in err


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        body = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    _Counting.hits = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Counting.hits
    httpd.shutdown()


def test_remote_resources_need_the_command_line_flag(example: Path, run_cli: Run,
                                                     server: tuple[str, list[str]]) -> None:
    url, hits = server
    _write(example, {"overlays/dev/kustomization.yaml": f"""\
        resources:
        - ../../base
        - {url}/remote.yaml
        """})
    code, _, err = _check(run_cli, "overlays/dev")
    assert code == 2 and "--allow-remote-bases" in err and hits == []
    _write(example, {".istiolint.yaml": "render: kustomize\n"})  # the config cannot allow it
    code, _, _ = run_cli("check", "-f", "json", "overlays/dev")
    assert code == 2 and hits == []
    code, _, _ = _check(run_cli, "overlays/dev", "--allow-remote-bases")
    assert code == 0 and hits == ["/remote.yaml"]


def test_plugins_need_the_command_line_flag(example: Path, run_cli: Run, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "PLUGIN_RAN"
    plugin = tmp_path / "plugins/someteam.example.com/v1/marker/Marker"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(f"#!/bin/sh\ntouch {marker}\n"
                      "printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: m}\\n'\n")
    plugin.chmod(0o755)
    monkeypatch.setenv("KUSTOMIZE_PLUGIN_HOME", str(tmp_path / "plugins"))
    _write(example, {
        "overlays/dev/kustomization.yaml": "resources:\n- ../../base\ngenerators:\n- gen.yaml\n",
        "overlays/dev/gen.yaml": "apiVersion: someteam.example.com/v1\nkind: Marker\n"
                                 "metadata: {name: m}\n"})
    code, _, err = _check(run_cli, "overlays/dev")
    assert code == 2 and "--allow-kustomize-plugins" in err and not marker.exists()
    code, _, _ = _check(run_cli, "overlays/dev", "--allow-kustomize-plugins")
    assert code == 0 and marker.exists()


@pytest.mark.parametrize("entry", ["helmCharts:\n- name: x\n  repo: https://charts.example",
                                   "transformers:\n- |\n  apiVersion: x/v1\n  kind: Run\n"
                                   "  metadata:\n    name: r\n    annotations:\n"
                                   "      config.kubernetes.io/function: |\n"
                                   "        exec: {path: ./run.sh}\n"])
def test_helm_and_functions_count_as_plugins(example: Path, run_cli: Run, entry: str) -> None:
    (example / "overlays/dev/kustomization.yaml").write_text(
        "resources:\n- ../../base\n" + entry + "\n")
    code, _, err = _check(run_cli, "overlays/dev")
    assert code == 2 and "--allow-kustomize-plugins" in err


def test_builtin_transformers_are_not_plugins(example: Path, run_cli: Run) -> None:
    _write(example, {
        "overlays/dev/kustomization.yaml": "resources:\n- ../../base\ntransformers:\n"
                                           "- labels.yaml\n",
        "overlays/dev/labels.yaml": """\
            apiVersion: builtin
            kind: LabelTransformer
            metadata: {name: team}
            labels: {team: shop}
            fieldSpecs: [{path: metadata/labels, create: true}]
            """})
    assert _check(run_cli, "overlays/dev")[:2] == (0, [])


def test_nothing_is_written_in_the_tree(example: Path, run_cli: Run) -> None:
    before = sorted(p.relative_to(example) for p in example.rglob("*"))
    _check(run_cli, ".")
    assert sorted(p.relative_to(example) for p in example.rglob("*")) == before


def test_a_comment_in_the_patch_suppresses_its_rendered_finding(example: Path,
                                                               run_cli: Run) -> None:
    patch = example / "overlays/prod/allow-post.yaml"
    patch.write_text(patch.read_text().replace(
        '        methods: ["GET", "post"]',
        '        # istiolint: disable-next-line=AP005 -- fixed in the next release\n'
        '        methods: ["GET", "post"]'))
    assert _check(run_cli, ".")[:2] == (0, [])


def test_overlays_are_different_clusters(example: Path, run_cli: Run) -> None:
    """dev and prod render the same objects in the same namespace (for two clusters): rules
    about objects applying together must not mix them (no merged RequestAuthentications, no
    policy of one overlay made redundant by the other's)."""
    kustomization = example / "overlays/dev/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("namespace: httpbin-dev\n", ""))
    code, findings, _ = _check(run_cli, ".")
    assert code == 1
    assert [(f["rule"], f["via"]) for f in findings] == \
        [("AP005", "kustomize build overlays/prod")]


def test_simulate_an_overlay(example: Path, run_cli: Run) -> None:
    request = ["--workload", "httpbin/httpbin", "--method", "GET", "--path", "/headers",
               "--port", "8080", "--jwt-issuer", "https://auth.acme-shop.io/realms/shop",
               "--jwt-subject", "alice", "-f", "json"]
    code, out, _ = run_cli("simulate", "overlays/prod", "--render", "kustomize", "--isolated",
                           *request)
    assert code == 0 and json.loads(out)["results"][0]["status"] == 200
    post = [*request[:3], "POST", *request[4:]]
    _, out, _ = run_cli("simulate", "overlays/prod", "--render", "kustomize", "--isolated", *post)
    assert json.loads(out)["results"][0]["status"] == 403  # the patch wrote "post"


def test_a_base_outside_the_repository_needs_the_flag(example: Path, run_cli: Run,
                                                      tmp_path: Path) -> None:
    """A pull request could point a base at the CI runner's files (../../..): reading outside
    the repository is refused like fetching."""
    outside = tmp_path / "outside"
    shutil.copytree(example / "base", outside)
    (example / "overlays/dev/kustomization.yaml").write_text(
        "resources:\n- ../../../outside\n")
    code, _, err = _check(run_cli, "overlays/dev")
    assert code == 2 and "outside" in err and "--allow-remote-bases" in err
    assert _check(run_cli, "overlays/dev", "--allow-remote-bases")[0] == 0
    (example / "overlays/dev/kustomization.yaml").write_text("resources:\n- ../../base\n")
    (example / "base/escape.yaml").symlink_to(outside / "httpbin.yaml")
    base = example / "base/kustomization.yaml"
    base.write_text(base.read_text() + "- escape.yaml\n")
    code, _, err = _check(run_cli, "overlays/dev")
    assert code == 2 and f"escape.yaml (a link to {outside / 'httpbin.yaml'})" in err


def test_a_patch_that_did_not_write_the_value_is_passed_over(example: Path,
                                                             run_cli: Run) -> None:
    """istiolint matches patch targets loosely (label selectors are not evaluated): the
    rendered value tells which patch wrote it."""
    _write(example, {
        "overlays/prod/kustomization.yaml": """\
            resources:
            - ../../base
            patches:
            - path: deny.yaml
              target: {kind: AuthorizationPolicy, name: httpbin}
            - path: audit.yaml
              target: {kind: AuthorizationPolicy, labelSelector: "app=other"}
            """,
        "overlays/prod/deny.yaml": "- op: replace\n  path: /spec/action\n  value: DENYY\n",
        "overlays/prod/audit.yaml": "- op: replace\n  path: /spec/action\n  value: AUDIT\n"})
    _, findings, _ = _check(run_cli, "overlays/prod")
    (finding,) = [f for f in findings if f["rule"] == "SC003"]
    assert (finding["path"], finding["line"]) == ("overlays/prod/deny.yaml", 3)


def test_a_tree_named_from_elsewhere_is_its_own_boundary(example: Path, run_cli: Run,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """Outside git, what a build may read is bounded by the widest of the working directory
    and the paths named that holds it: naming the tree from elsewhere lets its overlays read
    their bases."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, findings, err = _check(run_cli, str(example))
    assert code == 1, err
    assert [f["rule"] for f in findings] == ["AP005"]


@pytest.mark.parametrize("output_format", ["text", "github", "sarif", "gitlab", "junit",
                                           "markdown"])
def test_every_format_names_the_overlay(example: Path, run_cli: Run, output_format: str) -> None:
    """Two overlays rendering one broken base give two findings at the same line: each
    format must say which overlay is which."""
    policy = example / "base/authorization-policy.yaml"
    policy.write_text(policy.read_text().replace("action: ALLOW", "action: ALOW"))
    _, out, _ = run_cli("check", "--isolated", "--render", "kustomize", "-f", output_format,
                        "--color", "never", ".")
    for overlay in ("overlays/dev", "overlays/prod"):
        assert f"via kustomize build {overlay}" in out
