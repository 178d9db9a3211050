"""Istio's authorization semantics: requests, matchers and the decision procedure."""
