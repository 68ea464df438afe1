"""Flower against real workers running a real experiment: `celery -A worker flower` works with
the worker's settings, and its HTTP API shows the workers and every evaluate task with the
experiment and suggestion it belongs to, behind basic auth."""

from __future__ import annotations

import ast
import signal
import subprocess
import sys

import httpx
import pytest

from tests.integration.processes import ROOT, coordinator, end_group, free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

CONFIG = """
name: flower quadratic
parameters:
  - {name: x, type: double, bounds: {min: -2, max: 2}}
  - {name: y, type: double, bounds: {min: -3, max: 1}}
metrics: [{name: value}]
budget: 5
parallel_bandwidth: 2
evaluate: tests.integration.metrics:quadratic
optimizer: {type: random, seed: 2}
"""
AUTH = ("monitor", "s3cret-pass")


@pytest.fixture
def flower(env, tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker", "flower", "--address=127.0.0.1",
         f"--port={port}", f"--basic_auth={AUTH[0]}:{AUTH[1]}", "--purge_offline_workers=600"],
        cwd=ROOT, env=env, stdout=open(tmp_path / "flower.log", "ab"),
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert process.poll() is None, (tmp_path / "flower.log").read_text()[-2000:]
        try:
            return httpx.get(f"{url}/healthcheck", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, 30, what="flower to answer /healthcheck")
    yield url
    end_group(process, sig=signal.SIGTERM)


def workers_seen(url: str) -> set[str]:
    response = httpx.get(f"{url}/api/workers", params={"refresh": "1"}, auth=AUTH, timeout=10)
    response.raise_for_status()
    return set(response.json())


def evaluate_tasks(url: str, search: str | None = None) -> list[dict]:
    params = {"taskname": "celeriac.evaluate", **({"search": search} if search else {})}
    response = httpx.get(f"{url}/api/tasks", params=params, auth=AUTH, timeout=10)
    response.raise_for_status()
    return list(response.json().values())


def test_flower_shows_the_workers_and_each_evaluate_task_with_its_experiment_and_suggestion(
        env, tmp_path, start_worker, service, flower):
    assert httpx.get(f"{flower}/api/workers", timeout=5).status_code == 401
    start_worker("alpha")
    start_worker("beta")
    wait_until(lambda: {n.split("@")[0] for n in workers_seen(flower)} >= {"alpha", "beta"},
               40, interval=0.5, what="both workers in flower")
    config = tmp_path / "exp.yml"
    config.write_text(CONFIG)
    experiment_id = coordinator(["create", str(config)], env).stdout.split()[-1]
    coordinator(["run", experiment_id], env, timeout=120)
    suggestions = {o.suggestion for o in service.observations(experiment_id)}
    assert len(suggestions) == 5

    def succeeded() -> list[dict]:
        tasks = [t for t in evaluate_tasks(flower) if t["state"] == "SUCCESS"]
        return tasks if len(tasks) >= 5 else []

    tasks = wait_until(succeeded, 20, interval=0.5, what="five successful tasks in flower")
    kwargs = [ast.literal_eval(t["kwargs"]) for t in tasks]
    assert {k["experiment_id"] for k in kwargs} == {experiment_id}
    assert {k["suggestion_id"] for k in kwargs} == suggestions
    assert {t["worker"].split("@")[0] for t in tasks} <= {"alpha", "beta"}
    found = evaluate_tasks(flower, f"kwargs:experiment_id={experiment_id}")
    assert len(found) == len(tasks)
    assert evaluate_tasks(flower, f"kwargs:experiment_id={experiment_id}999") == []
