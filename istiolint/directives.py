"""Inline suppression comments in manifest files.

Forms (codes or rule names, comma-separated; ``all`` for every rule; the reason is optional)::

    action: ALLOW  # istiolint: disable=AP001 -- reason     (this line)
    # istiolint: disable-next-line=unknown-field -- reason  (the next line with content)
    # istiolint: disable-document=SC001,AD002 -- reason     (the YAML document it sits in)
    # istiolint: disable-file=all -- reason                 (the whole file)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from istiolint.positions import Position

MARKER = "istiolint:"
_DIRECTIVE = re.compile(
    r"(?:^|\s)#\s*istiolint:\s*(?P<kind>[a-z-]+)(?:\s*=\s*(?P<codes>[\w.,\s-]*?))?"
    r"(?:\s+--\s*(?P<reason>[^#]*?))?\s*(?:#.*)?$"
)
_DOCUMENT_SEPARATOR = re.compile(r"^(?:---|\.\.\.)(?:\s|$)")
KINDS = ("disable", "disable-next-line", "disable-document", "disable-file")


@dataclass(frozen=True)
class Directive:
    """A suppression comment: the rules it names and the lines it covers."""

    kind: str
    codes: tuple[str, ...]
    reason: str | None
    position: Position
    first_line: int
    last_line: int

    def covers(self, line: int) -> bool:
        return self.first_line <= line <= self.last_line


@dataclass(frozen=True)
class MalformedDirective:
    position: Position
    problem: str


def scan_directives(text: str) -> tuple[list[Directive], list[MalformedDirective]]:
    if MARKER not in text:
        return [], []
    lines = text.splitlines()
    separators = [n for n, line in enumerate(lines, 1) if _DOCUMENT_SEPARATOR.match(line)]
    directives: list[Directive] = []
    malformed: list[MalformedDirective] = []
    for number, line in enumerate(lines, 1):
        if MARKER not in line:
            continue
        match = _DIRECTIVE.search(line)
        if match is None:
            continue
        column = match.start() + (2 if line[match.start()].isspace() else 1)
        position = Position(number, column, number, len(line) + 1)
        kind = match["kind"]
        codes = tuple(c.strip() for c in (match["codes"] or "").split(",") if c.strip())
        if kind not in KINDS:
            malformed.append(MalformedDirective(position, f"unknown directive {kind!r}; use one of "
                                                          + ", ".join(KINDS)))
            continue
        if not codes:
            malformed.append(MalformedDirective(
                position, f"'{kind}' needs the rules it disables, e.g. '{kind}=SC001' or "
                          f"'{kind}=all'"))
            continue
        own_line = not line[: match.start()].strip()
        first, last = _scope(kind, number, lines, separators, own_line=own_line)
        directives.append(Directive(kind, codes, match["reason"] or None, position, first, last))
    return directives, malformed


def _scope(kind: str, number: int, lines: list[str], separators: list[int],
           *, own_line: bool) -> tuple[int, int]:
    if kind == "disable-file":
        return 1, len(lines)
    if kind == "disable-document":
        before = [s for s in separators if s < number]
        after = [s for s in separators if s > number]
        return (before[-1] + 1 if before else 1), (after[0] - 1 if after else len(lines))
    if kind == "disable-next-line" or (kind == "disable" and own_line):
        for target in range(number + 1, len(lines) + 1):
            stripped = lines[target - 1].strip()
            if stripped and not stripped.startswith("#"):
                return target, target
        return number, number
    return number, number
