"""Fixtures that own real servers and processes: each test gets its own redis-server on a free
127.0.0.1 port, and every worker or coordinator it starts is ended by process group."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.infra.connection import connect
from coordinator.service.experiments import Service
from coordinator.state.store import Store
from tests.integration.processes import RedisServer, Worker

FAST_TIMING = {"CELERIAC_LEASE_TTL": "3", "CELERIAC_SWEEP_INTERVAL": "0.5",
               "CELERIAC_CLAIM_TIMEOUT": "10"}


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    try:
        server.start()
    except Exception as exc:  # fail, never skip: CI must have Redis
        pytest.fail(f"cannot start redis-server: {exc}")
    yield server
    server.stop()


@pytest.fixture
def env(redis_server: RedisServer, tmp_path: Path) -> dict[str, str]:
    """Environment for every process of the test: its Redis, fast leases, a private home."""
    values = {**os.environ, "CELERIAC_REDIS_URL": redis_server.url,
              "CELERIAC_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1", **FAST_TIMING}
    values.pop("COLUMNS", None)
    values.pop("CELERIAC_BROKER_URL", None)  # the state Redis is the broker unless a test says
    return values


@pytest.fixture
def service(redis_server: RedisServer) -> Service:
    return Service(Store(connect(redis_server.url)))


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[list[Worker]]:
    """Call `start_worker(...)`-style: append Worker objects; all are stopped at the end."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture
def start_worker(env: dict[str, str], tmp_path: Path, workers: list[Worker]):
    def start(name: str | None = None, concurrency: int = 1, extra_env: dict[str, str] | None
              = None) -> Worker:
        name = name or f"w{len(workers) + 1}"
        worker = Worker({**env, **(extra_env or {})}, tmp_path / f"{name}.log", name,
                        concurrency)
        workers.append(worker)
        return worker
    return start
