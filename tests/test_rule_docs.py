"""Rule documentation: read from the rules directory, remembered in the cache directory."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from istiolint import rules
from istiolint.data import data_dir


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of three rules' documentation, seen from a moment when it is old enough to be
    remembered (its change time is the copy's)."""
    directory = tmp_path / "rules"
    for name in sorted(p.name for p in data_dir("rules").iterdir())[:3]:
        shutil.copytree(data_dir("rules") / name, directory / name)
    monkeypatch.setattr(rules, "_now_ns", lambda: time.time_ns() + 10 * rules.RACY_NS)
    monkeypatch.setenv("ISTIOLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ISTIOLINT_NO_CACHE", raising=False)
    rules._rule_docs_in.cache_clear()
    yield directory
    rules._rule_docs_in.cache_clear()


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The rule files parsed as YAML (not answered from the cache)."""
    seen: list[Path] = []
    read = rules._read_yaml

    def counted(path: Path) -> object:
        seen.append(path)
        return read(path)

    monkeypatch.setattr(rules, "_read_yaml", counted)
    return seen


def _load(directory: Path) -> tuple[rules.RuleDoc, ...]:
    rules._rule_docs_in.cache_clear()
    return rules.load_rule_docs(directory)


def _memo(tmp_path: Path) -> Path:
    [memo] = (tmp_path / "cache").rglob("rule-docs-*.json")
    return memo


def test_a_second_process_reads_the_docs_from_the_cache(
        docs: Path, parsed: list[Path], tmp_path: Path) -> None:
    first = _load(docs)
    assert len(parsed) == 3
    assert _load(docs) == first
    assert len(parsed) == 3
    assert json.loads(_memo(tmp_path).read_text(encoding="utf-8"))["value"][0]["code"] == \
        first[0].code


def test_an_edited_rule_is_read_again(docs: Path, parsed: list[Path]) -> None:
    _load(docs)
    rule = sorted(docs.glob("*/rule.yaml"))[1]
    rule.write_text(rule.read_text(encoding="utf-8").replace("summary: ", "summary: Edited. "),
                    encoding="utf-8")
    assert _load(docs)[1].summary.startswith("Edited. ")
    assert len(parsed) == 6


def test_a_rule_changed_moments_ago_is_not_remembered(
        docs: Path, parsed: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "_now_ns", time.time_ns)  # a change in the same tick may follow
    _load(docs)
    _load(docs)
    assert len(parsed) == 6
    assert not list((tmp_path / "cache").rglob("rule-docs-*.json"))


@pytest.mark.parametrize("content", ["", "{", "[]", '{"stamps": 1}', "7"])
def test_a_damaged_memo_is_a_miss(docs: Path, parsed: list[Path], tmp_path: Path,
                                  content: str) -> None:
    first = _load(docs)
    _memo(tmp_path).write_text(content, encoding="utf-8")
    assert _load(docs) == first
    assert len(parsed) == 6


def test_a_tampered_memo_is_a_miss(docs: Path, parsed: list[Path], tmp_path: Path) -> None:
    first = _load(docs)
    memo = _memo(tmp_path)
    stored = json.loads(memo.read_text(encoding="utf-8"))
    stored["value"][0]["summary"] = 7
    memo.write_text(json.dumps(stored), encoding="utf-8")
    assert _load(docs) == first
    assert len(parsed) == 6


def test_without_a_cache_the_docs_are_parsed_every_time(
        docs: Path, parsed: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISTIOLINT_NO_CACHE", "1")
    _load(docs)
    _load(docs)
    assert len(parsed) == 6
    assert not (tmp_path / "cache").exists()
