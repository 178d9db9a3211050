"""YAML streams -> documents that remember where every node came from.

Parsing uses libyaml through PyYAML's C loader and stops at the *node* stage: nodes carry start
and end marks, and no tag is ever constructed (``!!python/object`` stays an inert scalar).
Only documents whose ``apiVersion``/``kind`` the caller wants are turned into plain Python
values; the node tree is kept beside the value so that a JSON pointer can be mapped back to a
line and column when, and only when, a finding needs it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from istiolint import fast_reader
from istiolint.positions import Position, split_pointer

_SCALARS = yaml.constructor.SafeConstructor()
_RESOLVER = yaml.resolver.Resolver()

TAG_PREFIX = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (TAG_PREFIX + t for t in ("str", "int", "float", "bool", "null"))
MERGE, SEQ, MAP = TAG_PREFIX + "merge", TAG_PREFIX + "seq", TAG_PREFIX + "map"
PLAIN = "tag:istiolint,2026:plain"  # an untagged plain scalar: typed only if it is converted
_TEXT_TAGS = {TAG_PREFIX + t for t in ("str", "timestamp", "binary", "value")} | {"!"}
_COLLECTION_TAGS = {TAG_PREFIX + "map", TAG_PREFIX + "seq", TAG_PREFIX + "omap"}

MAX_DEPTH = 200
MAX_EXPANDED_NODES = 500_000
# libyaml composes recursively in C, so tens of thousands of nested collections overflow the
# stack (a crash, not an exception), and its scanner spends time proportional to the depth on
# every token. A stream that may nest deeper than this is composed in Python, which gives up
# past MAX_DEPTH.
LIBYAML_MAX_DEPTH = 1000
# longer numbers stay text: Python refuses to print ints of 4,300 digits or more, and
# sexagesimal ones (1:2:3:...) take quadratic time to compute
MAX_NUMBER_LENGTH = 1000

# What to convert of a document: nothing (False), everything (True), or only some fields: a
# map from key to a nested projection (applied to every item of a list)
Projection = bool | Mapping[str, "Projection"]
WantsDocument = Callable[[str | None, str | None], Projection]


# how messages name each JSON Schema type
TYPE_WORDS = {"object": "a map", "array": "a list", "string": "a string", "integer": "an integer",
              "number": "a number", "boolean": "a boolean", "null": "null"}


def schema_type(value: Any) -> str:
    """The JSON Schema type of a value converted from a document."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "null"


@dataclass(frozen=True)
class LoadProblem:
    """Something wrong with the input itself; ``code`` names the rule that reports it."""

    code: str
    position: Position
    args: dict[str, object] = field(default_factory=dict)


class _DeferredTyping:
    """Leaves plain scalars untyped while composing: most documents are never converted, and
    resolving every scalar's type up front costs more than parsing it."""

    def resolve(self, kind: type[Node], value: str | None, implicit: Any) -> str:
        if kind is ScalarNode:
            return PLAIN if implicit[0] else STR
        return SEQ if kind is SequenceNode else MAP

    # called for every node by the composer; builtins cost no Python frame (and are not
    # bound as methods): any two-argument and any no-argument one ignoring its input will do
    descend_resolver = staticmethod(operator.is_)
    ascend_resolver = staticmethod(tuple)


try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml: same nodes, slower
    class _Parser(yaml.reader.Reader, yaml.scanner.Scanner,  # type: ignore[no-redef]
                  yaml.parser.Parser, yaml.composer.Composer):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)

        def dispose(self) -> None:
            pass


class _NodeLoader(_DeferredTyping, _Parser):
    pass


class _TooDeep(Exception):
    pass


class _DepthLimit(yaml.composer.Composer):
    """PyYAML's composer (the same nodes as libyaml's), giving up past ``MAX_DEPTH``."""

    _depth = 0
    _root_start: Any = None

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self._depth == 0:
            self._root_start = self.peek_event().start_mark  # type: ignore[attr-defined]
        elif self._depth > MAX_DEPTH:
            mark = self._root_start
            raise _TooDeep(Position.point(mark.line + 1, mark.column + 1))
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _DepthLimitedLoader(_DeferredTyping, _DepthLimit, _Parser):
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)


def _loader(text: str) -> Any:
    if yaml.__with_libyaml__ and not _may_nest_deeper(text):
        return _NodeLoader(text)
    return _DepthLimitedLoader(text)  # without libyaml, Python's recursion limit applies


# line breaks (besides "\n") and the byte order mark, which libyaml skips at a line's start
_UNUSUAL_BREAKS = ("\x85", "\u2028", "\u2029", "\ufeff")
_COMPACT_CHAIN = re.compile(r" *((?:[-?:] +)+)")  # "- - ? - ": a collection after each indicator


def _may_nest_deeper(text: str, limit: int = LIBYAML_MAX_DEPTH) -> bool:
    """Whether ``text`` may nest collections more than ``limit`` levels deep.

    A cheap upper bound of the nodes around a token: every flow collection opens with ``[`` or
    ``{``; the block collections opened on earlier lines are at most two per column of the
    line's indentation (a mapping and its indentless sequence); those opened on the line
    itself follow a compact chain of indicators (``- - key: value``), whose length is at least
    twice the count of indicators followed by a space; then the chain's last indicator (at the
    end of the line), a mapping after the chain, and the token.
    """
    budget = limit - text.count("[") - text.count("{") - 3
    if budget < 4 or any(c in text for c in _UNUSUAL_BREAKS) or \
            ("\r" in text and text.count("\r") != text.count("\r\n")):
        return True
    indent = " " * (budget // 4)  # no line indented this much: 2 * (indentation + 1) < budget / 2
    if text.startswith(indent) or "\n" + indent in text:
        return True
    chain = budget // 2  # no compact chain this long: chain < budget / 2
    start = 0
    while len(text) - start >= 2 * chain:
        newline = text.rfind("\n", start, start + 2 * chain)
        if newline < 0:  # a line long enough to hold such a chain
            found = _COMPACT_CHAIN.match(text, start)
            if found and len(found[1]) - found[1].count(" ") >= chain:
                return True
            newline = text.find("\n", start + 2 * chain)
            if newline < 0:
                return False
        start = newline + 1
    return False


# first characters of the plain scalars YAML may read as something else than a string
_TYPED_FIRST_CHARS = frozenset(c for c in yaml.resolver.Resolver.yaml_implicit_resolvers if c)


def _tag(node: Node) -> str:
    """The node's tag, resolving a plain scalar's implicit type (``yes``, ``0x1F``, ``~``)."""
    if node.tag != PLAIN:
        return str(node.tag)
    value = node.value
    if value and value[0] not in _TYPED_FIRST_CHARS:
        return STR
    tag: str = _RESOLVER.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag


def _is_merge_key(node: Node) -> bool:
    return node.tag == MERGE or (node.tag == PLAIN and node.value == "<<")


def node_position(node: Node) -> Position:
    start, end = node.start_mark, _effective_end(node)
    return Position(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _effective_end(node: Node) -> Any:
    """Block collections end where the next token starts; use their last child's end instead."""
    seen: set[int] = set()  # an alias can make a collection its own last child: &a [*a]
    while not getattr(node, "flow_style", True) and node.value and id(node) not in seen:
        seen.add(id(node))
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return node.end_mark


class Document:
    """One YAML document that istiolint wants, with its value and its node tree.

    A pickled document leaves its node tree behind (it is the bulk of the memory and of the
    pickling time); ``position`` parses the stream's text again the first time it is needed.
    """

    __slots__ = ("data", "index", "node", "reparsed", "text")

    def __init__(self, index: int, node: Node | None, data: Any, text: str) -> None:
        self.index = index
        self.node = node
        self.data = data
        self.text = text
        #: the node trees of the whole stream, parsed again once for all its documents
        self.reparsed: ReparsedStream | None = None

    def __getstate__(self) -> tuple[int, Any, str, ReparsedStream | None]:
        return self.index, self.data, self.text, self.reparsed

    def __setstate__(self, state: tuple[int, Any, str, ReparsedStream | None]) -> None:
        self.index, self.data, self.text, self.reparsed = state
        self.node = None

    #: what produced the document when it is not in a file as such (a renderer, a generator)
    via: str | None = None

    def location(self, pointer: str) -> tuple[str | None, Position]:
        """Where a finding at ``pointer`` is shown: the path of another file when the value
        comes from one (a rendered or generated document), else None for this document's own
        file; and the position there."""
        return None, self.position(pointer)

    def release_nodes(self) -> None:
        self.node = None
        if self.reparsed is not None:
            self.reparsed.release()

    def _root(self) -> Node:
        if self.node is None:
            if self.reparsed is None:
                self.reparsed = ReparsedStream(self.text)
            self.node = self.reparsed.root(self.index)
        return self.node

    def position(self, pointer: str) -> Position:
        """Where the node at ``pointer`` is; the nearest existing ancestor when it is absent.

        For a mapping member the region starts at its key, so a finding about
        ``/spec/action`` points at ``action:``.
        """
        node: Node = self._root()
        key_node: Node | None = None
        for token in split_pointer(pointer):
            found = _child(node, token)
            if found is None:
                break
            key_node, node = found
        if key_node is None:
            return node_position(node)
        start = key_node.start_mark
        end = _effective_end(node)
        return Position(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


class ReparsedStream:
    """The node trees of a stream's documents, parsed again when the first of them needs a
    position after its own was released or never kept; shared by the documents (also through
    pickling, which leaves the trees behind)."""

    __slots__ = ("_roots", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._roots: list[Node] | None = None

    def __getstate__(self) -> str:
        return self.text

    def __setstate__(self, text: str) -> None:
        self.text = text
        self._roots = None

    def release(self) -> None:
        self._roots = None

    def root(self, index: int) -> Node:
        if self._roots is None:
            loader = _loader(self.text)
            try:
                self._roots = list(_nodes(loader, self.text, ParsedStream()))
            finally:
                loader.dispose()
        if index >= len(self._roots):
            raise LookupError(f"document {index} is no longer in its stream")
        return self._roots[index]


def _child(node: Node, token: str) -> tuple[Node | None, Node] | None:
    if isinstance(node, MappingNode):
        # its own keys, then those of the mappings merged into it, depth first; each mapping
        # once, as merges can chain, repeat and loop (``&a {<<: *a}``)
        pending: list[Node] = [node]
        seen: set[int] = set()
        while pending:
            mapping = pending.pop()
            if id(mapping) in seen or not isinstance(mapping, MappingNode):
                continue
            seen.add(id(mapping))
            merged: list[Node] = []
            match: tuple[Node | None, Node] | None = None
            for key, value in mapping.value:  # the last duplicate wins, as in the value
                if _is_merge_key(key):
                    merged.extend(value.value if isinstance(value, SequenceNode) else [value])
                elif isinstance(key, ScalarNode) and key.value == token:
                    match = key, value
            if match is not None:
                return match
            pending.extend(reversed(merged))
    elif isinstance(node, SequenceNode) and token.isdigit() and int(token) < len(node.value):
        item: Node = node.value[int(token)]
        return None, item
    return None


@dataclass
class ParsedStream:
    documents: list[Document] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    total_documents: int = 0


def load_one(text: str) -> Any:
    """The value of a one-document YAML text (a configuration or request file) read the way
    manifests are: no tag constructed, depth and aliases bounded. ValueError names the first
    problem and its line."""
    parsed = parse_stream(text, lambda api_version, kind: True)
    if parsed.problems:
        problem = parsed.problems[0]
        detail = {"IL001": "{error}", "IL002": "duplicate key {key!r}",
                  "IL003": "the tag {tag} is not allowed",
                  "IL006": "too large: {reason}"}.get(problem.code, "{error}")
        raise ValueError(f"line {problem.position.line}: "
                         + detail.format_map({"error": problem.code, **problem.args}))
    if len(parsed.documents) > 1:
        raise ValueError("expected one YAML document, found several")
    return parsed.documents[0].data if parsed.documents else None


def parse_stream(text: str, wants: WantsDocument, *, keep_nodes: bool = True) -> ParsedStream:
    """Parse every document of ``text``; convert those for which ``wants(apiVersion, kind)``.

    Without ``keep_nodes`` the documents may come without their node trees (read by the fast
    reader, when it can read the stream exactly); a position then parses the text again.
    """
    values = None if keep_nodes else fast_values(text)
    read = None if values is None else _from_values(values, text, wants)
    if read is not None:
        return read
    result = ParsedStream()
    reparsed = ReparsedStream(text)
    loader = _loader(text)
    try:
        for index, root in enumerate(_nodes(loader, text, result)):
            result.total_documents += 1
            api_version, kind = _identity(root)
            projection = wants(api_version, kind)
            if projection is False:
                continue
            converter = _Converter()
            try:
                data = converter.convert(root, 0, projection)
            except _TooLarge as exc:
                result.problems.append(LoadProblem("IL006", node_position(root), exc.args[0]))
                continue
            result.problems.extend(converter.problems)
            document = Document(index, root, data, text)
            document.reparsed = reparsed
            result.documents.append(document)
    finally:
        loader.dispose()
    return result


def fast_values(text: str) -> list[Any] | None:
    """The converted values of the stream's documents read by the fast reader, when it can
    read this stream exactly as the libyaml reader would (then without a problem to report)."""
    if not fast_reader.AVAILABLE or _may_nest_deeper(text, MAX_DEPTH):
        return None  # deep nesting, or unusual line breaks
    return fast_reader.read_values(text, MAX_EXPANDED_NODES)


def _from_values(values: list[Any], text: str, wants: WantsDocument) -> ParsedStream | None:
    """The parsed stream of the fast reader's values; None when a document's identity is
    a scalar other than text (``kind: 1``), which only the node tree has as written."""
    result = ParsedStream(total_documents=len(values))
    reparsed = ReparsedStream(text)
    for index, value in enumerate(values):
        identity = _value_identity(value)
        if identity is None:
            return None
        projection = wants(*identity)
        if projection is False:
            continue
        document = Document(index, None, value if projection is True
                            else _projected(value, projection), text)
        document.reparsed = reparsed
        result.documents.append(document)
    return result


def _value_identity(value: Any) -> tuple[str | None, str | None] | None:
    """``_identity`` of a converted document: None when it cannot tell (a scalar that is not
    text, whose text ``_identity`` reads)."""
    if not isinstance(value, dict):
        return None, None
    identity = []
    for key in ("apiVersion", "kind"):
        field = value.get(key)
        if key in value and not isinstance(field, str | dict | list):
            return None
        identity.append(field if isinstance(field, str) else None)
    return identity[0], identity[1]


def _projected(value: Any, projection: Projection) -> Any:
    """``_Converter._project`` on a converted value."""
    if projection is True:
        return value
    if isinstance(value, list):
        return [_projected(item, projection) for item in value]
    if not isinstance(value, dict) or not isinstance(projection, Mapping):
        return None if isinstance(value, dict) else value
    return {key: _projected(item, projection[key]) for key, item in value.items()
            if key in projection and projection[key] is not False}


def _nodes(loader: Any, text: str, result: ParsedStream) -> Iterator[Node]:
    while True:
        try:
            if not loader.check_node():
                return
            node = loader.get_node()
        except yaml.MarkedYAMLError as exc:
            root = getattr(loader, "_root_start", None)
            if "maximum nesting depth" in str(exc.problem) and root is not None:
                # libyaml 0.2.5's own limit, met while scanning ahead of the composer
                result.problems.append(_too_deep(Position.point(root.line + 1,
                                                                root.column + 1)))
            else:
                result.problems.append(_parse_problem(exc))
            return
        except yaml.reader.ReaderError as exc:
            result.problems.append(_reader_problem(exc, text))
            return
        except _TooDeep as exc:  # the rest of the stream cannot be read without going deeper
            result.problems.append(_too_deep(exc.args[0]))
            return
        if node is not None and not (isinstance(node, ScalarNode) and _tag(node) == NULL):
            yield node


def _too_deep(position: Position) -> LoadProblem:
    return LoadProblem("IL006", position, {
        "reason": f"it nests deeper than {MAX_DEPTH} levels; the documents after it in this "
                  "file are not checked either"})


def _reader_problem(exc: yaml.reader.ReaderError, text: str) -> LoadProblem:
    offset = min(exc.position, len(text))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    character = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return LoadProblem("IL001", Position.point(line, column), {
        "error": f"character {character!r} is not allowed in YAML ({exc.reason})"})


def _parse_problem(exc: yaml.MarkedYAMLError) -> LoadProblem:
    mark = exc.problem_mark or exc.context_mark
    position = Position.point(mark.line + 1, mark.column + 1) if mark else Position.point(1, 1)
    parts = [part for part in (exc.context, exc.problem) if part]
    return LoadProblem("IL001", position, {"error": ", ".join(parts) or str(exc)})


def _identity(root: Node) -> tuple[str | None, str | None]:
    api_version = kind = None
    if isinstance(root, MappingNode):
        for key, value in root.value:
            if not isinstance(value, ScalarNode) or not isinstance(key, ScalarNode):
                continue
            if key.value == "apiVersion":
                api_version = value.value
            elif key.value == "kind":
                kind = value.value
    return api_version, kind


class _TooLarge(Exception):
    pass


class _Converter:
    """Turns a node tree into plain values, recording problems instead of raising."""

    def __init__(self) -> None:
        self.problems: list[LoadProblem] = []
        self._seen: dict[int, tuple[Any, int]] = {}
        self._expanded = 0
        self._aliased = False

    def convert(self, node: Node, depth: int, projection: Projection = True) -> Any:
        if depth > MAX_DEPTH:
            raise _TooLarge({"reason": f"it nests deeper than {MAX_DEPTH} levels"})
        if projection is not True:
            return self._project(node, depth, projection)
        if node.__class__ is ScalarNode:  # most nodes: a plain string, and nothing to share
            self._expanded += 1
            if self._expanded > MAX_EXPANDED_NODES:
                self._grow(0)
            tag, value = node.tag, node.value
            if tag == PLAIN:
                if value and value[0] not in _TYPED_FIRST_CHARS:
                    return value
            elif tag == STR:
                return value
            return self._scalar(node)
        shared = self._seen.get(id(node))
        if shared is not None:  # an alias: reuse the value, but count what it expands to
            self._aliased = True
            self._grow(shared[1])
            return shared[0]
        before = self._expanded
        self._grow(1)
        if isinstance(node, ScalarNode):
            value = self._scalar(node)
        elif isinstance(node, SequenceNode):
            self._check_tag(node)
            value = [self.convert(item, depth + 1) for item in node.value]
        else:
            assert isinstance(node, MappingNode)
            value = self._mapping(node, depth)
        self._seen[id(node)] = (value, self._expanded - before)
        return value

    def _project(self, node: Node, depth: int, projection: Projection) -> Any:
        """Convert only the fields a projection names (no alias sharing: projections are
        small)."""
        self._grow(1)
        if isinstance(node, SequenceNode):
            return [self.convert(item, depth + 1, projection) for item in node.value]
        if not isinstance(node, MappingNode) or not isinstance(projection, Mapping):
            return self.convert(node, depth) if isinstance(node, ScalarNode) else None
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else ""
            if key in projection and projection[key] is not False:
                out[key] = self.convert(value_node, depth + 1, projection[key])
        return out

    def _grow(self, count: int) -> None:
        self._expanded += count
        if self._expanded > MAX_EXPANDED_NODES:
            reason = f"it has more than {MAX_EXPANDED_NODES:,} nodes"
            if self._aliased:
                reason = f"it expands to more than {MAX_EXPANDED_NODES:,} nodes through aliases"
            raise _TooLarge({"reason": reason})

    def _mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        self._check_tag(node)
        out: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if _is_merge_key(key_node):
                merged.update(self._merge_sources(value_node, depth))
                continue
            key = self._key(key_node)
            if key is None:
                continue
            if key in first_seen:
                self.problems.append(LoadProblem("IL002", node_position(key_node), {
                    "key": key, "first_line": first_seen[key].start_mark.line + 1}))
            first_seen[key] = key_node
            out[key] = self.convert(value_node, depth + 1)
        if merged:
            return {**merged, **out}
        return out

    def _merge_sources(self, node: Node, depth: int) -> dict[str, Any]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):  # earlier sources win, as YAML's merge key says
            value = self.convert(source, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged

    def _key(self, node: Node) -> str | None:
        if node.__class__ is ScalarNode:
            tag, value = node.tag, node.value
            if (tag == PLAIN and value and value[0] not in _TYPED_FIRST_CHARS) or tag == STR:
                return str(value)
        if not isinstance(node, ScalarNode):
            self.problems.append(LoadProblem("IL001", node_position(node), {
                "error": "a mapping key must be a scalar, not a collection"}))
            return None
        value = self._scalar(node)
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return "null"
        return str(value) if not isinstance(value, str) else value

    def _check_tag(self, node: Node) -> None:
        if node.tag not in _COLLECTION_TAGS:
            self._unsupported(node.tag, node)

    def _unsupported(self, tag: str, node: Node) -> None:
        tag = "!!" + tag.removeprefix(TAG_PREFIX) if tag.startswith(TAG_PREFIX) else tag
        self.problems.append(LoadProblem("IL003", node_position(node), {"tag": tag}))

    def _scalar(self, node: ScalarNode) -> Any:
        tag = _tag(node)
        if tag == STR:
            return node.value
        if tag in _TYPED:
            # a value its tag does not fit (``!!int abc``, ``0x_``), or an integer too long
            # to print again, is kept as text (as Kubernetes' decoder does for plain ones)
            try:
                if len(node.value) <= MAX_NUMBER_LENGTH:
                    return _TYPED[tag](node)
            except (ValueError, KeyError, OverflowError):
                pass
            return node.value
        if tag == NULL:
            return None
        if tag not in _TEXT_TAGS:
            self._unsupported(tag, node)
        return node.value


def _integer(node: ScalarNode) -> Any:
    try:
        return int(node.value)
    except ValueError:
        return _SCALARS.construct_yaml_int(node)


_TYPED: dict[str, Callable[[ScalarNode], Any]] = {
    INT: _integer, BOOL: _SCALARS.construct_yaml_bool, FLOAT: _SCALARS.construct_yaml_float}
