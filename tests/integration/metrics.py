"""Metrics the integration tests evaluate; importable by workers as tests.integration.metrics."""

from __future__ import annotations

import math
import os
import signal
import time


def quadratic(assignments: dict) -> float:
    """A smooth bowl with its maximum 0 at x=0.3, y=-1."""
    time.sleep(float(os.environ.get("CELERIAC_TEST_SLEEP", "0.05")))
    return -((assignments["x"] - 0.3) ** 2) - (assignments["y"] + 1) ** 2


def slow(assignments: dict) -> float:
    time.sleep(float(os.environ.get("CELERIAC_TEST_SLEEP", "2")))
    return -abs(assignments["x"])


def flaky(assignments: dict) -> object:
    """Fails in different ways in different regions of x: raise, NaN, garbage, hang."""
    x = assignments["x"]
    if x < -0.6:
        raise ValueError("model diverged")
    if x < -0.2:
        return math.nan
    if x < 0.2:
        return "not a number"
    if x < 0.6:
        time.sleep(30)  # past the 1 s timeout of the flaky config
    return x


def poison(assignments: dict) -> float:
    """Kills its own process every time: the poison-suggestion case."""
    os.kill(os.getpid(), signal.SIGKILL)
    return 0.0


def poison_below_zero(assignments: dict) -> float:
    """A poison suggestion wherever x < 0 (kills its own process every time); fine elsewhere."""
    if assignments["x"] < 0:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(float(os.environ.get("CELERIAC_TEST_SLEEP", "0.2")))
    return assignments["x"]


def training(assignments: dict, run) -> object:
    """A training run of 27 epochs: loss falls towards (x - 0.3)^2 and rises with lr's
    distance from 0.1; it checkpoints every epoch and resumes from its latest checkpoint."""
    x, lr = assignments["x"], assignments.get("lr", 0.1)
    final = (x - 0.3) ** 2 + abs(math.log10(lr / 0.1)) * 0.1
    state = run.load_checkpoint() or {"epochs_trained": 0, "pids": []}
    state["pids"].append(os.getpid())
    pause = float(os.environ.get("CELERIAC_TEST_EPOCH_SECONDS", "0"))
    loss = None
    for epoch in range(int(run.start_step) + 1, 28):
        time.sleep(pause)
        loss = final + 1.0 / epoch
        state["epochs_trained"] += 1
        run.save_checkpoint(epoch, state)
        if not run.report(epoch, loss):
            break
    return None if loss is None else {"loss": loss}


def bad_reports(assignments: dict, run) -> object:
    """Reports one good step, then the mistake its `mistake` assignment names: a step that goes
    back, a NaN, or a metric the experiment does not have."""
    run.report(2, 0.5)
    mistake = assignments["mistake"]
    if mistake == "backward":
        run.report(1, 0.4)
    elif mistake == "nan":
        run.report(3, math.nan)
    else:
        run.report(3, accuracy=0.9)
    return 0.1


def grid_cell(assignments: dict) -> float:
    """A metric of a categorical `x` and an int `n`, for spaces of a few points."""
    time.sleep(float(os.environ.get("CELERIAC_TEST_SLEEP", "0.05")))
    return "abc".index(assignments["x"]) + 0.1 * assignments["n"]


def branches(assignments: dict) -> float:
    """A conditional space: `C` exists for the svm branch only, `depth` for the tree one."""
    if assignments["model"] == "svm":
        assert "depth" not in assignments
        return -((assignments["C"] - 3.0) ** 2) / 10 - 0.5
    assert "C" not in assignments
    return -((assignments["depth"] - 7) ** 2) / 10 - (assignments["lr"] - 0.6) ** 2
