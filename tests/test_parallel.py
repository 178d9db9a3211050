from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from istiolint.config import Settings
from istiolint.engine import Inputs, Linter
from istiolint.parallel import can_fork, run_split
from istiolint.rules import load_registry

REPO = Path(__file__).resolve().parent.parent
needs_fork = pytest.mark.skipif(not can_fork(), reason="worker processes are forked (Linux)")


def _square_and_pid(value: int) -> tuple[int, int]:
    time.sleep(0.01)  # long enough for a worker to start before this process is done
    return value * value, os.getpid()


@needs_fork
@pytest.mark.parametrize("count", [3, 7, 500])  # pieces of one item, and of several
def test_results_keep_the_order_of_the_items(count: int) -> None:
    results = run_split(_square_and_pid, list(range(count)), jobs=2)
    assert [square for square, _ in results] == [n * n for n in range(count)]
    assert {pid for _, pid in results} - {os.getpid()}, "no work was done by a worker"


@needs_fork
def test_work_a_worker_fails_is_done_here_instead() -> None:
    parent = os.getpid()

    def fails_in_workers(value: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("worker trouble")
        return value + 1

    assert run_split(fails_in_workers, list(range(300)), jobs=2) == list(range(1, 301))


def test_one_job_runs_here() -> None:
    results = run_split(_square_and_pid, [1, 2, 3], jobs=1)
    assert results == [(1, os.getpid()), (4, os.getpid()), (9, os.getpid())]


@needs_fork
def test_parallel_lint_reports_exactly_what_a_sequential_one_does() -> None:
    inputs = Inputs([str(REPO / "examples"), str(REPO / "tests" / "corpus"),
                     str(REPO / "rules")], use_git=False)
    outcomes = []
    for jobs in (1, 2):
        linter = Linter(load_registry(), Settings(), REPO)
        linter.jobs = jobs
        outcomes.append(linter.lint(inputs))
    sequential, parallel = outcomes
    assert len(sequential.findings) > 100  # rules/ holds every rule's bad example
    assert parallel.findings == sequential.findings
    assert (parallel.files, parallel.documents) == (sequential.files, sequential.documents)


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


@needs_fork
def test_a_long_item_does_not_hold_up_the_others() -> None:
    """Pieces are claimed one at a time by whichever process is free: the process busy with
    the long first item takes nothing else while the other does the rest."""
    pids = run_split(_pid_after, [0.8] + [0.01] * 20, jobs=2, pieces_per_job=32)
    assert pids.count(pids[0]) == 1


@needs_fork
def test_a_worker_that_fails_after_sending_much_does_not_hang_the_run() -> None:
    """Results a failed worker sent but nobody read must not keep it from exiting."""
    parent = os.getpid()
    calls = {"count": 0}

    def large_then_fails(value: int) -> str:
        if os.getpid() != parent:
            calls["count"] += 1
            if calls["count"] > 40:
                raise RuntimeError("worker trouble")
        return "x" * 20_000 + str(value)

    results = run_split(large_then_fails, list(range(200)), jobs=2, pieces_per_job=100)
    assert results == ["x" * 20_000 + str(n) for n in range(200)]


@needs_fork
def test_work_is_done_here_when_no_worker_can_start(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("fork: Resource temporarily unavailable")

    monkeypatch.setattr(ProcessPoolExecutor, "submit", refuse)
    results = run_split(_square_and_pid, list(range(40)), jobs=2)
    assert results == [(n * n, os.getpid()) for n in range(40)]


@needs_fork
def test_one_failed_worker_among_several_does_not_stall_the_others() -> None:
    """With three processes, the first worker to start fails and the other finishes: the
    failed one's pieces are redone here at once, not after waiting for them."""
    parent = os.getpid()
    failing = multiprocessing.get_context("fork").Value("i", 0)

    def fails_in_one_worker(value: int) -> int:
        pid = os.getpid()
        if pid != parent:
            with failing.get_lock():
                if failing.value == 0:
                    failing.value = pid
            if failing.value == pid:
                raise RuntimeError("worker trouble")
        time.sleep(0.002)
        return value * 2

    started = time.monotonic()
    assert run_split(fails_in_one_worker, list(range(300)), jobs=3) == \
        [n * 2 for n in range(300)]
    assert failing.value not in (0, parent)  # a worker did fail
    assert time.monotonic() - started < 30  # not the minute a lost piece is waited for
