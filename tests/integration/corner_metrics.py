"""Evaluations that misbehave in the ways tests/integration/test_worker_corners.py checks; the
`case` assignment picks one. Importable by workers as tests.integration.corner_metrics."""

from __future__ import annotations

import ctypes
import math
import os
import signal
import time


def corner(assignments: dict) -> object:
    case = assignments["case"]
    if case == "print_50mb":
        for i in range(50):
            print(f"{i:02d}" + "x" * (1 << 20))
        print("printed 50 MB")
        return 2.0
    if case == "segfault":
        print("about to read address 0", flush=True)
        ctypes.string_at(0)  # a real segmentation fault of the pool child
    if case.startswith("stubborn"):
        return stubborn(assignments)
    returns = {"inf": math.inf, "bool": True, "none": None,
               "huge_dict": {f"k{i}": i for i in range(10_000)}}
    return returns.get(case, 1.0)


def stubborn(assignments: dict) -> float:
    """Ignores SIGTERM and SIGINT, as some training code does, and runs long."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print(f"stubborn evaluation in pid {os.getpid()}", flush=True)
    time.sleep(float(os.environ.get("CELERIAC_TEST_SLEEP", "300")))
    return 1.0
