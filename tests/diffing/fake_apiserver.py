"""A Kubernetes API server that answers ``kubectl get ... -o json`` from recorded list responses.

It serves ``/version`` (the gcloud kubectl dispatcher picks its kubectl by the server's version),
legacy discovery (``/api``, ``/api/v1``, ``/apis``, ``/apis/GROUP/VERSION``) and one list endpoint
per served resource, at the group's first (preferred) version. kubectl first asks ``/api`` and
``/apis`` for aggregated discovery (``apidiscovery.k8s.io``); a plain ``application/json`` answer
makes it fall back to the per-group-version documents. The recorded list bodies live in
``cluster/RESOURCE.json``; a served resource without a recording lists no objects. kubectl sends
the kubeconfig's credentials only to an https server, so pass ``tls`` to check them with
``token`` (any other Authorization gets 401).
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

RECORDINGS = Path(__file__).resolve().parent / "cluster"
SERVER_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "platform": "linux/amd64"}
CAN_LIST = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]


@dataclass(frozen=True)
class ResourceType:
    group: str
    versions: tuple[str, ...]
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def name(self) -> str:
        """``plural.group``, or ``plural`` in the core group, as kubectl accepts it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def discovery_path(self, version: str) -> str:
        return f"/apis/{self.group}/{version}" if self.group else f"/api/{version}"

    def list_path(self) -> str:
        return f"{self.discovery_path(self.versions[0])}/{self.plural}"


ISTIO_VERSIONS = ("v1", "v1beta1")
RESOURCE_TYPES = (
    ResourceType("security.istio.io", ISTIO_VERSIONS, "authorizationpolicies",
                 "AuthorizationPolicy"),
    ResourceType("security.istio.io", ISTIO_VERSIONS, "requestauthentications",
                 "RequestAuthentication"),
    ResourceType("security.istio.io", ISTIO_VERSIONS, "peerauthentications", "PeerAuthentication"),
    ResourceType("apps", ("v1",), "deployments", "Deployment"),
    ResourceType("apps", ("v1",), "statefulsets", "StatefulSet"),
    ResourceType("apps", ("v1",), "daemonsets", "DaemonSet"),
    ResourceType("apps", ("v1",), "replicasets", "ReplicaSet"),
    ResourceType("", ("v1",), "pods", "Pod"),
    ResourceType("", ("v1",), "services", "Service"),
    ResourceType("", ("v1",), "namespaces", "Namespace", namespaced=False),
)
ALL_RESOURCES = frozenset(r.name for r in RESOURCE_TYPES)
ISTIO_RESOURCES = frozenset(r.name for r in RESOURCE_TYPES if r.group == "security.istio.io")


@dataclass(frozen=True)
class Request:
    path: str
    query: str
    authorization: str | None
    accept: str | None


class FakeApiServer:
    """The served resources, which of them answer 403, and every request received."""

    def __init__(self, served: Iterable[str] = ALL_RESOURCES, forbidden: Iterable[str] = (),
                 token: str | None = None, tls: ssl.SSLContext | None = None,
                 recordings: Path = RECORDINGS) -> None:
        served = set(served)
        self.types = [r for r in RESOURCE_TYPES if r.name in served]
        self.forbidden = frozenset(forbidden)
        self.token = token
        self.recordings = recordings
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    @contextmanager
    def running(self) -> Iterator[FakeApiServer]:
        thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join()

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def answer(self, path: str, authorization: str | None) -> tuple[int, Any]:
        if self.token is not None and authorization != f"Bearer {self.token}":
            return 401, _status(401, "Unauthorized", "Unauthorized")
        if path == "/version":
            return 200, SERVER_VERSION
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                         "serverAddress": "127.0.0.1:6443"}]}
        if path == "/apis":
            return 200, self._group_list()
        for resource in self.types:
            for version in resource.versions:
                if path == resource.discovery_path(version):
                    return 200, self._resource_list(resource.group, version)
        for resource in self.types:
            if path == resource.list_path():
                return self._list(resource)
        return 404, _status(404, "NotFound", "the server could not find the requested resource")

    def _group_list(self) -> dict[str, Any]:
        groups: dict[str, tuple[str, ...]] = {}
        for resource in self.types:
            if resource.group:
                groups.setdefault(resource.group, resource.versions)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": group,
             "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
             "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]}}
            for group, versions in groups.items()]}

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version,
                "resources": [{"name": r.plural, "singularName": r.kind.lower(),
                               "namespaced": r.namespaced, "kind": r.kind, "verbs": CAN_LIST}
                              for r in self.types if r.group == group and version in r.versions]}

    def _list(self, resource: ResourceType) -> tuple[int, Any]:
        if resource.name in self.forbidden:
            scope = "at the cluster scope"
            message = (f'{resource.name} is forbidden: User "system:serviceaccount:ci:istiolint" '
                       f'cannot list resource "{resource.plural}" in API group '
                       f'"{resource.group}" {scope}')
            return 403, _status(403, "Forbidden", message,
                                {"group": resource.group, "kind": resource.plural})
        recording = self.recordings / f"{resource.name}.json"
        if recording.is_file():
            return 200, json.loads(recording.read_text(encoding="utf-8"))
        api_version = f"{resource.group}/{resource.versions[0]}" if resource.group else "v1"
        return 200, {"kind": f"{resource.kind}List", "apiVersion": api_version,
                     "metadata": {"resourceVersion": "48213"}, "items": []}


def _status(code: int, reason: str, message: str,
            details: dict[str, str] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Failure", "message": message, "reason": reason,
                              "code": code}
    if details:
        status["details"] = details
    return status


def _handler(server: FakeApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            authorization = self.headers.get("Authorization")
            server.record(Request(url.path, url.query, authorization, self.headers.get("Accept")))
            code, body = server.answer(url.path, authorization)
            payload = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
