"""Stable identities of findings: what baselines, SARIF and GitLab use to recognise a finding
across commits. A fingerprint names the rule, the object (or the file, for file-level findings)
and the field, never a line number, so it survives edits elsewhere in the file."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence

from istiolint.findings import Finding


def identity(finding: Finding) -> str:
    where = str(finding.resource) if finding.resource else f"file {finding.path}"
    via = f"|via {finding.via}" if finding.via else ""  # one finding per overlay rendering it
    return f"{finding.code}|{where}|{finding.pointer or ''}{via}"


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """One fingerprint per finding, in order; findings with the same identity (the same rule
    on the same field twice) are told apart by their rank among equals."""
    seen: Counter[str] = Counter()
    out = []
    for finding in findings:
        key = identity(finding)
        rank = seen[key]
        seen[key] += 1
        text = key if rank == 0 else f"{key}|{rank}"
        out.append(hashlib.sha256(text.encode("utf-8")).hexdigest()[:32])
    return out


def fingerprint_set(findings: Iterable[Finding]) -> set[str]:
    return set(fingerprints(list(findings)))
