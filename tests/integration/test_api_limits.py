"""Limits on real `coordinator serve` processes: two servers on one Redis share each token's
rate limit, the official sigopt client rides out 429s with its own back-off, and oversized
bodies get 413 from uvicorn whether declared or streamed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sigopt import Connection

from coordinator.infra.connection import connect
from coordinator.state.tokens import Tokens
from tests.integration.processes import ROOT, RedisServer, free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

LIMITS = ["--rate-limit", "1/s", "--burst", "3", "--max-body-bytes", "4096", "--no-refill"]


class Serve:
    """`coordinator serve` with the given limits, in its own process group."""

    def __init__(self, redis_url: str, log: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "coordinator", "--redis-url", redis_url, "serve",
             "--port", self.url.rsplit(":", 1)[1], *LIMITS],
            cwd=ROOT, env={**os.environ, "CELERIAC_HOME": str(log.parent)},
            stdout=open(log, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"coordinator serve exited: {self.log.read_text()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


@pytest.fixture
def servers(redis_server: RedisServer, tmp_path: Path) -> Iterator[list[Serve]]:
    started = [Serve(redis_server.url, tmp_path / f"serve{i}.log") for i in range(2)]
    try:
        for server in started:
            wait_until(server.healthy, 30, what=f"coordinator serve at {server.url}")
        yield started
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def token(redis_server: RedisServer) -> str:
    return Tokens(connect(redis_server.url)).create("default")[0]


def test_two_servers_share_a_tokens_bucket_and_answer_429_as_sigopt_does(servers, token):
    first, second = servers
    auth = (token, "")
    answers = [httpx.get(f"{first.url}/v1/tokens/self", auth=auth) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    refused = httpx.get(f"{second.url}/v1/tokens/self", auth=auth)
    assert refused.status_code == 429
    assert refused.json() == {"message": refused.json()["message"], "status": 429}
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-content-type-options"] == "nosniff"


def test_the_official_client_retries_through_429s_and_every_call_succeeds(servers, token):
    statuses: list[int] = []
    conn = Connection(client_token=token)
    conn.set_api_url(servers[0].url)
    conn.impl.driver.session.hooks["response"].append(
        lambda response, *args, **kwargs: statuses.append(response.status_code))
    experiment = conn.experiments().create(name="limited", parameters=[
        {"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}],
        metrics=[{"name": "v"}], observation_budget=3)
    for _ in range(3):
        suggestion = conn.experiments(experiment.id).suggestions().create()
        conn.experiments(experiment.id).observations().create(
            suggestion=suggestion.id, value=suggestion.assignments["x"])
    assert conn.experiments(experiment.id).fetch().progress.observation_count == 3
    assert 429 in statuses and statuses[-1] == 200


def test_bodies_over_the_limit_get_413_declared_or_streamed(servers, token):
    url = f"{servers[0].url}/v1/experiments"
    declared = httpx.post(url, content=b" " * 5000, auth=(token, ""))
    assert declared.status_code == 413 and declared.json()["status"] == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 1000

    streamed = httpx.post(url, content=chunks(), auth=(token, ""))
    assert streamed.status_code == 413 and "larger than" in streamed.json()["message"]
