"""Real processes for integration tests: redis-server, celery workers, the coordinator CLI.

Every process is started in its own process group and ended by pid/process group, never by
name, so tests only ever stop what they started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import redis

from coordinator.infra.embedded import redis_server_binary

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(servers):
    """`servers.start()`, then `stop()` however the block ends (a group of processes)."""
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class RedisServer:
    """A real redis-server on 127.0.0.1 with AOF on, restartable on the same port and data."""

    def __init__(self, directory: Path, extra: list[str] | None = None,
                 binary: str | None = None) -> None:
        self.directory = directory
        self.port = free_port()
        self.extra = extra or []
        self.binary = binary
        self.tls = "--tls-port" in self.extra  # then "PORT" in extra is the TLS port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        port = "0" if self.tls else str(self.port)
        extra = [str(self.port) if arg == "PORT" else arg for arg in self.extra]
        self.process = subprocess.Popen(
            [self.binary or redis_server_binary(), "--port", port, "--bind", "127.0.0.1",
             "--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "everysec",
             "--save", "", "--maxmemory-policy", "noeviction", *extra],
            stdout=open(self.directory / "redis.log", "ab"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_until(self.ping, 15, what=f"redis-server on port {self.port}")
        return self

    def ping(self) -> bool:
        """Up means answering, even if only to refuse us (password or ACL servers)."""
        tls = {"ssl": True, "ssl_cert_reqs": "none"} if self.tls else {}
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1, **tls).ping())
        except redis.AuthenticationError:
            return True
        except redis.ResponseError as exc:
            return "NOAUTH" in str(exc) or "NOPERM" in str(exc)
        except (redis.ConnectionError, redis.TimeoutError):
            return False

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


class Worker:
    """One `celery -A worker worker` process (with its pool children) in its own group."""

    def __init__(self, env: dict[str, str], log_path: Path, name: str, concurrency: int = 1,
                 queue: str = "celeriac", prefix: list[str] | None = None) -> None:
        self.log_path = log_path
        self.name = name
        self.process = subprocess.Popen(
            [*(prefix or []),  # e.g. `ip netns exec NAME`, which execs the worker in place
             sys.executable, "-m", "celery", "-A", "worker", "worker", "-n", f"{name}@%h",
             "-c", str(concurrency), "-Q", queue, "--loglevel", "INFO", "--without-mingle",
             "--without-gossip"],
            cwd=ROOT, env=env, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def pool_children(self) -> list[int]:
        try:
            return [c.pid for c in psutil.Process(self.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def signal_group(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        if self.alive():
            self.signal_group(signal.SIGCONT)
            self.signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        self.signal_group(signal.SIGKILL)  # pool children left behind, if any
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def coordinator(args: list[str], env: dict[str, str], timeout: float = 120,
                check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs the CLI exactly as a user does, as a subprocess."""
    result = subprocess.run([sys.executable, "-m", "coordinator", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"coordinator {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def start_coordinator(args: list[str], env: dict[str, str], log_path: Path
                      ) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "coordinator", *args], cwd=ROOT, env=env,
                            stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def end_group(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
