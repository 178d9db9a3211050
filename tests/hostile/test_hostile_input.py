"""Hostile input: whatever a pull request puts in the tree, ``istiolint check`` survives it.

Every case sits in a directory next to one well-known bad policy (a copy of AP005's bad
example). For each, the run must exit 0 or 1 (never 3, never a traceback, never a hang), the
neighbour's findings must still be reported, no finding may name any other file, and the
hostile file must have the outcome the table below states:

- ``finding``: it gets these findings (input rules IL001-IL006) at these lines and columns;
- ``linted``: it is read correctly and its policy is checked like any other (the finding is an
  ordinary rule's, at the position it would have in a clean file);
- ``skipped``: it is never read, and ``--verbose`` lists it as skipped with this reason;
- ``silent``: it holds no object (or is not a manifest), so nothing is reported about it.

Small text cases live in ``cases/``; large, binary and encoded ones are generated into the
test's temporary directory. Cases that crashed or hung istiolint before (a segfault, hours of
work) run in a subprocess, so that a regression fails the test instead of the whole session.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from istiolint.entry import main
from istiolint.trees import FileSystemTree

REPO = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"
(NEIGHBOUR_SOURCE,) = sorted(REPO.glob("rules/AP005-*/bad.yaml"))
NEIGHBOUR = "tree/neighbour.yaml"
NEIGHBOUR_FINDINGS = [("AP005", 14, 11), ("AP005", 15, 11)]
CHECK = ["check", "tree", "--no-git", "--isolated"]
NUL = "\0"


def policy(name: str, *, metadata: str = "", spec: str = "  action: FOO\n") -> str:
    """An AuthorizationPolicy whose ``spec.action`` is invalid: SC003 on its ``action:`` key
    (line 7, column 3 when nothing is added to the metadata)."""
    return (f"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n"
            f"  name: {name}\n  namespace: hostile\n{metadata}spec:\n{spec}")


# --- what the hostile files contain --------------------------------------------------------

def alias_bomb() -> str:
    """Billion laughs: 9 levels of 9 aliases, 9^10 strings once expanded."""
    levels = ['  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10)]
    return policy("alias-bomb", spec="\n".join(levels) + "\n")


def nested_block_mappings(depth: int) -> str:
    # one space per level is enough indentation: 12.5 MB for 5,000 levels
    return policy("deep", spec="".join(f"{' ' * level}k:\n" for level in range(1, depth + 1)))


def nested_block_sequences(depth: int) -> str:
    return policy("deep", spec="  deep:\n  " + "- " * depth + "x\n")


def nested_flow_sequences(depth: int) -> str:
    return policy("deep", spec="  deep: " + "[" * depth + "]" * depth + "\n")


def nested_flow_mappings(depth: int) -> str:
    return policy("deep", spec="  deep: " + "{a: " * depth + "1" + "}" * depth + "\n")


def big_scalar(size: int) -> str:
    return policy("big-scalar", metadata=f'  annotations:\n    big: "{"a" * size}"\n')


def long_line() -> str:
    """A 10 MB flow map on one line (kept under the 500,000-node limit)."""
    entries = ", ".join(f'k{n:06d}: "{"v" * 90}"' for n in range(100_000))
    return policy("long-line", metadata=f"  annotations: {{{entries}}}\n")


def huge_numbers() -> str:
    """Plain scalars that look like integers but cannot be printed back (Python refuses ints
    of more than 4,300 digits) or take quadratic time to compute (sexagesimal)."""
    return policy("numbers", metadata=(
        "  annotations:\n"
        f"    decimal: {'7' * 1_000_000}\n"
        f"    hexadecimal: 0x{'f' * 5_000}\n"
        f"    sexagesimal: 1{':59' * 100_000}\n"))


def random_binary() -> bytes:
    noise = random.Random(20260).randbytes(64 * 1024)
    return noise[:100] + b"\0" + noise[100:]


def many_documents(count: int) -> str:
    return "".join(f"---\nk: {n}\n" for n in range(count))


# --- the table ----------------------------------------------------------------------------

Writer = Callable[[Path], object]


@dataclass(frozen=True)
class Case:
    name: str
    write: Writer  # creates the hostile file(s) in the tree directory
    path: str  # the hostile file, relative to the tree directory
    outcome: str  # finding, linted, skipped or silent
    findings: tuple[tuple[str, int, int], ...] = ()  # (rule, line, column) on the hostile file
    text: str = ""  # part of the first finding's message, or of the skip reason
    seconds: float = 10.0  # a generous ceiling for the whole run
    subprocess: bool = False


def text_file(name: str, content: Callable[[], str], encoding: str = "utf-8",
              bom: bytes = b"", newline: str = "\n") -> Writer:
    def write(tree: Path) -> None:
        (tree / name).write_bytes(bom + content().replace("\n", newline).encode(encoding))
    return write


def bytes_file(name: str, content: Callable[[], bytes]) -> Writer:
    return lambda tree: (tree / name).write_bytes(content())


def case_file(name: str) -> Writer:
    return lambda tree: shutil.copyfile(CASES / name, tree / name)


def symlinks(*links: tuple[str, str]) -> Writer:
    def write(tree: Path) -> None:
        for name, target in links:
            (tree / name).symlink_to(target)
    return write


def outside_links(tree: Path) -> None:
    """A valid-looking policy with errors outside the tree, reachable through a file link and a
    directory link; neither may be followed."""
    outside = tree.parent / "outside"
    outside.mkdir()
    (outside / "secret-policy.yaml").write_text(
        NEIGHBOUR_SOURCE.read_text().replace("name: httpbin", "name: secret"))
    (tree / "outside.yaml").symlink_to("../outside/secret-policy.yaml")
    (tree / "linked-directory").symlink_to("../outside", target_is_directory=True)


def request_authentication(rule: str) -> Callable[[], str]:
    return lambda: (
        "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata:\n"
        f"  name: jwt\n  namespace: hostile\nspec:\n  jwtRules:\n  - {rule}\n")


def principal_with_bad_host() -> str:
    return request_authentication('issuer: "https://sso.acme-corp.net"')() + "---\n" + policy(
        "principal", spec=('  rules:\n  - from:\n    - source:\n'
                           '        requestPrincipals: ["https://[x/*"]\n'))


def deep_kustomization(tree: Path) -> None:
    (tree / "kustomization.yaml").write_text("resources: " + "[" * 100_000 + "\n")


DEEP = "nests deeper than 200 levels"

TABLE = [
    # YAML bombs and sizes: IL006 on the document, at its first line
    Case("alias-bomb", text_file("bomb.yaml", alias_bomb), "bomb.yaml", "finding",
         (("IL006", 1, 1),), "through aliases", seconds=2.0),
    Case("nesting-5000-block-mappings", text_file("deep.yaml", lambda: nested_block_mappings(
        5_000)), "deep.yaml", "finding", (("IL006", 1, 1),), DEEP),
    Case("nesting-5000-block-sequences", text_file("deep.yaml", lambda: nested_block_sequences(
        5_000)), "deep.yaml", "finding", (("IL006", 1, 1),), DEEP),
    Case("nesting-5000-flow-sequences", text_file("deep.yaml", lambda: nested_flow_sequences(
        5_000)), "deep.yaml", "finding", (("IL006", 1, 1),), DEEP),
    Case("nesting-5000-flow-mappings", text_file("deep.yaml", lambda: nested_flow_mappings(
        5_000)), "deep.yaml", "finding", (("IL006", 1, 1),), DEEP),
    # libyaml composed these recursively in C (a segfault), or scanned them in quadratic time
    Case("nesting-100000-flow", text_file("deep.yaml", lambda: nested_flow_sequences(100_000)),
         "deep.yaml", "finding", (("IL006", 1, 1),), DEEP, seconds=5.0, subprocess=True),
    Case("nesting-100000-compact-block", text_file("deep.yaml", lambda: nested_block_sequences(
        100_000)), "deep.yaml", "finding", (("IL006", 1, 1),), DEEP, seconds=5.0,
         subprocess=True),
    Case("nesting-1000000-unclosed-flow", text_file("deep.yaml", lambda: policy(
        "deep", spec="  deep: " + "[" * 1_000_000 + "\n")), "deep.yaml", "finding",
         (("IL006", 1, 1),), DEEP, seconds=5.0, subprocess=True),
    # aliases that make a collection contain itself (the block one used to hang the run)
    Case("alias-cycle-block", text_file("cycle.yaml", lambda: policy(
        "cycle", spec="  rules: &rules\n  - *rules\n")), "cycle.yaml", "finding",
         (("IL006", 1, 1),), DEEP),
    Case("alias-cycle-flow", text_file("cycle.yaml", lambda: policy(
        "cycle", spec="  rules: &rules [*rules]\n")), "cycle.yaml", "finding",
         (("IL006", 1, 1),), DEEP),
    Case("merge-key-cycle", text_file("cycle.yaml", lambda: policy(
        "cycle", metadata="  labels: &labels\n    <<: *labels\n    app: x\n")), "cycle.yaml",
         "finding", (("IL006", 1, 1),), DEEP),
    Case("scalar-30-mb", text_file("big.yaml", lambda: big_scalar(30_000_000)), "big.yaml",
         "linted", (("SC003", 9, 3),), 'unsupported value "FOO"', seconds=20.0),
    Case("line-10-mb-flow-map", text_file("long.yaml", long_line), "long.yaml", "linted",
         (("SC003", 8, 3),), 'unsupported value "FOO"', seconds=20.0),
    Case("numbers-too-long-to-convert", text_file("numbers.yaml", huge_numbers), "numbers.yaml",
         "linted", (("SC003", 11, 3),), 'unsupported value "FOO"'),
    Case("stream-of-100000-documents", text_file("many.yaml", lambda: many_documents(100_000)),
         "many.yaml", "silent", seconds=20.0),
    # encodings: what Kubernetes decodes is linted, the rest is IL004
    Case("binary-named-yaml", bytes_file("binary.yaml", random_binary), "binary.yaml",
         "finding", (("IL004", 1, 1),), "binary content"),
    Case("latin-1", text_file("latin1.yaml", lambda: policy("café"), "latin-1"), "latin1.yaml",
         "finding", (("IL004", 4, 12),), "not valid UTF-8 (byte 0xe9)"),
    Case("utf-16-le-bom", text_file("utf16le.yaml", lambda: policy("le"), "utf-16-le",
                                    b"\xff\xfe"), "utf16le.yaml", "linted", (("SC003", 7, 3),)),
    Case("utf-16-be-bom", text_file("utf16be.yaml", lambda: policy("be"), "utf-16-be",
                                    b"\xfe\xff"), "utf16be.yaml", "linted", (("SC003", 7, 3),)),
    Case("utf-16-without-bom", text_file("utf16.yaml", lambda: policy("nobom"), "utf-16-le"),
         "utf16.yaml", "finding", (("IL004", 1, 1),), "binary content"),
    Case("utf-8-bom", text_file("bom.yaml", lambda: policy("bom"), bom=b"\xef\xbb\xbf"),
         "bom.yaml", "linted", (("SC003", 7, 3),)),
    Case("crlf-line-ends", text_file("crlf.yaml", lambda: policy("crlf"), newline="\r\n"),
         "crlf.yaml", "linted", (("SC003", 7, 3),)),
    Case("nul-after-the-binary-sniff", text_file("nul.yaml", lambda: policy(
        "nul", metadata=f"  annotations:\n    a: {'x' * 9_000}{NUL}\n")), "nul.yaml", "finding",
         (("IL001", 7, 9_008),), "is not allowed in YAML"),
    Case("terminal-escape-sequence", text_file("escape.yaml", lambda: policy("\x1b[2J\x1b]0;")),
         "escape.yaml", "finding", (("IL001", 4, 9),), "'\\x1b' is not allowed in YAML"),
    # syntax
    Case("tab-indentation", case_file("tab-indentation.yaml"), "tab-indentation.yaml",
         "finding", (("IL001", 7, 1),), "found character that cannot start any token"),
    Case("unterminated-string", case_file("unterminated-string.yaml"),
         "unterminated-string.yaml", "finding", (("IL001", 8, 1),), "found unexpected end"),
    Case("duplicate-keys", case_file("duplicate-keys.yaml"), "duplicate-keys.yaml", "finding",
         (("IL002", 8, 3),), 'duplicate key "action", first defined on line 7'),
    # documents that are not objects, or objects without identity
    Case("bare-scalar", case_file("bare-scalar.yaml"), "bare-scalar.yaml", "silent"),
    Case("bare-list", case_file("bare-list.yaml"), "bare-list.yaml", "silent"),
    Case("empty-file", case_file("empty.yaml"), "empty.yaml", "silent"),
    Case("comments-only", case_file("comments-only.yaml"), "comments-only.yaml", "silent"),
    Case("no-kind", case_file("no-kind.yaml"), "no-kind.yaml", "finding", (("IL005", 1, 1),),
         "the object has no kind"),
    Case("no-api-version", case_file("no-api-version.yaml"), "no-api-version.yaml", "finding",
         (("IL005", 1, 1),), "the object has no apiVersion"),
    Case("no-metadata", case_file("no-metadata.yaml"), "no-metadata.yaml", "finding",
         (("IL005", 1, 1),), "the object has no metadata"),
    Case("no-metadata-name", case_file("no-name.yaml"), "no-name.yaml", "finding",
         (("IL005", 3, 1),), "metadata.name must be a non-empty string"),
    # tags: never constructed, reported where they are in objects istiolint reads
    Case("python-tags", case_file("python-tags.yaml"), "python-tags.yaml", "finding",
         (("IL003", 8, 7), ("IL003", 16, 8), ("IL003", 17, 8), ("IL003", 18, 8)),
         "YAML tag !!python/object/apply:os.system is not supported"),
    Case("other-tags", case_file("other-tags.yaml"), "other-tags.yaml", "finding",
         (("IL003", 9, 8), ("IL003", 10, 8), ("IL003", 14, 13)), "YAML tag !custom"),
    Case("values-that-fit-no-type", case_file("mistyped-scalars.yaml"), "mistyped-scalars.yaml",
         "linted", (("SC002", 15, 5),), "forwardOriginalToken must be a boolean, not a string"),
    # links: never followed out of the tree, never looped
    Case("symlink-to-itself", symlinks(("loop.yaml", "loop.yaml")), "loop.yaml", "skipped",
         text="symlink loop or dangling symlink"),
    Case("symlink-loop", symlinks(("loop-a.yaml", "loop-b.yaml"), ("loop-b.yaml", "loop-a.yaml")),
         "loop-a.yaml", "skipped", text="symlink loop or dangling symlink"),
    Case("dangling-symlink", symlinks(("dangling.yaml", "missing.yaml")), "dangling.yaml",
         "skipped", text="symlink loop or dangling symlink"),
    Case("symlink-out-of-the-tree", outside_links, "outside.yaml", "skipped",
         text="symlink points outside the scanned directory"),
    # kustomization files are read (for the patches they list) but never linted
    Case("kustomization-100000-levels", deep_kustomization, "kustomization.yaml", "silent",
         seconds=5.0, subprocess=True),
    Case("kustomization-impossible-date", text_file("kustomization.yaml", lambda: (
        "resources: [neighbour.yaml]\ncreated: 2001-02-30\n")), "kustomization.yaml", "silent"),
    Case("kustomization-python-tag", text_file("kustomization.yaml", lambda: (
        'patches: !!python/object/apply:os.system ["touch pwned"]\n')), "kustomization.yaml",
         "silent"),
    # URLs whose host urllib refuses ("Invalid IPv6 URL"): the JWT checks once crashed on them
    Case("issuer-with-a-broken-host", text_file("jwt.yaml", request_authentication(
        'issuer: "https://[oops"')), "jwt.yaml", "linted"),
    Case("jwks-uri-with-a-broken-host", text_file("jwt.yaml", request_authentication(
        'issuer: "https://sso.acme-corp.net"\n    jwksUri: "https://[::1/keys"')), "jwt.yaml",
         "linted"),
    Case("request-principal-with-a-broken-host", text_file("jwt.yaml", principal_with_bad_host),
         "jwt.yaml", "linted"),
]


# --- running ------------------------------------------------------------------------------

@dataclass
class Result:
    code: int
    findings: list[dict[str, Any]]
    skipped: dict[str, str]
    seconds: float


def run_in_process(capsys: pytest.CaptureFixture[str], *, verbose: bool) -> Result:
    start = time.perf_counter()
    code = main([*CHECK, "-f", "json"])
    seconds = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err, err
    skipped: dict[str, str] = {}
    if verbose:
        assert main([*CHECK, "--verbose"]) == code
        for line in capsys.readouterr().out.splitlines():
            if line.startswith("skipped "):
                path, _, reason = line.removeprefix("skipped ").partition(": ")
                skipped[path] = reason
    return Result(code, json.loads(out)["findings"], skipped, seconds)


def run_in_subprocess(cwd: Path, *, verbose: bool) -> Result:
    def run(*flags: str) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run([sys.executable, "-m", "istiolint", *CHECK, *flags], cwd=cwd,
                                   capture_output=True, text=True, timeout=300, check=False)
        assert completed.returncode in (0, 1), f"exit {completed.returncode}: {completed.stderr}"
        assert "Traceback" not in completed.stderr, completed.stderr
        return completed

    start = time.perf_counter()
    completed = run("-f", "json")
    seconds = time.perf_counter() - start  # includes starting Python and loading the rules
    skipped: dict[str, str] = {}
    if verbose:
        for line in run("--verbose").stdout.splitlines():
            if line.startswith("skipped "):
                path, _, reason = line.removeprefix("skipped ").partition(": ")
                skipped[path] = reason
    return Result(completed.returncode, json.loads(completed.stdout)["findings"], skipped,
                  seconds)


@pytest.fixture
def nothing_is_constructed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fails the run if any YAML loader resolves a Python name, builds a Python object or
    runs a command."""
    calls: list[str] = []

    def forbidden(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise AssertionError(f"{name} called while reading hostile input")
        return call

    for name in ("find_python_module", "find_python_name", "make_python_instance"):
        monkeypatch.setattr(yaml.constructor.FullConstructor, name, forbidden(name))
    monkeypatch.setattr(os, "system", forbidden("os.system"))
    yield calls
    assert calls == []


@pytest.mark.parametrize("case", TABLE, ids=[case.name for case in TABLE])
def test_hostile_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str], nothing_is_constructed: list[str]
                       ) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copyfile(NEIGHBOUR_SOURCE, tmp_path / NEIGHBOUR)
    case.write(tree)
    monkeypatch.chdir(tmp_path)
    verbose = case.outcome in ("skipped", "silent")
    result = run_in_subprocess(tmp_path, verbose=verbose) if case.subprocess else \
        run_in_process(capsys, verbose=verbose)

    assert result.seconds < case.seconds, f"{case.name} took {result.seconds:.1f} s"
    hostile = f"tree/{case.path}"
    by_path: dict[str, list[tuple[str, int, int]]] = {}
    for finding in result.findings:
        by_path.setdefault(finding["path"], []).append(
            (finding["rule"], finding["line"], finding["column"]))
    # the rest of the tree is still linted, and nothing else is reported on
    assert by_path.get(NEIGHBOUR) == NEIGHBOUR_FINDINGS
    assert set(by_path) <= {NEIGHBOUR, hostile}, sorted(by_path)
    assert result.code == 1  # the neighbour's errors

    on_hostile = by_path.get(hostile, [])
    messages = [f["message"] for f in result.findings if f["path"] == hostile]
    if case.outcome in ("finding", "linted"):
        assert set(case.findings) <= set(on_hostile), on_hostile
        if case.findings:
            assert case.text in messages[on_hostile.index(case.findings[0])]
    elif case.outcome == "skipped":
        assert on_hostile == []
        assert case.text in result.skipped[hostile]
    else:
        assert case.outcome == "silent"
        assert on_hostile == []
        assert hostile not in result.skipped
    assert not list(tmp_path.rglob("pwned"))


# --- cases that need more than the table --------------------------------------------------

def test_an_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copyfile(NEIGHBOUR_SOURCE, tmp_path / NEIGHBOUR)
    locked = tree / "locked.yaml"
    locked.write_text(policy("locked"))
    locked.chmod(0)
    try:
        with contextlib.suppress(PermissionError), locked.open("rb"):
            pytest.skip("this user reads files whatever their mode (root): chmod 000 "
                        "does not make one unreadable")
        monkeypatch.chdir(tmp_path)
        result = run_in_process(capsys, verbose=False)
    finally:
        locked.chmod(0o644)
    findings = [(f["rule"], f["line"], f["column"], f["message"]) for f in result.findings
                if f["path"] == "tree/locked.yaml"]
    assert findings == [("IL004", 1, 1, "cannot read this file: Permission denied")]
    assert [f["rule"] for f in result.findings if f["path"] == NEIGHBOUR] == ["AP005", "AP005"]


def test_a_file_the_system_refuses_to_read_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The same as chmod 000, for users (root) whom the mode does not stop."""
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copyfile(NEIGHBOUR_SOURCE, tmp_path / NEIGHBOUR)
    (tree / "locked.yaml").write_text(policy("locked"))
    read_bytes = FileSystemTree.read_bytes

    def refuse(self: FileSystemTree, path: str | Path) -> bytes:
        if os.path.basename(path) == "locked.yaml":
            raise PermissionError(13, "Permission denied")
        return read_bytes(self, path)

    monkeypatch.setattr(FileSystemTree, "read_bytes", refuse)
    monkeypatch.chdir(tmp_path)
    result = run_in_process(capsys, verbose=False)
    findings = [(f["rule"], f["line"], f["column"], f["message"]) for f in result.findings
                if f["path"] == "tree/locked.yaml"]
    assert findings == [("IL004", 1, 1, "cannot read this file: Permission denied")]
    assert [f["rule"] for f in result.findings if f["path"] == NEIGHBOUR] == ["AP005", "AP005"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_links_out_of_a_git_work_tree_are_not_followed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Without --no-git the tree is listed by git, which lists links as files."""
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copyfile(NEIGHBOUR_SOURCE, tmp_path / NEIGHBOUR)
    outside_links(tree)
    (tree / "loop.yaml").symlink_to("loop.yaml")
    (tree / "linked-directory.yaml").symlink_to("../outside", target_is_directory=True)
    subprocess.run(["git", "init", "-q", str(tree)], check=True, capture_output=True)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "tree", "--isolated", "-f", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert {f["path"] for f in findings} == {NEIGHBOUR}
    assert main(["check", "tree", "--isolated", "--verbose"]) == 1
    skipped = [line for line in capsys.readouterr().out.splitlines() if line.startswith("skip")]
    assert skipped == [
        "skipped tree/linked-directory.yaml: symlink points outside the scanned directory",
        "skipped tree/loop.yaml: symlink loop or dangling symlink",
        "skipped tree/outside.yaml: symlink points outside the scanned directory"]


_MEASURE = textwrap.dedent("""
    import contextlib, io, json, resource, sys, time
    from istiolint.entry import main

    def peak_kib():
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak // 1024 if sys.platform == "darwin" else peak  # bytes there, KiB here

    with contextlib.redirect_stdout(io.StringIO()):  # rules, schemas and checks get loaded
        main(["check", "warm-up", "--no-git", "--isolated", "-f", "json"])
    before, start = peak_kib(), time.perf_counter()
    code = main(["check", "tree", "--no-git", "--isolated", "-f", "json"])
    measured = {"code": code, "seconds": time.perf_counter() - start,
                "growth_mib": (peak_kib() - before) / 1024}
    print(json.dumps(measured), file=sys.stderr)
""")


def test_an_alias_bomb_takes_neither_time_nor_memory(tmp_path: Path) -> None:
    """Measured in a process of its own: the peak memory of this one is anybody's."""
    for directory in ("warm-up", "tree"):
        (tmp_path / directory).mkdir()
        shutil.copyfile(NEIGHBOUR_SOURCE, tmp_path / directory / "neighbour.yaml")
    (tmp_path / "tree" / "bomb.yaml").write_text(alias_bomb())
    completed = subprocess.run([sys.executable, "-c", _MEASURE], cwd=tmp_path, text=True,
                               capture_output=True, timeout=300, check=False)
    measured = json.loads(completed.stderr.strip().splitlines()[-1])
    assert measured["code"] == 1
    assert measured["seconds"] < 2.0
    # expanded, the bomb is 3.5 billion strings: even the list cells would take 28 GB
    assert measured["growth_mib"] < 200
    rules = [(f["rule"], f["path"]) for f in json.loads(completed.stdout)["findings"]]
    assert ("IL006", "tree/bomb.yaml") in rules
    assert ("AP005", NEIGHBOUR) in rules


def test_a_stream_of_tiny_documents_takes_linear_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    seconds = {}
    for count in (20_000, 100_000):
        tree = tmp_path / "tree"
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir()
        (tree / "many.yaml").write_text(many_documents(count))
        start = time.perf_counter()
        assert main([*CHECK, "-f", "json"]) == 0
        seconds[count] = time.perf_counter() - start
        summary = json.loads(capsys.readouterr().out)["summary"]
        assert summary["documents"] == count
    # five times the documents: about five times the time (quadratic would be 25 times)
    assert seconds[100_000] < 10 * seconds[20_000] + 1.0, seconds


def test_file_names_that_are_not_utf8_are_reported_escaped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Git stores any bytes in a name; every report must still be writable as UTF-8."""
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copyfile(NEIGHBOUR_SOURCE, tmp_path / NEIGHBOUR)
    try:
        with open(os.fsencode(tree) + b"/\xff\x1b[2J\nname.yaml", "w") as stream:
            stream.write(policy("weird-name"))
    except (OSError, UnicodeError):
        pytest.skip("this file system does not take file names that are not UTF-8")
    monkeypatch.chdir(tmp_path)
    for output in ("json", "sarif", "text", "github", "gitlab", "junit", "markdown"):
        code = main([*CHECK, "-f", output, "-o", f"report.{output}"])  # written as UTF-8
        assert code == 1, (output, capsys.readouterr().err)
    paths = {f["path"] for f in json.loads(Path("report.json").read_text())["findings"]}
    assert paths == {NEIGHBOUR, "tree/\\udcff\x1b[2J\nname.yaml"}
