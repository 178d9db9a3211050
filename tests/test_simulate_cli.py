"""``istiolint simulate`` and ``istiolint test`` through ``main(argv)``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "docs/schemas/simulate-v1.schema.json").read_text())
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def test_one_request_from_flags_explains_itself(run_cli: Run) -> None:
    code, out, _ = run_cli("simulate", "examples/seed/step2", "--isolated",
                           "--workload", "demo/httpbin", "--host", "another-host.com",
                           "--method", "GET", "--path", "/healthz", "--port", "80",
                           "--jwt-issuer", "issuer-bar", "--jwt-subject", "bob")
    assert code == 0
    assert out.splitlines()[0].endswith(": DENY 401")
    assert "can never be loaded" in out
    assert "decided by: RequestAuthentication demo/httpbin " \
           "(examples/seed/step2/httpbin-auth.yaml:2)" in out
    assert "port 80: HTTP (from demo/httpbin:8000)" in out


def test_json_results_follow_the_contract_and_replay(run_cli: Run, tmp_path: Path) -> None:
    code, out, _ = run_cli("simulate", "examples/seed/step1", "--isolated", "-f", "json",
                           "--requests", "examples/seed/step1/requests.yaml")
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert code == 0
    assert [(r["name"], r["status"]) for r in report["results"]] == [
        ("token-from-issuer-foo-is-allowed", 200), ("no-token-is-denied", 403),
        ("token-from-an-unknown-issuer-is-rejected", 401), ("token-without-subject-is-denied", 403)]
    assert report["results"][0]["policy"] == {
        "kind": "AuthorizationPolicy", "namespace": "demo", "name": "httpbin",
        "path": "examples/seed/step1/httpbin-auth.yaml", "line": 15}
    replay = tmp_path / "replay.yaml"
    replay.write_text(json.dumps({"requests": [r["request"] for r in report["results"]]}))
    _, again, _ = run_cli("simulate", "examples/seed/step1", "--isolated", "-f", "json",
                          "--requests", str(replay))
    assert [r["status"] for r in json.loads(again)["results"]] == [200, 403, 401, 403]


def test_access_matrix_passes_and_fails(run_cli: Run, tmp_path: Path) -> None:
    code, out, _ = run_cli("test", "examples/seed/step1/requests.yaml",
                           "examples/seed/step2/requests.yaml", "--isolated")
    assert (code, out) == (0, "7 passed, 0 failed\n")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(json.dumps({"manifests": [str(REPO / "examples/seed/step2")], "requests": [
        {"name": "bar-can-read-healthz", "to": {"workload": "demo/httpbin"},
         "host": "another-host.com", "method": "GET", "path": "/healthz", "port": 80,
         "jwt": {"issuer": "issuer-bar", "subject": "bob"}, "expect": 200}]}))
    code, out, _ = run_cli("test", str(wrong), "--isolated")
    assert code == 1
    assert out.startswith("FAIL bar-can-read-healthz: expected 200, got DENY 401: the keys of "
                          "issuer 'issuer-bar' can never be loaded")
    assert "[RequestAuthentication demo/httpbin examples/seed/step2/httpbin-auth.yaml:2]" in out
    assert out.endswith("0 passed, 1 failed\n")


@pytest.mark.parametrize(("content", "message"), [
    ("requests: [{to: {workload: demo/nope}}]", "workload 'demo/nope' is not in the manifests"),
    ("requests: [{to: {workload: demo/httpbin}, port: http}]", "port must be a port number"),
    ("requests: [{to: {workload: demo/httpbin}, expect: 500}]", "expect must be one of"),
    ("requests: [{to: {workload: demo/httpbin}, colour: red}]", "unknown key(s) colour"),
    ("requests: [{name: a, to: {workload: demo/httpbin}}, {name: a, to: {workload: x/y}}]",
     "duplicate request names: a"),
    ("[1, 2]", "expected a map with a 'requests' list"),
    ("requests: [{to: {}}]", "needs 'workload: NAMESPACE/NAME'"),
])
def test_bad_request_files_exit_2(run_cli: Run, tmp_path: Path, content: str,
                                  message: str) -> None:
    requests = tmp_path / "requests.yaml"
    requests.write_text(content)
    code, _, err = run_cli("simulate", "examples/seed/step1", "--isolated", "-r", str(requests))
    assert code == 2
    assert message in err


def test_simulate_needs_a_target(run_cli: Run) -> None:
    code, _, err = run_cli("simulate", "examples/seed/step1", "--isolated", "--path", "/")
    assert code == 2
    assert "--workload" in err


def test_selector_target_without_workloads(run_cli: Run) -> None:
    code, out, _ = run_cli("simulate", "examples/seed/step1/httpbin-auth.yaml", "--isolated",
                           "--namespace", "demo", "--labels", "app=httpbin", "--path", "/",
                           "--jwt-issuer", "issuer-foo", "--jwt-subject", "alice")
    assert code == 0
    assert ": ALLOW 200" in out.splitlines()[0]
    assert "target: pods {app=httpbin} in namespace demo" in out
