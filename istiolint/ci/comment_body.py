"""The body of istiolint's pull request comment: the hidden marker, normalisation, truncation.

Used by :mod:`istiolint.ci.github_comment`; only the standard library.

Truncation
    Bodies longer than ``max_chars`` (marker included) are cut at the last line boundary that is
    outside an HTML tag or comment and leaves room for what closes the open blocks: a fenced
    code block is closed, then the open ``<details>`` (and other container elements such as
    ``<table>``) get their closing tags; a notice pointing to the full report ends the body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from istiolint.errors import UsageError

MARKER_PREFIX = "<!-- istiolint:comment"
COMMENT_LIMIT = 65_536

_KEY = re.compile(r"[A-Za-z0-9_.:/@+=-]{1,100}")
_MARKER_LINE = re.compile(r"^[ \t]*<!-- istiolint:comment\b[^\n]*-->[ \t]*$", re.MULTILINE)


def marker_line(key: str) -> str:
    if not _KEY.fullmatch(key) or "--" in key:
        raise UsageError(f"the comment key must be 1-100 characters among letters, digits and "
                         f"_.:/@+=- (no '--'), got {key!r}")
    return f"{MARKER_PREFIX} key={key} -->"


def comment_body(body: str, key: str = "default", *, max_chars: int = 65_000,
                 report_hint: str = "") -> tuple[str, bool]:
    """The body to post (truncated if needed, marker appended) and whether it was truncated."""
    marker = marker_line(key)
    text = _strip_markers(body).rstrip()
    budget = max_chars - len(marker) - 2
    notice = _notice(len(text), report_hint)
    if max_chars > COMMENT_LIMIT or budget < len(notice) + 100:
        raise UsageError(f"the comment size limit must be between {len(notice) + len(marker) + 102}"
                         f" and {COMMENT_LIMIT} characters, got {max_chars}")
    truncated = len(text) > budget
    if truncated:
        text = _truncate(text, budget, notice)
    return f"{text}\n\n{marker}", truncated


def _strip_markers(text: str) -> str:
    return _MARKER_LINE.sub("", text.replace("\r\n", "\n"))


def normalise(text: str) -> str:
    """A body as compared for ``unchanged``: without marker lines, CRs and trailing space."""
    lines = _strip_markers(text).split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _notice(total: int, report_hint: str) -> str:
    hint = " ".join(report_hint.split())
    where = f"Full report: {hint}" if hint else "The full report is in the CI job's output."
    return (f"\n---\n:warning: **Truncated**: the report has {total:,} characters, more than "
            f"a GitHub comment holds. {where}")


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_TAG = re.compile(r"<(!--|/?[A-Za-z][A-Za-z0-9-]*)")
_MARKUP = re.compile(r"[<`]")
_BLOCKS = frozenset({"details", "summary", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
                     "ul", "ol", "li", "dl", "dt", "dd", "div", "blockquote", "pre"})
_INLINE = frozenset({"a", "abbr", "b", "cite", "code", "del", "em", "i", "ins", "kbd", "mark",
                     "q", "s", "samp", "small", "span", "strong", "sub", "sup", "u", "var"})


@dataclass
class _Blocks:
    """What is open at the end of the lines fed so far."""

    fence: str = ""  # the opening fence while inside a fenced code block
    elements: list[str] = field(default_factory=list)  # open container elements, outermost first
    pending: str | None = None  # "!--" inside an HTML comment, else a tag whose ">" is to come

    @property
    def cuttable(self) -> bool:
        return self.pending is None

    def closers(self) -> str:
        """What closes the open blocks and elements after a cut at the end of a line."""
        text = f"{self.fence}\n" if self.fence else ""
        for name in reversed(self.elements):
            text += f"</{name}>" if name in _INLINE else f"\n</{name}>\n"
        return text if text.endswith("\n") or not text else text + "\n"

    def feed(self, line: str) -> None:
        if self.fence:
            closing = _FENCE.match(line)
            if (closing and closing.group(1)[0] == self.fence[0]
                    and len(closing.group(1)) >= len(self.fence)
                    and not line[closing.end():].strip()):
                self.fence = ""
            return
        opening = _FENCE.match(line) if self.pending is None else None
        if opening:
            self.fence = opening.group(1)
            return
        if not line.strip() and self.pending != "!--":
            self.pending = None  # a tag cannot span a blank line: that "<" was text
        self._scan(line)

    def _scan(self, line: str) -> None:
        i = 0
        while i < len(line):
            if self.pending == "!--":
                end = line.find("-->", i)
                if end < 0:
                    return
                self.pending, i = None, end + 3
            elif self.pending is not None:
                end = line.find(">", i)
                if end < 0:
                    return
                self._tag(self.pending, line[i:end])
                self.pending, i = None, end + 1
            else:
                i = self._markup(line, i)

    def _markup(self, line: str, i: int) -> int:
        """Skip to the next tag (making it pending) or past the next code span."""
        found = _MARKUP.search(line, i)
        if found is None:
            return len(line)
        i = found.start()
        if line[i] == "`":
            run = len(line) - len(line[i:].lstrip("`")) - i
            close = line.find("`" * run, i + run)
            return close + run if close >= 0 else i + run
        tag = _TAG.match(line, i)
        if tag is None:
            return i + 1
        self.pending = tag.group(1).lower()
        return tag.end()

    def _tag(self, name: str, rest: str) -> None:
        if name.startswith("/"):
            if name[1:] in self.elements:
                index = len(self.elements) - 1 - self.elements[::-1].index(name[1:])
                del self.elements[index:]
        elif name in _BLOCKS | _INLINE and not rest.rstrip().endswith("/"):
            self.elements.append(name)


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text``, each with its newline (split on "\\n" only, as Markdown does)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _truncate(text: str, budget: int, notice: str) -> str:
    """``text`` cut to fit ``budget`` characters with the closing tags and ``notice``."""
    blocks = _Blocks()
    best: tuple[int, str] | None = None
    end = 0
    for line in _lines(text):
        blocks.feed(line)
        end += len(line)
        if end + len(notice) > budget:
            break
        closers = blocks.closers()
        if blocks.cuttable and end + len(closers) + len(notice) <= budget:
            best = end, closers
    if best is None:
        return _cut_inside_line(text, budget - len(notice)) + notice
    return text[:best[0]] + best[1] + notice


def _cut_inside_line(text: str, budget: int) -> str:
    """The fallback when not even one whole line fits: cut mid-line, never inside a tag."""
    head = text[:max(budget - 20, 0)]
    if head.rfind("<") > head.rfind(">"):
        head = head[:head.rfind("<")]
    blocks = _Blocks()
    for line in _lines(head):
        blocks.feed(line)
    if not blocks.cuttable:
        return ""
    closers = blocks.closers()
    return head[:max(budget - len(closers) - 1, 0)] + "\n" + closers

