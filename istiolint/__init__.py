"""istiolint: lint, simulate and diff Istio security policy in GitOps repositories."""

__version__ = "0.1.0"
