"""Go errors as Python exceptions, and the list format of ``hashicorp/go-multierror``."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["GoError", "multierror_text"]


class GoError(ValueError):
    """A Go ``error`` value: ``str(error)`` is exactly what Go's ``err.Error()`` returns."""


def multierror_text(messages: Sequence[str]) -> str:
    """The text of a ``*multierror.Error`` holding ``messages`` (one or more).

    Mirrors ``ListFormatFunc``, the default ``ErrorFormat`` of ``hashicorp/go-multierror``:
    a count line, then one ``* message`` line per error, then a blank line.
    """
    if len(messages) == 1:
        return f"1 error occurred:\n\t* {messages[0]}\n\n"
    points = "\n\t".join(f"* {message}" for message in messages)
    return f"{len(messages)} errors occurred:\n\t{points}\n\n"
