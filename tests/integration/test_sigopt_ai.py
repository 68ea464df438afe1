"""SigOpt's AI module and CLI (`sigopt create experiment`, `sigopt start-worker`) against a real
`coordinator serve`."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.integration.api_fixtures import *  # noqa: F403
from tests.integration.processes import coordinator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

EXPERIMENT_YML = """
name: cli experiment
parameters:
  - name: lr
    type: double
    bounds: {min: 0.001, max: 1}
    transformation: log
  - name: depth
    type: int
    bounds: {min: 1, max: 8}
metrics:
  - name: score
    objective: maximize
budget: 8
parallel_bandwidth: 3
"""

RUN_MODEL = """
import sigopt
sigopt.log_metric("score", sigopt.params.lr * sigopt.params.depth)
"""


def test_loop_from_several_threads_stops_at_the_budget_and_every_run_ends_observed(
        api, sigopt_module):
    experiment = sigopt_module.create_experiment(
        name="ai loop", parameters=[{"name": "x", "type": "double",
                                     "bounds": {"min": 0, "max": 1}}],
        metrics=[{"name": "acc", "objective": "maximize"},
                 {"name": "loss", "objective": "minimize", "strategy": "constraint",
                  "threshold": 0.5}],
        budget=12, parallel_bandwidth=3)

    def work() -> None:
        for run in experiment.loop():
            with run:
                run.log_metric("acc", run.params.x)
                run.log_metric("loss", 1 - run.params.x)
    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    experiment.refresh()
    progress = experiment.progress
    assert progress.remaining_budget == 0 and progress.active_run_count == 0
    assert 12 <= progress.finished_run_count <= 12 + 3 - 1
    observations = api.service.observations(experiment.id)
    assert len(observations) == progress.finished_run_count
    assert not any(o.failed for o in observations)
    best = list(experiment.get_best_runs())
    assert len(best) == 1 and best[0].state == "completed"
    assert best[0].values["loss"].value <= 0.5
    assert best[0].values["acc"].value == max(o.value_of("acc") for o in observations
                                              if o.value_of("loss") <= 0.5)


def test_a_run_that_misses_a_metric_or_fails_becomes_a_failed_observation(api, sigopt_module):
    experiment = sigopt_module.create_experiment(
        name="ai failures", parameters=[{"name": "x", "type": "double",
                                         "bounds": {"min": 0, "max": 1}}],
        metrics=[{"name": "acc"}, {"name": "size", "strategy": "store"}], budget=3)
    with experiment.create_run() as run:
        run.log_metric("acc", 0.5)  # size never logged
    with pytest.raises(RuntimeError):
        with experiment.create_run() as run:
            raise RuntimeError("training diverged")
    with experiment.create_run() as run:
        run.log_metrics({"acc": 0.7, "size": 3})
        run.log_metadata("note", "kept")
    fetched = sigopt_module.get_run(run.id)
    assert fetched.state == "completed" and fetched.metadata["note"] == "kept"
    failed = [o.failed for o in api.service.observations(experiment.id)]
    assert failed == [True, True, False]
    assert experiment.is_finished()
    assert sorted(r.state for r in experiment.get_runs()) == ["completed", "completed", "failed"]


def test_cli_workers_in_parallel_finish_every_run_with_values_within_the_budget(
        api, tmp_path: Path):
    env = api.client_env("cli-project")
    (tmp_path / "experiment.yml").write_text(EXPERIMENT_YML)
    (tmp_path / "run-model.py").write_text(RUN_MODEL)
    sigopt_cli = str(Path(sys.executable).parent / "sigopt")
    created = subprocess.run([sigopt_cli, "create", "experiment"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    experiment_id = created.stdout.split("sigopt start-worker ")[1].split()[0]
    workers = [subprocess.Popen([sigopt_cli, "start-worker", experiment_id, sys.executable,
                                 "run-model.py"], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True) for _ in range(3)]
    for worker in workers:
        worker.communicate(timeout=120)
        assert worker.returncode == 0
    with httpx.Client(base_url=api.url, auth=(api.token, "")) as http:
        progress = http.get(f"/v1/aiexperiments/{experiment_id}").json()["progress"]
    assert progress["remaining_budget"] == 0 and progress["active_run_count"] == 0
    assert 8 <= progress["finished_run_count"] <= 8 + 3 - 1
    observations = api.service.observations(experiment_id)
    assert len(observations) == progress["finished_run_count"]
    assert all(not o.failed and o.value_of("score") == pytest.approx(
        o.assignments["lr"] * o.assignments["depth"]) for o in observations)
    listed = coordinator(["list"], {**env, "CELERIAC_REDIS_URL": api.redis_url}).stdout
    assert f"{experiment_id}\tcli experiment\t{len(observations)}/8" in listed
