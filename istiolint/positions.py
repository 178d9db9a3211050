"""Source positions and JSON pointers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based region of a source file; ``end_column`` is exclusive, as in SARIF."""

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, line: int, column: int) -> Position:
        return cls(line, column, line, column + 1)


FILE_START = Position.point(1, 1)


def escape_token(token: str | int) -> str:
    text = str(token)
    return text.replace("~", "~0").replace("/", "~1") if "~" in text or "/" in text else text


def unescape_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join_pointer(base: str, *tokens: str | int) -> str:
    return "/".join([base, *map(escape_token, tokens)]) if tokens else base


def pointer_from_path(tokens: Iterable[str | int]) -> str:
    return join_pointer("", *tokens)


def split_pointer(pointer: str) -> Sequence[str]:
    if not pointer:
        return ()
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer must start with '/': {pointer!r}")
    return [unescape_token(token) for token in pointer[1:].split("/")]


def pointer_to_dotted(pointer: str) -> str:
    """``/spec/rules/0/from`` -> ``spec.rules[0].from``, as kubectl prints field paths."""
    out = ""
    for token in split_pointer(pointer):
        if token.isdigit():
            out += f"[{token}]"
        elif out:
            out += "." + token
        else:
            out = token
    return out
