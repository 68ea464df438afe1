"""The state of many experiments on a Redis Cluster (three local nodes; the broker is a plain
Redis beside it, CELERIAC_BROKER_URL). Each experiment's keys share a hash tag, so its scripts
run within one slot and experiments spread over the nodes; experiments on different nodes run
at once with real workers, and the fault suite's invariants hold, a worker killed
mid-evaluation included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.crc import key_slot

from coordinator.infra.connection import connect
from coordinator.service.experiments import Service
from coordinator.state import keys
from coordinator.state.store import Store
from tests.integration.cluster import RedisClusterGroup
from tests.integration.invariants import assert_invariants
from tests.integration.processes import coordinator, running
from tests.integration.test_faults import (
    create,
    finish,
    kill_a_worker_mid_evaluation,
    run_in_background,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[RedisClusterGroup]:
    with running(RedisClusterGroup(tmp_path / "cluster")) as group:
        yield group


@pytest.fixture
def env(env: dict[str, str], redis_cluster: RedisClusterGroup) -> dict[str, str]:
    """Every process of the test: state on the cluster, tasks over the test's plain Redis."""
    return {**env, "CELERIAC_BROKER_URL": env["CELERIAC_REDIS_URL"],
            "CELERIAC_REDIS_URL": redis_cluster.url}


@pytest.fixture
def service(redis_cluster: RedisClusterGroup) -> Service:
    return Service(Store(connect(redis_cluster.url)))


def test_experiments_on_different_nodes_run_at_once_with_real_workers(
        env, tmp_path, service, start_worker, redis_cluster, redis_server):
    experiments = [create(service, budget=4) for _ in range(3)]
    homes = {redis_cluster.port_of(key_slot(keys.ExperimentKeys(e.id).meta.encode()))
             for e in experiments}
    assert len(homes) >= 2  # the hash tags put them on different nodes
    for _ in range(2):
        start_worker(extra_env={"CELERIAC_TEST_SLEEP": "0.2"})
    runs = [run_in_background(e, env, tmp_path, name=f"run{e.id}") for e in experiments]
    for experiment, run in zip(experiments, runs, strict=True):
        finish(run, tmp_path, name=f"run{experiment.id}")
        assert_invariants(service, experiment.id, 4)
    assert redis_server.client().keys("celeriac:{exp:*") == []  # no state on the broker
    listed = coordinator(["list"], env).stdout
    assert all(f"{e.id}\t" in listed for e in experiments)
    shown = coordinator(["status", experiments[0].id], env).stdout
    assert "4 observations" in shown or "4/4" in shown, shown


def test_killing_a_worker_mid_evaluation_on_a_cluster_reruns_its_suggestion_once(
        env, tmp_path, service, start_worker):
    kill_a_worker_mid_evaluation(env, tmp_path, service, start_worker)


def test_a_cluster_without_a_broker_of_its_own_is_refused_in_one_line(env, service):
    experiment = create(service, budget=2)
    bare = {k: v for k, v in env.items() if k != "CELERIAC_BROKER_URL"}
    done = coordinator(["run", experiment.id], bare, check=False)
    assert done.returncode != 0
    assert "CELERIAC_BROKER_URL" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
