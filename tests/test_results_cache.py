"""Results kept in the cache directory: reused when nothing changed, redone for what changed,
and never trusted beyond istiolint's own types."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from istiolint import engine, trees
from istiolint.config import Settings
from istiolint.rules import load_registry

REPO = Path(__file__).resolve().parents[1]
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "examples" / "gitops", tmp_path / "tree")
    shutil.copytree(REPO / "examples" / "mistakes", tmp_path / "tree" / "mistakes")
    monkeypatch.setenv("ISTIOLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ISTIOLINT_NO_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "tree"


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every file the engine parses."""
    parsed: list[str] = []
    original = engine.parse_source

    def counting(raw: bytes, shown: str, wants: engine.WantsDocument,
                 **options: Any) -> engine.SourceFile:
        parsed.append(shown)
        return original(raw, shown, wants, **options)

    monkeypatch.setattr(engine, "parse_source", counting)
    monkeypatch.setattr(engine, "read_source", lambda *a, **k: pytest.fail("read_source"))
    return parsed


def test_an_unchanged_tree_is_not_parsed_again(tree: Path, run_cli: Run,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    first = run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    parsed = _parses(monkeypatch)
    second = run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    assert second == first and json.loads(first[1])["findings"]
    assert parsed == []


def test_only_the_edited_file_is_parsed_again(tree: Path, run_cli: Run,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    read_source = engine.read_source
    policy = tree / "mistakes" / "payments-policy.yaml"
    policy.write_text(policy.read_text().replace('action: allow', 'action: ALLOW'))
    parsed = _parses(monkeypatch)
    code, out, _ = run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    assert parsed == ["tree/mistakes/payments-policy.yaml"]
    assert "SC003" not in {f["rule"] for f in json.loads(out)["findings"]}
    monkeypatch.setattr(engine, "read_source", read_source)
    fresh = run_cli("check", "tree", "--isolated", "--no-git", "-f", "json", "--no-cache")
    assert (code, out) == fresh[:2]


def test_other_settings_are_other_results(tree: Path, run_cli: Run) -> None:
    everything = json.loads(run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")[1])
    only_schema = json.loads(run_cli("check", "tree", "--isolated", "--no-git", "-f", "json",
                                     "--select", "SC")[1])
    assert {f["rule"][:2] for f in only_schema["findings"]} == {"SC"}
    assert len(everything["findings"]) > len(only_schema["findings"])


def test_a_corrupt_cache_is_ignored_and_replaced(tree: Path, run_cli: Run) -> None:
    expected = run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    cached = list((tree.parent / "cache").rglob("*.pickle"))
    assert {p.name.split("-")[0] for p in cached} >= {"run", "files"}
    for path in cached:
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    assert run_cli("check", "tree", "--isolated", "--no-git", "-f", "json") == expected
    assert all(len(pickle.loads(p.read_bytes())) for p in cached if p.name.startswith("run"))


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, ("touch pwned",)


def test_a_tampered_cache_cannot_run_code(tree: Path, run_cli: Run) -> None:
    expected = run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    for path in (tree.parent / "cache").rglob("*.pickle"):
        path.write_bytes(pickle.dumps(_Exploit()))
    assert run_cli("check", "tree", "--isolated", "--no-git", "-f", "json") == expected
    assert not (tree.parent / "pwned").exists()


def test_an_edit_rewrites_only_its_shard(tree: Path, run_cli: Run) -> None:
    run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    shards = sorted((tree.parent / "cache").rglob("files-*.pickle"))
    assert len(shards) > 1
    before = {path: path.stat().st_ino for path in shards}  # a rewrite renames a new file
    policy = tree / "mistakes" / "payments-policy.yaml"
    policy.write_text(policy.read_text() + "# edited\n")
    run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    rewritten = [path for path in shards if path.stat().st_ino != before[path]]
    assert len(rewritten) == 1


def test_old_results_are_forgotten(tree: Path, run_cli: Run) -> None:
    from istiolint import results_cache  # noqa: PLC0415

    for index in range(results_cache.KEEP_RUNS + 3):
        (tree / f"extra-{index}.yaml").write_text("kind: ConfigMap\n")
        run_cli("check", f"tree/extra-{index}.yaml", "--isolated", "--no-git")
    runs = list((tree.parent / "cache").rglob("run-*.pickle"))
    assert len(runs) == results_cache.KEEP_RUNS


def test_the_configuration_in_use_keeps_all_its_file_results(tree: Path, run_cli: Run,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """Shards not rewritten by a run are still in use: other configurations' newer shards
    must not push them out."""
    from istiolint import results_cache  # noqa: PLC0415

    run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    for index in range(results_cache.KEEP_CONFIGS + 2):
        run_cli("check", "tree", "--isolated", "--no-git", "-f", "json", "--select", f"SC00{index}")
        run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    parsed = _parses(monkeypatch)
    run_cli("check", "tree", "--isolated", "--no-git", "-f", "json", "--root-namespace", "x")
    assert parsed == []
    configs = {p.name.rsplit("-", 1)[0] for p in (tree.parent / "cache").rglob("files-*")}
    assert len(configs) <= results_cache.KEEP_CONFIGS


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from istiolint.trees import FileSystemTree  # noqa: PLC0415

    read: list[str] = []
    original = FileSystemTree.read_bytes

    def counting(self: FileSystemTree, path: str | Path) -> bytes:
        read.append(os.path.basename(path))
        return original(self, path)

    monkeypatch.setattr(FileSystemTree, "read_bytes", counting)
    return read


def test_unchanged_files_are_not_even_read_again(tree: Path, run_cli: Run,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from istiolint import trees  # noqa: PLC0415

    monkeypatch.setattr(trees, "RACY_NS", -10**18)  # as if hashed long after every change
    old = 1_600_000_000
    first = run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    read = _reads(monkeypatch)
    assert run_cli("check", "tree", "--isolated", "--no-git", "-f", "json") == first
    assert [name for name in read if name != "kustomization.yaml"] == []
    policy = tree / "mistakes" / "payments-policy.yaml"
    text = policy.read_text()
    policy.write_text(text.replace("action: allow", "action: ALOW"))  # the same size
    os.utime(policy, (old, old))  # and the same times: the inode's ctime still tells
    _, out, _ = run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    assert [name for name in read if name != "kustomization.yaml"] == \
        ["payments-policy.yaml"]  # read once: hashed, and parsed from the same bytes
    assert "ALOW" in out


def test_a_file_hashed_right_after_its_change_is_read_again(tree: Path, run_cli: Run,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")  # just copied: racy
    read = _reads(monkeypatch)
    run_cli("check", "tree", "--isolated", "--no-git", "-f", "json")
    assert {name for name in read} == {path.name for path in tree.rglob("*.yaml")}


class _Revision(trees.FileSystemTree):
    """A tree whose files' ids are known without reading them (as a git revision's are)."""

    def __init__(self, blob: str) -> None:
        super().__init__(use_git=False)
        self.blob = blob

    def known_blob_id(self, path: Path) -> str | None:
        return self.blob


def test_file_ids_are_never_taken_from_a_tree_that_is_gone(tmp_path: Path) -> None:
    """--new-only lints the work tree, drops it, then lints a revision: the revision's tree
    may get the dropped tree's id, and must still get its own file ids."""
    manifest = tmp_path / "a.yaml"
    manifest.write_text("kind: ConfigMap\n", encoding="utf-8")
    linter = engine.Linter(load_registry(), Settings(), tmp_path)
    for blob in ("work-tree", "revision", "another"):
        tree = _Revision(blob)  # each may reuse the address of the one before
        assert linter._identify([manifest], tree) == [(("a.yaml", blob), None)]
        del tree
