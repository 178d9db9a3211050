"""The mesh model answers a question asked again (by another check) as it did the first time."""

from __future__ import annotations

from istiolint.model.mesh import MeshModel, Target
from istiolint.resources import extract_resources
from istiolint.sources import parse_source

MANIFESTS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        ports: [{name: http, containerPort: 8080}, {name: db, containerPort: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: tcp-db, port: 5432, targetPort: 5432}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: nobody, namespace: shop}
spec:
  selector: {matchLabels: {app: gone}}
"""


def _model() -> MeshModel:
    source = parse_source(MANIFESTS.encode(), "shop.yaml", lambda api_version, kind: True)
    return MeshModel.build(list(extract_resources(source)))


def test_scopes_are_the_same_when_asked_again() -> None:
    model = _model()
    first = [model.scope_of(policy) for policy in model.authorization_policies]
    again = [model.scope_of(policy) for policy in model.authorization_policies]
    assert [scope.describe() for scope in first] == ["Deployment shop/api",
                                                     "pods {app=gone} in namespace shop"]
    assert [scope.by_selector for scope in first] == [False, True]
    assert again == first


def test_a_port_protocol_depends_on_the_workload_and_port_asked_about() -> None:
    model = _model()
    workload = model.workload_target("shop/api")
    assert workload is not None
    answers = [(port, model.port_protocol(workload, port).protocol)
               for port in (8080, 5432, 9999, 8080, 5432)]
    assert answers == [(8080, "http"), (5432, "tcp"), (9999, "auto"), (8080, "http"),
                       (5432, "tcp")]
    # the same labels without the workload: a named targetPort cannot be resolved
    by_labels = Target("shop", dict(workload.labels))
    assert model.port_protocol(by_labels, 8080).protocol == "auto"
    assert model.port_protocol(by_labels, 5432).protocol == "tcp"
