"""Load both sides of a diff and compare them: objects, access, findings.

The head side is linted first; the base side then reuses the result of every file whose path and
bytes are the same on both sides, so a diff costs one check plus what changed.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from istiolint.diffing.access import AccessChange, access_changes
from istiolint.diffing.cluster import fetch_cluster_report
from istiolint.diffing.objects import ObjectChange, object_changes
from istiolint.diffing.revisions import GitTree, resolve, work_tree_root
from istiolint.engine import Inputs, Linter, Run
from istiolint.errors import UsageError
from istiolint.findings import Finding
from istiolint.fingerprints import identity
from istiolint.model.mesh import MeshModel

WORKTREE, GIT, PATH, CLUSTER = "worktree", "git", "path", "cluster"
CLUSTER_FILE = "live-cluster.json"


@dataclass(frozen=True)
class SideSpec:
    """One side of the comparison, as the command line names it."""

    source: str  # worktree, git, path or cluster
    revision: str | None = None
    path: str | None = None
    context: str | None = None
    kubeconfig: str | None = None


@dataclass
class Side:
    label: dict[str, Any]
    run: Run


@dataclass
class DiffResult:
    base: Side
    head: Side
    objects: list[ObjectChange] = field(default_factory=list)
    access: list[AccessChange] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    fixed_findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the comparison could not do in full

    @property
    def changed(self) -> bool:
        return bool(self.objects or self.access)


def _fingerprint(finding: Finding) -> tuple[str, str]:
    """A finding across the two sides: its identity, and its message (a changed value on the
    same field is a fixed finding and a new one)."""
    return identity(finding), finding.message


def finding_changes(base: Sequence[Finding], head: Sequence[Finding]
                    ) -> tuple[list[Finding], list[Finding]]:
    before = {_fingerprint(f) for f in base}
    after = {_fingerprint(f) for f in head}
    return ([f for f in head if _fingerprint(f) not in before],
            [f for f in base if _fingerprint(f) not in after])


def _access_per_cluster(base: Run, head: Run) -> tuple[list[AccessChange], list[str]]:
    """Access compared overlay by overlay (each is a cluster of its own); a flip that several
    overlays share (one of the plain files' workloads) is listed once, naming them all."""
    if set(base.worlds) == set(head.worlds) == {""}:
        return access_changes(base.context.model, head.context.model)
    changes: dict[str, tuple[AccessChange, list[str]]] = {}
    notes: list[str] = []
    for via in sorted(set(base.worlds) | set(head.worlds)):
        before = base.worlds.get(via, base.context if via == "" else None)
        after = head.worlds.get(via, head.context if via == "" else None)
        empty = MeshModel.build([], (before or after or base.context).settings.root_namespace)
        found, why = access_changes(before.model if before else empty,
                                    after.model if after else empty)
        notes += [f"{via}: {note}" if via else note for note in why]
        for change in found:
            key = json.dumps([change.direction, change.target_description,
                              change.request.as_json(), change.match, change.before.status,
                              change.after.status], sort_keys=True, default=str)
            changes.setdefault(key, (change, []))[1].append(via)
    return [replace(change, via=", ".join(v for v in vias if v) or None)
            for change, vias in changes.values()], notes


class Differ:
    def __init__(self, linter: Linter, paths: Sequence[str], *, use_git: bool = True) -> None:
        linter.with_model = True
        if linter.reuse is None:
            linter.reuse = {}
        self.linter = linter
        self.paths = list(paths)
        self.use_git = use_git

    def compare(self, base: SideSpec, head: SideSpec) -> DiffResult:
        with tempfile.TemporaryDirectory(prefix="istiolint-diff-") as scratch:
            head_side = self._side(head, Path(scratch) / "head")
            base_side = self._side(base, Path(scratch) / "base")
            result = DiffResult(base_side, head_side)
            result.objects = object_changes(base_side.run.tree.resources,
                                            head_side.run.tree.resources,
                                            base_is_cluster=base.source == CLUSTER)
            result.access, result.notes = _access_per_cluster(base_side.run, head_side.run)
            result.new_findings, result.fixed_findings = finding_changes(
                base_side.run.result.findings, head_side.run.result.findings)
            return result

    def findings_at(self, revision: str) -> list[Finding]:
        """The findings the same paths had at a git revision."""
        return self._git_side(revision).run.result.findings

    def _side(self, spec: SideSpec, scratch: Path) -> Side:
        cwd = self.linter.cwd
        if spec.source == WORKTREE:
            return Side({"source": WORKTREE},
                        self._run(self.linter, self.paths, use_git=self.use_git))
        if spec.source == PATH:
            assert spec.path is not None
            if not (cwd / spec.path).exists():
                raise UsageError(f"--against: no such file or directory: {spec.path}")
            return Side({"source": PATH, "path": spec.path},
                        self._run(self.linter, [spec.path], use_git=self.use_git))
        if spec.source == CLUSTER:
            return self._cluster_side(spec, scratch)
        assert spec.revision is not None
        return self._git_side(spec.revision)

    def _git_side(self, name: str) -> Side:
        cwd = self.linter.cwd.resolve()
        repository = work_tree_root(cwd)
        revision = resolve(name, cwd)
        tree = GitTree(repository, revision, repository)
        paths = []
        for raw in self.paths:
            path = Path(raw) if Path(raw).is_absolute() else cwd / raw
            if not path.resolve().is_relative_to(repository):
                raise UsageError(f"{raw} is outside the git work tree {repository}")
            if tree.is_file(path) or tree.is_dir(path):  # else it is empty at the revision
                paths.append(raw)
        linter = self.linter.reading(tree)
        run = self._run(linter, paths, use_git=False) if paths else self._empty(linter)
        return Side({"source": GIT, "revision": revision.name, "commit": revision.commit}, run)

    def _cluster_side(self, spec: SideSpec, scratch: Path) -> Side:
        snapshot = fetch_cluster_report(spec.context, spec.kubeconfig)
        data = json.loads(snapshot.data)
        items = [item for item in data.get("items", [])
                 if not any(ref.get("controller") for ref in
                            item.get("metadata", {}).get("ownerReferences", []) or [])]
        scratch.mkdir(parents=True, exist_ok=True)
        (scratch / CLUSTER_FILE).write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                                        "items": items}), encoding="utf-8")
        linter = copy.copy(self.linter)
        linter.cwd = scratch  # findings on the cluster's objects name the file alone
        run = self._run(linter, [CLUSTER_FILE], use_git=False)
        label: dict[str, Any] = {"source": CLUSTER, "context": snapshot.context}
        if snapshot.skipped:
            label["notServed"] = list(snapshot.skipped)
        return Side(label, run)

    @staticmethod
    def _run(linter: Linter, paths: Sequence[str], *, use_git: bool) -> Run:
        try:
            return linter.run(Inputs(list(paths), use_git=use_git))
        except FileNotFoundError as exc:
            raise UsageError(str(exc)) from exc

    @staticmethod
    def _empty(linter: Linter) -> Run:
        return linter.run(Inputs([]))
