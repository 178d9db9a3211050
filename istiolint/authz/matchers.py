"""How Envoy, configured by istiod, compares one policy value with one request attribute."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote

SPIFFE = "spiffe://"


def string_match(pattern: str, value: str | None, *, ignore_case: bool = False) -> bool:
    """Istio's generic matcher: ``*`` is any non-empty value, a leading ``*`` a suffix match,
    a trailing ``*`` a prefix match, anything else exact (a ``*`` in the middle is literal)."""
    if value is None:
        return False
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    if pattern == "*":
        return value != ""
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def example_match(pattern: str, filler: str = "x") -> str:
    """A value that ``string_match`` (or a path template) accepts for ``pattern``."""
    if pattern == "*":
        return filler
    if pattern.startswith("*"):
        return filler + pattern[1:]
    if pattern.endswith("*"):
        return pattern[:-1] + filler
    return pattern.replace("{**}", filler).replace("{*}", filler)


def presence_or_string_match(pattern: str, value: str | None, *, ignore_case: bool = False
                             ) -> bool:
    """Header matchers: ``*`` only asks for the header to be present (even empty)."""
    if pattern == "*":
        return value is not None
    return string_match(pattern, value, ignore_case=ignore_case)


def principal_match(pattern: str, principal: str | None) -> bool:
    """``principals`` are compared with ``spiffe://`` + the peer's identity."""
    if principal is None:
        return False
    if pattern == "*":
        return principal != ""
    return string_match(SPIFFE + pattern if not pattern.startswith("*") else pattern,
                        SPIFFE + principal)


def namespace_match(pattern: str, principal: str | None) -> bool:
    """A glob over the principal's ``/ns/<namespace>/`` segment; ``*`` may cross ``/``."""
    if principal is None:
        return False
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(f".*/ns/{regex}/.*", SPIFFE + principal) is not None


def service_account_match(pattern: str, principal: str | None, policy_namespace: str) -> bool:
    """``sa`` or ``ns/sa``; a bare account belongs to the policy's namespace."""
    if principal is None:
        return False
    namespace, _, account = pattern.rpartition("/")
    namespace = namespace or policy_namespace
    regex = (f"spiffe://.+/ns/{re.escape(namespace)}/(.+/|)sa/{re.escape(account)}(/.+)?")
    return re.fullmatch(regex, SPIFFE + principal) is not None


def trust_domain_match(pattern: str, principal: str | None) -> bool:
    if principal is None:
        return False
    subject = SPIFFE + principal
    if pattern == "*":
        return True
    if "*" not in pattern:
        return subject.startswith(f"{SPIFFE}{pattern}/")
    head, _, tail = pattern.partition("*")
    regex = f"spiffe://{re.escape(head)}[^/]*{re.escape(tail)}/.*"
    return re.fullmatch(regex, subject) is not None


def request_principal_match(pattern: str, issuer: str | None, subject: str | None) -> bool:
    """``<iss>/<sub>``, split at the last ``/`` (Istio 1.22+); issuer and subject are matched
    separately, so ``*`` needs a token with a non-empty ``sub``."""
    if issuer is None:
        return False
    iss, sub = issuer, subject or ""
    if pattern == "*":
        return iss != "" and sub != ""
    if "/" in pattern:
        iss_pattern, _, sub_pattern = pattern.rpartition("/")
    elif pattern.startswith("*"):
        return iss != "" and sub.endswith(pattern[1:]) and sub != ""
    elif pattern.endswith("*"):
        return iss.startswith(pattern[:-1]) and sub != ""
    else:
        return iss == pattern and sub == ""
    if pattern.startswith("*"):
        iss_ok = iss != "" if iss_pattern == "*" else iss.endswith(iss_pattern[1:])
        return iss_ok and sub == sub_pattern
    if pattern.endswith("*"):
        sub_ok = sub != "" if sub_pattern == "*" else sub.startswith(sub_pattern[:-1])
        return iss == iss_pattern and sub_ok
    return iss == iss_pattern and sub == sub_pattern


def ip_match(block: str, address: str | None) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(block, strict=False)
    except ValueError:
        return False


# %-escapes of unreserved characters: - . 0-9 A-Z _ a-z ~
_UNRESERVED = re.compile(
    r"%(2[dDeE]|3[0-9]|4[1-9a-fA-F]|5[0-9aA]|5[fF]|6[1-9a-fA-F]|7[0-9aA]|7[eE])")


def normalize_path(raw: str) -> str:
    """The path RBAC sees under Istio's default (BASE) normalization: query and fragment
    dropped, unreserved ``%xx`` decoded, ``\\`` turned into ``/``, dot segments resolved.
    ``%2F`` stays encoded and ``//`` stays as it is."""
    path = raw.split("?", 1)[0].split("#", 1)[0]
    path = _UNRESERVED.sub(lambda m: unquote(m.group()), path).replace("\\", "/")
    segments: list[str] = []
    for segment in path.split("/")[1:] if path.startswith("/") else path.split("/"):
        if segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    trailing = "/" if path.endswith(("/.", "/..")) else ""
    return "/" + "/".join(segments) + trailing


def path_match(pattern: str, path: str | None) -> bool:
    if path is None:
        return False
    if "{*}" in pattern or "{**}" in pattern:
        return _template_match(pattern, path)
    return string_match(pattern, path)


def _template_match(pattern: str, path: str) -> bool:
    """Envoy's URI template: ``{*}`` is one non-empty segment, ``{**}`` zero or more
    characters across segments (it must be the last operator)."""
    regex = ""
    for part in re.split(r"(\{\*\*\}|\{\*\})", pattern):
        if part == "{**}":
            regex += r"[^?#]*"
        elif part == "{*}":
            regex += r"[^/?#]+"
        else:
            regex += re.escape(part)
    return re.fullmatch(regex, path) is not None
