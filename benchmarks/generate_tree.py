#!/usr/bin/env python3
"""Generate a realistic GitOps tree for benchmarks (deterministic for a given seed).

Per namespace: a Namespace, a PeerAuthentication, a RequestAuthentication, and for each app a
file with its Deployment, Service, ServiceAccount, two ConfigMaps, HorizontalPodAutoscaler,
PodDisruptionBudget and NetworkPolicy, plus a file with its ALLOW and DENY
AuthorizationPolicies. The defaults give 3,400 files and 14,800 documents, a correct
configuration: istiolint reports nothing at warning or above for it.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

APP_NAMES = ["api", "web", "worker", "cache", "search", "billing", "auth", "cart", "catalog",
             "gateway", "notify", "report", "media", "orders"]


def namespace_files(index: int, apps: int, rng: random.Random) -> dict[str, str]:
    ns = f"team-{index:03d}"
    files = {
        f"{ns}/namespace.yaml": f"""apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    istio-injection: enabled
    team: "{index}"
""",
        f"{ns}/istio/peer-authentication.yaml": f"""apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: {ns}
spec:
  mtls:
    mode: STRICT
""",
    }
    names = rng.sample(APP_NAMES, apps)
    files[f"{ns}/istio/request-authentication.yaml"] = f"""apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt
  namespace: {ns}
spec:
  selector:
    matchLabels:
      app: {names[0]}
  jwtRules:
  - issuer: "https://sso.acme.internal/realms/{ns}"
    jwksUri: "https://sso.acme.internal/realms/{ns}/protocol/openid-connect/certs"
    audiences: ["{names[0]}"]
    forwardOriginalToken: true
"""
    for app in names:
        port = rng.choice([8080, 8000, 9090, 3000])
        caller = rng.choice(names)
        files[f"{ns}/apps/{app}/{app}.yaml"] = workload(ns, app, port, rng)
        files[f"{ns}/apps/{app}/authorization.yaml"] = f"""apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: {app}-allow
  namespace: {ns}
  labels:
    app: {app}
spec:
  selector:
    matchLabels:
      app: {app}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/{ns}/sa/{caller}"]
    to:
    - operation:
        methods: ["GET", "POST"]
        paths: ["/api/v1/*", "/healthz"]
        ports: ["{port}"]
  - from:
    - source:
        namespaces: ["istio-system"]
    to:
    - operation:
        methods: ["GET"]
        paths: ["/metrics"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: {app}-deny-admin
  namespace: {ns}
spec:
  selector:
    matchLabels:
      app: {app}
  action: DENY
  rules:
  - to:
    - operation:
        ports: ["{port}"]
        paths: ["/admin", "/admin/*"]
""" + (f"""---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: {app}-require-jwt
  namespace: {ns}
spec:
  selector:
    matchLabels:
      app: {app}
  action: DENY
  rules:
  - from:
    - source:
        notRequestPrincipals: ["*"]
    to:
    - operation:
        ports: ["{port}"]
""" if app == names[0] else "")
    return files


def workload(ns: str, app: str, port: int, rng: random.Random) -> str:
    replicas = rng.randint(2, 6)
    cpu = rng.choice([100, 250, 500])
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app: {app}
    app.kubernetes.io/name: {app}
    app.kubernetes.io/part-of: {ns}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {app}
  template:
    metadata:
      labels:
        app: {app}
        version: v{rng.randint(1, 3)}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "15020"
    spec:
      serviceAccountName: {app}
      containers:
      - name: {app}
        image: registry.example.com/{ns}/{app}:1.{rng.randint(0, 40)}.{rng.randint(0, 9)}
        ports:
        - name: http
          containerPort: {port}
        env:
        - name: LOG_LEVEL
          value: info
        - name: CONFIG_PATH
          value: /etc/{app}/config.yaml
        envFrom:
        - configMapRef:
            name: {app}-env
        resources:
          requests:
            cpu: {cpu}m
            memory: {cpu * 2}Mi
          limits:
            cpu: {cpu * 2}m
            memory: {cpu * 4}Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: {port}
          periodSeconds: 10
        livenessProbe:
          httpGet:
            path: /healthz
            port: {port}
          initialDelaySeconds: 15
        volumeMounts:
        - name: config
          mountPath: /etc/{app}
      volumes:
      - name: config
        configMap:
          name: {app}-config
---
apiVersion: v1
kind: Service
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app: {app}
spec:
  selector:
    app: {app}
  ports:
  - name: http
    port: 80
    targetPort: {port}
    appProtocol: http
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}
  namespace: {ns}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-config
  namespace: {ns}
data:
  config.yaml: |
    server:
      port: {port}
      timeout: 30s
    features:
      search: {str(rng.random() > 0.5).lower()}
      export: {str(rng.random() > 0.5).lower()}
    upstreams:
    - name: db
      url: postgres://db.{ns}.svc:5432/{app}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-env
  namespace: {ns}
data:
  FEATURE_FLAGS: "a,b,c"
  REGION: eu-west-1
  TRACING_SAMPLE_RATE: "0.1"
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {app}
  namespace: {ns}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {app}
  minReplicas: {replicas}
  maxReplicas: {replicas * 3}
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 70
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {app}
  namespace: {ns}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: {app}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {app}
  namespace: {ns}
spec:
  podSelector:
    matchLabels:
      app: {app}
  ingress:
  - ports:
    - port: {port}
      protocol: TCP
"""


def generate(out: Path, namespaces: int = 200, apps: int = 7, seed: int = 7) -> tuple[int, int]:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    files = documents = 0
    for index in range(namespaces):
        for name, text in namespace_files(index, apps, rng).items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            files += 1
            documents += text.count("\n---\n") + 1
    return files, documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--apps", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    files, documents = generate(args.out, args.namespaces, args.apps, args.seed)
    print(f"wrote {files} files, {documents} documents to {args.out}")


if __name__ == "__main__":
    main()
