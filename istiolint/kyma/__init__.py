"""Kyma APIRules (gateway.kyma-project.io) expanded into the RequestAuthentications and
AuthorizationPolicies that Kyma's api-gateway generates from them, so that the checks can lint
those as well.

Where each behaviour comes from in kyma-project/api-gateway (read at commit 64d110d6, facts
only; the reference is ``pitfalls-and-validators.md`` §3.3):

- which processors run: ``internal/controller/gateway/apirule_controller.go`` (an APIRule
  created as v1beta1 keeps the v1beta1 processors; v2 and v2alpha1 use the v2alpha1 ones) and
  ``internal/processing/processors/istio/reconciliation.go`` (v1beta1 with the Istio JWT
  handler);
- v2 policies: ``internal/processing/processors/v2alpha1/authorizationpolicy/creator.go``
  (one ALLOW policy per authorization, the three scope claims, one condition per audience,
  notPaths, ``/*`` as ``/{**}``, the short host completed from the Gateway's first host, CUSTOM
  policies per authorizer with ALLOW policies numbered after them);
- v2 RequestAuthentications: ``internal/processing/processors/v2alpha1/requestauthentication/
  creator.go`` (one per rule with ``jwt`` or ``extAuth.restrictions``) and ``.../processor.go``
  (kept once per namespace, selector and issuers);
- the objects themselves: ``internal/builders/istio.go`` (``forwardOriginalToken: true``,
  ``<issuer>/*`` request principals, the ingress gateway and Oathkeeper principals, the
  ``action`` left unset for ALLOW);
- owner and module labels: ``internal/processing/label.go``; the index label:
  ``internal/processing/hashbasedstate/hashbasedstate.go``;
- the Service's namespace and selector: ``apis/gateway/v2alpha1/service.go`` and
  ``internal/helpers/service.go`` (rule service, then spec service, then the APIRule's
  namespace; ``default`` when empty);
- short hosts: ``internal/helpers/hosts.go`` (what a short host is) and
  ``internal/validation/v2alpha1/hosts.go`` (the Gateway must have a single ``*.<domain>``
  host);
- v1beta1: ``internal/processing/processors/istio/authorization_policy_processor.go`` and
  ``request_authentication_processor.go`` (no hosts or notPaths, only ``/.*`` translated,
  ``jwt`` without the ingress gateway principal), ``internal/processing/helpers.go`` (policies
  only when a rule uses ``jwt`` or ``no_auth``; which handlers Oathkeeper secures),
  ``apis/gateway/v1beta1/rule.go`` (handler names, authorizations of the first strategy),
  ``internal/validation/v1beta1/istio/jwt_validator.go`` and ``as_validator.go`` (Ory
  configuration rejected, exclusive handlers), ``apis/gateway/v1beta1/jwt_conversion.go``
  (which Ory configurations convert to v2).

Not reproduced: the random ``generateName`` suffix (names here are stable), the hash label, the
migration mode from v1beta1 ("oryPassthrough", which admits Oathkeeper and drops hosts), and the
API version: api-gateway writes ``security.istio.io/v1beta1`` objects, these are
``security.istio.io/v1`` (the same fields).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from istiolint.kyma.expand import (
        Expansion,
        ExpansionProblem,
        Generated,
        Origin,
        expand_apirule,
    )

__all__ = ["Expansion", "ExpansionProblem", "Generated", "Origin", "expand_apirule"]


def __getattr__(name: str) -> Any:
    """The expansion, imported on first use: most trees hold no APIRule."""
    if name in __all__:
        from istiolint.kyma import expand  # noqa: PLC0415

        return getattr(expand, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
