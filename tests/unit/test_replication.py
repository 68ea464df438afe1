"""How durable writes wait for replicas: only through Sentinel by default, set by the
environment, and paused after a wait the replicas did not answer."""

from __future__ import annotations

import pytest

from coordinator.errors import ConfigError, InvalidInput
from coordinator.state import replication
from coordinator.state.replication import REPLICAS_ENV, TIMEOUT_ENV, Replication


def test_a_single_redis_waits_for_nothing(fake_redis, monkeypatch):
    monkeypatch.delenv(REPLICAS_ENV, raising=False)
    wanted = Replication.for_client(fake_redis)
    assert wanted.replicas == 0 and not wanted.waiting()


def test_the_environment_sets_the_replicas_and_the_timeout(fake_redis, monkeypatch):
    monkeypatch.setenv(REPLICAS_ENV, "2")
    monkeypatch.setenv(TIMEOUT_ENV, "250")
    wanted = Replication.for_client(fake_redis)
    assert (wanted.replicas, wanted.timeout_ms) == (2, 250) and wanted.waiting()


def test_a_bad_setting_is_one_line_naming_the_variable(fake_redis, monkeypatch):
    monkeypatch.setenv(TIMEOUT_ENV, "soon")
    with pytest.raises(InvalidInput) as caught:
        Replication.for_client(fake_redis)
    assert str(caught.value) == "CELERIAC_REDIS_WAIT_MS: must be a whole number of " \
                                "milliseconds from 1 to 60000, got 'soon'"
    monkeypatch.setenv(TIMEOUT_ENV, "0")
    with pytest.raises(InvalidInput, match="from 1 to 60000 milliseconds, got 0"):
        Replication.for_client(fake_redis)


def test_a_short_wait_pauses_waiting_and_is_counted(monkeypatch, caplog):
    clock = [100.0]
    monkeypatch.setattr(replication.time, "monotonic", lambda: clock[0])
    wanted = Replication(replicas=1)
    wanted.record(1)
    assert wanted.waiting() and wanted.short == 0
    wanted.record(0)
    assert not wanted.waiting() and wanted.short == 1
    assert "reached 0 of 1 replicas" in caplog.text
    clock[0] += replication.DEGRADED_PAUSE
    assert wanted.waiting()


def test_waiting_for_replicas_on_a_cluster_is_refused_by_name(monkeypatch):
    from redis.cluster import RedisCluster

    client = RedisCluster.__new__(RedisCluster)  # no connection: only its kind is looked at
    monkeypatch.setenv("CELERIAC_REDIS_WAIT_REPLICAS", "1")
    with pytest.raises(ConfigError, match="CELERIAC_REDIS_WAIT_REPLICAS"):
        Replication.for_client(client)
    monkeypatch.delenv("CELERIAC_REDIS_WAIT_REPLICAS")
    assert Replication.for_client(client).replicas == 0
