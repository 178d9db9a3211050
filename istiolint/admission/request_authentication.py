"""``ValidateRequestAuthentication``: the webhook's checks of a RequestAuthentication spec."""

from __future__ import annotations

import re

from istiolint.admission.common import check_selection
from istiolint.admission.fields import Obj, message_list, string, string_list
from istiolint.admission.jwks import parse_jwks
from istiolint.admission.problems import Path, Report
from istiolint.admission.urls import jwks_uri_error
from istiolint.golang.durations import parse_duration
from istiolint.golang.errors import GoError

_STRICT_HEADER_NAME = re.compile(r"[-_A-Za-z0-9]+")
_MILLISECOND = 1_000_000  # in nanoseconds

_PRIVATE_KEY_WARNING = (
    "jwks key at index {index} contains private key material; "
    "only public keys are used for verification"
)


def _jwks_uri_field(rule: Obj) -> str:
    """The member that sets ``jwksUri``: the JSON name wins over the proto name ``jwks_uri``."""
    return "jwksUri" if "jwksUri" in rule else "jwks_uri"


def _check_timeout(rule: Obj, path: Path, report: Report) -> None:
    value = rule.get("timeout")
    if not isinstance(value, str):
        return  # unset, or not a duration string (a schema error)
    try:
        duration = parse_duration(value)
    except GoError:
        return  # the protobuf decoder would reject it: a schema error, reported elsewhere
    if duration < _MILLISECOND:
        report.error((*path, "timeout"), "duration must be greater than 1ms")
    elif duration % _MILLISECOND:
        report.error((*path, "timeout"), "only durations to ms precision are supported")


def _check_jwt_rule(rule: Obj, path: Path, report: Report) -> None:
    for index, audience in string_list(rule, "audiences").texts():
        if audience == "":
            report.error((*path, "audiences", index), "audience must be non-empty string")

    issuer = string(rule, "issuer")
    uri_field = _jwks_uri_field(rule)
    uri = string(rule, uri_field)
    if issuer == "" and uri == "":
        report.error(path, "issuer or jwksUri must be non-empty string")
    if isinstance(uri, str) and uri != "":
        error = jwks_uri_error(uri)
        if error is not None:
            report.error((*path, uri_field), error)

    jwks = string(rule, "jwks")
    if isinstance(jwks, str) and jwks != "":
        _, error = parse_jwks(jwks)
        if error is not None:
            report.error((*path, "jwks"), f"jwks parse error: {error}")

    for index, location in message_list(rule, "fromHeaders"):
        if location is None:
            report.error((*path, "fromHeaders", index), "location header name must be non-null")
        elif isinstance(location, dict) and string(location, "name") == "":
            where: Path = (*path, "fromHeaders", index)
            if "name" in location:
                where = (*where, "name")
            report.error(where, "location header name must be non-empty string")

    for index, param in string_list(rule, "fromParams").texts():
        if param == "":
            report.error((*path, "fromParams", index), "location query must be non-empty string")

    for index, cookie in string_list(rule, "fromCookies").texts():
        if cookie == "":
            report.error((*path, "fromCookies", index), "cookie name must be non-empty string")

    for index, pair in message_list(rule, "outputClaimToHeaders"):
        pair_path: Path = (*path, "outputClaimToHeaders", index)
        if pair is None:
            report.error(pair_path, "outputClaimToHeaders must not be null")
            continue
        if not isinstance(pair, dict):
            continue
        claim, header = string(pair, "claim"), string(pair, "header")
        if claim == "" or header == "":
            report.error(
                pair_path, "outputClaimToHeaders header and claim value must be non-empty string"
            )
            continue
        if isinstance(header, str) and _STRICT_HEADER_NAME.fullmatch(header) is None:
            report.error((*pair_path, "header"), f"header name {header} is not a valid header name")

    _check_timeout(rule, path, report)


def _warn_private_keys(rule: Obj, path: Path, report: Report) -> None:
    jwks = string(rule, "jwks")
    if not isinstance(jwks, str) or jwks == "":
        return
    keys, _ = parse_jwks(jwks)
    for index, key in enumerate(keys or ()):
        if key.private:
            report.warning((*path, "jwks"), _PRIVATE_KEY_WARNING.format(index=index))


def check_request_authentication(spec: Obj, report: Report) -> None:
    check_selection(spec, report)
    for index, rule in message_list(spec, "jwtRules"):
        if isinstance(rule, dict):
            rule_path: Path = ("spec", "jwtRules", index)
            _check_jwt_rule(rule, rule_path, report)
            _warn_private_keys(rule, rule_path, report)
