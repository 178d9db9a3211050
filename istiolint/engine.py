"""The pipeline: sources -> documents -> resources -> checks -> findings (decorated, suppressed)."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from istiolint.config import Settings
from istiolint.context import CheckContext
from istiolint.documents import Projection
from istiolint.findings import Finding
from istiolint.globs import PathMatcher
from istiolint.model.kube import MODEL_PROJECTIONS
from istiolint.positions import FILE_START
from istiolint.resources import Resource, extract_resources
from istiolint.rules import Detection, Registry
from istiolint.schemas import SchemaStore
from istiolint.selection import RuleSelection
from istiolint.sources import (
    STDIN,
    Skipped,
    SourceFile,
    discover,
    display_path,
    parse_source,
    read_source,
)
from istiolint.suppression import Suppressor

LIST_KIND_SUFFIX = "List"


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Loading allocates millions of long-lived, acyclic nodes; the cyclic collector would
    rescan them again and again (reference counting still frees what is dropped). What
    survives loading lives until the run ends, so it is frozen out of later collections."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    documents: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    istio_version: str = ""


@dataclass(frozen=True)
class Inputs:
    """What to lint: ``paths`` are reported; ``context`` is loaded for cross-file rules only."""

    paths: Sequence[str]
    context: Sequence[str] = ()
    stdin: bytes | None = None
    stdin_filename: str = "<stdin>"
    use_git: bool = True


class Linter:
    def __init__(self, registry: Registry, settings: Settings, cwd: Path) -> None:
        self.registry = registry
        self.settings = settings
        self.cwd = cwd
        self.selection = RuleSelection(registry, settings, cwd)
        self.schemas = SchemaStore(settings.istio_version)
        self._istio_kinds = frozenset(kind for _, kind in self.schemas.kinds)
        # workloads, Services and Namespaces are read only when something uses the mesh model
        self.with_model = any(getattr(loaded.check, "needs_model", False)
                              for loaded in registry.checks
                              if any(d.code in self.selection.enabled for d in loaded.check.rules))

    def wants(self, api_version: str | None, kind: str | None) -> Projection:
        """What to convert of a document; everything else is parsed for syntax only."""
        group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
        if group.endswith(".istio.io"):
            return True
        if kind is None:
            return False
        if kind.endswith(LIST_KIND_SUFFIX) or kind in self._istio_kinds:
            return True
        return MODEL_PROJECTIONS.get(kind, False) if self.with_model else False

    def load(self, inputs: Inputs) -> tuple[list[SourceFile], list[Skipped], set[str]]:
        exclude = PathMatcher(self.settings.exclude)
        named = [p for p in inputs.paths if p != STDIN]
        reported = discover(named, self.cwd, exclude, use_git=inputs.use_git)
        context = discover([p for p in inputs.context if p != STDIN], self.cwd, exclude,
                           use_git=inputs.use_git) if inputs.context else None
        report_paths = {display_path(p, self.cwd) for p in reported.files}
        files = list(reported.files)
        if context is not None:
            listed = set(reported.files)
            files += [p for p in context.files if p not in listed]
        with _cyclic_gc_paused():
            sources = [read_source(path, display_path(path, self.cwd), self.wants)
                       for path in files]
        if STDIN in inputs.paths:
            sources.append(parse_source(inputs.stdin or b"", inputs.stdin_filename, self.wants))
            report_paths.add(inputs.stdin_filename)
        skipped = reported.skipped + (context.skipped if context else [])
        return sources, skipped, report_paths

    def lint(self, inputs: Inputs) -> LintResult:
        sources, skipped, report_paths = self.load(inputs)
        resources = [r for source in sources for r in extract_resources(source)]
        context = CheckContext(sources, resources, self.settings, self.schemas)
        detections = list(self._detect(context))
        findings = self._decorate(detections, sources, resources)
        findings = [f for f in findings if f.path in report_paths]
        findings.sort(key=Finding.sort_key)
        return LintResult(findings, len(sources), sum(s.total_documents for s in sources),
                          skipped, self.schemas.istio_version)

    def _detect(self, context: CheckContext) -> list[Detection]:
        enabled = self.selection.enabled
        found: list[tuple[Detection, tuple[str, ...]]] = []
        for loaded in self.registry.checks:
            if any(doc.code in enabled for doc in loaded.check.rules):
                defers_to = tuple(getattr(loaded.check, "defers_to", ()))
                found.extend((d, defers_to) for d in loaded.check.run(context)
                             if d.code in enabled)
        claimed: dict[tuple[int, str], set[str]] = defaultdict(set)
        for detection, _ in found:
            if detection.resource is not None:
                claimed[(id(detection.resource), detection.pointer)].add(detection.code)

        def redundant(detection: Detection, defers_to: tuple[str, ...]) -> bool:
            codes = claimed.get((id(detection.resource), detection.pointer), set())
            return bool(defers_to) and any(code.startswith(defers_to) for code in codes)

        return [d for d, defers_to in found if not redundant(d, defers_to)]

    def _decorate(self, detections: Sequence[Detection], sources: Sequence[SourceFile],
                  resources: Sequence[Resource]) -> list[Finding]:
        suppressor = Suppressor(self.selection, enabled=self.settings.inline_suppressions)
        findings = []
        for detection in detections:
            finding = self.finding(detection)
            if self.selection.ignored_at(finding.path, finding.code):
                continue
            if suppressor.suppresses(finding, detection):
                continue
            findings.append(finding)
        for detection in suppressor.hygiene(sources, resources):
            if detection.code in self.selection.enabled:
                findings.append(self.finding(detection))
        return findings

    def finding(self, detection: Detection) -> Finding:
        doc = self.registry.rules[detection.code]
        if detection.resource is not None:
            resource = detection.resource
            position = detection.position or resource.position(detection.pointer)
            path, ref, pointer = resource.source.path, resource.ref, detection.pointer
        else:
            position = detection.position or FILE_START
            path = detection.source.path if detection.source else "<unknown>"
            ref, pointer = None, None
        return Finding(doc.code, doc.name, self.selection.severity(doc.code),
                       doc.render(detection.args), path, position, pointer, ref)
