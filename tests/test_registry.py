"""Meta-tests over the rule registry: what every rule must have."""

from __future__ import annotations

import re
from importlib.metadata import entry_points

from istiolint.rules import ENTRY_POINT_GROUP, load_registry

REGISTRY = load_registry()
RETIRED_CODES: frozenset[str] = frozenset()  # never reuse a code listed here


def test_builtin_checks_register_through_entry_points() -> None:
    names = {entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"input", "schema", "admission"} <= names
    assert [c.origin for c in REGISTRY.checks] == sorted(c.origin for c in REGISTRY.checks)


def test_codes_and_names_are_unique_and_well_formed() -> None:
    docs = [doc for loaded in REGISTRY.checks for doc in loaded.check.rules]
    assert len({d.code for d in docs}) == len(docs)
    assert len({d.name for d in docs}) == len(docs)
    for doc in docs:
        assert re.fullmatch(r"[A-Z]{2}\d{3}", doc.code), doc.code
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", doc.name), doc.name
        assert doc.code not in RETIRED_CODES


def test_every_rule_is_documented_with_examples() -> None:
    for doc in REGISTRY.sorted_rules():
        assert doc.examples is not None
        assert doc.examples.name == f"{doc.code}-{doc.name}", "directory must be CODE-name"
        for text in (doc.summary, doc.description, doc.consequence, doc.fix, doc.message):
            assert text.strip(), doc.code
        assert (doc.examples / "bad.yaml").is_file(), doc.code
        assert (doc.examples / "good.yaml").is_file(), doc.code


def test_message_templates_only_use_named_fields() -> None:
    for doc in REGISTRY.sorted_rules():
        fields = re.findall(r"\{([^{}]*)\}", doc.message)
        assert all(re.fullmatch(r"[a-z_]+", f) for f in fields), (doc.code, fields)
