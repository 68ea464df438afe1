"""Fixtures for the HTTP API tests: a real redis-server and a real `coordinator serve` process
per test module (both ended by process group), a token, and the official client's env.

Import them in a test module with `from tests.integration.api_fixtures import *  # noqa`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from coordinator.infra.connection import connect
from coordinator.service.experiments import Service
from coordinator.state.store import Store
from coordinator.state.tokens import Tokens
from tests.integration.processes import ROOT, RedisServer, free_port, wait_until

__all__ = ["api", "sigopt_env", "sigopt_module", "ApiServer"]


class ApiServer:
    """`python -m coordinator --redis-url URL serve --port P` in its own process group."""

    def __init__(self, redis_url: str, home: Path) -> None:
        self.redis_url = redis_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "serve.log"
        home.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "CELERIAC_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        self.service = Service(Store(connect(redis_url)))
        self.token = Tokens(self.service.store.redis).create("default")[0]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "coordinator", "--redis-url", redis_url, "serve",
             "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=open(self.log_path, "ab"),
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        wait_until(self.healthy, 30, what=f"coordinator serve on port {self.port}")

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"coordinator serve exited: {self.log_path.read_text()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def client_env(self, project: str = "celeriac-tests") -> dict[str, str]:
        """Environment for the official sigopt client and its CLI."""
        return {**self.env, "SIGOPT_API_URL": self.url, "SIGOPT_API_TOKEN": self.token,
                "SIGOPT_PROJECT": project, "CELERIAC_REDIS_URL": self.redis_url}

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(self.token, ""), timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the refill child, if left behind
        except ProcessLookupError:
            pass
        self.process.wait(timeout=5)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """One Redis and one API server for a test module; tests use fresh experiments."""
    home = tmp_path_factory.mktemp("api")
    redis_server = RedisServer(home / "redis")
    try:
        redis_server.start()
    except Exception as exc:  # fail, never skip: CI must have Redis
        pytest.fail(f"cannot start redis-server: {exc}")
    server = None
    try:
        server = ApiServer(redis_server.url, home / "server")
        yield server
    finally:
        if server is not None:
            server.stop()
        redis_server.stop()


@pytest.fixture
def sigopt_env(api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Points the official client in this process at the server."""
    env = api.client_env()
    for name in ("SIGOPT_API_URL", "SIGOPT_API_TOKEN", "SIGOPT_PROJECT"):
        monkeypatch.setenv(name, env[name])
    return env


@pytest.fixture
def sigopt_module(sigopt_env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    """The `sigopt` module with its global connection pointed at this module's server (it
    caches the first connection it makes, which may belong to another module's server)."""
    import sigopt
    import sigopt.interface

    monkeypatch.setattr(sigopt.interface, "_global_connection", None)
    monkeypatch.setattr(sigopt._global_factory, "_connection", None)
    sigopt._global_factory.set_project(sigopt_env["SIGOPT_PROJECT"])
    return sigopt
