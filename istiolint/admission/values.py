"""Value checks shared by the AuthorizationPolicy rules (Istio's ``pkg/config/security``).

Each check takes a :class:`~istiolint.admission.fields.StrList` and returns :class:`Issue`
records: the message and, when one element is to blame, that element's index so the caller
can point at it. Checks that stop at the first offender in Istio return at most one issue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from istiolint.admission.fields import StrList
from istiolint.golang.errors import GoError, multierror_text
from istiolint.golang.netip import parse_addr, parse_prefix
from istiolint.golang.strconv import parse_uint, quote
from istiolint.golang.text import byte_len


@dataclass(frozen=True)
class Issue:
    message: str
    #: Index of the offending list element; ``None`` when the whole field (or key) is at fault.
    index: int | None = None
    #: True when the list as a whole is at fault (for instance, too many values).
    on_list: bool = False


def check_empty(field: str, values: StrList) -> Issue | None:
    """``empty value not allowed``, reported for the first empty element only."""
    for index, text in values.texts():
        if text == "":
            return Issue(f"empty value not allowed, found in {field}", index)
    return None


def check_wildcards(field: str, values: StrList) -> Issue | None:
    """At most one ``*``, and only at the start or the end of the value."""
    empty = check_empty(field, values)
    if empty is not None:
        return empty
    for index, text in values.texts():
        stars = text.count("*")
        if stars > 1:
            return Issue(f"at most one wildcard is allowed, found in {field}: {quote(text)}", index)
        if stars == 1 and not (text.startswith("*") or text.endswith("*")):
            return Issue(
                f"wildcard is only allowed at the start or end, found in {field}: {quote(text)}",
                index,
            )
    return None


def check_trust_domains(field: str, values: StrList) -> Issue | None:
    issue = check_wildcards(field, values)
    if issue is not None:
        return issue
    for index, text in values.texts():
        if "/" in text:
            return Issue(
                f"trust domain must not contain '/', found in {field}: {quote(text)}", index
            )
    return None


_SA_FORMAT = "expected format 'serviceAccount' or 'namespace/serviceAccount', found"


def check_service_accounts(field: str, values: StrList) -> Issue | None:
    """``serviceAccount`` or ``namespace/serviceAccount``, no wildcard, 16 values at most."""
    if len(values) > 16:
        return Issue("may not have more than 16 values", on_list=True)
    for index, text in values.texts():
        if text == "":
            return Issue(f"empty value not allowed, found in {field}", index)
        if "*" in text:
            return Issue(f"wildcard not allowed, found in {field}", index)
        if text.count("/") > 1:
            return Issue(f"{_SA_FORMAT} {quote(text)} in {field}", index)
        if byte_len(text) > 320:
            return Issue(
                f"value cannot exceed 320 characters, found {quote(text)} in {field}", index
            )
        namespace, slash, account = text.partition("/")
        if slash and not namespace:
            return Issue(f"{_SA_FORMAT} empty namespace {quote(text)} in {field}", index)
        if slash and not account:
            return Issue(f"{_SA_FORMAT} empty serviceAccount {quote(text)} in {field}", index)
    return None


_ONE_SEGMENT = "{*}"
_ANY_SEGMENTS = "{**}"
_LITERAL_SEGMENT = re.compile(r"[a-zA-Z0-9\-._~%!$&'()+,;:@=]+")


def check_path_templates(field: str, values: StrList) -> Issue | None:
    """Envoy URI-template rules for ``{*}`` / ``{**}`` (first offending path only)."""
    for index, original in values.texts():
        has_template = _ONE_SEGMENT in original or _ANY_SEGMENTS in original
        path = original.strip("/")
        prefix = f"invalid or unsupported path {path}, found in {field}."
        seen_any = False
        for segment in path.split("/"):
            if segment in (_ONE_SEGMENT, _ANY_SEGMENTS):
                if seen_any:
                    return Issue(f"{prefix} {{**}} is not the last operator", index)
                seen_any = segment == _ANY_SEGMENTS
                continue
            if "{" in segment or "}" in segment:
                return Issue(
                    f"{prefix} Contains '{{' or '}}' beyond a supported path template", index
                )
            if has_template and _LITERAL_SEGMENT.fullmatch(segment) is None:
                return Issue(
                    f"{prefix} Contains segment {segment} with invalid string literal", index
                )
    return None


def validate_ips(values: StrList) -> list[Issue]:
    """Every element must be an IP address or, if it contains ``/``, a CIDR prefix."""
    issues: list[Issue] = []
    for index, text in values.texts():
        if "/" in text:
            try:
                parse_prefix(text)
            except GoError as error:
                issues.append(Issue(f"bad CIDR range ({text}): {error}", index))
        else:
            try:
                parse_addr(text)
            except GoError:
                issues.append(Issue(f"bad IP address ({text})", index))
    return issues


def validate_ports(values: StrList) -> list[Issue]:
    """Every element must be a decimal port number no greater than 65535."""
    issues: list[Issue] = []
    for index, text in values.texts():
        try:
            number = parse_uint(text, 32)
        except GoError as error:
            issues.append(Issue(f"bad port ({text}): {error}", index))
            continue
        if number > 65535:
            issues.append(Issue(f"bad port ({text}): <nil>", index))
    return issues


def _combined(issues: list[Issue]) -> Issue | None:
    if not issues:
        return None
    return Issue(multierror_text([issue.message for issue in issues]), issues[0].index)


def _map_key_error(key: str) -> Issue | None:
    data = key.encode("utf-8", "surrogatepass")
    bracket = data.find(b"[")
    if data.endswith(b"]") and 0 < bracket < len(data) - 2:
        return None
    return Issue(f"bad key ({key}): should have format a[b]")


_PLAIN_ATTRIBUTES = frozenset(
    {
        "source.namespace",
        "source.principal",
        "request.auth.principal",
        "request.auth.audiences",
        "request.auth.presenter",
        "connection.sni",
    }
)


def validate_attribute(key: str, values: StrList) -> Issue | None:
    """Istio's ``ValidateAttribute``: the ``when`` key and its values.

    An issue with ``index`` set is about that value; one without is about the key.
    """
    empty = check_empty(key, values)
    if empty is not None:
        return empty
    if key.startswith("request.headers"):
        return _map_key_error(key)
    if key in ("source.ip", "remote.ip"):
        return _combined(validate_ips(values))
    if key in _PLAIN_ATTRIBUTES:
        return None
    if key == "source.serviceAccount":
        return check_service_accounts(key, values)
    if key == "source.trustDomain":
        return check_wildcards(key, values)
    if key.startswith("request.auth.claims"):
        return _map_key_error(key)
    if key == "destination.ip":
        return _combined(validate_ips(values))
    if key == "destination.port":
        return _combined(validate_ports(values))
    if key.startswith("experimental.envoy.filters."):
        return _map_key_error(key)
    if key == "destination.namespace":
        return Issue(f"attribute {key} is replaced by the metadata.namespace")
    if key.startswith("destination.labels"):
        return Issue(f"attribute {key} is replaced by the workload selector")
    if key in ("destination.name", "destination.user"):
        return Issue(f"deprecated attribute {key}: only supported in v1alpha1")
    return Issue(f"unknown attribute: {key}")
