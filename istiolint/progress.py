"""A progress bar on stderr for long runs, only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

MIN_FILES = 400  # fewer files finish before a bar would help


@contextmanager
def file_progress(stream: TextIO | None = None) -> Iterator[Callable[[int, int], None] | None]:
    """A ``(total, done)`` callback drawing a transient bar, or None off a terminal."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield None
        return
    from rich.console import Console  # noqa: PLC0415 (only on a terminal)
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(file=stream, stderr=stream is sys.stderr)
    with Progress(TextColumn("istiolint: reading files"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = None

        def update(total: int, done: int) -> None:
            nonlocal task
            if total < MIN_FILES:
                return
            if task is None:
                task = bar.add_task("files", total=total)
            bar.update(task, completed=done, total=total)

        yield update
