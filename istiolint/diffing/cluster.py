"""The live cluster as one Kubernetes ``List``, read with ``kubectl get -o json``."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from istiolint.errors import UsageError

CLUSTER_RESOURCES: tuple[str, ...] = (
    "authorizationpolicies.security.istio.io",
    "requestauthentications.security.istio.io",
    "peerauthentications.security.istio.io",
    "deployments.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "replicasets.apps",
    "pods",
    "services",
    "namespaces",
)

# kuberc preferences (kubectl 1.33+) can give any command flag defaults, e.g. --interactive;
# gcloud, run by the GKE credential plugin, would otherwise prompt.
_NON_INTERACTIVE_ENV = {"KUBECTL_KUBERC": "false", "KUBERC": "off",
                        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}

_KLOG_PREFIX = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] ")
_SECRETS = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]+"), r"\1 <redacted>"),
    (re.compile(r"(?i)\b(token|password|secret|client-key-data)(\"?\s*[=:]\s*\"?)[^\s\"',;]+"),
     r"\1\2<redacted>"),
    (re.compile(r"://[^/@\s]+@"), "://<redacted>@"),
)
_NOT_SERVED = re.compile(r"the server doesn't have a resource type \"[^\"]+\"")
_FORBIDDEN_LIST = re.compile(r"cannot list resource \"([^\"]+)\" in API group \"([^\"]*)\"")
_FORBIDDEN_NAME = re.compile(r"(\S+) is forbidden:")
_UNKNOWN_CONTEXT = ("context was not found for specified context", "no context exists with")
_UNAUTHORIZED = ("You must be logged in to the server", "(Unauthorized)")
_UNREACHABLE = ("Unable to connect to the server", "The connection to the server",
                "connection refused", "no such host", "i/o timeout", "context deadline exceeded",
                "TLS handshake timeout")


@dataclass(frozen=True)
class ClusterSnapshot:
    data: bytes  # JSON of one List (apiVersion v1, kind List)
    skipped: tuple[str, ...]  # resources the server does not serve, e.g. Istio's without Istio
    context: str | None  # as asked for; None is the kubeconfig's current context


class _NotServed(Exception):
    pass


def fetch_cluster(context: str | None = None, kubeconfig: str | None = None, *,
                  kubectl: str = "kubectl", timeout: float = 60.0) -> bytes:
    """JSON bytes of one Kubernetes ``List`` (apiVersion v1, kind List, items [...]) holding
    every object of CLUSTER_RESOURCES in all namespaces."""
    return fetch_cluster_report(context, kubeconfig, kubectl=kubectl, timeout=timeout).data


def fetch_cluster_report(context: str | None = None, kubeconfig: str | None = None, *,
                         kubectl: str = "kubectl", timeout: float = 60.0) -> ClusterSnapshot:
    """Every object of CLUSTER_RESOURCES in all namespaces, and the resources not served.

    One ``kubectl get`` reads them all; when the server lacks some resource type (Istio not
    installed), each resource is read on its own and the missing ones are skipped. ``timeout``
    bounds the whole read, every kubectl run included, and each request kubectl makes.
    """
    client = _Kubectl(kubectl, context, kubeconfig, timeout, time.monotonic() + timeout)
    try:
        return ClusterSnapshot(_list_bytes(client.get(CLUSTER_RESOURCES)), (), context)
    except _NotServed:
        pass
    items: list[Any] = []
    skipped: list[str] = []
    for resource in CLUSTER_RESOURCES:
        try:
            items.extend(client.get((resource,)))
        except _NotServed:
            skipped.append(resource)
    return ClusterSnapshot(_list_bytes(items), tuple(skipped), context)


@dataclass(frozen=True)
class _Kubectl:
    binary: str
    context: str | None
    kubeconfig: str | None
    timeout: float
    deadline: float

    def get(self, resources: Sequence[str]) -> list[Any]:
        completed = self._run(["get", ",".join(resources), "--all-namespaces", "-o", "json",
                               f"--request-timeout={max(1, math.ceil(self.timeout))}s"])
        if completed.returncode != 0:
            raise self._failure(completed.stderr.decode("utf-8", "replace"))
        return _items(completed.stdout, self.binary, self._where)

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[bytes]:
        command = [self.binary, *args]
        if self.context:
            command.append(f"--context={self.context}")
        if self.kubeconfig:
            command.append(f"--kubeconfig={self.kubeconfig}")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out()
        try:
            return subprocess.run(command, capture_output=True, check=False, timeout=remaining,
                                  stdin=subprocess.DEVNULL,
                                  env={**os.environ, **_NON_INTERACTIVE_ENV})
        except FileNotFoundError:
            raise UsageError(_not_installed(self.binary)) from None
        except subprocess.TimeoutExpired:
            raise self._timed_out() from None
        except OSError as exc:
            raise UsageError(f"cannot run {self.binary}: {exc.strerror}") from None

    def _timed_out(self) -> UsageError:
        return UsageError(f"kubectl did not finish reading the cluster{self._where} within "
                          f"{self.timeout:g}s; check that the API server is reachable, or allow "
                          "more time")

    @property
    def _where(self) -> str:
        scope = [f"context {self.context!r}"] if self.context else []
        if self.kubeconfig:
            scope.append(f"kubeconfig {self.kubeconfig}")
        return f" ({', '.join(scope)})" if scope else ""

    def _failure(self, stderr: str) -> Exception:
        detail = _summary(stderr)
        if _NOT_SERVED.search(stderr):
            return _NotServed(detail)
        if any(marker in stderr for marker in _UNKNOWN_CONTEXT):
            kubeconfig = f"kubeconfig {self.kubeconfig}" if self.kubeconfig else "kubeconfig"
            missing = (f"has no context {self.context!r}" if self.context
                       else "names a current-context it does not define")
            return UsageError(f"the {kubeconfig} {missing}; list its contexts with "
                              "'kubectl config get-contexts'")
        if "(Forbidden)" in stderr or " is forbidden: " in stderr:
            resource = _forbidden_resource(stderr)
            detail = detail.removeprefix("Error from server (Forbidden): ")
            return UsageError(f"not allowed to list {resource}{self._where}: 403 Forbidden, "
                              f"{detail}; the account needs the 'list' permission on "
                              f"{resource} in all namespaces")
        if any(marker in stderr for marker in _UNAUTHORIZED):
            return UsageError(f"the Kubernetes API server rejected the credentials{self._where} "
                              "with 401 Unauthorized; log in again or renew the kubeconfig's "
                              "credentials")
        if "x509: " in stderr:
            return UsageError(f"cannot verify the Kubernetes API server's certificate"
                              f"{self._where}: {detail}; check the kubeconfig's server address "
                              "and certificate-authority")
        if any(marker in stderr for marker in _UNREACHABLE):
            return UsageError(f"cannot reach the Kubernetes API server{self._where}: {detail}; "
                              "check the kubeconfig's server address and that the cluster is up")
        return UsageError(f"kubectl get failed{self._where}: {detail}")


def _not_installed(binary: str) -> str:
    if os.sep in binary:
        return f"kubectl was not found at {binary}; install it or fix the path"
    return f"{binary} was not found on PATH; install it or add its directory to PATH"


def _summary(stderr: str) -> str:
    """kubectl's own error line, without client-go's log lines (retries) when it printed one."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    plain = [line for line in lines if not _KLOG_PREFIX.match(line)]
    if plain:
        chosen = plain[0].removeprefix("error: ")
    elif lines:
        chosen = _KLOG_PREFIX.sub("", lines[-1])
    else:
        return "kubectl printed no message"
    for pattern, replacement in _SECRETS:
        chosen = pattern.sub(replacement, chosen)
    return chosen if len(chosen) <= 400 else chosen[:400] + "..."


def _forbidden_resource(stderr: str) -> str:
    listed = _FORBIDDEN_LIST.search(stderr)
    if listed:
        plural, group = listed.groups()
        return f"{plural}.{group}" if group else plural
    named = _FORBIDDEN_NAME.search(stderr)
    return named.group(1) if named else "the cluster's objects"


def _items(stdout: bytes, binary: str, where: str) -> list[Any]:
    try:
        document = json.loads(stdout)
    except ValueError as exc:
        raise UsageError(f"{binary} printed invalid JSON{where} ({exc}); is it kubectl?") from None
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise UsageError(f"{binary} printed JSON without a list of items{where}; is it kubectl?")
    return items


def _list_bytes(items: list[Any]) -> bytes:
    document = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
                "items": items}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
