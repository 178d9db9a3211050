"""A request as the simulator sees it, and the request-file format shared with ``diff``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from istiolint.errors import UsageError

EXPECTATIONS = ("200", "401", "403", "ALLOW", "DENY", "UNKNOWN")


@dataclass(frozen=True)
class Jwt:
    """A correctly signed token; whether its keys can be loaded depends on the policies."""

    issuer: str
    subject: str | None = None
    audiences: tuple[str, ...] = ()
    claims: Mapping[str, Any] = field(default_factory=dict)
    presenter: str | None = None


@dataclass(frozen=True)
class Peer:
    """The client's address and, over mTLS, its identity: a client without a principal (or
    without a source at all) speaks plaintext."""

    principal: str | None = None
    ip: str | None = None
    remote_ip: str | None = None


@dataclass(frozen=True)
class To:
    workload: str | None = None
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        if self.workload:
            return self.workload
        labels = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        return f"{self.namespace} {{{labels}}}"


@dataclass(frozen=True)
class Request:
    to: To
    name: str = ""
    host: str | None = None
    method: str | None = None
    path: str | None = None
    port: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    jwt: Jwt | None = None
    source: Peer | None = None
    sni: str | None = None
    expect: str | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    def as_json(self) -> dict[str, Any]:
        """The request in the request-file format (replayable with ``simulate --requests``)."""
        out: dict[str, Any] = {"name": self.name} if self.name else {}
        out["to"] = ({"workload": self.to.workload} if self.to.workload else
                     {"namespace": self.to.namespace, "labels": dict(self.to.labels)})
        for key in ("host", "method", "path", "port", "sni"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.jwt is not None:
            jwt: dict[str, Any] = {"issuer": self.jwt.issuer}
            if self.jwt.subject is not None:
                jwt["subject"] = self.jwt.subject
            if self.jwt.audiences:
                jwt["audiences"] = list(self.jwt.audiences)
            if self.jwt.claims:
                jwt["claims"] = dict(self.jwt.claims)
            if self.jwt.presenter is not None:
                jwt["presenter"] = self.jwt.presenter
            out["jwt"] = jwt
        if self.source is not None:
            out["source"] = {k: v for k, v in (("principal", self.source.principal),
                                               ("ip", self.source.ip),
                                               ("remoteIp", self.source.remote_ip)) if v}
        if self.expect is not None:
            out["expect"] = int(self.expect) if self.expect.isdigit() else self.expect
        return out


_REQUEST_KEYS = {"name", "to", "host", "method", "path", "port", "headers", "jwt", "source",
                 "sni", "expect", "why"}


def _str(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise UsageError(f"{where} must be a string")
    return str(value)


def _opt_str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    return None if data.get(key) is None else _str(data[key], f"{where}.{key}")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UsageError(f"{where} must be a map")
    return value


def parse_request(data: Any, where: str) -> Request:
    """One entry of a request file; every problem is a UsageError naming where it is."""
    if not isinstance(data, Mapping):
        raise UsageError(f"{where} must be a map")
    unknown = sorted(set(data) - _REQUEST_KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)}; known: "
                         + ", ".join(sorted(_REQUEST_KEYS)))
    to_data = _mapping(data.get("to"), f"{where}.to")
    if "workload" in to_data:
        to = To(workload=_str(to_data["workload"], f"{where}.to.workload"))
    elif "namespace" in to_data:
        labels = _mapping(to_data.get("labels"), f"{where}.to.labels")
        to = To(namespace=_str(to_data["namespace"], f"{where}.to.namespace"),
                labels={str(k): _str(v, f"{where}.to.labels.{k}") for k, v in labels.items()})
    else:
        raise UsageError(f"{where}.to needs 'workload: NAMESPACE/NAME' or 'namespace' and "
                         "'labels'")
    port = data.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                             or not 0 < port < 65536):
        raise UsageError(f"{where}.port must be a port number")
    headers = {str(k): _str(v, f"{where}.headers.{k}")
               for k, v in _mapping(data.get("headers"), f"{where}.headers").items()}
    jwt = None
    if data.get("jwt") is not None:
        jwt_data = _mapping(data["jwt"], f"{where}.jwt")
        if "issuer" not in jwt_data:
            raise UsageError(f"{where}.jwt needs an issuer")
        audiences = jwt_data.get("audiences") or []
        if isinstance(audiences, str):
            audiences = [audiences]
        jwt = Jwt(_str(jwt_data["issuer"], f"{where}.jwt.issuer"),
                  _opt_str(jwt_data, "subject", f"{where}.jwt"),
                  tuple(_str(a, f"{where}.jwt.audiences") for a in audiences),
                  dict(_mapping(jwt_data.get("claims"), f"{where}.jwt.claims")),
                  _opt_str(jwt_data, "presenter", f"{where}.jwt"))
    source = None
    if data.get("source") is not None:
        peer = _mapping(data["source"], f"{where}.source")
        principal = _opt_str(peer, "principal", f"{where}.source")
        if principal is None and peer.get("namespace") is not None:
            namespace = _str(peer["namespace"], f"{where}.source.namespace")
            account = _opt_str(peer, "serviceAccount", f"{where}.source") or "default"
            principal = f"cluster.local/ns/{namespace}/sa/{account}"
        source = Peer(principal, _opt_str(peer, "ip", f"{where}.source"),
                      _opt_str(peer, "remoteIp", f"{where}.source"))
    expect = None
    if data.get("expect") is not None:
        expect = _str(data["expect"], f"{where}.expect").upper()
        if expect not in EXPECTATIONS:
            raise UsageError(f"{where}.expect must be one of {', '.join(EXPECTATIONS)}")
    return Request(to, str(data.get("name") or ""), _opt_str(data, "host", where),
                   _opt_str(data, "method", where), _opt_str(data, "path", where), port,
                   headers, jwt, source, _opt_str(data, "sni", where), expect)


def parse_claim(pair: str) -> tuple[str, Any]:
    """``--jwt-claim groups='["admins"]'``: the value is JSON, or a plain string."""
    key, sep, raw = pair.partition("=")
    if not sep or not key:
        raise UsageError(f"--jwt-claim takes KEY=JSON, got {pair!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw
