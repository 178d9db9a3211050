"""Every rule's bad.yaml reports exactly the lines marked ``# expect: CODE``; good.yaml nothing.

An example is checked with its own rule, the input rules (IL001-IL006: an example must at
least parse) and the rules a ``# select: CODE, ...`` comment names (for rules about other
rules, such as unused suppressions)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from istiolint.rules import load_registry

EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)")
SELECT = re.compile(r"#\s*select:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)")
INPUT_RULES = ("IL001", "IL002", "IL003", "IL004", "IL005", "IL006")
DOCS = load_registry().sorted_rules()


def selection(path: Path, code: str) -> str:
    text = path.read_bytes().decode("utf-8", errors="replace")
    extra = [c for m in SELECT.finditer(text) for c in re.split(r"[\s,]+", m["codes"])]
    return ",".join(dict.fromkeys([code, *INPUT_RULES, *extra]))


def expectations(path: Path) -> set[tuple[int, str]]:
    text = path.read_bytes().decode("utf-8", errors="replace")
    expected = set()
    for number, line in enumerate(text.splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            expected |= {(number, code) for code in re.split(r"[\s,]+", match["codes"])}
    return expected


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: f"{d.code}-{d.name}")
def test_bad_example_reports_exactly_the_marked_lines(
    doc: Any, check_json: Callable[..., tuple[int, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = doc.examples / "bad.yaml"
    expected = expectations(bad)
    assert any(code == doc.code for _, code in expected), "bad.yaml must expect its own rule"
    monkeypatch.chdir(bad.parent)
    _, report = check_json("bad.yaml", "--select", selection(bad, doc.code))
    reported = {(f["line"], f["rule"]) for f in report["findings"]}
    assert reported == expected, [f"{f['line']}: {f['rule']} {f['message']}"
                                  for f in report["findings"]]


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: f"{d.code}-{d.name}")
def test_good_example_reports_nothing(
    doc: Any, check_json: Callable[..., tuple[int, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    good = doc.examples / "good.yaml"
    monkeypatch.chdir(good.parent)
    code, report = check_json("good.yaml", "--select", selection(good, doc.code))
    assert report["findings"] == []
    assert code == 0
    assert report["summary"]["documents"] >= 1
