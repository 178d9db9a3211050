#!/usr/bin/env python3
"""Time ``istiolint check`` against libyaml's parse floor on a generated tree.

The floor is a fresh Python process that reads every manifest of the tree and composes every
YAML node with PyYAML's C loader (libyaml) -- what any YAML-based linter must at least pay.
Both are measured as whole processes (start-up included), side by side in the same run; each
figure is the median of ``--repeat`` runs.

    python benchmarks/run.py                 # generates benchmarks/tree/ on first use
    python benchmarks/run.py --repeat 5 --namespaces 400
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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_tree import generate  # noqa: E402

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


def timed(commands: dict[str, list[str]], repeat: int,
          cwd: Path | None = None) -> dict[str, tuple[float, str]]:
    """Median wall time (and last output) of each command, the runs interleaved so that a
    noisy neighbour slows every command alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    outputs: dict[str, str] = {}
    for _ in range(repeat):
        for name, command in commands.items():
            start = time.perf_counter()
            completed = subprocess.run(command, capture_output=True, text=True, check=False,
                                       cwd=cwd)
            times[name].append(time.perf_counter() - start)
            if completed.returncode not in (0, 1):
                raise SystemExit(f"{' '.join(command)} failed:\n{completed.stderr}")
            outputs[name] = completed.stdout
    return {name: (statistics.median(times[name]), outputs[name]) for name in commands}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=HERE / "tree")
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--yamllint", action="store_true", help="also time yamllint if installed")
    args = parser.parse_args()

    if args.regenerate or not args.tree.exists():
        files, documents = generate(args.tree, args.namespaces)
    else:
        files = sum(1 for _ in args.tree.rglob("*.yaml"))
        documents = 0
    istiolint = [sys.executable, "-m", "istiolint", "check", str(args.tree), "--no-git",
                 "--format", "json", "--output", os.devnull]
    measured = timed({"floor": [sys.executable, "-c", PARSE_FLOOR, str(args.tree)],
                      "check": istiolint}, args.repeat)
    (floor, parsed), (ours, _) = measured["floor"], measured["check"]
    documents = documents or int(parsed)
    print(f"tree: {args.tree} ({files} files, {documents} documents)")
    print(f"libyaml compose (parse floor): {floor:7.2f} s")
    print(f"istiolint check:               {ours:7.2f} s   ratio {ours / floor:5.2f}x "
          f"(target <= 3.0x)  {documents / ours:,.0f} documents/s")
    repository = diff_repository(args.tree, args.tree.parent / "diff-repo")
    measured = timed({
        "check": [sys.executable, "-m", "istiolint", "check", "tree", "--format", "json",
                  "--output", os.devnull],
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
    if args.yamllint and yamllint:
        theirs, _ = timed({"yamllint": [yamllint, "-d", "relaxed", "-f", "parsable",
                                        str(args.tree)]}, 1)["yamllint"]
        print(f"yamllint (relaxed):            {theirs:7.2f} s   ratio {theirs / floor:5.2f}x")


if __name__ == "__main__":
    main()
