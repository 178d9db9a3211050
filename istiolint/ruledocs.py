"""Rule documentation: Markdown for ``istiolint rule`` and docs/rules/, JSON for the rules list."""

from __future__ import annotations

import json
from collections.abc import Sequence

from istiolint.rules import RuleDoc


def _example(doc: RuleDoc, name: str) -> str | None:
    if doc.examples is None or not (doc.examples / name).is_file():
        return None
    return (doc.examples / name).read_text(encoding="utf-8", errors="replace").rstrip("\n")


def render_rule_markdown(doc: RuleDoc) -> str:
    parts = [
        f"# {doc.code} {doc.name}",
        f"Default severity: **{doc.severity}**\n\n{doc.summary}",
        f"## What it detects\n\n{doc.description}",
        f"## What happens at runtime\n\n{doc.consequence}",
        f"## How to fix it\n\n{doc.fix}",
    ]
    for title, name in (("Example that is reported", "bad.yaml"), ("Fixed example", "good.yaml")):
        text = _example(doc, name)
        if text is not None:
            parts.append(f"## {title}\n\n```yaml\n{text}\n```")
    if doc.references:
        parts.append("## References\n\n" + "\n".join(f"- <{ref}>" for ref in doc.references))
    parts.append(f"Suppress it with `# istiolint: disable={doc.code} -- reason` on the line, or "
                 f"the annotation `ignore.istiolint.io/{doc.code}: \"reason\"` on the object.")
    return "\n\n".join(parts) + "\n"


def rules_json(docs: Sequence[RuleDoc]) -> str:
    return json.dumps({"version": 1, "rules": [
        {"code": d.code, "name": d.name, "severity": str(d.severity), "summary": d.summary}
        for d in docs]}, indent=2)
