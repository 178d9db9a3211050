"""Independent work spread over processes forked from this one.

Forking (rather than spawning) lets the workers inherit the loaded schemas, rules and settings
for free; only the results travel back, pickled. Where forking is unavailable or unsafe, or a
worker fails in any way, the work runs here instead, so the outcome never depends on it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# what the forked workers inherit: the function and every piece of the items
_pending: list[tuple[Callable[[Any], Any], list[list[Any]]]] = []


def can_fork() -> bool:
    import multiprocessing  # noqa: PLC0415 -- a run that shares no work never pays for it

    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def run_split(function: Callable[[Item], Result], items: Sequence[Item], jobs: int,
              *, pieces_per_job: int = 32,
              progress: Callable[[int], None] | None = None) -> list[Result]:
    """``[function(item) for item in items]``, computed by ``jobs`` processes (this one
    included), in the same order.

    The items are cut into pieces that the workers take from the front while this process takes
    them from the back, withdrawing each from the pool before doing it, so that nobody waits for
    a slow worker while there is still work to share. ``progress`` is told how many more items
    are done, as pieces finish.
    """
    advance = progress or (lambda done: None)
    if jobs <= 1 or len(items) < 2 or not can_fork():
        in_order = []
        for item in items:
            in_order.append(function(item))
            advance(1)
        return in_order
    jobs = min(jobs, len(items))
    if len(items) >= jobs * pieces_per_job:
        size = -(-len(items) // (jobs * pieces_per_job))
        pieces = [list(items[start:start + size]) for start in range(0, len(items), size)]
        mine: list[int] = []  # none yet: this process steals from the back
    else:  # too few to share by stealing (the pool queues ahead): one fixed share each
        pieces = [list(items[index::jobs]) for index in range(jobs)]
        mine = [0]
    import multiprocessing  # noqa: PLC0415
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    done: list[list[Result] | None] = [None] * len(pieces)
    _pending.append((function, pieces))
    try:
        with ProcessPoolExecutor(jobs - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = {index: pool.submit(_run_piece, index)
                       for index in range(len(pieces)) if index not in mine}
            for index in mine:
                done[index] = [function(item) for item in pieces[index]]
                advance(len(pieces[index]))
            for index in sorted(futures, reverse=True):
                if not futures[index].cancel():
                    break
                done[index] = [function(item) for item in pieces[index]]
                advance(len(pieces[index]))
            for index, future in futures.items():
                if done[index] is None:
                    try:
                        done[index] = future.result()
                    except Exception:  # a worker that died or failed: do its share here
                        done[index] = [function(item) for item in pieces[index]]
                    advance(len(pieces[index]))
    finally:
        _pending.clear()
    if mine:  # fixed shares were interleaved
        ordered: list[Result] = [None] * len(items)  # type: ignore[list-item]
        for index, results in enumerate(done):
            ordered[index::jobs] = results or []
        return ordered
    return [result for piece in done if piece is not None for result in piece]


def _run_piece(index: int) -> list[Any]:
    function, pieces = _pending[-1]
    return [function(item) for item in pieces[index]]
