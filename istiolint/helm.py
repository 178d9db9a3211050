"""``helm template ... | istiolint check -``: findings shown in the chart templates.

``helm template`` prints every document after a ``# Source: <chart>/templates/<file>`` comment
(``<chart>/charts/<sub>/templates/<file>`` for subcharts, ``<chart>/crds/<file>`` for CRDs),
naming charts by their ``Chart.yaml`` name, not by their directory. The documents of such a
stream become :class:`HelmDocument` objects, which show a finding in the template that
rendered it, on the line that best matches the finding's field.

Templates are found in the chart directories named by the caller, in the working directory
itself and in ``./<chart>`` and ``./charts/<chart>``, and are only ever read: never through a
symlink that leaves the directory searched, never a file that is not a regular file, never more
than ``MAX_FILE_BYTES``.
"""

from __future__ import annotations

import bisect
import itertools
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from istiolint.documents import Document, load_one
from istiolint.positions import FILE_START, Position, split_pointer
from istiolint.sources import decode, display_path

VIA = "helm template"
SOURCE_PREFIX = "# Source: "
DOCUMENT_START = "---"
MAX_FILE_BYTES = 1 << 20
MAX_SOURCE_LENGTH = 4096
MAX_SUBCHARTS_LISTED = 200
TEMPLATE_DIRECTORIES = ("templates", "crds")

# the line breaks libyaml counts, so that line numbers agree with the parsed nodes
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_MARKER = re.compile(r"(?:---|\.\.\.)(?:[ \t]|$)")  # a document start or end at column 1
_RANGE = re.compile(r"\{\{-?\s*range\b")


def rendered_by_helm(cwd: Path, chart_dirs: Sequence[Path] = ()
                     ) -> Callable[[str, list[Document]], list[Document]]:
    """The ``origins`` hook of :func:`istiolint.sources.parse_source` for standard input:
    documents after a ``# Source:`` comment become :class:`HelmDocument` objects, the others
    stay as they are. ``chart_dirs`` (relative to ``cwd``) are searched first for charts."""
    charts = ChartFiles(cwd, chart_dirs)

    def with_origins(text: str, documents: list[Document]) -> list[Document]:
        return from_helm_output(text, documents, charts)

    return with_origins


def may_be_helm_output(raw: bytes) -> bool:
    """Whether a stream may hold documents after ``# Source:`` comments (its findings then
    depend on the templates too, not only on the stream)."""
    return SOURCE_PREFIX.encode() in raw


def template_paths(documents: Iterable[Document]) -> set[str]:
    """The templates, as findings show them, that ``documents`` were rendered from."""
    paths = set()
    for document in documents:
        if isinstance(document, HelmDocument):
            template = document.charts.template(document.origin.name)
            if template is not None:
                paths.add(template.shown_as)
    return paths


def from_helm_output(text: str, documents: list[Document],
                     charts: ChartFiles) -> list[Document]:
    """``documents`` of the stream ``text``, those after a ``# Source:`` comment as
    :class:`HelmDocument` objects."""
    names = _template_names(text, documents)
    seen: dict[tuple[str, str | None], int] = {}
    out: list[Document] = []
    for document, name in zip(documents, names, strict=True):
        if name is None:
            out.append(document)
            continue
        kind = _kind(document.data)
        rank = seen.get((name, kind), 0)
        seen[(name, kind)] = rank + 1
        out.append(HelmDocument(document, TemplateOrigin(name, kind, rank), charts))
    return out


@dataclass(frozen=True)
class TemplateOrigin:
    """The template a document came from; ``rank`` counts the stream's earlier documents of
    the same template and kind (Helm keeps a template's documents of one kind in order)."""

    name: str
    kind: str | None
    rank: int


class HelmDocument(Document):
    """A document that ``helm template`` rendered from a chart template."""

    __slots__ = ("charts", "origin")
    via = VIA

    def __init__(self, rendered: Document, origin: TemplateOrigin, charts: ChartFiles) -> None:
        super().__init__(rendered.index, rendered.node, rendered.data, rendered.text)
        self.origin = origin
        self.charts = charts

    def __reduce__(self) -> tuple[Any, ...]:
        # without the node tree, as Document pickles
        return _restored, (self.index, self.data, self.text, self.origin, self.charts)

    def location(self, pointer: str) -> tuple[str | None, Position]:
        """The template's path and the line in it that best matches ``pointer``.

        When the template cannot be found or read, None (this document's own file, the
        stream) and the position in the stream: a line number is never shown with the path of
        a file it does not belong to.
        """
        template = self.charts.template(self.origin.name)
        if template is None:
            return None, self.position(pointer)
        return template.shown_as, template.position(self.origin, pointer)


def _restored(index: int, data: Any, text: str, origin: TemplateOrigin,
              charts: ChartFiles) -> HelmDocument:
    return HelmDocument(Document(index, None, data, text), origin, charts)


def _kind(data: Any) -> str | None:
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def _template_names(text: str, documents: Sequence[Document]) -> list[str | None]:
    """For each document, the template that Helm's ``# Source:`` comment names: the line
    right after the ``---`` line that starts the document, or the stream's first line."""
    lines = _LINE_BREAK.split(text)
    markers = [number for number, line in enumerate(lines) if _MARKER.match(line)]
    names: list[str | None] = []
    for document in documents:
        root = document.node.start_mark.line if document.node is not None else None
        names.append(None if root is None else _source_comment(lines, markers, root))
    return names


def _source_comment(lines: Sequence[str], markers: Sequence[int], root: int) -> str | None:
    """The template named on the line after the document's start (``markers`` are the lines
    that start or end documents, in order; ``root`` is the line of the document's content)."""
    starts = bisect.bisect_right(markers, root)
    if starts:
        if lines[markers[starts - 1]] != DOCUMENT_START:
            return None
        comment = markers[starts - 1] + 1
    else:
        comment = 0
    line = lines[comment] if comment < root else ""
    if not line.startswith(SOURCE_PREFIX) or line == SOURCE_PREFIX:
        return None
    return line[len(SOURCE_PREFIX):]


# --- finding the files ----------------------------------------------------------------------

@dataclass(frozen=True)
class TemplatePath:
    """``httpbin/charts/redis/templates/x.yaml`` as (``httpbin``, (``redis``,),
    (``templates``, ``x.yaml``))."""

    chart: str
    subcharts: tuple[str, ...]
    inside_chart: tuple[str, ...]

    @classmethod
    def parse(cls, name: str) -> TemplatePath | None:
        """None for anything that is not a plain relative path in Helm's layout."""
        if len(name) > MAX_SOURCE_LENGTH or "\0" in name or "\\" in name:
            return None
        parts = name.split("/")
        if not all(_plain_segment(part) for part in parts):
            return None
        index, subcharts = 1, []
        while index + 1 < len(parts) and parts[index] == "charts":
            subcharts.append(parts[index + 1])
            index += 2
        inside = tuple(parts[index:])
        if len(inside) < 2 or inside[0] not in TEMPLATE_DIRECTORIES:
            return None
        return cls(parts[0], tuple(subcharts), inside)


def _plain_segment(segment: str) -> bool:
    if segment in ("", ".", ".."):
        return False
    pure = PurePath(segment)
    return not pure.anchor and len(pure.parts) == 1


@dataclass(frozen=True)
class Chart:
    directory: Path
    root: str  # the real directory it must stay inside
    name: str
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, chart name) of its dependencies


class ChartFiles:
    """Finds and reads the templates a stream names, each once."""

    def __init__(self, cwd: Path, chart_dirs: Sequence[Path] = ()) -> None:
        self.cwd = cwd
        self.chart_dirs = tuple(chart_dirs)
        self._templates: dict[str, Template | None] = {}
        self._charts: dict[str, list[Chart]] = {}

    def template(self, name: str) -> Template | None:
        if name not in self._templates:
            self._templates[name] = self._read_template(name)
        return self._templates[name]

    def _read_template(self, name: str) -> Template | None:
        path = TemplatePath.parse(name)
        if path is None:
            return None
        if path.chart not in self._charts:
            self._charts[path.chart] = list(self._charts_named(path.chart))
        for chart in self._charts[path.chart]:
            found = _subchart_chain(chart, path.subcharts)
            if found is None:
                continue
            file = found.directory.joinpath(*path.inside_chart)
            text = _read_text(file, found.root)
            if text is not None:
                return Template.of(display_path(file, self.cwd), text)
        return None

    def _charts_named(self, name: str) -> Iterator[Chart]:
        cwd_root = os.path.realpath(self.cwd)
        candidates = [(self.cwd / hint, os.path.realpath(self.cwd / hint))
                      for hint in self.chart_dirs]
        candidates += [(self.cwd / sub, cwd_root) for sub in (".", name, f"charts/{name}")]
        for directory, root in candidates:
            chart = _chart_at(Path(os.path.normpath(directory)), root)
            if chart is not None and chart.name == name:
                yield chart


def _subchart_chain(chart: Chart, names: Sequence[str]) -> Chart | None:
    for name in names:
        found = _subchart(chart, name)
        if found is None:
            return None
        chart = found
    return chart


def _subchart(parent: Chart, name: str) -> Chart | None:
    """The unpacked subchart Helm names ``name`` (its own name, or an alias of the parent's
    dependencies) in the parent's ``charts/`` directory."""
    wanted = dict(parent.aliases).get(name, name)
    charts = parent.directory / "charts"
    first = _chart_at(charts / wanted, parent.root)
    if first is not None and first.name == wanted:
        return first
    try:
        with os.scandir(charts) as entries:
            listed = sorted(entry.name for entry in itertools.islice(entries,
                                                                     MAX_SUBCHARTS_LISTED))
    except (OSError, ValueError):
        return None
    for entry in listed:
        chart = _chart_at(charts / entry, parent.root)
        if chart is not None and chart.name == wanted:
            return chart
    return None


def _chart_at(directory: Path, root: str) -> Chart | None:
    text = _read_text(directory / "Chart.yaml", root)
    if text is None:
        return None
    try:
        data = load_one(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    return Chart(directory, root, data["name"], _aliases(data.get("dependencies")))


def _aliases(dependencies: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(dependencies, list):
        return ()
    return tuple((d["alias"], d["name"]) for d in dependencies if isinstance(d, dict)
                 and isinstance(d.get("alias"), str) and isinstance(d.get("name"), str))


def _read_text(path: Path, root: str) -> str | None:
    """A regular file's text, if it lies inside ``root`` once symlinks are resolved, is at
    most ``MAX_FILE_BYTES`` and decodes as a manifest does."""
    try:
        real = os.path.realpath(path)
        if not _within(real, root):
            return None
        raw = _read_regular_file(real)
    except (OSError, ValueError):
        return None
    if raw is None:
        return None
    text, _ = decode(raw)
    return text


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# non-blocking, so that a FIFO cannot hang the run before fstat rejects it
_OPEN_FLAGS = ("O_NONBLOCK", "O_NOFOLLOW", "O_BINARY")


def _read_regular_file(path: str) -> bytes | None:
    flags = os.O_RDONLY | sum(getattr(os, name, 0) for name in _OPEN_FLAGS)
    descriptor = os.open(path, flags)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        chunks: list[bytes] = []
        remaining = MAX_FILE_BYTES + 1  # a file that grew since fstat is still refused
        while remaining > 0 and (chunk := os.read(descriptor, remaining)):
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(descriptor)
    return b"".join(chunks) if remaining > 0 else None


# --- lines in a template --------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """A line of YAML structure in a template: 1-based number, 0-based indentation (the
    column of ``content``), and the content without its indentation and line break."""

    number: int
    indent: int
    content: str
    directive: bool = False  # only ``{{ ... }}`` actions: no structure of its own

    @property
    def is_item(self) -> bool:
        return self.content == "-" or self.content.startswith(("- ", "-\t"))

    def item_content(self) -> Line | None:
        """``- key: value`` as the line ``key: value`` at the column where it starts."""
        rest = self.content[1:]
        value = rest.lstrip()
        if not value or value.startswith("#"):
            return None
        return Line(self.number, self.indent + 1 + len(rest) - len(value), value)

    def position(self) -> Position:
        end = self.indent + 1 + len(self.content)
        return Position(self.number, self.indent + 1, self.number, end)


@dataclass(frozen=True)
class Template:
    shown_as: str
    documents: tuple[tuple[Line, ...], ...]
    # the documents that declare each kind, in order; None: the kind is templated or absent
    of_kind: dict[str | None, list[tuple[Line, ...]]]

    @classmethod
    def of(cls, shown_as: str, text: str) -> Template:
        documents = outline(text)
        of_kind: dict[str | None, list[tuple[Line, ...]]] = {}
        for lines in documents:
            of_kind.setdefault(_declared_kind(lines), []).append(lines)
        return cls(shown_as, documents, of_kind)

    def position(self, origin: TemplateOrigin, pointer: str) -> Position:
        """The line of the deepest field of ``pointer`` found in the template document that
        rendered the object; the document's first line when even the first is missing."""
        lines = self._document_of(origin)
        found = _deepest(lines, split_pointer(pointer))
        if found is not None:
            return found.position()
        first = next((line for line in lines if not line.directive), None)
        return first.position() if first is not None else FILE_START

    def _document_of(self, origin: TemplateOrigin) -> tuple[Line, ...]:
        """The document that rendered the ``rank``-th object of its kind: among those that
        declare that kind (or, failing any, whose kind is templated), in order."""
        candidates = self.of_kind.get(origin.kind) or self.of_kind.get(None) or self.documents
        return candidates[min(origin.rank, len(candidates) - 1)] if candidates else ()


def outline(text: str) -> tuple[tuple[Line, ...], ...]:
    """The template's documents as their lines of YAML structure and template actions;
    comments, blank lines and the lines inside multi-line ``{{ ... }}`` actions are left out.
    """
    documents: list[list[Line]] = [[]]
    inside_action = False
    for number, raw in enumerate(_LINE_BREAK.split(text), 1):
        continues = inside_action
        inside_action = ("}}" not in raw and inside_action) or raw.rfind("{{") > raw.rfind("}}")
        if continues:
            continue
        if _MARKER.match(raw):
            documents.append([])
            continue
        content = raw.strip()
        if not content or content.startswith("#"):
            continue
        directive = content.startswith("{{") and (content.endswith("}}") or inside_action)
        documents[-1].append(Line(number, len(raw) - len(raw.lstrip()), content, directive))
    kept = [tuple(lines) for lines in documents if any(not line.directive for line in lines)]
    return tuple(kept)


def _declared_kind(lines: Sequence[Line]) -> str | None:
    structure = [line for line in lines if not line.directive]
    top = min((line.indent for line in structure), default=0)
    for line in structure:
        if line.indent == top and _is_key(line.content, "kind"):
            value = line.content[len("kind:"):].split(" #")[0].strip().strip("\"'")
            return value if value and "{{" not in value else None
    return None


def _deepest(lines: Sequence[Line], tokens: Sequence[str]) -> Line | None:
    found: Line | None = None
    children = list(lines)
    for token in tokens:
        child = _child(children, token)
        if child is None:
            break
        found, children = child
    return found


def _child(block: Sequence[Line], token: str) -> tuple[Line, list[Line]] | None:
    """The line of ``token`` among the direct children of the node whose value is written on
    the lines ``block``, and the lines of its own value."""
    indent = next((line.indent for line in block if not line.directive), None)
    if indent is None:
        return None
    siblings = [i for i, line in enumerate(block)
                if not line.directive and line.indent == indent]
    if token.isdigit():
        return _item(block, [i for i in siblings if block[i].is_item], int(token))
    for position in siblings:
        line = block[position]
        if not line.is_item and _is_key(line.content, token):
            return line, _value_lines(block, position, indentless_items=True)
    return None


def _item(block: Sequence[Line], items: Sequence[int],
          index: int) -> tuple[Line, list[Line]] | None:
    if index >= len(items) and len(items) == 1 and _in_range_loop(block):
        index = 0  # one item written inside a {{ range }}: it renders every item
    if index >= len(items):
        return None
    item = block[items[index]]
    value = _value_lines(block, items[index], indentless_items=False)
    nested = item.item_content()
    return (item, value) if nested is None else (nested, [nested, *value])


def _value_lines(block: Sequence[Line], position: int, *,
                 indentless_items: bool) -> list[Line]:
    """The lines after ``block[position]`` that belong to its value: deeper ones, and for a
    mapping key the items of a sequence written at the key's own indentation; template actions
    among them, but not those after the last."""
    indent = block[position].indent
    value: list[Line] = []
    for line in block[position + 1:]:
        deeper = line.indent > indent or (
            indentless_items and line.indent == indent and line.is_item)
        if not (line.directive or deeper):
            break
        value.append(line)
    while value and value[-1].directive:
        value.pop()
    return value


def _in_range_loop(block: Sequence[Line]) -> bool:
    return any(line.directive and _RANGE.match(line.content) for line in block)


def _is_key(content: str, key: str) -> bool:
    for written in (key, f'"{key}"', f"'{key}'"):
        if content.startswith(written + ":") and \
                content[len(written) + 1:len(written) + 2] in ("", " ", "\t"):
            return True
    return False
