"""``istiolint simulate`` and ``istiolint test``: load the mesh, decide requests, report."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from istiolint.authz.evaluate import Evaluator, TargetNotFound, Verdict
from istiolint.authz.request import Request, parse_request
from istiolint.documents import load_one
from istiolint.engine import Inputs, Linter
from istiolint.errors import UsageError
from istiolint.model.mesh import MeshModel
from istiolint.report import printable

FORMAT_VERSION = 1


@dataclass(frozen=True)
class RequestFile:
    path: Path
    manifests: tuple[str, ...] | None  # relative to the file's directory
    requests: tuple[Request, ...]


def load_request_file(path: Path) -> RequestFile:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else load_one(text)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # lone surrogates are not text
    except (json.JSONDecodeError, UnicodeDecodeError, UnicodeEncodeError,
            RecursionError) as exc:
        raise UsageError(f"{path}: not valid JSON: {exc}") from exc
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("requests"), list):
        raise UsageError(f"{path}: expected a map with a 'requests' list")
    manifests = data.get("manifests")
    if manifests is not None and (not isinstance(manifests, list)
                                  or not all(isinstance(m, str) for m in manifests)):
        raise UsageError(f"{path}: 'manifests' must be a list of paths")
    requests = tuple(parse_request(item, f"{path}: requests[{index}]")
                     for index, item in enumerate(data["requests"]))
    counts = Counter(r.name for r in requests if r.name)
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if duplicates:
        raise UsageError(f"{path}: duplicate request names: {', '.join(duplicates)}")
    return RequestFile(path, tuple(manifests) if manifests is not None else None, requests)


def load_model(linter: Linter, paths: Sequence[str]) -> MeshModel:
    linter.with_model = True
    try:
        tree = linter.load(Inputs(list(paths)), run_checks=False)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    return MeshModel.build(tree.resources, linter.settings.root_namespace)


@dataclass(frozen=True)
class Result:
    request: Request
    verdict: Verdict

    @property
    def passed(self) -> bool:
        return self.request.expect is None or self.verdict.satisfies(self.request.expect)


def decide(model: MeshModel, requests: Sequence[Request]) -> list[Result]:
    evaluator = Evaluator(model)
    results = []
    for request in requests:
        try:
            verdict = evaluator.evaluate(request)
        except TargetNotFound as exc:
            raise UsageError(f"request {request.name or request.to.describe()}: {exc}") from exc
        results.append(Result(request, verdict))
    return results


def policy_json(verdict: Verdict) -> dict[str, Any] | None:
    """The policy that decided, with where it is."""
    policy = verdict.policy
    if policy is None:
        return None
    resource = policy.resource
    where = resource.location()
    return {"kind": resource.kind, "namespace": policy.namespace, "name": policy.name,
            "path": where.path, "line": where.position.line}


def result_json(result: Result) -> dict[str, Any]:
    verdict = result.verdict
    out: dict[str, Any] = {
        "name": result.request.name or None,
        "request": result.request.as_json(),
        "decision": verdict.decision, "status": verdict.status, "reason": verdict.reason,
        "policy": policy_json(verdict), "rule": verdict.rule, "trace": verdict.trace,
    }
    if result.request.expect is not None:
        out["expect"] = result.request.expect
        out["passed"] = result.passed
    return out


def write_json(results: Sequence[Result], stream: TextIO) -> None:
    stream.write(json.dumps({"version": FORMAT_VERSION,
                             "results": [result_json(r) for r in results]},
                            indent=2, ensure_ascii=False) + "\n")


def describe_request(request: Request) -> str:
    parts = [request.to.describe()]
    if request.method or request.host or request.path:
        parts.append(" ".join(p for p in (request.method, (request.host or "") +
                                          (request.path or "")) if p))
    if request.port is not None:
        parts.append(f"port {request.port}")
    if request.jwt is not None:
        parts.append(f"jwt {request.jwt.issuer}/{request.jwt.subject or ''}")
    if request.source is not None and request.source.principal:
        parts.append(f"from {request.source.principal}")
    elif request.source is None:
        parts.append("plaintext")
    return printable(", ".join(parts))


def _status(verdict: Verdict) -> str:
    return str(verdict.status) if verdict.status is not None else "-"


def write_text(results: Sequence[Result], stream: TextIO, *, verbose: bool) -> None:
    for result in results:
        verdict = result.verdict
        title = result.request.name or describe_request(result.request)
        stream.write(f"{printable(title)}: {verdict.decision} {_status(verdict)}\n")
        if result.request.name:
            stream.write(f"  request: {describe_request(result.request)}\n")
        stream.write(f"  reason: {printable(verdict.reason)}\n")
        policy = policy_json(verdict)
        if policy is not None:
            stream.write(f"  decided by: {policy['kind']} {policy['namespace']}/{policy['name']}"
                         f" ({printable(policy['path'])}:{policy['line']})\n")
        if verbose or len(results) == 1:
            for step in verdict.trace:
                stream.write(f"    {printable(step)}\n")


def write_test_report(results: Sequence[Result], stream: TextIO) -> None:
    checked = [r for r in results if r.request.expect is not None]
    for result in checked:
        if result.passed:
            continue
        verdict, request = result.verdict, result.request
        policy = policy_json(verdict)
        where = (f" [{policy['kind']} {policy['namespace']}/{policy['name']} "
                 f"{printable(policy['path'])}:{policy['line']}]" if policy else "")
        stream.write(f"FAIL {printable(request.name or describe_request(request))}: expected "
                     f"{request.expect}, got {verdict.decision} {_status(verdict)}: "
                     f"{printable(verdict.reason)}{where}\n")
    failed = sum(1 for r in checked if not r.passed)
    stream.write(f"{len(checked) - failed} passed, {failed} failed\n")
