from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from istiolint.globs import PathMatcher
from istiolint.sources import PathDisplay, decode, discover

NO_EXCLUDE = PathMatcher([])


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _names(root: Path, found: list[str]) -> list[str]:
    return [Path(name).relative_to(root).as_posix() for name in found]


def test_walks_manifests_and_skips_hidden_entries(tmp_path: Path) -> None:
    _write(tmp_path, {"a.yaml": "", "b/c.yml": "", "b/d.json": "", "b/e.txt": "",
                      ".hidden/f.yaml": "", "b/.g.yaml": ""})
    found = discover([str(tmp_path)], tmp_path, NO_EXCLUDE, use_git=False)
    assert _names(tmp_path, found.files) == ["a.yaml", "b/c.yml", "b/d.json"]


def test_the_walk_sorts_as_paths_sort(tmp_path: Path) -> None:
    names = ["a/b.yaml", "a-b.yaml", "a.yaml", "a/b/c.yaml", "a b.yaml", "a/a.yaml", "A.yaml",
             "a_/x.yaml", "a/-.yaml", "ä.yaml", "a0/x.yaml"]
    _write(tmp_path, dict.fromkeys(names, ""))
    found = discover([str(tmp_path)], tmp_path, NO_EXCLUDE, use_git=False).files
    assert [Path(name) for name in found] == sorted(tmp_path / name for name in names)


def _shown_by_normalising(path: str, cwd: str) -> str:
    absolute = os.path.normpath(os.path.join(cwd, path))
    base = os.path.normpath(cwd)
    if absolute == base:
        return "."
    prefix = base.rstrip(os.sep) + os.sep
    shown = absolute[len(prefix):] if absolute.startswith(prefix) else absolute
    return shown.encode("utf-8", "backslashreplace").decode("utf-8")


@pytest.mark.parametrize("cwd", ["/work/repo", "/work/repo/", "/", "/work//repo", "repo", "."])
@pytest.mark.parametrize("path", [
    "/work/repo/a.yaml", "/work/repo/d/a.yaml", "/work/repo", "/work/repo/", "/work/repo/./a",
    "/work/repo/d/../a.yaml", "/work/repo//a.yaml", "/work/repo/.hidden/a.yaml",
    "/work/repo/d/.", "/work/repo/d/..", "/work/repository/a.yaml", "/elsewhere/a.yaml",
    "a.yaml", "d/../a.yaml", "../x.yaml", "/work/repo/\udcff.yaml", "repo/a.yaml",
])
def test_shown_paths_are_those_of_normalising_every_path(path: str, cwd: str) -> None:
    assert PathDisplay(Path(cwd))(Path(path)) == _shown_by_normalising(path, cwd)
    assert PathDisplay(Path(cwd))(path) == _shown_by_normalising(path, cwd)


def test_git_work_trees_honour_gitignore(tmp_path: Path) -> None:
    _write(tmp_path, {"kept.yaml": "", "ignored/x.yaml": "", ".gitignore": "ignored/\n"})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    found = discover([str(tmp_path)], tmp_path, NO_EXCLUDE)
    assert _names(tmp_path, found.files) == ["kept.yaml"]


def test_an_ignored_directory_named_explicitly_is_walked_in_full(tmp_path: Path) -> None:
    _write(tmp_path, {"kept.yaml": "", "ignored/x.yaml": "", "ignored/sub/y.yaml": "",
                      ".gitignore": "ignored/\n"})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    found = discover(["ignored"], tmp_path, NO_EXCLUDE)
    assert _names(tmp_path, found.files) == ["ignored/sub/y.yaml", "ignored/x.yaml"]


def test_excludes_match_paths_relative_to_the_working_directory(tmp_path: Path) -> None:
    _write(tmp_path, {"apps/a.yaml": "", "apps/charts/b.yaml": "", "c.tmpl.yaml": ""})
    found = discover(["."], tmp_path, PathMatcher(["charts", "*.tmpl.yaml"]), use_git=False)
    assert _names(tmp_path, found.files) == ["apps/a.yaml"]


def test_kustomize_patches_and_helm_templates_are_not_linted_alone(tmp_path: Path) -> None:
    _write(tmp_path, {
        "overlay/kustomization.yaml": "resources: [../base]\npatches:\n- path: patch.yaml\n"
                                      "patchesStrategicMerge: [smp.yaml]\n",
        "overlay/patch.yaml": "", "overlay/smp.yaml": "", "overlay/extra.yaml": "",
        "chart/Chart.yaml": "name: x\n", "chart/templates/ap.yaml": "{{ .Values }}",
        "chart/values.yaml": "",
    })
    found = discover([str(tmp_path)], tmp_path, NO_EXCLUDE, use_git=False)
    assert _names(tmp_path, found.files) == ["chart/Chart.yaml", "chart/values.yaml",
                                             "overlay/extra.yaml"]
    reasons = {s.path: s.reason for s in found.skipped}
    assert reasons["overlay/patch.yaml"].startswith("patch listed in")
    assert "Helm" in reasons["chart/templates/ap.yaml"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinks_never_lead_out_of_the_tree(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("kind: X\n")
    root = tmp_path / "root"
    _write(root, {"inside.yaml": ""})
    (root / "escape.yaml").symlink_to(outside)
    (root / "loop.yaml").symlink_to(root / "loop.yaml")
    (root / "alias.yaml").symlink_to(root / "inside.yaml")
    found = discover([str(root)], root, NO_EXCLUDE, use_git=False)
    assert _names(root, found.files) == ["alias.yaml", "inside.yaml"]
    reasons = {s.path: s.reason for s in found.skipped}
    assert "outside" in reasons["escape.yaml"]
    assert "loop" in reasons["loop.yaml"]


def test_missing_paths_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        discover(["nope"], tmp_path, NO_EXCLUDE)


@pytest.mark.parametrize(("raw", "text"), [
    (b"\xef\xbb\xbfkind: X\n", "kind: X\n"),
    ("kind: X\n".encode("utf-16"), "kind: X\n"),
    (b"kind: X\r\n", "kind: X\r\n"),
])
def test_decodes_utf8_and_bom_announced_encodings(raw: bytes, text: str) -> None:
    assert decode(raw) == (text, None)


def test_latin1_is_a_positioned_problem() -> None:
    text, problem = decode(b"a: 1\nb: caf\xe9\n")
    assert text is None and problem is not None
    assert (problem.code, problem.position.line, problem.position.column) == ("IL004", 2, 7)


def test_binary_content_is_a_problem() -> None:
    text, problem = decode(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert text is None and problem is not None and "binary" in str(problem.args["reason"])
