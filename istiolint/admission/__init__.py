"""Istio's validating-webhook checks for the security kinds, re-implemented.

:func:`validate` runs, on one manifest given as plain YAML data, the checks istiod's
validating admission webhook applies to ``AuthorizationPolicy``, ``RequestAuthentication``
and ``PeerAuthentication`` (group ``security.istio.io``, any version: the webhook ignores the
version). Messages are Istio's, without its ``invalid policy <name>.<namespace>:`` prefix.

Behaviour worth knowing:

* Problems come in the order Istio finds them, errors and warnings interleaved. Like Istio,
  an annotation error (``istio.io/dry-run``, internal annotations) stops validation there.
* Type errors are the CRD schema's business: a field of the wrong type is skipped and never
  causes a problem here (see :mod:`istiolint.admission.fields`). ``null`` means unset.
* A ``null`` element of a list of messages (``rules: [null]``) is treated as the nil element
  Istio's validation reports. (The webhook's own protobuf decoder would turn it into an empty
  message instead, and the API server rejects it first; reporting it is the useful reading.)
* ``[]`` is an unset list, as protobuf decoding makes it; so Istio's "`from` must not be
  empty" family of checks cannot fire on a manifest and is not reproduced.
* After the kind's checks pass without error, the webhook's rejection of unknown top-level
  fields (anything but ``apiVersion``, ``kind``, ``metadata``, ``spec``, ``status``) runs.
  (On a real cluster the API server prunes or rejects such fields first.)
* Field names are the CRD's (camelCase), plus ``jwks_uri``, the one proto name the CRD lists;
  the JSON name wins when both are given, as in protobuf decoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from istiolint.admission.authorization import action_of, check_authorization_policy
from istiolint.admission.common import (
    AUTHORIZATION_POLICY,
    PEER_AUTHENTICATION,
    REQUEST_AUTHENTICATION,
    check_metadata,
    check_top_level_fields,
)
from istiolint.admission.fields import BAD, MaybeStr
from istiolint.admission.peer_authentication import check_peer_authentication
from istiolint.admission.problems import AdmissionProblem, Report
from istiolint.admission.request_authentication import check_request_authentication

__all__ = ["GROUP", "KINDS", "AdmissionProblem", "validate"]

GROUP = "security.istio.io"
KINDS = frozenset({AUTHORIZATION_POLICY, REQUEST_AUTHENTICATION, PEER_AUTHENTICATION})


def _kind_of(obj: Mapping[str, Any]) -> str | None:
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    group, slash, version = api_version.partition("/")
    if group != GROUP or not slash or not version or kind not in KINDS:
        return None
    return kind


def validate(obj: Mapping[str, Any]) -> list[AdmissionProblem]:
    """Run Istio's webhook checks for one manifest (a plain dict as parsed from YAML).

    Returns [] for kinds it does not know.
    """
    if not isinstance(obj, dict):
        return []
    kind = _kind_of(obj)
    if kind is None:
        return []
    raw_spec = obj.get("spec")
    spec: Mapping[Any, Any] | None
    if raw_spec is None:
        spec = {}
    elif isinstance(raw_spec, dict):
        spec = raw_spec
    else:
        spec = None  # wrongly typed spec: nothing in it can be checked
    report = Report()
    action: MaybeStr | None = None
    if kind == AUTHORIZATION_POLICY:
        action = action_of(spec) if spec is not None else BAD
    if check_metadata(obj, kind, action, report):
        return report.problems
    if spec is not None:
        if kind == AUTHORIZATION_POLICY:
            check_authorization_policy(spec, report)
        elif kind == REQUEST_AUTHENTICATION:
            check_request_authentication(spec, report)
        else:
            check_peer_authentication(spec, report)
    check_top_level_fields(obj, kind, report)
    return report.problems
