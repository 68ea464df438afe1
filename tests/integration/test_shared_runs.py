"""Several `coordinator run` processes on one experiment share its bandwidth: the open
suggestions never exceed `parallel_bandwidth`, the budget is met exactly, and every run exits
cleanly (the take script refuses past the bandwidth and the budget, whoever asks)."""

from __future__ import annotations

import threading

import pytest

from tests.integration.invariants import assert_invariants
from tests.integration.test_faults import create, finish, run_in_background

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_three_runs_on_one_experiment_never_exceed_its_bandwidth(
        env, tmp_path, service, start_worker):
    experiment = create(service, budget=12, bandwidth=2)
    for _ in range(4):  # more workers than the bandwidth: only the take limits
        start_worker(extra_env={"CELERIAC_TEST_SLEEP": "0.3"})
    peak, done = [0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], service.store.counts(experiment.id).open)
            done.wait(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    runs = [run_in_background(experiment, env, tmp_path, f"run{i}") for i in range(3)]
    try:
        for i, run in enumerate(runs):
            finish(run, tmp_path, f"run{i}")
    finally:
        done.set()
        watcher.join(timeout=5)
    assert_invariants(service, experiment.id, 12)
    assert 1 <= peak[0] <= 2, f"{peak[0]} suggestions open at once, bandwidth 2"
