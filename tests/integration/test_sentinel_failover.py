"""High availability: the state Redis behind Sentinel, its primary killed mid-run. The run
finishes on the promoted replica, every observation recorded before the kill is still there,
and the fault suite's invariants hold (nothing lost, nothing counted twice)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.infra.connection import connect
from coordinator.service.experiments import Service
from coordinator.state.store import Store
from tests.integration.processes import running, wait_until
from tests.integration.sentinel import SentinelGroup
from tests.integration.test_faults import restart_mid_run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelGroup]:
    with running(SentinelGroup(tmp_path / "ha")) as group:
        yield group


@pytest.fixture
def env(env: dict[str, str], sentinels: SentinelGroup) -> dict[str, str]:
    """Every process of the test finds the state Redis (and the broker) through Sentinel."""
    return {**env, "CELERIAC_REDIS_URL": sentinels.url}


@pytest.fixture
def ha_service(sentinels: SentinelGroup) -> Service:
    return Service(Store(connect(sentinels.url)))


def test_the_store_waits_for_the_replica_through_sentinel(ha_service):
    assert ha_service.store.replication.replicas == 1


def test_killing_the_primary_mid_run_fails_over_and_loses_no_acknowledged_observation(
        env, tmp_path, ha_service, start_worker, sentinels):
    def fail_over() -> None:
        sentinels.primary.stop(signal.SIGKILL)
        wait_until(lambda: sentinels.current_primary() == sentinels.replica.port, 30,
                   what="the sentinels to promote the replica")

    restart_mid_run(env, tmp_path, ha_service, start_worker, fail_over)
