"""A second, faster reader for plain manifest streams: libyaml vets the syntax (its parser
alone, without building a node), then rapidyaml parses, emits JSON, and Python's json module
decodes it.

libyaml's parser decides what is YAML, so the two readers accept exactly the same streams.
rapidyaml gives the values, and it is used only where they are exactly those the libyaml
reader (``documents``) converts; it declines everything else, which libyaml then reads:
anchors, aliases, tags, merge keys, directives, complex keys, tabs, duplicate keys, comments
inside flow mappings, block scalars with an explicit indentation, and every plain scalar that
YAML 1.1 types differently from rapidyaml (``yes``, ``~``, ``0755``, ``-.5``, ``1.50`` as a
key). Documents it reads keep no node tree; a position is found by parsing the text again with
libyaml, as for documents that come back from worker processes.

rapidyaml is optional (the ``fast`` extra): without it every stream goes to libyaml.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from yaml.nodes import ScalarNode

# rapidyaml is imported on first use: a run that reads a file or two (the pre-commit hook)
# does not pay for it
AVAILABLE = yaml.__with_libyaml__ and importlib.util.find_spec("ryml") is not None

# A scalar's type in YAML 1.1 as istiolint reads it (PyYAML's implicit resolvers)
_RESOLVER = yaml.resolver.Resolver()
_TAG = "tag:yaml.org,2002:"
_BOOL, _NULL, _INT, _FLOAT = (_TAG + t for t in ("bool", "null", "int", "float"))
_TEXT_TAGS = {_TAG + t for t in ("str", "timestamp", "value")}
_CANONICAL_INT = re.compile(r"0|-?[1-9][0-9]*")
_CANONICAL_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
# the words YAML 1.1 reads as booleans or null (all of them, tested against PyYAML's resolver)
_TYPED_WORDS = ("yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False",
                "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL")
# indicators that start a token: a tag, an anchor, an alias, a complex key, a block scalar
_INDICATORS = re.compile(r"[!&*?|>]")
# a block scalar's header without an explicit indentation
_BLOCK_HEADER = re.compile(r"[|>][-+]?[ \r]*(?:#|\n|\Z)")
_TOKEN_BOUNDARY = frozenset(" \n[{,:-")
# [-+]\.[0-9], written to start with its literal dot, which the regex engine finds fast
_SIGNED_FRACTION = re.compile(r"\.(?<=[-+]\.)[0-9]")
MAX_NUMBER_LENGTH = 1000
_per_thread = threading.local()


class _Declined(Exception):
    """The stream holds something only the libyaml reader reads exactly."""


def read_values(text: str, max_nodes: int) -> list[Any] | None:
    """The values of the stream's documents, null documents left out, exactly as the libyaml
    reader converts them; None when this reader cannot promise that (or the text is not YAML),
    and the libyaml reader must read the stream."""
    if not AVAILABLE or not _plain_enough(text):
        return None
    try:
        if not _libyaml_parses(text):
            return None
        ryml = rapidyaml()
        with _quiet_stderr():  # rapidyaml prints every parse error before raising it
            tree = ryml.parse_in_arena(text.encode("utf-8"))
        if tree.size() > max_nodes:
            return None
        return _decoded(list(_documents_as_json(ryml, tree)))
    except (_Declined, ValueError, RecursionError):
        return None
    except Exception:  # rapidyaml's own errors (ExceptionParse, ...) and its API's surprises
        return None


def _plain_enough(text: str) -> bool:
    """Whether the text avoids every construct this reader leaves to libyaml (a cheap
    over-approximation: a ``*`` at a token's start in a comment is enough to decline)."""
    if "\t" in text or "<<" in text or text.startswith(("%", "...")) or "\n%" in text \
            or "\n..." in text:  # directives, and what may follow a document's end
        return False
    if _SIGNED_FRACTION.search(text):  # rapidyaml writes -.5 as -0.5; YAML 1.1 reads text
        return False
    for found in _INDICATORS.finditer(text):
        start = found.start()
        if start == 0 or text[start - 1] in _TOKEN_BOUNDARY:
            if _in_a_comment_line(text, start):
                continue
            if found[0] not in "|>" or not _BLOCK_HEADER.match(text, start):
                return False
            # a document that is a block scalar: rapidyaml may read the next "---" into it
            if start == 0 or text[start - 1] == "\n" or text.endswith("---", 0, start - 1):
                return False
    return True


@functools.cache
def rapidyaml() -> Any:
    import ryml  # type: ignore[import-untyped]  # noqa: PLC0415

    return ryml


def _in_a_comment_line(text: str, at: int) -> bool:
    """Whether ``at`` follows a ``#`` that starts its line, with no quote between them: then
    it is in a comment, or in a scalar that goes on past it (``# K8S docs say *or*``)."""
    line = text[text.rfind("\n", 0, at) + 1:at]
    return line.lstrip(" ").startswith("#") and '"' not in line and "'" not in line


def _libyaml_parses(text: str) -> bool:
    """Whether libyaml's parser reads the stream without an error (rapidyaml is more lenient:
    it reads ``- {} b`` or ``[:0]``)."""
    from yaml._yaml import CParser  # noqa: PLC0415 - loaded with yaml already

    parser = CParser(text)
    try:
        parser.raw_parse()
    except yaml.YAMLError:
        return False
    finally:
        parser.dispose()
    return True


def _documents_as_json(ryml: Any, tree: Any) -> Iterator[str]:
    root = tree.root_id()
    if not tree.is_stream(root):
        yield ryml.emit_json_malloc(tree, root)
        return
    child = tree.first_child(root)
    while child != ryml.NONE:
        yield ryml.emit_json_malloc(tree, child)
        child = tree.next_sibling(child)


def _decoded(documents: list[str]) -> list[Any]:
    emitted = "\n".join(documents)
    # A quote ending a key inside a string (\": ) would spoil the count of keys below; a key
    # "" may have been an empty plain key, which YAML 1.1 reads as null.
    if '"": ' in emitted or '\\": ' in emitted:
        raise _Declined
    if " #" in emitted:  # rapidyaml reads "{a: b # c" as "b # c": a comment in a flow mapping
        raise _Declined
    # a string of the JSON (a key or a value) that YAML 1.1 types differently from its text
    # may have been plain in the YAML: only such strings are looked at (a match may also start
    # at an escaped quote inside a string, which can only decline more)
    for scalar in set(_SUSPECT_STRING.findall(emitted)):
        if scalar in _WORDS_TYPED_DIFFERENTLY or _typed_differently(scalar):
            raise _Declined
    counter, decoder = _decoder()
    counter.keys = 0
    values = [value for value in map(decoder.decode, documents) if value is not None]
    # rapidyaml keeps a repeated key and json keeps its last value: count them to notice
    if counter.keys != emitted.count('": '):
        raise _Declined
    return values


def _decoder() -> tuple[_KeyCounter, json.JSONDecoder]:
    """A decoder with its key counter, one per thread (building one compiles its scanner)."""
    made: tuple[_KeyCounter, json.JSONDecoder] | None = getattr(_per_thread, "decoder", None)
    if made is None:
        counter = _KeyCounter()
        made = _per_thread.decoder = (counter, json.JSONDecoder(
            object_hook=counter, parse_int=_integer, parse_float=_float,
            parse_constant=_declined))
    return made


@functools.lru_cache(maxsize=4096)  # manifests repeat their numbers: ports, "500m", "0.1"
def _typed_differently(scalar: str) -> bool:
    """Whether a scalar, plain in YAML, has a YAML 1.1 value other than its JSON text's."""
    tag = _RESOLVER.resolve(ScalarNode, scalar, (True, False))  # type: ignore[no-untyped-call]
    if tag in _TEXT_TAGS:
        return False
    if tag == _BOOL:
        return scalar not in ("true", "false")
    if tag == _NULL:
        return scalar != "null"
    if tag == _INT:
        return not _CANONICAL_INT.fullmatch(scalar) or len(scalar) > MAX_NUMBER_LENGTH
    if tag == _FLOAT:  # as a key, the value's text is what counts: 1.50 is read as "1.5"
        return not _CANONICAL_FLOAT.fullmatch(scalar) or repr(float(scalar)) != scalar
    return True


class _KeyCounter:
    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys = 0

    def __call__(self, mapping: dict[str, Any]) -> dict[str, Any]:
        self.keys += len(mapping)
        return mapping


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_LENGTH or not _CANONICAL_INT.fullmatch(text):
        raise _Declined
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_LENGTH or not _CANONICAL_FLOAT.fullmatch(text):
        raise _Declined
    return float(text)


def _declined(text: str) -> Any:
    raise _Declined


_WORDS_TYPED_DIFFERENTLY = frozenset(filter(_typed_differently, _TYPED_WORDS))
# a JSON string whose text is one of those words or looks like a number
_SUSPECT_STRING = re.compile('"(' + "|".join(
    [*map(re.escape, sorted(_WORDS_TYPED_DIFFERENTLY, key=len, reverse=True)),
     "[-+.0-9][-+.0-9a-zA-Z_:]*"]) + ')"')


@functools.cache
def _null_device() -> int | None:
    """A descriptor of the null device, opened once per process (None: none to be had)."""
    try:
        return os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return None


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to the null device for the duration (the parse holds the GIL, so
    no Python thread writes meanwhile)."""
    null = _null_device()
    try:
        saved = os.dup(2) if null is not None else None
    except OSError:  # no stderr to protect
        saved = None
    if null is None or saved is None:
        yield
        return
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
