"""A user's whole path through the CLI, with real Redis and real Celery worker processes."""

from __future__ import annotations

import csv
import io
import json
import signal
import time
from pathlib import Path

import pytest

from tests.integration.processes import coordinator, end_group, start_coordinator, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "exp.yml"
    path.write_text(body)
    return path


QUADRATIC = """
name: quadratic
parameters:
  - {name: x, type: double, bounds: {min: -2, max: 2}}
  - {name: y, type: double, bounds: {min: -3, max: 1}}
metrics: [{name: value, objective: maximize}]
budget: 12
parallel_bandwidth: 3
evaluate: tests.integration.metrics:quadratic
optimizer: {type: bayes, seed: 3}
"""


def test_run_with_local_workers_finishes_the_budget_and_exports_every_observation(
        env, tmp_path, service):
    config = write_config(tmp_path, QUADRATIC)
    result = coordinator(["run", str(config), "--workers", "2"], env, timeout=200)
    assert "finished: 12 observations, 0 failed" in result.stdout
    assert "best: value=" in result.stdout
    experiment_id = service.experiments()[0].id
    rows = list(csv.DictReader(io.StringIO(
        coordinator(["export", experiment_id, "--format", "csv"], env).stdout)))
    assert len(rows) == 12
    assert len({(r["param.x"], r["param.y"]) for r in rows}) == 12
    assert all(r["hostname"] and r["failed"] == "False" for r in rows)
    assert not service.store.open_ids(experiment_id)


def test_create_then_run_with_separately_started_workers_reports_best_and_status(
        env, tmp_path, start_worker):
    config = write_config(tmp_path, QUADRATIC)
    created = coordinator(["create", str(config)], env)
    experiment_id = created.stdout.strip().splitlines()[-1]
    assert experiment_id.isdigit()
    start_worker()
    start_worker()
    coordinator(["run", experiment_id], env, timeout=200)
    status = json.loads(coordinator(["status", experiment_id, "--json"], env).stdout)
    assert status["observations"] == 12 and status["open"] == 0
    best = json.loads(coordinator(["best", experiment_id, "--json"], env).stdout)
    values = [o["values"][0]["value"] for o in json.loads(
        coordinator(["export", experiment_id, "--format", "json"], env).stdout)]
    assert best[0]["values"][0]["value"] == max(values)
    assert experiment_id in coordinator(["list"], env).stdout


FLAKY = """
name: flaky
parameters: [{name: x, type: double, bounds: {min: -1, max: 1}}]
metrics: [{name: value}]
budget: 10
parallel_bandwidth: 2
timeout: 1
evaluate: tests.integration.metrics:flaky
optimizer: {type: sobol, seed: 1}
"""


def test_metrics_that_raise_return_nan_or_hang_become_failed_observations_with_reasons(
        env, tmp_path, start_worker, service):
    config = write_config(tmp_path, FLAKY)
    worker, _ = start_worker(), start_worker()  # the hangs (6 s each) run two at a time
    coordinator(["run", str(config)], env, timeout=200)
    experiment_id = service.experiments()[0].id
    observations = service.observations(experiment_id)
    assert len(observations) == 10
    reasons = " ".join(o.reason for o in observations if o.failed)
    assert "model diverged" in reasons
    assert "not a finite number" in reasons
    assert "timeout" in reasons
    assert all(o.values for o in observations if not o.failed)
    assert worker.alive()


def test_ctrl_c_stops_dispatching_and_a_second_run_continues_to_exactly_the_budget(
        env, tmp_path, start_worker, service):
    config = write_config(tmp_path, QUADRATIC.replace("budget: 12", "budget: 10"))
    experiment_id = coordinator(["create", str(config)], env).stdout.split()[-1]
    start_worker(extra_env={"CELERIAC_TEST_SLEEP": "0.4"})
    run = start_coordinator(["run", experiment_id], env, tmp_path / "run1.log")
    wait_until(lambda: service.store.counts(experiment_id).observations >= 3, 60,
               what="three observations")
    run.send_signal(signal.SIGINT)
    assert run.wait(timeout=30) == 0
    assert "continues" in (tmp_path / "run1.log").read_text()
    wait_until(lambda: service.store.counts(experiment_id).open == 0, 30,
               what="in-flight suggestions to finish")
    time.sleep(1.0)
    stalled = service.store.counts(experiment_id)
    assert stalled.observations < 10 and stalled.open == 0  # nothing new was dispatched
    coordinator(["run", experiment_id], env, timeout=200)
    assert service.store.counts(experiment_id).observations == 10
    end_group(run)
