"""``ValidatePeerAuthentication``: the webhook's checks of a PeerAuthentication spec."""

from __future__ import annotations

import re

from istiolint.admission.common import check_workload_selector
from istiolint.admission.fields import Obj, key_text, message, string_map
from istiolint.admission.problems import Report

# A map key is decoded as a JSON number into a uint32: surrounding JSON whitespace is allowed,
# signs, fractions, exponents and leading zeros are not.
_PORT_KEY = re.compile(r"[ \t\r\n]*(0|[1-9][0-9]*)[ \t\r\n]*")
_UINT32_MAX = (1 << 32) - 1


def _port_number(key: object) -> int | None:
    """The port a ``portLevelMtls`` key decodes to, or ``None`` if it would not decode."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key if 0 <= key <= _UINT32_MAX else None
    if not isinstance(key, str):
        return None
    match = _PORT_KEY.fullmatch(key)
    if match is None:
        return None
    number = int(match.group(1))
    return number if number <= _UINT32_MAX else None


def _selector_is_empty(spec: Obj) -> bool:
    selector = message(spec, "selector")
    if selector is None:
        return True
    if not isinstance(selector, dict):
        return False  # wrongly typed: do not let it cause a problem
    labels = string_map(selector, "matchLabels")
    if labels is None:
        return True
    return not labels.bad and labels.size == 0


def check_peer_authentication(spec: Obj, report: Report) -> None:
    port_level = spec.get("portLevelMtls")
    if isinstance(port_level, dict):
        if _selector_is_empty(spec) and len(port_level) != 0:
            report.error(
                ("spec", "portLevelMtls"),
                "mesh/namespace peer authentication cannot have port level mTLS",
            )
        if len(port_level) == 0:
            report.error(
                ("spec", "portLevelMtls"),
                "port level mTLS, if defined, must have at least one element",
            )
        for raw_key in port_level:
            port = _port_number(raw_key)
            text = key_text(raw_key)
            if port is None or text is None:
                continue
            if port <= 0 or port > 65535:
                report.error(("spec", "portLevelMtls", text), "port must be in range 1..65535")
    check_workload_selector(spec, report)
