"""The benchmark script's arithmetic (its figures are quoted in closing notes)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("istiolint_benchmark",
                                                  REPO / "benchmarks" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_ratio_pairs_runs_made_one_after_the_other(bench: ModuleType) -> None:
    # the machine slows down between the second and third pair: each pair still says 1.5x
    runs = {"floor": [1.0, 1.0, 2.0, 2.0, 2.0], "check": [1.5, 1.5, 3.0, 3.0, 3.0]}
    assert bench.paired_ratio(runs, "check", "floor") == pytest.approx(1.5)
    # a slow phase that hits one run of a pair: the medians would say 3.0 / 1.1 = 2.7x
    runs = {"floor": [1.0, 1.1, 2.0], "check": [1.6, 3.0, 3.1]}
    assert bench.paired_ratio(runs, "check", "floor") == pytest.approx(1.6)


def test_runs_are_interleaved_and_failures_stop_the_benchmark(bench: ModuleType) -> None:
    order = [sys.executable, "-c", "import sys, time; print(time.monotonic_ns())"]
    times, outputs = bench.timed_runs({"a": order, "b": order}, 3)
    assert [len(times["a"]), len(times["b"])] == [3, 3]
    assert int(outputs["a"]) < int(outputs["b"])  # the last "a" ran before the last "b"
    with pytest.raises(SystemExit, match="failed"):
        bench.timed_runs({"broken": [sys.executable, "-c", "raise SystemExit(2)"]}, 1)
