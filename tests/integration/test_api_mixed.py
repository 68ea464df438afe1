"""One store, one state machine: the HTTP API and the Celery dispatcher serve one experiment at
the same time, and what either creates is visible to the other and to the CLI."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sigopt import Connection

from tests.integration.api_fixtures import ApiServer
from tests.integration.processes import coordinator, end_group, start_coordinator, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

BUDGET = 24


def api_worker(conn: Connection, eid: str, mine: list[str]) -> None:
    while conn.experiments(eid).fetch().progress.observation_count < BUDGET:
        s = conn.experiments(eid).suggestions().create()
        mine.append(s.id)
        conn.experiments(eid).observations().create(
            suggestion=s.id, value=-(s.assignments["x"] - 0.3) ** 2 - (s.assignments["y"] + 1)
            ** 2, metadata={"via": "api"})


def test_api_clients_and_celery_workers_share_one_experiment_without_double_counting(
        redis_server, env, start_worker, tmp_path: Path):
    api = ApiServer(redis_server.url, tmp_path / "server")
    try:
        conn = Connection(client_token=api.token)
        conn.set_api_url(api.url)
        experiment = conn.experiments().create(
            name="mixed", parameters=[{"name": "x", "type": "double",
                                       "bounds": {"min": -2, "max": 2}},
                                      {"name": "y", "type": "double",
                                       "bounds": {"min": -3, "max": 1}}],
            metrics=[{"name": "value"}], observation_budget=BUDGET, parallel_bandwidth=2,
            evaluate="tests.integration.metrics:quadratic")
        assert experiment.id in coordinator(["list"], env).stdout
        start_worker()
        runner = start_coordinator(["run", experiment.id], env, tmp_path / "run.log")
        wait_until(lambda: api.service.store.counts(experiment.id).observations >= 2, 60,
                   what="the Celery worker's first observations")
        mine: list[str] = []
        threads = [threading.Thread(target=api_worker, args=(conn, experiment.id, mine))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(100)
        assert runner.wait(timeout=100) == 0
    finally:
        if "runner" in locals():
            end_group(runner)
        api.stop()
    observations = api.service.observations(experiment.id)
    via_api = [o for o in observations if o.metadata.get("via") == "api"]
    via_celery = [o for o in observations if o.metadata.get("via") != "api"]
    assert via_api and via_celery
    assert sorted(o.suggestion for o in via_api) == sorted(mine)
    suggestion_ids = [o.suggestion for o in observations]
    assert len(suggestion_ids) == len(set(suggestion_ids))
    assert BUDGET <= len(observations) <= BUDGET + 2 + 2
    status = json.loads(coordinator(["status", experiment.id, "--json"], env).stdout)
    assert status["observations"] == len(observations)
