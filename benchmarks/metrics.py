"""Metrics used by the benchmarks (importable by workers as benchmarks.metrics)."""

from __future__ import annotations

import math
import os
import time


def sleep_branin(assignments: dict) -> float:
    """Branin, after sleeping CELERIAC_BENCH_SLEEP seconds (a stand-in for training)."""
    time.sleep(float(os.environ.get("CELERIAC_BENCH_SLEEP", "1")))
    x, y = assignments["x"], assignments["y"]
    return ((y - 5.1 / (4 * math.pi ** 2) * x ** 2 + 5 / math.pi * x - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10)


def noop(assignments: dict) -> float:
    return 0.0


def noop_slow(assignments: dict) -> float:
    """A short metric (CELERIAC_BENCH_SLEEP, default 0.1 s) for the shared-pool benchmark."""
    time.sleep(float(os.environ.get("CELERIAC_BENCH_SLEEP", "0.1")))
    return 0.0
