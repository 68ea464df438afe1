"""One client shared by many threads, each blocked in a call (a threads-pool worker's
evaluations, an API server's requests, many experiments' runs in one process): redis-py 8
caps a pool at 100 connections and raises past it, so `connect` sets Redis's own limit."""

from __future__ import annotations

import threading

import pytest

from coordinator.infra.connection import connect

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_two_hundred_threads_blocked_at_once_on_one_client(redis_server):
    client = connect(redis_server.url)
    errors: list[BaseException] = []
    barrier = threading.Barrier(200)

    def wait() -> None:
        try:
            barrier.wait(timeout=20)
            client.blpop(["celeriac:test:never"], timeout=1)  # holds its connection 1 s
        except BaseException as exc:  # noqa: BLE001 - any failure fails the test
            errors.append(exc)

    threads = [threading.Thread(target=wait) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert int(client.info("clients")["connected_clients"]) >= 200
