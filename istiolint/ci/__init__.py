"""Continuous-integration integrations: pull-request comments on code-hosting platforms."""
