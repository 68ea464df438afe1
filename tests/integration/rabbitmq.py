"""A private RabbitMQ for the tests: Debian's rabbitmq-server started as this user, on free
127.0.0.1 ports, with its own epmd (so no node or daemon outlives the test), both in their own
process groups and ended by group.

Missing rabbitmq-server skips on a developer machine and fails under CI (CI=true), where
.ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.integration.processes import free_port, wait_until

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # the server itself, not the su wrapper


def rabbitmq_available() -> bool:
    return os.path.exists(SERVER) and shutil.which("epmd") is not None


def require_rabbitmq() -> None:
    if rabbitmq_available():
        return
    message = "no rabbitmq-server (apt-get install -y rabbitmq-server): the RabbitMQ broker " \
              "tests cannot run"
    pytest.fail(message) if os.environ.get("CI", "").lower() == "true" else pytest.skip(message)


class RabbitMQ:
    """Restartable on the same port and data, like tests.integration.processes.RedisServer."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()
        self.node = f"celeriac-test-{self.port}@localhost"
        self.epmd: subprocess.Popen[bytes] | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def _env(self) -> dict[str, str]:
        d = self.directory
        return {**os.environ, "HOME": str(d), "ERL_EPMD_PORT": str(self.epmd_port),
                "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_MNESIA_BASE": str(d / "mnesia"), "RABBITMQ_LOG_BASE": str(d / "log"),
                "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
                "RABBITMQ_PID_FILE": str(d / "rabbitmq.pid")}

    def start(self) -> RabbitMQ:
        self.directory.mkdir(parents=True, exist_ok=True)
        # consumer_timeout above any test evaluation, as docs/operations.md asks of users
        (self.directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = {self.port}\nconsumer_timeout = 3600000\n")
        (self.directory / "enabled_plugins").write_text("[].\n")
        log = open(self.directory / "rabbitmq.log", "ab")
        if self.epmd is None or self.epmd.poll() is not None:
            self.epmd = subprocess.Popen(
                ["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"], stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.process = subprocess.Popen([SERVER], env=self._env(), stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        wait_until(self.accepting, 60, interval=0.2, what=f"rabbitmq-server on {self.port}")
        return self

    def accepting(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self, epmd_too: bool = True) -> None:
        if self.process is not None:
            _end(self.process)
            self.process = None
        wait_until(lambda: not self.accepting(), 15, what="rabbitmq-server to stop")
        if epmd_too and self.epmd is not None:
            _end(self.epmd)
            self.epmd = None

    def restart(self) -> None:
        self.stop(epmd_too=False)
        self.start()


def _end(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
