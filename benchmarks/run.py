#!/usr/bin/env python3
"""Time istiolint against libyaml's parse floor (and yamllint) on a generated tree.

The floor is a fresh Python process that reads every manifest of the tree and composes every
YAML node with PyYAML's C loader (libyaml) -- what any YAML-based linter must at least pay.
Everything is measured as whole processes (start-up included), side by side in the same run;
each figure is the median of ``--repeat`` interleaved runs, and a ratio to the floor is the
median of the ratios of runs made one right after the other. Printed: check cold and warm (with
the results cache), the pre-commit hook on one changed file, diff against a git base with a
few edited policies, simulate of 10,000 requests, yamllint, and with ``--scale`` a tree ten
times larger (per-document time and peak memory).

    python benchmarks/run.py                 # generates benchmarks/tree/ on first use
    python benchmarks/run.py --repeat 5 --scale
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_tree import generate  # noqa: E402

# istiolint runs as installed (with byte-code files), as users run it; the runs share nothing else
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}

PARSE_FLOOR = """
import os, sys, yaml
loader = yaml.CSafeLoader
count = 0
for directory, _, files in os.walk(sys.argv[1]):
    for name in files:
        if name.endswith(('.yaml', '.yml', '.json')):
            with open(os.path.join(directory, name), 'rb') as stream:
                for node in yaml.compose_all(stream.read().decode('utf-8'), Loader=loader):
                    count += 1
print(count)
"""


def reader() -> str:
    """Which reader the measured istiolint uses for plain manifests (the fast extra or not)."""
    probe = ("import importlib.metadata as m, istiolint.fast_reader as f; "
             "print(f'rapidyaml {m.version(\"rapidyaml\")}, after libyaml\\'s parser "
             "(the fast extra)' if f.AVAILABLE else 'libyaml (without the fast extra)')")
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, env=ENV).stdout.strip()


def write_requests(tree: Path, out: Path, count: int = 10_000, seed: int = 11) -> int:
    """Requests to the tree's workloads: mixed methods, paths, callers, tokens."""
    rng = random.Random(seed)
    targets = []
    for manifest in sorted(tree.glob("*/apps/*/*.yaml")):
        if manifest.stem == manifest.parent.name:
            port = re.search(r"containerPort: (\d+)", manifest.read_text())
            targets.append((manifest.parts[-4], manifest.stem, int(port.group(1)) if port else 80))
    requests = []
    for index in range(count):
        namespace, app, port = rng.choice(targets)
        caller = rng.choice(targets)
        request: dict[str, object] = {
            "name": f"r{index}", "to": {"workload": f"{namespace}/{app}"},
            "host": f"{app}.{namespace}.svc.cluster.local", "port": port,
            "method": rng.choice(["GET", "POST", "DELETE"]),
            "path": rng.choice(["/api/v1/items", "/healthz", "/admin/users", "/metrics"]),
        }
        if rng.random() < 0.8:
            request["source"] = {"principal": f"cluster.local/ns/{caller[0]}/sa/{caller[1]}"}
        if rng.random() < 0.3:
            request["jwt"] = {"issuer": f"https://login.example.com/realms/{namespace}",
                              "subject": "alice", "audiences": [app]}
        requests.append(request)
    out.write_text(json.dumps({"requests": requests}), encoding="utf-8")
    return count


def timed_runs(commands: dict[str, list[str]], repeat: int, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Wall time of every run (and last output) of each command, the runs interleaved so that
    a noisy neighbour slows every command alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    outputs: dict[str, str] = {}
    for _ in range(repeat):
        for name, command in commands.items():
            start = time.perf_counter()
            completed = subprocess.run(command, capture_output=True, text=True, check=False,
                                       cwd=cwd, env=env or ENV)
            times[name].append(time.perf_counter() - start)
            if completed.returncode not in (0, 1):
                raise SystemExit(f"{' '.join(command)} failed:\n{completed.stderr}")
            outputs[name] = completed.stdout
    return times, outputs


def timed(commands: dict[str, list[str]], repeat: int, cwd: Path | None = None,
          env: dict[str, str] | None = None) -> dict[str, tuple[float, str]]:
    """Median wall time (and last output) of each command, the runs interleaved."""
    times, outputs = timed_runs(commands, repeat, cwd, env)
    return {name: (statistics.median(times[name]), outputs[name]) for name in commands}


def paired_ratio(times: dict[str, list[float]], ours: str, floor: str) -> float:
    """The median of the ratios of runs made one after the other: this machine's speed drifts
    by a third within minutes, which a ratio of two medians would take for a difference."""
    return statistics.median(a / b for a, b in zip(times[ours], times[floor], strict=True))


CHANGES = (  # (file under the tree, old text, new text): a handful of real policy edits
    ("team-000/apps/billing/authorization.yaml", '["GET", "POST"]', '["GET", "POST", "DELETE"]'),
    ("team-001/apps/catalog/authorization.yaml", "action: DENY", "action: AUDIT"),
    ("team-002/istio/peer-authentication.yaml", "mode: STRICT", "mode: PERMISSIVE"),
    ("team-003/istio/request-authentication.yaml", 'audiences: ["api"]', "audiences: []"),
    ("team-004/apps/cart/authorization.yaml", "/healthz", "/status"),
)


def diff_repository(tree: Path, repository: Path) -> Path:
    """A git repository holding the tree at HEAD, with a few policies edited in the work tree."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    if repository.exists():
        shutil.rmtree(repository)
    shutil.copytree(tree, repository / "tree")
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *args], cwd=repository, check=True, env=env)
    for name, old, new in CHANGES:
        path = repository / "tree" / name
        text = path.read_text(encoding="utf-8")
        if old not in text:
            raise SystemExit(f"benchmark edit not applicable: {old!r} not in {path}")
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return repository


def peak_memory(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident MB of the largest process) of one run in a fresh child."""
    script = ("import resource, subprocess, sys, time; start = time.perf_counter(); "
              "subprocess.run(sys.argv[1:], capture_output=True, check=False); "
              "print(time.perf_counter() - start, "
              "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")
    completed = subprocess.run([sys.executable, "-c", script, *command], capture_output=True,
                               text=True, check=True, env=ENV)
    seconds, megabytes = completed.stdout.split()
    return float(seconds), float(megabytes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=HERE / "tree")
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--scale", action="store_true",
                        help="also check a tree ten times larger (minutes; memory and per-"
                             "document time)")
    args = parser.parse_args()

    if args.regenerate or not args.tree.exists():
        files, documents = generate(args.tree, args.namespaces)
    else:
        files = sum(1 for _ in args.tree.rglob("*.yaml"))
        documents = 0
    check = [sys.executable, "-m", "istiolint", "check", str(args.tree), "--no-git",
             "--format", "json", "--output", os.devnull]
    floor_command = [sys.executable, "-c", PARSE_FLOOR, str(args.tree)]
    runs, outputs = timed_runs({"floor": floor_command, "check": [*check, "--no-cache"]},
                               args.repeat)
    floor, ours = statistics.median(runs["floor"]), statistics.median(runs["check"])
    documents = documents or int(outputs["floor"])
    print(f"tree: {args.tree} ({files} files, {documents} documents)")
    print(f"istiolint reads manifests with: {reader()}")
    print(f"libyaml compose (parse floor):   {floor:6.2f} s")
    print(f"istiolint check, cold (no cache): {ours:5.2f} s   ratio "
          f"{paired_ratio(runs, 'check', 'floor'):5.2f}x (median of {args.repeat} side-by-side "
          f"pairs; of the medians {ours / floor:.2f}x; targets: <= 3.0x, and <= 1.5x for "
          f"'fast on big repos')  {documents / ours:,.0f} documents/s")

    with tempfile.TemporaryDirectory(prefix="istiolint-bench-cache-") as cache:
        warm_env = {**ENV, "ISTIOLINT_CACHE_DIR": cache}
        subprocess.run(check, env=warm_env, capture_output=True, check=False)
        # against the floor measured beside it: the machine's speed drifts between batches
        beside, _ = timed_runs({"floor": floor_command, "warm": check}, args.repeat,
                               env=warm_env)
        warm, warm_floor = statistics.median(beside["warm"]), statistics.median(beside["floor"])
        print(f"istiolint check, warm (nothing changed): {warm:5.2f} s   ratio "
              f"{paired_ratio(beside, 'warm', 'floor'):5.2f}x the parse floor measured beside "
              f"it ({warm_floor:.2f} s; target <= 0.3x)")
        changed = next(args.tree.glob("*/apps/*/authorization.yaml"))
        original = changed.read_bytes()
        hook = [sys.executable, "-m", "istiolint", "check", "--context", str(args.tree),
                "--no-git", str(changed), "--output", os.devnull]
        hook_times = []
        try:
            changed.write_bytes(original + b"# edited\n")
            subprocess.run(hook, env=warm_env, capture_output=True, check=False)
            for edit in range(max(args.repeat, 5)):  # each run finds the file changed again
                changed.write_bytes(original + f"# edited again ({edit})\n".encode())
                hook_times.append(timed({"hook": hook}, 1, env=warm_env)["hook"][0])
        finally:
            changed.write_bytes(original)
        start_up, _ = timed({"python": [sys.executable, "-c", "pass"]}, 5)["python"]
        print(f"pre-commit (one changed file, whole tree as context, warm): "
              f"{statistics.median(hook_times):5.2f} s (target < 0.5 s; "
              f"{len(hook_times)} runs, {min(hook_times):.2f}-{max(hook_times):.2f} s; "
              f"of each, {start_up:.2f} s is this interpreter starting)")

    repository = diff_repository(args.tree, args.tree.parent / "diff-repo")
    measured = timed({
        "check": [sys.executable, "-m", "istiolint", "check", "tree", "--format", "json",
                  "--output", os.devnull, "--no-cache"],
        "diff": [sys.executable, "-m", "istiolint", "diff", "tree", "--base", "HEAD",
                 "--format", "json", "--output", str(repository / "diff.json")],
    }, args.repeat, cwd=repository)
    (check_in_repo, _), (diff, _) = measured["check"], measured["diff"]
    report = json.loads((repository / "diff.json").read_text(encoding="utf-8"))
    summary = report["summary"]
    print(f"istiolint diff --base HEAD ({len(CHANGES)} files edited): {diff:5.2f} s   "
          f"ratio {diff / check_in_repo:5.2f}x check in the same repository "
          f"({check_in_repo:.2f} s; target <= 2.0x); {summary['objects']} objects, "
          f"{summary['widened']} widened, {summary['narrowed']} narrowed")
    requests_file = args.tree.parent / "requests.json"
    count = write_requests(args.tree, requests_file)
    simulate, _ = timed({"simulate": [sys.executable, "-m", "istiolint", "simulate",
                                      str(args.tree), "--requests", str(requests_file),
                                      "--format", "json"]}, args.repeat)["simulate"]
    print(f"istiolint simulate ({count:,} requests): {simulate:5.2f} s   "
          f"({simulate - ours:+.2f} s beside check; target: a few seconds)")
    yamllint = shutil.which("yamllint")
    if yamllint:
        theirs, _ = timed({"yamllint": [yamllint, "-d", "relaxed", "-f", "parsable",
                                        str(args.tree)]}, 1)["yamllint"]
        print(f"yamllint (relaxed rules):          {theirs:6.2f} s   ratio "
              f"{theirs / floor:5.2f}x the parse floor; istiolint cold is "
              f"{theirs / ours:4.1f}x faster")
    else:
        print("yamllint: not installed (pip install yamllint) -- not compared")
    if args.scale:
        large = args.tree.parent / "tree-10x"
        if not large.exists():
            generate(large, args.namespaces * 10)
        _, large_documents = timed({"floor": [sys.executable, "-c", PARSE_FLOOR, str(large)]},
                                   1)["floor"]
        big_seconds, big_memory = peak_memory([*check[:4], str(large), *check[5:],
                                               "--no-cache"])
        _, small_memory = peak_memory([*check, "--no-cache"])
        per_document = big_seconds / int(large_documents)
        print(f"10x tree ({int(large_documents):,} documents): {big_seconds:6.2f} s, "
              f"{per_document / (ours / documents):4.2f}x the per-document time of the "
              f"{documents:,}-document tree (target <= 1.2x); peak memory {big_memory:,.0f} MB "
              f"(target < 1,500 MB; {small_memory:,.0f} MB for the small tree)")


if __name__ == "__main__":
    main()
