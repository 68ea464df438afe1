"""State and broker apart: experiments whose tasks travel over RabbitMQ (CELERIAC_BROKER_URL)
while the state stays in Redis, with the fault suite's invariants at the end: a worker killed
mid-evaluation and a broker restarted mid-run lose nothing and count nothing twice."""

from __future__ import annotations

from collections.abc import Iterator

import kombu
import pytest

from tests.integration.invariants import assert_invariants
from tests.integration.processes import coordinator
from tests.integration.rabbitmq import RabbitMQ, require_rabbitmq
from tests.integration.test_faults import (
    create,
    finish,
    kill_a_worker_mid_evaluation,
    restart_mid_run,
    run_in_background,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def rabbitmq_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitMQ]:
    """One RabbitMQ for the module (it takes seconds to start), emptied before each test."""
    require_rabbitmq()
    server = RabbitMQ(tmp_path_factory.mktemp("rabbitmq"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def rabbitmq(rabbitmq_server: RabbitMQ) -> RabbitMQ:
    with kombu.Connection(rabbitmq_server.url) as connection:
        channel = connection.default_channel
        channel.queue_declare("celeriac", durable=True, auto_delete=False)  # as Celery does
        channel.queue_purge("celeriac")  # nothing left over from the test before
    return rabbitmq_server


@pytest.fixture
def env(env: dict[str, str], rabbitmq: RabbitMQ) -> dict[str, str]:
    """Every process of the test: state in the test's Redis, tasks over its RabbitMQ."""
    return {**env, "CELERIAC_BROKER_URL": rabbitmq.url}


def test_an_experiment_runs_over_rabbitmq_and_the_state_redis_holds_no_broker_keys(
        env, tmp_path, service, start_worker, redis_server, rabbitmq):
    experiment = create(service, budget=6)
    for _ in range(2):
        start_worker(extra_env={"CELERIAC_TEST_SLEEP": "0.2"})
    finish(run_in_background(experiment, env, tmp_path), tmp_path)
    assert_invariants(service, experiment.id, 6)
    assert redis_server.client().keys("celeriac:broker:*") == []
    assert redis_server.client().keys("_kombu*") == []
    with kombu.Connection(rabbitmq.url) as connection:  # the queue is RabbitMQ's, now empty
        declared = connection.default_channel.queue_declare("celeriac", passive=True)
    assert declared.message_count == 0
    assert "6" in coordinator(["status", experiment.id], env).stdout


def test_killing_a_worker_mid_evaluation_over_rabbitmq_reruns_its_suggestion_once(
        env, tmp_path, service, start_worker):
    """RabbitMQ redelivers the dead worker's unacknowledged message at once; the claim fences
    it until the lease expires, then the sweeper's requeue or the redelivery runs it once."""
    kill_a_worker_mid_evaluation(env, tmp_path, service, start_worker)


def test_restarting_rabbitmq_mid_run_loses_nothing_and_the_experiment_finishes(
        env, tmp_path, service, start_worker, rabbitmq):
    restart_mid_run(env, tmp_path, service, start_worker, rabbitmq.restart)
