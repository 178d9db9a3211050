"""Rendering what GitOps tools apply (Kustomize overlays) before linting it."""
