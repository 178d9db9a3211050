"""The diff as text, JSON (docs/schemas/diff-v1.schema.json) or pull-request Markdown."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from istiolint import __version__
from istiolint.authz.evaluate import Verdict
from istiolint.authz.request import parse_request
from istiolint.diffing.access import NARROWED, WIDENED, AccessChange, policies_json
from istiolint.diffing.compare import DiffResult
from istiolint.diffing.objects import ADDED, REMOVED, FieldChange, ObjectChange
from istiolint.errors import UsageError
from istiolint.findings import Finding
from istiolint.model.kube import listed
from istiolint.report import printable
from istiolint.report.json import finding_json
from istiolint.report.markdown import code, md
from istiolint.resources import Resource
from istiolint.simulate import describe_request

FORMAT_VERSION = 1
FORMATS = ("text", "json", "markdown")
MAX_SHOWN_TARGETS = 5


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _where(resource: Resource | None) -> dict[str, Any] | None:
    if resource is None:
        return None
    where = resource.location()
    return {"path": where.path, "line": where.position.line,
            "apiVersion": resource.ref.api_version}


def _field_json(change: FieldChange) -> dict[str, Any]:
    out: dict[str, Any] = {"change": change.change, "path": change.pointer,
                           "field": change.dotted}
    if change.change != ADDED:
        out["before"] = change.before
    if change.change != REMOVED:
        out["after"] = change.after
    return out


def object_json(change: ObjectChange) -> dict[str, Any]:
    return {"change": change.change, "object": change.key.as_json(),
            "renamedFrom": change.renamed_from.as_json() if change.renamed_from else None,
            "before": _where(change.before), "after": _where(change.after),
            "fields": [_field_json(f) for f in change.fields]}


def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {"decision": verdict.decision, "status": verdict.status, "reason": verdict.reason}


def access_json(change: AccessChange) -> dict[str, Any]:
    target = change.target
    workload: dict[str, Any]
    if target.workload is not None:
        namespace, _, name = target.workload.partition("/")
        workload = {"namespace": namespace, "name": name,
                    "description": change.target_description}
    else:
        workload = {"namespace": target.namespace, "labels": dict(target.labels),
                    "bySelector": True, "description": change.target_description}
    return {"direction": change.direction, "workload": workload, "match": change.match,
            "request": change.request.as_json(), "before": _verdict_json(change.before),
            "after": _verdict_json(change.after),
            "policies": {"before": policies_json(change.before),
                         "after": policies_json(change.after)},
            "witnesses": change.witnesses, **({"via": change.via} if change.via else {})}


def _counts(result: DiffResult) -> dict[str, int]:
    return {"objects": len(result.objects),
            "widened": sum(1 for c in result.access if c.direction == WIDENED),
            "narrowed": sum(1 for c in result.access if c.direction == NARROWED),
            "newFindings": len(result.new_findings),
            "fixedFindings": len(result.fixed_findings)}


def result_json(result: DiffResult) -> dict[str, Any]:
    return {"version": FORMAT_VERSION,
            "tool": {"name": "istiolint", "version": __version__},
            "base": result.base.label, "head": result.head.label,
            "summary": _counts(result),
            "objects": [object_json(c) for c in result.objects],
            "access": [access_json(c) for c in result.access],
            "findings": {"new": [finding_json(f) for f in result.new_findings],
                         "fixed": [finding_json(f) for f in result.fixed_findings]},
            "notes": result.notes}


def write_json(result: DiffResult, stream: TextIO) -> None:
    stream.write(json.dumps(result_json(result), indent=2, ensure_ascii=False) + "\n")


def side_name(label: Mapping[str, Any]) -> str:
    if label["source"] == "git":
        return f"{label['revision']} ({str(label['commit'])[:12]})"
    if label["source"] == "path":
        return str(label["path"])
    if label["source"] == "cluster":
        return f"cluster ({label.get('context') or 'current context'})"
    return "working tree"


def _list(values: Any) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]" if isinstance(values, list) else \
        str(values)


def describe_rule(rule: Mapping[str, Any]) -> str:
    """A rule in one line of Istio's field names: ``from principals [..]; to methods [..]``."""
    parts = []
    for key, inner in (("from", "source"), ("to", "operation")):
        entries = []
        for item in listed(rule.get(key)):
            fields = item.get(inner) if isinstance(item, Mapping) else None
            if isinstance(fields, Mapping):
                entries.append(" ".join(f"{name} {_list(values)}"
                                        for name, values in fields.items()))
        if entries:
            parts.append(f"{key} " + " or ".join(entries))
    for condition in listed(rule.get("when")):
        if isinstance(condition, Mapping):
            values = [f"in {_list(condition['values'])}" if condition.get("values") else "",
                      f"not in {_list(condition['notValues'])}"
                      if condition.get("notValues") else ""]
            parts.append(f"when {condition.get('key')} " + " ".join(v for v in values if v))
    return "; ".join(parts) or "every request"


def describe_match(match: Mapping[str, Any]) -> str:
    parts = []
    if "rule" in match:
        text = describe_rule(match["rule"])
        parts.append(text if match.get("side") != "request" else f"requests like: {text}")
    if "requestPrincipals" in match:
        audiences = f" (audiences {_list(match['audiences'])})" if match.get("audiences") else ""
        parts.append(f"with a token from {_list(match['requestPrincipals'])}{audiences}")
    if "mtls" in match:
        port = f" on port {match['port']}" if "port" in match else ""
        parts.append(("over plaintext (no client certificate)" if match["mtls"] == "plaintext"
                      else "over mutual TLS") + port)
    return ", ".join(parts) or _value(match)


def _targets(targets: Sequence[str]) -> str:
    shown = ", ".join(targets[:MAX_SHOWN_TARGETS])
    more = len(targets) - MAX_SHOWN_TARGETS
    return shown + (f" and {more} more" if more > 0 else "")


def _decider(policy: Mapping[str, Any] | None) -> str:
    if policy is None:
        return ""
    rule = f" rule {policy['rule']}" if policy["rule"] is not None else ""
    return f" [{policy['kind']} {policy['namespace']}/{policy['name']}{rule}, " \
           f"{policy['path']}:{policy['line']}]"


def _finding_line(finding: Finding) -> str:
    position = finding.position
    return f"{finding.path}:{position.line}:{position.column}: {finding.code} " \
           f"[{finding.severity}] {finding.message}"


def write_text(result: DiffResult, stream: TextIO) -> None:
    def out(text: str = "") -> None:
        stream.write(printable(text) + "\n")

    counts = _counts(result)
    out(f"istiolint diff: {side_name(result.base.label)} -> {side_name(result.head.label)}")
    if result.objects:
        out()
        out(f"Objects ({len(result.objects)} changed)")
        for change in result.objects:
            resource = change.after or change.before
            found = resource.location() if resource else None
            where = f"  ({found.path}:{found.position.line})" if found else ""
            renamed = f" (was {change.renamed_from.name})" if change.renamed_from else ""
            out(f"  {change.change:<9} {change.key}{renamed}{where}")
            for field in change.fields:
                if field.change == ADDED:
                    out(f"      + {field.dotted}: {_value(field.after)}")
                elif field.change == REMOVED:
                    out(f"      - {field.dotted}: {_value(field.before)}")
                else:
                    out(f"      ~ {field.dotted}: {_value(field.before)} -> "
                        f"{_value(field.after)}")
    out()
    if not result.access:
        out("Access: no change")
    else:
        out(f"Access ({counts['widened']} widened, {counts['narrowed']} narrowed)")
        for first, targets in _json_groups([access_json(c) for c in result.access]):
            out(f"  {first['direction'].upper()}  {_targets(targets)}")
            out(f"    requests: {describe_match(first['match'])}")
            out(f"    e.g.:     {_example(first['request'])}")
            for side in ("before", "after"):
                out(f"    {side + ':':<10}{_json_status(first[side])}: {first[side]['reason']}"
                    f"{_decider(first['policies'][side])}")
    for note in result.notes:
        out(f"  note: {note}")
    out()
    if not (result.new_findings or result.fixed_findings):
        out("Findings: no change")
    else:
        out(f"Findings ({counts['newFindings']} new, {counts['fixedFindings']} fixed)")
        for finding in result.new_findings:
            out(f"  new    {_finding_line(finding)}")
        for finding in result.fixed_findings:
            out(f"  fixed  {_finding_line(finding)}")


def _json_status(verdict: Mapping[str, Any]) -> str:
    status = verdict.get("status")
    return f"{verdict['decision']} {status if status is not None else 'reset'}"


def _json_groups(access: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], list[str]]]:
    groups: dict[tuple[str, ...], tuple[Mapping[str, Any], list[str]]] = {}
    for change in access:
        key = (change["direction"], _value(change["match"]), change["before"]["reason"],
               change["after"]["reason"], change.get("via", ""))
        described = change["workload"]["description"]
        if change.get("via"):
            described += f" ({change['via']})"
        groups.setdefault(key, (change, []))[1].append(described)
    return sorted(groups.values(), key=lambda g: (g[0]["direction"] != WIDENED, -len(g[1]),
                                                  g[1][0]))


def _example(request: Mapping[str, Any]) -> str:
    try:
        return describe_request(parse_request(request, "request"))
    except UsageError:
        return _value(request)


def render_markdown(data: Mapping[str, Any]) -> str:
    """The pull-request body for a diff in its JSON form (docs/schemas/diff-v1.schema.json), so
    that a report made by an untrusted job renders just as safely."""
    lines: list[str] = []
    add: Callable[[str], None] = lines.append
    counts = data["summary"]
    add(f"### istiolint diff: {code(side_name(data['base']))} → {code(side_name(data['head']))}")
    add("")
    access = ("no change" if not data["access"] else
              f"{counts['widened']} widened, {counts['narrowed']} narrowed")
    add(f"**Access:** {access} · **Objects:** {counts['objects']} changed · **Findings:** "
        f"{counts['newFindings']} new, {counts['fixedFindings']} fixed")
    if data["access"]:
        add("")
        add("| Change | Workloads | Requests | Example | Before | After |")
        add("|---|---|---|---|---|---|")
        for first, targets in _json_groups(data["access"]):
            icon = "🔓 widened" if first["direction"] == WIDENED else "🔒 narrowed"
            add(f"| {icon} | {md(_targets(targets))} | {md(describe_match(first['match']))} "
                f"| {code(_example(first['request']))} | {md(_json_status(first['before']))} "
                f"| {md(_json_status(first['after']))} |")
    if data["objects"]:
        add("")
        add(f"<details><summary>{len(data['objects'])} object(s) changed</summary>")
        add("")
        add("| Change | Object | Fields |")
        add("|---|---|---|")
        for change in data["objects"]:
            fields = "<br>".join(code(f"{f['change']} {f['field']}") for f in change["fields"][:20])
            name = _key_name(change["object"]) + (
                f" (was {change['renamedFrom']['name']})" if change.get("renamedFrom") else "")
            add(f"| {md(change['change'])} | {code(name)} | {fields} |")
        add("")
        add("</details>")
    for note in data.get("notes", []):
        add("")
        add(f"> **Note:** {md(note)}")
    for title, findings in (("New findings", data["findings"]["new"]),
                            ("Fixed findings", data["findings"]["fixed"])):
        if findings:
            add("")
            add(f"<details><summary>{title} ({len(findings)})</summary>")
            add("")
            add("| Rule | Severity | Where | Message |")
            add("|---|---|---|---|")
            for finding in findings:
                add(f"| {code(finding['rule'])} | {md(finding['severity'])} | "
                    f"{code(str(finding['path']) + ':' + str(finding['line']))} | "
                    f"{md(finding['message'])} |")
            add("")
            add("</details>")
    return "\n".join(lines) + "\n"


def _key_name(key: Mapping[str, Any]) -> str:
    kind = f"{key['kind']}.{key['group']}" if key.get("group") else str(key["kind"])
    return f"{kind} {key['namespace']}/{key['name']}" if key.get("namespace") else \
        f"{kind} {key['name']}"


def write_markdown(result: DiffResult, stream: TextIO) -> None:
    stream.write(render_markdown(result_json(result)))


WRITERS: dict[str, Callable[[DiffResult, TextIO], None]] = {
    "text": write_text, "json": write_json, "markdown": write_markdown}
