"""CEL rules parsed ahead of time, so that a run never builds cel-python's parser for them.

Building cel-python's Lark parser takes about 0.3 s, more than validating a large tree's
policies. The CRDs' rules are known when the schemas are generated, so
``scripts/generate_schemas.py`` parses each one then and writes the syntax trees, as plain JSON,
to ``schemas/cel-rules.json``. The file names the digest of the grammar that produced it: with
another cel-python grammar the file is ignored and rules are parsed at run time, as any rule
missing from it is.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

FILE_NAME = "cel-rules.json"
FORMAT = 1
_TOKEN_FIELDS = ("start_pos", "line", "column", "end_line", "end_column", "end_pos")
_META_FIELDS = ("empty", "line", "column", "start_pos", "end_line", "end_column", "end_pos",
                "container_line", "container_column", "container_start_pos",
                "container_end_line", "container_end_column", "container_end_pos")


@cache
def grammar_digest() -> str:
    """What cel-python's grammar looks like: syntax trees are only valid for the same one."""
    spec = find_spec("celpy")  # found, not imported: a run may need no parsed rule at all
    if spec is None or spec.origin is None:
        return ""
    grammar = (Path(spec.origin).parent / "cel.lark").read_bytes()
    return hashlib.sha256(grammar).hexdigest()


def dump_tree(node: Any) -> Any:
    """A syntax tree as JSON values: a tree as ``{"rule": [type, name] or name, "meta": [the
    positions of _META_FIELDS] or null, "children": [...]}``, a token as ``[type, text,
    positions of _TOKEN_FIELDS]``."""
    import lark  # noqa: PLC0415 -- only the schema generator writes trees

    if isinstance(node, lark.Tree):
        data = node.data
        meta = getattr(node, "_meta", None)  # absent unless the parser propagated positions
        return {"rule": [data.type, str(data)] if isinstance(data, lark.Token) else str(data),
                "meta": None if meta is None else [getattr(meta, name, None)
                                                   for name in _META_FIELDS],
                "children": [dump_tree(child) for child in node.children]}
    if isinstance(node, lark.Token):
        return [node.type, str(node), *(getattr(node, name) for name in _TOKEN_FIELDS)]
    raise TypeError(f"not a syntax tree node: {type(node).__name__}")


def load_tree(data: Any) -> Any:
    """The syntax tree :func:`dump_tree` wrote."""
    import lark  # noqa: PLC0415 -- imported with cel-python, when a rule is compiled
    from lark.tree import Meta  # noqa: PLC0415

    if isinstance(data, list):
        kind, text, *positions = data
        return lark.Token(kind, text, *positions)
    rule = data["rule"]
    meta = None
    if data["meta"] is not None:
        meta = Meta()  # type: ignore[no-untyped-call]
        for name, value in zip(_META_FIELDS, data["meta"], strict=True):
            if value is not None:
                setattr(meta, name, value)
    return lark.Tree(lark.Token(*rule) if isinstance(rule, list) else rule,
                     [load_tree(child) for child in data["children"]], meta)


def table(rules: dict[str, Any]) -> str:
    """The content of ``cel-rules.json`` for rules already parsed: one rule per line."""
    lines = [f"{json.dumps(rule)}: {json.dumps(dump_tree(tree), separators=(',', ':'))}"
             for rule, tree in sorted(rules.items())]
    return (f'{{"format": {FORMAT}, "grammar": "{grammar_digest()}", "rules": {{\n'
            + ",\n".join(lines) + "\n}}\n")


class ParsedRules:
    """The syntax trees of ``schemas/cel-rules.json``, read on first use; each tree is decoded
    when its rule is first asked for (a run needs a few of them)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lines: dict[str, str] | None = None  # rule -> the rest of its line

    def get(self, rule: str) -> Any:
        """The rule's syntax tree, or None when it must be parsed."""
        if self._lines is None:
            self._lines = self._read()
        line = self._lines.get(rule)
        if line is None:
            return None
        try:
            return load_tree(json.loads(line.lstrip(": ").rstrip(",")))
        except (ValueError, KeyError, TypeError):
            return None

    def _read(self) -> dict[str, str]:
        try:
            first, *lines = self._path.read_text(encoding="utf-8").splitlines()
            header = json.loads(first + "}}")  # the first line opens the rules: close it
        except (OSError, ValueError):
            return {}
        if not isinstance(header, dict) or header.get("format") != FORMAT or \
                header.get("grammar") != grammar_digest():
            return {}
        decoder = json.JSONDecoder()
        found: dict[str, str] = {}
        for line in lines:
            try:
                rule, end = decoder.raw_decode(line)
            except ValueError:
                continue
            if isinstance(rule, str):
                found[rule] = line[end:]
        return found
