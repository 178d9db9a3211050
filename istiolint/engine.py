"""The pipeline: sources -> documents -> resources -> checks -> findings (decorated, suppressed)."""

from __future__ import annotations

import copy
import gc
import hashlib
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from istiolint.config import Settings
from istiolint.context import CheckContext
from istiolint.directives import Directive, scan_directives
from istiolint.documents import Projection
from istiolint.findings import Finding
from istiolint.globs import PathMatcher
from istiolint.kyma.generated import GeneratedDocument, is_apirule
from istiolint.model.kube import MODEL_PROJECTIONS
from istiolint.parallel import run_split
from istiolint.positions import FILE_START
from istiolint.resources import Resource, extract_resources
from istiolint.results_cache import ResultCache, code_fingerprint, key_of, shard_of
from istiolint.rules import Detection, LoadedCheck, Registry
from istiolint.schemas import SchemaStore
from istiolint.scope import Footprint, TreeFacts, facts_of, footprint, needed
from istiolint.selection import RuleSelection
from istiolint.sources import (
    STDIN,
    PathDisplay,
    Skipped,
    SourceFile,
    decode,
    discover,
    parse_source,
    read_source,
)
from istiolint.suppression import Suppressor
from istiolint.trees import FileSystemTree, Tree, blob_id, path_order

if TYPE_CHECKING:  # Helm output and kustomize builds are read only when there are some
    from istiolint.render.build import BuildOptions
    from istiolint.render.kustomize import RenderPlan

LIST_KIND_SUFFIX = "List"
PARALLEL_MIN_FILES = 400
MAX_AUTO_JOBS = 4
# fewer files are read with libyaml alone: importing rapidyaml costs what it saves on ~40
FAST_READER_MIN_FILES = 40


def _may_be_helm_output(stdin: bytes) -> bool:
    from istiolint.helm import may_be_helm_output  # noqa: PLC0415

    return may_be_helm_output(stdin)


def _home(key: tuple[str, str], found: Footprint) -> str:
    """Where a file's results are kept: with its namespace's, so that they are read together."""
    return min(found.namespaces) if found.namespaces else key[0]


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Loading allocates millions of long-lived, acyclic nodes, and the whole-tree checks a
    model of them; the cyclic collector would rescan them again and again (reference counting
    still frees what is dropped). What survives lives until the run ends, so it is frozen out
    of later collections."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@dataclass
class FileResult:
    """One file, read and checked on its own: the unit that worker processes hand back."""

    source: SourceFile
    resources: list[Resource]
    detections: list[tuple[Detection, tuple[str, ...]]] = field(default_factory=list)
    footprint: Footprint | None = None  # worked out where the file is, when a run needs it


@dataclass(frozen=True)
class _PortableDetection:
    """A detection that names its resource and source by index, so that it can travel back
    from a worker process without dragging (copies of) the objects along."""

    detection: Detection
    defers_to: tuple[str, ...]
    resource: int | None
    source: int | None

    @classmethod
    def of(cls, detection: Detection, defers_to: tuple[str, ...],
           resources: Mapping[int, int], sources: Mapping[int, int]) -> _PortableDetection:
        resource = resources[id(detection.resource)] if detection.resource else None
        source = sources[id(detection.source)] if detection.source else None
        return cls(replace(detection, resource=None, source=None), defers_to, resource, source)

    def bound(self, context: CheckContext) -> tuple[Detection, tuple[str, ...]]:
        detection = replace(
            self.detection,
            resource=None if self.resource is None else context.resources[self.resource],
            source=None if self.source is None else context.sources[self.source])
        return detection, self.defers_to


@dataclass
class LoadedTree:
    sources: list[SourceFile] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    detections: list[tuple[Detection, tuple[str, ...]]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    report_paths: set[str] = field(default_factory=set)
    footprints: dict[int, Footprint] = field(default_factory=dict)  # by id of the source


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    documents: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    istio_version: str = ""
    not_shown: int = 0  # findings left out because a baseline or the base revision has them


@dataclass(frozen=True)
class Discovered:
    files: list[str]  # absolute, normal path names
    report_paths: set[str]
    skipped: list[Skipped]
    tree: Tree
    render: RenderPlan | None = None


@dataclass(frozen=True)
class Run:
    tree: LoadedTree
    context: CheckContext
    result: LintResult
    # what is applied together, by overlay ("" when the tree is one cluster): diff compares
    # access per overlay
    worlds: Mapping[str, CheckContext] = field(default_factory=dict)


@dataclass(frozen=True)
class Inputs:
    """What to lint: ``paths`` are reported; ``context`` is loaded for cross-file rules only."""

    paths: Sequence[str]
    context: Sequence[str] = ()
    stdin: bytes | None = None
    stdin_filename: str = "<stdin>"
    use_git: bool = True


def _from_source(origin: Callable[[Detection], SourceFile | None], source: SourceFile,
                 detection: Detection) -> bool:
    return origin(detection) is source


def _once(findings: Sequence[Finding]) -> list[Finding]:
    """Findings of generated objects that say the same about the same place, once: the
    fields that come from one field of an APIRule (its hosts in every rule of every policy
    generated from it) would otherwise repeat it."""
    seen: set[tuple[object, ...]] = set()
    kept = []
    for finding in findings:
        key = (finding.code, finding.path, finding.position, finding.message, finding.via)
        if finding.via is None or key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def named_paths(paths: Sequence[str]) -> list[str]:
    return [p for p in paths if p != STDIN]


def _positioned(detection: Detection) -> Detection:
    """Resolve the position while the node tree is at hand (it is not pickled)."""
    if detection.position is None and detection.resource is not None:
        where = detection.resource.location(detection.pointer)
        return replace(detection, position=where.position, path=where.path)
    return detection


class Linter:
    def __init__(self, registry: Registry, settings: Settings, cwd: Path) -> None:
        self.registry = registry
        self.settings = settings
        self.cwd = cwd
        self.selection = RuleSelection(registry, settings, cwd)
        self.jobs = 0  # worker processes; 0 chooses by the tree's size and the cores
        # file results by (shown path, git blob id), kept across runs when not None
        self.reuse: dict[tuple[str, str], FileResult] | None = None
        self.tree: Tree | None = None  # None: the file system
        self.use_cache = False  # results from (and to) the cache directory, in lint()
        self.helm_chart_dirs: Sequence[Path] = ()  # where the charts of Helm output on stdin are
        # what --render kustomize may do besides building (opt-ins of the command line only)
        self.build_options: BuildOptions | None = None  # None: no opt-in
        # told (files in all, files done) as files are processed; for a progress bar
        self.progress: Callable[[int, int], None] | None = None
        self._identified: tuple[tuple[Tree, tuple[str, ...]],
                                list[tuple[tuple[str, str] | None, bytes | None]]] | None = None
        # what a run that loads part of the tree (the hook, from the cache) knows of the rest
        self._tree_facts: TreeFacts | None = None
        # files' footprints are worked out with them (in the worker processes) for focused
        # runs and the cache's index
        self._footprints_wanted = False
        self.schemas = SchemaStore(settings.istio_version)
        self._istio_kinds = frozenset(kind for _, kind in self.schemas.kinds)
        # workloads, Services and Namespaces are read only when something uses the mesh model
        self.with_model = any(getattr(loaded.check, "needs_model", False)
                              for loaded in registry.checks
                              if any(d.code in self.selection.enabled for d in loaded.check.rules))

    @property
    def cwd(self) -> Path:
        return self._cwd

    @cwd.setter
    def cwd(self, cwd: Path) -> None:  # and forget how paths were shown under another one
        self._cwd = cwd
        self._display = PathDisplay(cwd)
        self._shown: dict[str | Path, str] = {}

    def shown(self, path: str | Path) -> str:
        """How findings show ``path`` (asked several times per file and run)."""
        shown = self._shown.get(path)
        if shown is None:
            shown = self._shown[path] = self._display(path)
        return shown

    def reading(self, tree: Tree) -> Linter:
        """The same linter reading ``tree`` (another side of a diff) instead of the file
        system, sharing the remembered file results."""
        other = copy.copy(self)
        other.tree = tree
        return other

    def wants(self, api_version: str | None, kind: str | None) -> Projection:
        """What to convert of a document; everything else is parsed for syntax only."""
        group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
        if group.endswith(".istio.io"):
            return True
        if kind is None:
            return False
        if kind.endswith(LIST_KIND_SUFFIX) or kind in self._istio_kinds:
            return True
        if kind == "Service":  # its selector is what an APIRule's policies select
            return MODEL_PROJECTIONS.get(kind, False)
        return MODEL_PROJECTIONS.get(kind, False) if self.with_model else False

    def discover(self, inputs: Inputs) -> Discovered:
        exclude = PathMatcher(self.settings.exclude)
        named = [p for p in inputs.paths if p != STDIN]
        files_from = self.tree or FileSystemTree(use_git=inputs.use_git)
        reported = discover(named, self.cwd, exclude, tree=files_from)
        context = discover([p for p in inputs.context if p != STDIN], self.cwd, exclude,
                           tree=files_from) if inputs.context else None
        report_paths = {self.shown(p) for p in reported.files}
        files = list(reported.files)
        if context is not None:
            listed = set(reported.files)
            # one order whichever files are reported, so that what a rule finds about a file
            # does not depend on it (e.g. which of two merged policies is the later one)
            files = sorted([*files, *(p for p in context.files if p not in listed)],
                           key=path_order)
        if STDIN in inputs.paths:
            report_paths.add(inputs.stdin_filename)
        plan = None
        if self.settings.render == "kustomize":
            given = [self._absolute(p) for p in named_paths([*inputs.paths, *inputs.context])]
            from istiolint.render.kustomize import plan as render_plan  # noqa: PLC0415

            plan = render_plan([*reported.kustomizations,
                                *(context.kustomizations if context else [])],
                               [p for p in given if files_from.is_dir(p)], files_from)
            reported_roots = [self._absolute(p) for p in named_paths(inputs.paths)]
            report_paths |= {self.shown(p) for p in plan.consumed
                             if any(p == r or p.is_relative_to(r) for r in reported_roots)}
            consumed = {os.fspath(p) for p in plan.consumed}
            files = [p for p in files if p not in consumed]
        return Discovered(files, report_paths,
                          reported.skipped + (context.skipped if context else []), files_from,
                          plan)

    def _absolute(self, raw: str) -> Path:
        return Path(os.path.normpath(os.path.join(self.cwd, raw)))

    def load(self, inputs: Inputs, *, run_checks: bool = True,
             discovered: Discovered | None = None) -> LoadedTree:
        """Read, parse and extract every input file; with ``run_checks``, also run the checks
        whose findings on a file depend on that file alone (``per_source``)."""
        found = discovered or self.discover(inputs)
        local_checks = self._local_checks() if run_checks else ()
        with _cyclic_gc_paused():
            results = self._process_files(found.files, local_checks, found.tree)
            shown_elsewhere: set[str] = set()  # the templates of Helm output on stdin
            if STDIN in inputs.paths:
                from istiolint.helm import rendered_by_helm, template_paths  # noqa: PLC0415

                source = parse_source(inputs.stdin or b"", inputs.stdin_filename, self.wants,
                                      origins=rendered_by_helm(self.cwd, self.helm_chart_dirs))
                shown_elsewhere = template_paths(source.documents)
                results.append(self._checked(source, local_checks))
            if found.render is not None:
                from istiolint.render.build import BuildOptions  # noqa: PLC0415
                from istiolint.render.kustomize import (  # noqa: PLC0415
                    render as render_kustomizations,
                )

                results += [self._checked(source, local_checks) for source in
                            render_kustomizations(found.render, self.wants,
                                                  self.build_options or BuildOptions(),
                                                  self.shown,
                                                  self._repository_of(found.tree, inputs))]
        tree = LoadedTree(skipped=list(found.skipped),
                          report_paths={*found.report_paths, *shown_elsewhere})
        for result in results:
            tree.sources.append(result.source)
            tree.resources.extend(result.resources)
            tree.detections.extend(result.detections)
            if result.footprint is not None:
                tree.footprints[id(result.source)] = result.footprint
        generated: list[Resource] = []
        if any(is_apirule(resource) for resource in tree.resources):
            from istiolint.kyma.derive import generated_resources  # noqa: PLC0415

            generated = generated_resources(tree.resources)
        if generated:
            tree.detections.extend(self._checked_generated(generated, local_checks))
            tree.resources.extend(generated)
        return tree

    def _repository_of(self, tree: Tree, inputs: Inputs) -> Callable[[Path], Path]:
        """What a kustomize build of a directory may read: its repository (a revision's, or
        the git work tree holding it), else the widest of the working directory and the
        paths named that holds it."""
        if not isinstance(tree, FileSystemTree):
            root = tree.disk_root([])[0]
            return lambda directory: root
        from istiolint.render.build import repository_root  # noqa: PLC0415

        named = [self.cwd, *(self._absolute(p) for p in named_paths([*inputs.paths,
                                                                      *inputs.context]))]

        tops: list[Path] = []  # git asked once per work tree, not once per overlay

        def repository(directory: Path) -> Path:
            top = next((t for t in tops if directory.is_relative_to(t)), None) or \
                repository_root(directory)
            if top is not None:
                tops.append(top)
                return top
            holding = [p for p in named if directory.is_relative_to(p)]
            return min(holding, key=lambda p: len(p.parts), default=directory)

        return repository

    def _checked_generated(self, generated: Sequence[Resource],
                           local_checks: Sequence[LoadedCheck]
                           ) -> list[tuple[Detection, tuple[str, ...]]]:
        """The per-file checks on objects generated from others (an APIRule's policies); the
        problems of their files were reported with the files."""
        context = CheckContext([], generated, self.settings, self.schemas)
        enabled = self.selection.enabled
        return [(_positioned(d), tuple(getattr(loaded.check, "defers_to", ())))
                for loaded in local_checks for d in loaded.check.run(context)
                if d.code in enabled]

    def lint(self, inputs: Inputs) -> LintResult:
        """Lint, reusing the cache directory's results when ``use_cache`` is set."""
        # a build reads more than the files linted (kustomizations, patches), and the binary
        # may change: rendered runs are not cached
        rendering = self.settings.render != "none" or (
            bool(inputs.stdin) and _may_be_helm_output(inputs.stdin or b""))
        cache = ResultCache.open() if self.use_cache and not rendering else None
        if cache is None:
            return self.run(inputs).result
        config = key_of([code_fingerprint(), self.schemas.istio_version, self.with_model,
                         sorted(self.selection.enabled), self.settings.plugins])
        found = self.discover(inputs)
        stats_name = f"stats-{key_of([self.cwd])}"
        if isinstance(found.tree, FileSystemTree):
            records = cache.load(stats_name)
            found.tree.stat_records = records if isinstance(records, dict) else {}
        identified = self._identify(found.files, found.tree)
        keys = [key for key, _ in identified]
        hashed = [path for path, (_, raw) in zip(found.files, identified, strict=True) if raw]
        shape = key_of([config, self.settings, self.cwd, inputs.paths, inputs.context,
                        inputs.stdin_filename, inputs.use_git])
        run_key = key_of([shape, keys, found.skipped, sorted(found.report_paths),
                          hashlib.sha256(inputs.stdin or b"").hexdigest()])
        cached = cache.load(f"run-{shape}")
        if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == run_key and \
                isinstance(cached[1], LintResult):
            cache.touch_files(config)
            return cached[1]
        self._footprints_wanted = True  # for the index of the cache
        memo_name = f"memo-{config}"
        memos = self._restore_memos(cache.load(memo_name))
        index = cache.load(f"footprints-{config}")
        prints: dict[tuple[str, str], tuple[Footprint, int]] = \
            index if isinstance(index, dict) else {}
        part = self._part_to_load(cache, config, found, keys, prints, inputs)
        if part is None:
            with _cyclic_gc_paused():  # the files' results: documents, as loading makes
                remembered = cache.load_files(config)
            self.reuse = {**remembered, **(self.reuse or {})}
            result = self.run(inputs, discovered=found).result
        else:
            try:
                result = self.run(inputs, discovered=part).result
            finally:
                self._tree_facts = None
            documents = [prints[k][1] if k in prints else self.reuse[k].source.total_documents
                         for k in keys if k is not None and self.reuse is not None
                         and (k in prints or k in self.reuse)]
            result = replace(result, files=len(found.files), documents=sum(documents))
        current = {key: self.reuse[key] for key in keys
                   if key is not None and self.reuse is not None and key in self.reuse}
        fresh = {key: (self._footprint_of(current[key]), current[key].source.total_documents)
                 for key in current if key not in prints}
        prints.update(fresh)
        cache.store_files(config, current, lambda key: shard_of(_home(key, prints[key][0])))
        # the hook reads and hashes the files it reports on, which change every time: not
        # worth rewriting the whole tree's records for (the next run hashes them again)
        only_reported = part is not None and \
            all(self.shown(path) in found.report_paths for path in hashed) and \
            all(key[0] in found.report_paths for key in fresh)
        if isinstance(found.tree, FileSystemTree) and hashed and not only_reported:
            records = found.tree.stat_records or {}
            cache.store(stats_name, {name: records[name] for name in found.files
                                     if name in records})
        if (fresh and not only_reported) or len(prints) > len(keys) + len(fresh):
            shared: dict[Footprint, Footprint] = {}  # most files of a namespace look alike
            cache.store(f"footprints-{config}", {
                key: (shared.setdefault(prints[key][0], prints[key][0]), prints[key][1])
                for key in keys if key is not None and key in prints})
        cache.store(f"run-{shape}", (run_key, result))
        learned = self._memos()
        if learned:
            cache.store(memo_name, {**memos, **learned})
        cache.prune()
        return result

    def _memo_keepers(self) -> list[tuple[str, Any]]:
        """The checks that keep something between runs (``remember``/``remembered``), by a
        name that outlives the process."""
        return [(f"{type(c.check).__module__}.{type(c.check).__qualname__}", c.check)
                for c in self._enabled_checks()
                if callable(getattr(c.check, "remember", None))
                and callable(getattr(c.check, "remembered", None))]

    def _restore_memos(self, stored: object) -> dict[str, object]:
        memos = stored if isinstance(stored, dict) else {}
        for name, check in self._memo_keepers():
            if name in memos:
                check.remember(memos[name])
        return memos

    def _memos(self) -> dict[str, object]:
        found = {name: check.remembered() for name, check in self._memo_keepers()}
        return {name: state for name, state in found.items() if state is not None}

    def _footprint_of(self, result: FileResult) -> Footprint:
        return result.footprint or self._footprint(result.resources)

    def _footprint(self, resources: Sequence[Resource]) -> Footprint:
        return footprint([r for r in resources if not isinstance(r.document, GeneratedDocument)],
                         self.settings.root_namespace)

    def _part_to_load(self, cache: ResultCache, config: str, found: Discovered,
                      keys: Sequence[tuple[str, str] | None],
                      prints: Mapping[tuple[str, str], tuple[Footprint, int]],
                      inputs: Inputs) -> Discovered | None:
        """For a focused run (the pre-commit hook), the files to load: the reported ones and
        the part of the tree they depend on (:mod:`istiolint.scope`), their results read from
        the cache shards that hold them; None to load everything."""
        if not inputs.context or STDIN in inputs.paths or not self.namespace_scoped():
            return None
        reported = [self.shown(path) in found.report_paths for path in found.files]
        if all(reported):
            return None
        self.reuse = self.reuse or {}
        # files changed since their footprint was kept are read first: it decides the rest
        unknown = [(path, key) for path, key in zip(found.files, keys, strict=True)
                   if key is not None and key not in prints]
        self._process_remembered([path for path, _ in unknown], self._local_checks(),
                                 found.tree, self.reuse)
        footprints = {key: prints[key][0] if key in prints else
                      self._footprint_of(self.reuse[key])
                      for key in keys if key is not None}
        focus = [footprints[key] for key, mine in zip(keys, reported, strict=True)
                 if mine and key is not None]
        others = {key: footprints[key] for key, mine in zip(keys, reported, strict=True)
                  if not mine and key is not None}
        wanted = needed(focus, others, self.settings.root_namespace)
        if wanted is None:
            return None
        chosen = [key is None or mine or key in wanted
                  for key, mine in zip(keys, reported, strict=True)]
        self._tree_facts = facts_of(footprints.values())
        shards = {shard_of(_home(key, footprints[key]))
                  for key, keep in zip(keys, chosen, strict=True)
                  if keep and key is not None and key not in self.reuse}
        with _cyclic_gc_paused():
            self.reuse.update(cache.load_files(config, shards))
        return replace(found, files=[path for path, keep in zip(found.files, chosen, strict=True)
                                     if keep])

    def run(self, inputs: Inputs, *, discovered: Discovered | None = None) -> Run:
        """Lint, keeping what was loaded (the diff compares two runs)."""
        self._footprints_wanted = self._footprints_wanted or bool(inputs.context)
        tree = self.load(inputs, discovered=discovered)
        loaded = {source.path for source in tree.sources}
        focus = frozenset(tree.report_paths) if not loaded <= tree.report_paths else None
        context = self._scoped(CheckContext(tree.sources, tree.resources, self.settings,
                                            self.schemas, focus), tree.footprints)
        worlds = self._worlds(tree, context)
        with _cyclic_gc_paused():  # the model, as the documents, is long-lived and acyclic
            found = [detection for world, own, _ in worlds
                     for detection in self._detect(world) if own(detection[0])]
        detections = self._without_redundant([*tree.detections, *found])
        findings = self._decorate(detections, tree.sources, tree.resources)
        findings = _once([f for f in findings if f.path in tree.report_paths])
        findings.sort(key=Finding.sort_key)
        result = LintResult(findings, len(tree.sources),
                            sum(s.total_documents for s in tree.sources), tree.skipped,
                            self.schemas.istio_version)
        clusters = {via: world for world, _, via in worlds if via is not None}
        return Run(tree, context, result, clusters or {"": context})

    def namespace_scoped(self) -> bool:
        """Whether every whole-tree check that runs reads only the namespaces around what it
        reports on (:mod:`istiolint.scope`)."""
        return self.settings.render == "none" and all(
            getattr(c.check, "namespace_scoped", False) for c in self._enabled_checks()
            if not getattr(c.check, "per_source", False))

    def _scoped(self, context: CheckContext, known: Mapping[int, Footprint]) -> CheckContext:
        """A focused run's context: the reported files, and the part of the tree that what is
        found in them depends on. ``known``: the footprints of sources, by their id."""
        if context.focus is None or not self.namespace_scoped():
            return context
        by_source: dict[int, list[Resource]] = defaultdict(list)
        for resource in context.resources:
            by_source[id(resource.source)].append(resource)
        root = self.settings.root_namespace
        prints = {id(s): known.get(id(s)) or self._footprint(by_source[id(s)])
                  for s in context.sources}
        focus = context.focus
        keep = needed([prints[id(s)] for s in context.sources if s.path in focus],
                      {id(s): prints[id(s)] for s in context.sources if s.path not in focus},
                      root)
        if keep is None:
            return context
        sources = [s for s in context.sources if s.path in focus or id(s) in keep]
        kept = {id(s) for s in sources}
        facts = self._tree_facts or facts_of(prints.values())
        return replace(context, sources=sources, facts=facts,
                       resources=[r for r in context.resources if id(r.source) in kept])

    def _worlds(self, tree: LoadedTree, everything: CheckContext
                ) -> list[tuple[CheckContext, Callable[[Detection], bool], str | None]]:
        """What the whole-tree checks see, and which of their detections to keep. Overlays
        (dev, prod) are applied to different clusters: each overlay's objects are checked
        with the plain files and without the other overlays; the plain files' objects with
        everything (they are applied wherever any overlay is)."""
        if self.settings.render == "none":
            return [(everything, lambda detection: True, None)]
        from istiolint.render.kustomize import RenderedDocument  # noqa: PLC0415

        overlays = [s for s in tree.sources
                    if s.documents and isinstance(s.documents[0], RenderedDocument)]
        if len(overlays) < 2:
            return [(everything, lambda detection: True, None)]
        rendered = {id(s) for s in overlays}

        def origin(detection: Detection) -> SourceFile | None:
            return detection.resource.source if detection.resource is not None else \
                detection.source

        def plain(detection: Detection) -> bool:
            found = origin(detection)
            return found is None or id(found) not in rendered

        worlds: list[tuple[CheckContext, Callable[[Detection], bool], str | None]] = \
            [(everything, plain, None)]
        sources = [s for s in tree.sources if id(s) not in rendered]
        resources = [r for r in tree.resources if id(r.source) not in rendered]
        for overlay in overlays:
            world = replace(everything, sources=[*sources, overlay],
                            resources=[*resources, *(r for r in tree.resources
                                                     if r.source is overlay)])
            worlds.append((world, partial(_from_source, origin, overlay),
                           overlay.documents[0].via))
        return worlds

    def _enabled_checks(self) -> list[LoadedCheck]:
        enabled = self.selection.enabled
        return [loaded for loaded in self.registry.checks
                if any(doc.code in enabled for doc in loaded.check.rules)]

    def _local_checks(self) -> tuple[LoadedCheck, ...]:
        return tuple(c for c in self._enabled_checks() if getattr(c.check, "per_source", False))

    def _process_files(self, files: Sequence[str], local_checks: Sequence[LoadedCheck],
                       tree: Tree) -> list[FileResult]:
        if self.reuse is None:
            fast = len(files) >= FAST_READER_MIN_FILES

            def process(path: str) -> FileResult:
                return self._checked(read_source(path, self.shown(path), self.wants,
                                                 tree, fast=fast), local_checks)

            jobs = self.jobs_for(files)
            self._prepare(local_checks, jobs)
            return run_split(process, files, jobs, progress=self._progress_of(len(files)))
        return self._process_remembered(files, local_checks, tree, self.reuse)

    def _prepare(self, local_checks: Sequence[LoadedCheck], jobs: int) -> None:
        if jobs > 1:
            for loaded in local_checks:
                prepare = getattr(loaded.check, "prepare", None)
                if callable(prepare):
                    prepare(self.schemas)

    def _progress_of(self, total: int) -> Callable[[int], None] | None:
        report = self.progress
        if report is None:
            return None
        done = [0]
        report(total, 0)

        def advance(count: int) -> None:
            done[0] += count
            report(total, done[0])

        return advance

    def _process_remembered(self, files: Sequence[str], local_checks: Sequence[LoadedCheck],
                            tree: Tree, memory: dict[tuple[str, str], FileResult]
                            ) -> list[FileResult]:
        """Files seen before with the same path and content (the unchanged part of a diff)
        reuse their earlier result; the others are processed as usual and remembered."""
        identified = self._identify(files, tree)
        keys = [key for key, _ in identified]
        todo: dict[tuple[str, str], str] = {}  # what to process, and where to read it
        contents: dict[tuple[str, str], bytes] = {}
        for path, (key, raw) in zip(files, identified, strict=True):
            if key is None:
                continue
            if raw is not None:
                contents[key] = raw
            if key not in memory:
                todo.setdefault(key, path)
        unread = {key: path for key, path in todo.items() if key not in contents}
        tree.prefetch(unread.values())
        contents.update((key, tree.read_bytes(path)) for key, path in unread.items())

        pending = list(todo)
        fast = len(pending) >= FAST_READER_MIN_FILES

        def process(key: tuple[str, str]) -> FileResult:
            return self._checked(parse_source(contents[key], key[0], self.wants, fast=fast),
                                 local_checks)

        self._prepare(local_checks, self.jobs_for(pending))
        memory.update(zip(pending, run_split(process, pending, self.jobs_for(pending),
                                             progress=self._progress_of(len(pending))),
                          strict=True))
        return [memory[key] if key is not None else
                self._checked(read_source(path, self.shown(path), self.wants, tree),
                              local_checks)
                for path, key in zip(files, keys, strict=True)]

    def _identify(self, files: Sequence[str], tree: Tree
                  ) -> list[tuple[tuple[str, str] | None, bytes | None]]:
        """Each file's (shown path, git blob id), and its bytes when they had to be read for
        it; None for a file that cannot be read. Computed once per run and tree."""
        # the tree itself, not its id: a tree dropped after one run may leave its id to the
        # next one (a git revision after the work tree, in --new-only)
        memo_key = (tree, tuple(files))
        if self._identified is not None and self._identified[0][0] is tree and \
                self._identified[0][1] == memo_key[1]:
            return self._identified[1]
        tree.prefetch(path for path in files if tree.known_blob_id(path) is None)
        found: list[tuple[tuple[str, str] | None, bytes | None]] = []
        for path in files:
            shown, known = self.shown(path), tree.known_blob_id(path)
            if known is not None:
                found.append(((shown, known), None))
                continue
            try:
                if isinstance(tree, FileSystemTree):
                    raw, blob = tree.read_identified(path)
                else:
                    raw = tree.read_bytes(path)
                    blob = blob_id(raw)
            except OSError:  # read_source reports it
                found.append((None, None))
                continue
            found.append(((shown, blob), raw))
        self._identified = (memo_key, found)
        return found

    def jobs_for(self, files: Sequence[object]) -> int:
        """Worker processes: one per core for large trees, none when forking costs more."""
        if self.jobs:
            return self.jobs
        if len(files) < PARALLEL_MIN_FILES:
            return 1
        return min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1, MAX_AUTO_JOBS)

    def _checked(self, source: SourceFile, local_checks: Sequence[LoadedCheck]) -> FileResult:
        resources = list(extract_resources(source))
        result = FileResult(source, resources,
                            footprint=self._footprint(resources) if self._footprints_wanted
                            else None)
        if local_checks:
            context = CheckContext([source], resources, self.settings, self.schemas)
            enabled = self.selection.enabled
            for loaded in local_checks:
                defers_to = tuple(getattr(loaded.check, "defers_to", ()))
                result.detections.extend((_positioned(d), defers_to)
                                         for d in loaded.check.run(context) if d.code in enabled)
        for document in source.documents:
            # the node trees are most of the memory; the few documents that later need a
            # position parse their text again (as documents from workers and the cache do)
            document.release_nodes()
        return result

    def _detect(self, context: CheckContext) -> list[tuple[Detection, tuple[str, ...]]]:
        """Run the checks that read the whole tree, spread over processes for large trees."""
        checks = [c for c in self._enabled_checks() if not getattr(c.check, "per_source", False)]
        # a focused run (the pre-commit hook) has too little to do to pay for forking
        jobs = 1 if context.focus is not None else min(self.jobs_for(context.sources),
                                                        len(checks))
        if jobs > 1 and any(getattr(c.check, "needs_model", False) for c in checks):
            _ = context.model  # built once, before forking, and inherited by every worker
            gc.freeze()  # and kept out of the collections that would copy its pages
        enabled = self.selection.enabled
        resource_index = {id(r): i for i, r in enumerate(context.resources)}
        source_index = {id(s): i for i, s in enumerate(context.sources)}

        def run(loaded: LoadedCheck) -> list[_PortableDetection]:
            defers_to = tuple(getattr(loaded.check, "defers_to", ()))
            return [_PortableDetection.of(d, defers_to, resource_index, source_index)
                    for d in loaded.check.run(context) if d.code in enabled]

        # one check per piece: checks differ in cost, and the processes take them from
        # opposite ends until none is left
        return [portable.bound(context)
                for found in run_split(run, checks, jobs,
                                       pieces_per_job=max(1, len(checks) // max(jobs, 1)))
                for portable in found]

    @staticmethod
    def _without_redundant(found: Sequence[tuple[Detection, tuple[str, ...]]]) -> list[Detection]:
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
        suppressor = Suppressor(self.selection, enabled=self.settings.inline_suppressions,
                                directives_in=self._directives_reader(sources))
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

    def _directives_reader(self, sources: Sequence[SourceFile]
                           ) -> Callable[[str], Sequence[Directive]]:
        """The suppression comments of a file by its shown path: a loaded source's, or read
        from the file (a base or patch that only a rendered object came from)."""
        known: dict[str, Sequence[Directive]] = {s.path: s.directives for s in sources}
        tree = self.tree or FileSystemTree()

        def read(shown: str) -> Sequence[Directive]:
            if shown not in known:
                try:
                    text, _ = decode(tree.read_bytes(self.cwd / shown))
                except OSError:
                    text = None
                known[shown] = scan_directives(text)[0] if text else []
            return known[shown]

        return read

    def finding(self, detection: Detection) -> Finding:
        doc = self.registry.rules[detection.code]
        via = None
        if detection.resource is not None:
            resource = detection.resource
            if detection.position is not None:
                position, path = detection.position, detection.path or resource.source.path
            else:
                where = resource.location(detection.pointer)
                path, position = where.path, where.position
            ref, pointer, via = resource.ref, detection.pointer, resource.via
        else:
            position = detection.position or FILE_START
            path = detection.source.path if detection.source else "<unknown>"
            ref, pointer = None, None
        return Finding(doc.code, doc.name, self.selection.severity(doc.code),
                       doc.render(detection.args), path, position, pointer, ref, via)
