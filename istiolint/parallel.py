"""Independent work spread over processes forked from this one.

Forking (rather than spawning) lets the workers inherit the loaded schemas, rules and settings
for free; only the results travel back, pickled. Where forking is unavailable or unsafe, or a
worker fails in any way, the work runs here instead, so the outcome never depends on it.
"""

from __future__ import annotations

import contextlib
import queue
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

Item = TypeVar("Item")
Result = TypeVar("Result")

# what the forked workers inherit: the function, every piece of the items, the counter of
# pieces claimed so far, and the queue the results come back on
_pending: list[tuple[Callable[[Any], Any], list[list[Any]], Any, Any]] = []
_RESULT_WAIT = 1.0  # seconds between looks at whether the workers are still there
_RESULT_PATIENCE = 60  # looks before the pieces still missing are redone here


def can_fork() -> bool:
    import multiprocessing  # noqa: PLC0415 -- a run that shares no work never pays for it

    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def run_split(function: Callable[[Item], Result], items: Sequence[Item], jobs: int,
              *, pieces_per_job: int = 32,
              progress: Callable[[int], None] | None = None) -> list[Result]:
    """``[function(item) for item in items]``, computed by ``jobs`` processes (this one
    included), in the same order.

    The items are cut into pieces, which every process claims one at a time from a shared
    counter until none is left: nobody waits while there is work, whatever the pieces cost.
    ``progress`` is told how many more items are done (or taken by a worker), as pieces go.
    """
    advance = progress or (lambda done: None)
    if jobs <= 1 or len(items) < 2 or not can_fork():
        in_order = []
        for item in items:
            in_order.append(function(item))
            advance(1)
        return in_order
    import multiprocessing  # noqa: PLC0415
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    jobs = min(jobs, len(items))
    size = max(1, -(-len(items) // (jobs * pieces_per_job)))
    pieces = [list(items[start:start + size]) for start in range(0, len(items), size)]
    context = multiprocessing.get_context("fork")
    claimed = context.Value("i", 0)
    results = context.Queue()  # each piece as a worker finishes it, pickled beside its work
    done: dict[int, list[Result]] = {}
    reported = [0]
    received = [0]  # pieces that came back from workers

    def take(timeout: float | None = None) -> bool:  # one piece a worker sent, if any
        try:
            index, piece_results = results.get(timeout=timeout) if timeout else \
                results.get_nowait()
        except queue.Empty:
            return False
        done[index] = piece_results
        received[0] += 1
        return True

    def collect() -> None:  # what the workers sent so far, and progress
        while take():
            pass
        with claimed.get_lock():  # pieces claimed by anyone count as under way
            taken = min(claimed.value, len(pieces))
        count = sum(len(pieces[index]) for index in range(reported[0], taken))
        reported[0] = taken
        if count:
            advance(count)

    _pending.append((function, pieces, claimed, results))
    try:
        with ProcessPoolExecutor(jobs - 1, mp_context=context) as pool:
            workers: list[Future[int]] = []
            # a worker that cannot be started (process limits): this process claims it all
            with contextlib.suppress(Exception):
                workers.extend(pool.submit(_claim_pieces) for _ in range(jobs - 1))
            for index, piece_results in _claim_pieces(mine=True):
                done[index] = piece_results
                collect()
            sent = 0
            for worker in workers:
                # a worker that died or failed: its pieces are redone below
                with contextlib.suppress(Exception):
                    sent += worker.result()
            for _ in range(_RESULT_PATIENCE):  # what the workers that finished still sent
                if len(done) >= len(pieces) or received[0] >= sent:
                    break
                take(_RESULT_WAIT)
            collect()
    finally:
        _pending.clear()
        results.close()
        results.join_thread()
    for index, piece in enumerate(pieces):
        if index not in done:
            done[index] = [function(item) for item in piece]
    return [result for index in range(len(pieces)) for result in done[index]]


def _claim_pieces(*, mine: bool = False) -> Any:
    """Claim and do pieces until none is left. In this process: yield each piece's results;
    in a worker: put them on the queue, and return how many were put."""
    function, pieces, claimed, results = _pending[-1]
    done = _pieces(function, pieces, claimed)
    if mine:
        return done
    # leaving must not wait for results this process never got to send (it failed, or this
    # one stopped listening): the pieces missing are redone there
    results.cancel_join_thread()
    sent = 0
    for index, piece_results in done:
        results.put((index, piece_results))
        sent += 1
    return sent


def _pieces(function: Callable[[Any], Any], pieces: list[list[Any]],
            claimed: Any) -> Iterator[tuple[int, list[Any]]]:
    while True:
        with claimed.get_lock():
            index = claimed.value
            claimed.value += 1
        if index >= len(pieces):
            return
        yield index, [function(item) for item in pieces[index]]
