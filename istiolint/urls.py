"""URLs taken from manifests, split without ever raising."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit


def split_url(value: str) -> SplitResult | None:
    """The parts of ``value`` when it is a URL (it has ``://``) that can be split; None
    otherwise (``https://[oops`` is not an error here: other rules report bad URLs)."""
    if "://" not in value:
        return None
    try:
        parts = urlsplit(value)
        _ = parts.hostname  # validates the bracketed IPv6 host
    except ValueError:
        return None
    return parts
