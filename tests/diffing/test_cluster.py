"""fetch_cluster runs the real kubectl against a fake API server answering recorded responses.

kubectl sends a kubeconfig's credentials only over TLS (client-go drops them for http:// servers),
so the fake server speaks HTTPS with a throwaway self-signed certificate made by openssl.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fake_apiserver import ALL_RESOURCES, ISTIO_RESOURCES, FakeApiServer

from istiolint.diffing.cluster import CLUSTER_RESOURCES, fetch_cluster, fetch_cluster_report
from istiolint.errors import UsageError

TOKEN = "test-token-not-secret"
TIMEOUT = 10.0
SHOP = [
    ("AuthorizationPolicy", "security.istio.io/v1", "shop", "frontend-allow"),
    ("Deployment", "apps/v1", "shop", "frontend"),
    ("Namespace", "v1", None, "shop"),
    ("PeerAuthentication", "security.istio.io/v1", "shop", "default"),
    ("RequestAuthentication", "security.istio.io/v1", "shop", "jwt"),
    ("Service", "v1", "shop", "frontend"),
]
LIST_PATHS = {
    "/apis/security.istio.io/v1/authorizationpolicies",
    "/apis/security.istio.io/v1/requestauthentications",
    "/apis/security.istio.io/v1/peerauthentications",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/statefulsets",
    "/apis/apps/v1/daemonsets",
    "/apis/apps/v1/replicasets",
    "/api/v1/pods",
    "/api/v1/services",
    "/api/v1/namespaces",
}

needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None,
    reason="kubectl is not on PATH; these tests run the real kubectl against a fake API server")

Cluster = Callable[..., tuple[FakeApiServer, str]]


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not on PATH; it makes the fake API server's TLS certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def write_kubeconfig(path: Path, servers: dict[str, str], current: str, ca: Path,
                     token: str = TOKEN) -> str:
    """One cluster and context per entry of ``servers`` (context name: server URL)."""
    ca_data = base64.b64encode(ca.read_bytes()).decode()
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": [{"name": name, "cluster": {"server": url,
                                                "certificate-authority-data": ca_data}}
                     for name, url in servers.items()],
        "users": [{"name": "ci", "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "ci"}}
                     for name in servers],
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return str(path)


@pytest.fixture
def cluster(certificate: tuple[Path, Path], tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """Start a fake API server; returns it and a kubeconfig whose context ``fake`` uses it."""
    monkeypatch.setenv("KUBECACHEDIR", str(tmp_path / "kube-cache"))  # ports get reused
    monkeypatch.delenv("KUBECONFIG", raising=False)
    cert, key = certificate
    with ExitStack() as stack:

        def start(token: str = TOKEN, **options: Any) -> tuple[FakeApiServer, str]:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(cert, key)
            server = stack.enter_context(FakeApiServer(token=TOKEN, tls=tls, **options).running())
            kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"fake": server.url}, "fake",
                                          cert, token)
            return server, kubeconfig

        yield start


def dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"https://127.0.0.1:{port}"


def objects(data: bytes) -> list[tuple[str, str, str | None, str]]:
    document = json.loads(data)
    assert (document["apiVersion"], document["kind"]) == ("v1", "List")
    return sorted((item["kind"], item["apiVersion"], item["metadata"].get("namespace"),
                   item["metadata"]["name"]) for item in document["items"])


def fake_kubectl(tmp_path: Path, stdout: str, stderr: str = "", code: int = 0) -> str:
    script = tmp_path / "kubectl"
    script.write_text(f"#!/bin/sh\nprintf '%b' '{stdout}'\nprintf '%b' '{stderr}' >&2\n"
                      f"exit {code}\n", encoding="utf-8")
    script.chmod(0o755)
    return str(script)


@needs_kubectl
def test_reads_every_resource_with_the_kubeconfig_token(cluster: Cluster) -> None:
    server, kubeconfig = cluster()
    snapshot = fetch_cluster_report(kubeconfig=kubeconfig, timeout=TIMEOUT)
    assert objects(snapshot.data) == SHOP
    assert (snapshot.skipped, snapshot.context) == ((), None)
    assert set(server.paths) >= LIST_PATHS
    assert {r.authorization for r in server.requests} == {f"Bearer {TOKEN}"}
    apis = next(r for r in server.requests if r.path == "/apis")
    assert "g=apidiscovery.k8s.io" in (apis.accept or "")  # refused: plain JSON answers it
    assert "/apis/security.istio.io/v1" in server.paths
    deployment = next(item for item in json.loads(snapshot.data)["items"]
                      if item["kind"] == "Deployment")
    assert deployment["status"]["readyReplicas"] == 2  # nothing is normalized here
    annotations = deployment["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/last-applied-configuration" in annotations
    assert "managedFields" not in deployment["metadata"]  # kubectl drops it unless asked


@needs_kubectl
def test_fetch_cluster_returns_the_snapshot_data(cluster: Cluster) -> None:
    _, kubeconfig = cluster()
    assert objects(fetch_cluster(kubeconfig=kubeconfig, timeout=TIMEOUT)) == SHOP


@needs_kubectl
def test_context_selects_the_cluster(cluster: Cluster, certificate: tuple[Path, Path],
                                     tmp_path: Path) -> None:
    server, _ = cluster()
    kubeconfig = write_kubeconfig(tmp_path / "two-contexts", {"dead": dead_url(),
                                                              "fake": server.url},
                                  "dead", certificate[0])
    snapshot = fetch_cluster_report("fake", kubeconfig, timeout=TIMEOUT)
    assert objects(snapshot.data) == SHOP
    assert snapshot.context == "fake"
    with pytest.raises(UsageError, match="cannot reach the Kubernetes API server"):
        fetch_cluster(kubeconfig=kubeconfig, timeout=TIMEOUT)


@needs_kubectl
def test_cluster_without_istio_skips_the_istio_resources(cluster: Cluster) -> None:
    server, kubeconfig = cluster(served=ALL_RESOURCES - ISTIO_RESOURCES)
    snapshot = fetch_cluster_report(kubeconfig=kubeconfig, timeout=TIMEOUT)
    assert snapshot.skipped == CLUSTER_RESOURCES[:3]
    assert objects(snapshot.data) == [entry for entry in SHOP
                                      if entry[1] != "security.istio.io/v1"]
    assert not any(path.startswith("/apis/security.istio.io") for path in server.paths)


@needs_kubectl
def test_forbidden_resource_is_named(cluster: Cluster) -> None:
    _, kubeconfig = cluster(forbidden={"peerauthentications.security.istio.io"})
    with pytest.raises(UsageError) as caught:
        fetch_cluster(kubeconfig=kubeconfig, timeout=TIMEOUT)
    message = str(caught.value)
    assert message.startswith("not allowed to list peerauthentications.security.istio.io")
    assert "'list' permission" in message and "\n" not in message


@needs_kubectl
def test_rejected_credentials(cluster: Cluster) -> None:
    _, kubeconfig = cluster(token="expired-token-not-secret")
    with pytest.raises(UsageError, match="rejected the credentials") as caught:
        fetch_cluster(kubeconfig=kubeconfig, timeout=TIMEOUT)
    assert "expired-token-not-secret" not in str(caught.value)


@needs_kubectl
def test_unknown_context(cluster: Cluster) -> None:
    _, kubeconfig = cluster()
    with pytest.raises(UsageError, match="has no context 'staging'"):
        fetch_cluster("staging", kubeconfig, timeout=TIMEOUT)


@needs_kubectl
def test_dead_server_fails_quickly_without_the_token(cluster: Cluster,
                                                     certificate: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    cluster()  # isolates kubectl's cache
    url = dead_url()
    kubeconfig = write_kubeconfig(tmp_path / "dead", {"fake": url}, "fake", certificate[0])
    started = time.monotonic()
    with pytest.raises(UsageError, match="cannot reach the Kubernetes API server") as caught:
        fetch_cluster(kubeconfig=kubeconfig, timeout=3)
    assert time.monotonic() - started < 3
    message = str(caught.value)
    assert url.removeprefix("https://") in message
    assert TOKEN not in message and "\n" not in message


@needs_kubectl
def test_silent_server_times_out(cluster: Cluster, certificate: tuple[Path, Path],
                                 tmp_path: Path) -> None:
    cluster()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"https://127.0.0.1:{silent.getsockname()[1]}"
        kubeconfig = write_kubeconfig(tmp_path / "silent", {"fake": url}, "fake", certificate[0])
        started = time.monotonic()
        with pytest.raises(UsageError, match=r"did not finish reading the cluster .* within 1s"):
            fetch_cluster(kubeconfig=kubeconfig, timeout=1)
        assert time.monotonic() - started < 3


def test_missing_kubectl() -> None:
    with pytest.raises(UsageError, match="kubectl was not found at /nonexistent/kubectl"):
        fetch_cluster(kubectl="/nonexistent/kubectl")


def test_kubectl_not_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError, match="kubectl was not found on PATH"):
        fetch_cluster()


def test_command_line_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "kubectl"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/args\nenv > {tmp_path}/env\n'
                      """echo '{"items": [{"kind": "Namespace"}]}'\n""", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("ISTIOLINT_USER_SETTING", "kept")
    monkeypatch.setenv("KUBECTL_KUBERC", "true")
    snapshot = fetch_cluster_report("prod", "/etc/kube.yaml", kubectl=str(script), timeout=7.5)
    assert json.loads(snapshot.data)["items"] == [{"kind": "Namespace"}]
    assert (tmp_path / "args").read_text().splitlines() == [
        "get", ",".join(CLUSTER_RESOURCES), "--all-namespaces", "-o", "json",
        "--request-timeout=8s", "--context=prod", "--kubeconfig=/etc/kube.yaml"]
    environment = set((tmp_path / "env").read_text().splitlines())
    assert {"ISTIOLINT_USER_SETTING=kept", "KUBECTL_KUBERC=false", "KUBERC=off",
            "CLOUDSDK_CORE_DISABLE_PROMPTS=1"} <= environment


def test_invalid_json_output(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="printed invalid JSON"):
        fetch_cluster(kubectl=fake_kubectl(tmp_path, "<html>login</html>"))


def test_credentials_in_kubectl_errors_are_redacted(tmp_path: Path) -> None:
    stderr = (f"E1130 01:10:29.194222 17929 memcache.go:265] retrying\\n"
              f"error: Get https://admin:hunter2@10.0.0.1/api: Authorization: Bearer {TOKEN}"
              f" token={TOKEN}\\nsecond line\\n")
    with pytest.raises(UsageError) as caught:
        fetch_cluster(kubectl=fake_kubectl(tmp_path, "", stderr, code=1))
    message = str(caught.value)
    assert message.startswith("kubectl get failed: Get https://<redacted>@10.0.0.1/api")
    assert TOKEN not in message and "hunter2" not in message
    assert "retrying" not in message and "second line" not in message


GIT_SIDE = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop, labels: {app: frontend}}
spec:
  replicas: 2
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      serviceAccountName: frontend
      containers:
      - name: frontend
        image: registry.example.com/shop/frontend:1.8.2
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: frontend, namespace: shop, labels: {app: frontend}}
spec:
  selector: {app: frontend}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  jwtRules:
  - {issuer: "https://login.example.com", jwksUri: "https://login.example.com/keys"}
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: frontend-allow, namespace: shop}
spec:
  selector: {matchLabels: {app: frontend}}
  rules:
  - from: [{source: {requestPrincipals: ["https://login.example.com/*"]}}]
    to: [{operation: {methods: [METHODS]}}]
"""


def _diff_with_cluster(tmp_path: Path, kubeconfig: str, methods: str,
                       capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    from istiolint.entry import main  # noqa: PLC0415 (only these tests need the command line)

    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "shop.yaml").write_text(GIT_SIDE.replace("METHODS", methods), encoding="utf-8")
    capsys.readouterr()
    code = main(["diff", str(manifests), "--cluster", "--context", "fake", "--kubeconfig",
                 kubeconfig, "--no-git", "--isolated", "-f", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


@needs_kubectl
def test_the_same_objects_in_git_and_in_the_cluster_differ_in_nothing(
        cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, kubeconfig = cluster()
    report = _diff_with_cluster(tmp_path, kubeconfig, '"GET"', capsys)
    assert report["base"] == {"source": "cluster", "context": "fake"}
    assert (report["objects"], report["access"]) == ([], [])


@needs_kubectl
def test_a_method_the_cluster_does_not_allow_yet_is_a_widening(
        cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, kubeconfig = cluster()
    report = _diff_with_cluster(tmp_path, kubeconfig, '"GET", "POST"', capsys)
    [change] = report["objects"]
    assert change["object"]["name"] == "frontend-allow"
    assert [(f["change"], f["field"], f.get("after")) for f in change["fields"]] == [
        ("added", "spec.rules[0].to[0].operation.methods[1]", "POST")]
    [access] = report["access"]
    assert access["direction"] == "widened"
    assert access["request"]["method"] == "POST"
    assert access["request"]["jwt"]["issuer"] == "https://login.example.com"
    assert (access["before"]["status"], access["after"]["status"]) == (403, 200)
