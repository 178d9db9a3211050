"""Building small meshes for rule tests, and linting them with the installed registry."""

from __future__ import annotations

from pathlib import Path

from istiolint.config import Settings
from istiolint.engine import Inputs, Linter
from istiolint.findings import Finding
from istiolint.rules import load_registry

REPO = Path(__file__).resolve().parents[2]
REGISTRY = load_registry()


def lint(manifests: str, select: str, root: str = "istio-system") -> list[Finding]:
    """Findings of the selected rules (and the input rules) for a multi-document string."""
    settings = Settings(select=("IL", *select.split(",")), root_namespace=root)
    result = Linter(REGISTRY, settings, Path.cwd()).lint(
        Inputs(["-"], stdin=manifests.encode(), stdin_filename="m.yaml"))
    return result.findings


def workload(namespace: str, name: str, ports: tuple[int, ...] = (), **labels: str) -> str:
    pod_labels = ", ".join(f"{k}: {v}" for k, v in {"app": name, **labels}.items())
    container_ports = ", ".join(f"{{containerPort: {p}}}" for p in ports)
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{{pod_labels}}}}}
    spec:
      containers: [{{name: app, image: app, ports: [{container_ports}]}}]
"""
