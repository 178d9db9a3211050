"""What Istio's validating webhook rejects (errors) or accepts with a warning."""

from __future__ import annotations

from collections.abc import Iterator

from istiolint.admission import validate
from istiolint.context import CheckContext
from istiolint.rules import Detection, builtin_rules

REJECTED, WARNED = "AD001", "AD002"
SECURITY_GROUP = "security.istio.io"


class AdmissionCheck:
    """Istio's webhook only sees objects the CRD schema accepted, so a schema finding on the
    same field says the same thing first."""
    per_source = True

    rules = builtin_rules(REJECTED, WARNED)
    defers_to = ("SC",)

    def run(self, context: CheckContext) -> Iterator[Detection]:
        for resource in context.resources:
            if resource.group != SECURITY_GROUP:
                continue
            for problem in validate(resource.obj):
                code = REJECTED if problem.severity == "error" else WARNED
                yield Detection(code, resource, problem.pointer, {"problem": problem.message})
