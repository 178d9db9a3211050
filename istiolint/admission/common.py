"""Checks every security kind shares: annotations, workload selector, policy target references,
and the webhook's check of top-level fields."""

from __future__ import annotations

from istiolint.admission.fields import (
    MaybeStr,
    Obj,
    key_text,
    message,
    message_list,
    string,
    string_map,
)
from istiolint.admission.problems import Path, Report
from istiolint.golang.errors import GoError
from istiolint.golang.strconv import parse_bool, quote

AUTHORIZATION_POLICY = "AuthorizationPolicy"
REQUEST_AUTHENTICATION = "RequestAuthentication"
PEER_AUTHENTICATION = "PeerAuthentication"

DRY_RUN = "istio.io/dry-run"
ALWAYS_REJECT = "internal.istio.io/webhook-always-reject"
PARENT_NAMESPACE = "internal.istio.io/parent-namespace"
PARENTS = "internal.istio.io/parents"


def object_identity(obj: Obj) -> tuple[str, str]:
    """``(namespace, name)`` from ``metadata``; unset or wrongly typed parts are ``""``."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return "", ""
    namespace, name = metadata.get("namespace"), metadata.get("name")
    return (
        namespace if isinstance(namespace, str) else "",
        name if isinstance(name, str) else "",
    )


def check_metadata(obj: Obj, kind: str, action: MaybeStr | None, report: Report) -> bool:
    """The annotation checks Istio runs before the kind's own validation.

    ``action`` is the AuthorizationPolicy action name (``None`` for other kinds). Istio stops
    at the first failing annotation check, and skips the kind's validation; so this returns
    True when it reported an error.
    """
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return False
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        return False
    present: dict[str, object] = {}
    for raw_key, value in annotations.items():
        text = key_text(raw_key)
        if text is not None:
            present[text] = value
    namespace, name = object_identity(obj)
    where = f"{namespace}/{name}"

    def stop(key: str, text: str) -> bool:
        report.error(("metadata", "annotations", key), text)
        return True

    if DRY_RUN in present:
        if kind != AUTHORIZATION_POLICY:
            return stop(
                DRY_RUN,
                f"{where} has unsupported annotation {DRY_RUN}, please remove the annotation",
            )
        value = present[DRY_RUN]
        if action in ("ALLOW", "DENY"):
            setting = "" if value is None else value
            if isinstance(setting, str):
                try:
                    parse_bool(setting)
                except GoError as error:
                    return stop(
                        DRY_RUN,
                        f"{where} has annotation {DRY_RUN} with invalid value ({setting}): {error}",
                    )
        elif action in ("AUDIT", "CUSTOM"):
            return stop(
                DRY_RUN,
                f"the annotation {DRY_RUN} currently only supports action ALLOW/DENY, "
                f"found action {action} in {where}",
            )
    if ALWAYS_REJECT in present:
        return stop(ALWAYS_REJECT, f"{quote(ALWAYS_REJECT)} annotation found, rejecting")
    for internal in (PARENT_NAMESPACE, PARENTS):
        if internal in present:
            return stop(
                internal, f"{quote(internal)} annotation found, this may not be set by users"
            )
    return False


def check_one_of_selector(spec: Obj, report: Report) -> None:
    """``selector``, ``targetRef`` and a non-empty ``targetRefs`` are mutually exclusive."""
    chosen = 0
    if isinstance(message(spec, "selector"), dict):
        chosen += 1
    if isinstance(message(spec, "targetRef"), dict):
        chosen += 1
    if message_list(spec, "targetRefs").is_set:
        chosen += 1
    if chosen > 1:
        report.error(("spec",), "only one of targetRefs or workloadSelector can be set")


def check_workload_selector(spec: Obj, report: Report) -> None:
    selector = message(spec, "selector")
    if not isinstance(selector, dict):
        return
    labels = string_map(selector, "matchLabels")
    if labels is not None and labels.bad:
        return
    base: Path = ("spec", "selector", "matchLabels")
    if labels is not None:
        for key, value in labels.entries:
            if value is None:
                continue
            if key != "" and "*" not in key and "*" not in value:
                continue
            pair = quote(f"{key}={value}")
            if key == "":
                report.error((*base, key), f"empty key is not supported in selector: {pair}")
            if "*" in key or "*" in value:
                report.error((*base, key), f"wildcard is not supported in selector: {pair}")
    if labels is None or labels.size == 0:
        where: Path = base if labels is not None else ("spec", "selector")
        report.warning(where, "workload selector specified without labels")


#: (canonical group, kind) pairs a policy may target, and how Istio prints the list.
_ALLOWED_TARGETS = (
    ("core", "Service"),
    ("networking.istio.io", "ServiceEntry"),
    ("gateway.networking.k8s.io", "Gateway"),
    ("gateway.networking.k8s.io", "GatewayClass"),
)
_ALLOWED_TARGETS_TEXT = (
    "[core/v1/Service networking.istio.io/v1/ServiceEntry "
    "gateway.networking.k8s.io/v1/Gateway gateway.networking.k8s.io/v1/GatewayClass]"
)


def check_target_ref(ref: Obj, path: Path, report: Report) -> None:
    name = string(ref, "name")
    if name == "":
        report.error((*path, "name") if "name" in ref else path, "targetRef name must be set")
    namespace = string(ref, "namespace")
    if isinstance(namespace, str) and namespace != "":
        report.error(
            (*path, "namespace"),
            "targetRef namespace must not be set; cross namespace referencing is not supported",
        )
    group, kind = string(ref, "group"), string(ref, "kind")
    if not isinstance(group, str) or not isinstance(kind, str):
        return
    if ((group or "core"), kind) in _ALLOWED_TARGETS:
        return
    if kind not in {allowed_kind for _, allowed_kind in _ALLOWED_TARGETS}:
        where: Path = (*path, "kind") if "kind" in ref else path
    else:
        where = (*path, "group") if "group" in ref else path
    report.error(
        where, f"targetRef must be to one of {_ALLOWED_TARGETS_TEXT} but was {group}/{kind}"
    )


def check_target_refs(spec: Obj, report: Report) -> None:
    ref = message(spec, "targetRef")
    if isinstance(ref, dict):
        check_target_ref(ref, ("spec", "targetRef"), report)
    for index, element in message_list(spec, "targetRefs"):
        if isinstance(element, dict):
            check_target_ref(element, ("spec", "targetRefs", index), report)


def check_selection(spec: Obj, report: Report) -> None:
    """Selector / targetRef checks of AuthorizationPolicy and RequestAuthentication, in order."""
    check_one_of_selector(spec, report)
    check_workload_selector(spec, report)
    check_target_refs(spec, report)


_TOP_LEVEL_FIELDS = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})


def check_top_level_fields(obj: Obj, kind: str, report: Report) -> None:
    """The webhook rejects unknown top-level fields, once the object validated without error."""
    if report.has_errors():
        return
    namespace, name = object_identity(obj)
    for raw_key in obj:
        key = key_text(raw_key)
        if key is None or key in _TOP_LEVEL_FIELDS:
            continue
        report.error((key,), f"unknown field {quote(key)} on {kind} resource {namespace}/{name}")
        return
