"""``ValidateAuthorizationPolicy``: the webhook's checks of an AuthorizationPolicy spec."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from istiolint.admission.common import check_selection
from istiolint.admission.fields import (
    BAD,
    MaybeStr,
    Obj,
    StrList,
    message,
    message_list,
    string,
    string_list,
)
from istiolint.admission.problems import Path, Report
from istiolint.admission.values import (
    Issue,
    check_empty,
    check_path_templates,
    check_service_accounts,
    check_trust_domains,
    validate_attribute,
    validate_ips,
    validate_ports,
)

ACTIONS = ("ALLOW", "DENY", "AUDIT", "CUSTOM")
ValueCheck = Callable[[str, StrList], Issue | None]

#: Source fields CUSTOM policies may not use, in the order Istio checks them.
_CUSTOM_UNSUPPORTED_SOURCE = (
    ("namespaces", "Namespaces"),
    ("notNamespaces", "NotNamespaces"),
    ("serviceAccounts", "ServiceAccounts"),
    ("notServiceAccounts", "NotServiceAccounts"),
    ("trustDomains", "TrustDomains"),
    ("notTrustDomains", "NotTrustDomains"),
    ("principals", "Principals"),
    ("notPrincipals", "NotPrincipals"),
    ("requestPrincipals", "RequestPrincipals"),
    ("notRequestPrincipals", "NotRequestPrincipals"),
)
_CUSTOM_UNSUPPORTED_WHEN_KEYS = frozenset(
    {"source.namespace", "source.serviceAccount", "source.trustDomain", "source.principal"}
)

_SOURCE_FIELDS = (
    "principals",
    "requestPrincipals",
    "namespaces",
    "ipBlocks",
    "remoteIpBlocks",
    "notPrincipals",
    "notRequestPrincipals",
    "notNamespaces",
    "notIpBlocks",
    "notRemoteIpBlocks",
    "serviceAccounts",
    "notServiceAccounts",
    "trustDomains",
    "notTrustDomains",
)
#: Source fields that can be matched on plain TCP (used by the DENY warning).
_TCP_SOURCE_FIELDS = (
    "notPrincipals",
    "principals",
    "ipBlocks",
    "notIpBlocks",
    "namespaces",
    "notNamespaces",
    "remoteIpBlocks",
    "notRemoteIpBlocks",
    "serviceAccounts",
    "notServiceAccounts",
)
_OPERATION_FIELDS = (
    "ports",
    "methods",
    "paths",
    "hosts",
    "notPorts",
    "notMethods",
    "notPaths",
    "notHosts",
)

_DENY_TCP_WARNING = (
    "configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to "
    "the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify "
    "the port"
)
_NO_RULES = (
    "{action} action without `rules` is meaningless as it will never be triggered, "
    "add an empty rule `{{}}` if you want it be triggered for every request"
)


def action_of(spec: Obj) -> MaybeStr:
    """The policy action (``ALLOW`` when unset), or ``BAD`` for anything but the four names.

    Protobuf decoding would also take an enum number, but the CRD only allows the names, so a
    number is a schema error here like any other wrongly typed value.
    """
    action = spec.get("action")
    if action is None:
        return "ALLOW"
    if isinstance(action, str) and action in ACTIONS:
        return action
    return BAD


def _issue_path(path: Path, issue: Issue) -> Path:
    if issue.index is not None:
        return (*path, issue.index)
    return path


def _report_issue(report: Report, path: Path, issue: Issue | None) -> None:
    if issue is not None:
        report.error(_issue_path(path, issue), issue.message)


def _check_custom(
    spec: Obj, rules: Sequence[tuple[int, Obj]], rules_unset: bool, report: Report
) -> None:
    if rules_unset:
        where: Path = ("spec", "rules") if "rules" in spec else ("spec",)
        report.error(where, _NO_RULES.format(action="CUSTOM"))
    else:
        provider = message(spec, "provider")
        if provider is None:
            where = ("spec", "provider") if "provider" in spec else ("spec",)
            report.error(where, "`provider.name` must not be empty")
        elif isinstance(provider, dict) and string(provider, "name") == "":
            where = ("spec", "provider", "name") if "name" in provider else ("spec", "provider")
            report.error(where, "`provider.name` must not be empty")
    for rule_index, rule in rules:
        rule_path: Path = ("spec", "rules", rule_index)
        for from_index, source_holder in message_list(rule, "from"):
            if not isinstance(source_holder, dict):
                continue
            source = message(source_holder, "source")
            if not isinstance(source, dict):
                continue
            source_path: Path = (*rule_path, "from", from_index, "source")
            for field, label in _CUSTOM_UNSUPPORTED_SOURCE:
                if string_list(source, field).is_set:
                    report.error(
                        (*source_path, field),
                        f"From.{label} is currently not supported with CUSTOM action",
                    )
        for when_index, condition in message_list(rule, "when"):
            when_path: Path = (*rule_path, "when", when_index)
            if condition is None:
                report.error(when_path, "when field cannot be nil")
                continue
            if not isinstance(condition, dict):
                continue
            key = string(condition, "key")
            if not isinstance(key, str):
                continue
            if key in _CUSTOM_UNSUPPORTED_WHEN_KEYS or key.startswith("request.auth."):
                report.error(
                    (*when_path, "key"), f"{key} is currently not supported with CUSTOM action"
                )


# the value checks of a source's lists, in the order Istio runs them
_SOURCE_VALUE_CHECKS: tuple[tuple[str, ValueCheck], ...] = (
    ("principals", check_empty), ("requestPrincipals", check_empty),
    ("namespaces", check_empty), ("serviceAccounts", check_service_accounts),
    ("trustDomains", check_trust_domains), ("ipBlocks", check_empty),
    ("remoteIpBlocks", check_empty), ("notPrincipals", check_empty),
    ("notRequestPrincipals", check_empty), ("notNamespaces", check_empty),
    ("notServiceAccounts", check_service_accounts), ("notTrustDomains", check_trust_domains),
    ("notIpBlocks", check_empty), ("notRemoteIpBlocks", check_empty))

# the value checks of an operation's lists, in the order Istio runs them
_OPERATION_VALUE_CHECKS: tuple[tuple[str, ValueCheck], ...] = (
    *((field, check_empty) for field in _OPERATION_FIELDS),
    ("paths", check_path_templates), ("notPaths", check_path_templates))


def _check_values(report: Report, path: Path, lists: Mapping[str, StrList],
                  checks: tuple[tuple[str, ValueCheck], ...]) -> None:
    """Value checks of a message's lists, in order, each labelled with the field's Go name
    (``notPaths``: ``NotPaths``); a list without elements (unset, or of the wrong type) passes
    every one."""
    for field, check in checks:
        values = lists.get(field)
        if values is not None and values.items:
            _report_issue(report, (*path, field), check(field[0].upper() + field[1:], values))


def _lists(node: Obj, fields: tuple[str, ...]) -> dict[str, StrList]:
    """The ``repeated string`` fields of a message that are present (most are not)."""
    return {field: string_list(node, field) for field in fields if field in node}


def _check_source(source: Obj, path: Path, rule_index: int, report: Report) -> bool:
    """Checks of one ``from[].source``; returns whether it uses a TCP-capable field."""
    lists = _lists(source, _SOURCE_FIELDS)
    identity = ("principals", "notPrincipals", "namespaces", "notNamespaces")
    accounts = ("serviceAccounts", "notServiceAccounts")
    if any(lists[f].is_set for f in identity if f in lists) and \
            any(lists[f].is_set for f in accounts if f in lists):
        report.error(
            path,
            f"cannot set serviceAccounts with namespaces or principals, found at rule {rule_index}",
        )
    if not any(values.maybe_set for values in lists.values()):
        report.error(path, f"`from.source` must not be empty, found at rule {rule_index}")
    for field in ("ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"):
        if field in lists:
            for issue in validate_ips(lists[field]):
                _report_issue(report, (*path, field), issue)
    _check_values(report, path, lists, _SOURCE_VALUE_CHECKS)
    return any(lists[field].maybe_set for field in _TCP_SOURCE_FIELDS if field in lists)


def _check_operation(operation: Obj, path: Path, rule_index: int, report: Report) -> bool:
    """Checks of one ``to[].operation``; returns whether it restricts ports."""
    lists = _lists(operation, _OPERATION_FIELDS)
    if not any(values.maybe_set for values in lists.values()):
        report.error(path, f"`to.operation` must not be empty, found at rule {rule_index}")
    for field in ("ports", "notPorts"):
        if field in lists:
            for issue in validate_ports(lists[field]):
                _report_issue(report, (*path, field), issue)
    _check_values(report, path, lists, _OPERATION_VALUE_CHECKS)
    return any(lists[field].maybe_set for field in ("ports", "notPorts") if field in lists)


def _check_condition(condition: Obj | None, path: Path, report: Report) -> None:
    if condition is None:  # a nil condition has an empty key
        report.error(path, "`key` must not be empty")
        return
    key = string(condition, "key")
    if not isinstance(key, str):
        return
    if key == "":
        report.error((*path, "key") if "key" in condition else path, "`key` must not be empty")
        return
    values = string_list(condition, "values")
    not_values = string_list(condition, "notValues")
    if not values.maybe_set and not not_values.maybe_set:
        report.error(path, f"at least one of `values` or `notValues` must be set for key {key}")
        return
    for field, label, checked in (
        ("values", "value", values),
        ("notValues", "notValue", not_values),
    ):
        issue = validate_attribute(key, checked)
        if issue is None:
            continue
        where: Path
        if issue.index is not None:
            where = (*path, field, issue.index)
        elif issue.on_list:
            where = (*path, field)
        else:
            where = (*path, "key")
        report.error(where, f"invalid `{label}` for `key` {key}: {issue.message}")


def _check_rule(rule: Obj, index: int, action: MaybeStr, report: Report) -> None:
    rule_path: Path = ("spec", "rules", index)
    # Istio also rejects a present-but-empty `from`/`to`, but YAML `[]` decodes to an unset
    # list, so that check can never fire on a manifest and is not reproduced here.
    from_exists = to_exists = False
    tcp_in_from = tcp_in_to = False
    for from_index, holder in message_list(rule, "from"):
        holder_path: Path = (*rule_path, "from", from_index)
        if holder is None:
            report.error(holder_path, f"`from` must not be nil, found at rule {index}")
            continue
        if not isinstance(holder, dict):
            from_exists = tcp_in_from = True  # wrongly typed: never let it cause a problem
            continue
        source = message(holder, "source")
        if source is None:
            where = (*holder_path, "source") if "source" in holder else holder_path
            report.error(where, f"`from.source` must not be nil, found at rule {index}")
            continue
        from_exists = True
        if not isinstance(source, dict):
            tcp_in_from = True
            continue
        if _check_source(source, (*holder_path, "source"), index, report):
            tcp_in_from = True
    for to_index, holder in message_list(rule, "to"):
        holder_path = (*rule_path, "to", to_index)
        if holder is None:
            report.error(holder_path, f"`to` must not be nil, found at rule {index}")
            continue
        if not isinstance(holder, dict):
            to_exists = tcp_in_to = True
            continue
        operation = message(holder, "operation")
        if operation is None:
            where = (*holder_path, "operation") if "operation" in holder else holder_path
            report.error(where, f"`to.operation` must not be nil, found at rule {index}")
            continue
        to_exists = True
        if not isinstance(operation, dict):
            tcp_in_to = True
            continue
        if _check_operation(operation, (*holder_path, "operation"), index, report):
            tcp_in_to = True
    for when_index, condition in message_list(rule, "when"):
        if condition is BAD or (condition is not None and not isinstance(condition, dict)):
            continue
        _check_condition(condition, (*rule_path, "when", when_index), report)
    http_only = (from_exists and not to_exists and not tcp_in_from) or (to_exists and not tcp_in_to)
    if http_only and action == "DENY":
        report.warning(rule_path, _DENY_TCP_WARNING)


def check_authorization_policy(spec: Obj, report: Report) -> None:
    check_selection(spec, report)
    action = action_of(spec)
    rule_list = message_list(spec, "rules")
    rules_unset = not rule_list.maybe_set
    rules = [(index, rule) for index, rule in rule_list if isinstance(rule, dict)]
    if action == "CUSTOM":
        _check_custom(spec, rules, rules_unset, report)
    provider = message(spec, "provider")
    if isinstance(provider, dict) and isinstance(action, str) and action != "CUSTOM":
        report.error(
            ("spec", "provider"), f"`provider` must not be with non CUSTOM action, found {action}"
        )
    if action == "DENY" and rules_unset:
        where: Path = ("spec", "rules") if "rules" in spec else ("spec",)
        report.error(where, _NO_RULES.format(action="DENY"))
    for index, rule in rule_list:
        if rule is None:
            report.error(("spec", "rules", index), f"`rule` must not be nil, found at rule {index}")
        elif isinstance(rule, dict):
            _check_rule(rule, index, action, report)
