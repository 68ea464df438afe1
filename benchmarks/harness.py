"""Shared set-up for benchmarks: a private redis-server and local workers, ended on exit."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from coordinator.infra.embedded import redis_server_binary
from coordinator.infra.local_workers import LocalWorkers

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server on a unix socket in a temp dir (AOF on), stopped afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="celeriac-bench-"))
    sock = directory / "redis.sock"
    process = subprocess.Popen(
        [redis_server_binary(), "--port", "0", "--unixsocket", str(sock), "--dir",
         str(directory), "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if redis.Redis(unix_socket_path=str(sock)).ping():
                    break
            except (redis.ConnectionError, FileNotFoundError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"unix://{sock}"
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(directory, ignore_errors=True)


def wait_for_workers(url: str, count: int, timeout: float = 60.0) -> None:
    """Blocks until `count` workers answer a ping, so start-up is not timed as overhead."""
    from celery import Celery

    from coordinator.infra.celery_config import celery_settings

    app = Celery("celeriac-bench", set_as_current=False)
    app.conf.update(celery_settings(url))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if len(app.control.ping(timeout=1.0) or []) >= count:
                return
        raise RuntimeError(f"only some of {count} workers answered within {timeout} s")
    finally:
        app.close()


@contextmanager
def local_workers(count: int, url: str, env: dict[str, str] | None = None
                  ) -> Iterator[LocalWorkers]:
    previous = dict(os.environ)
    os.environ.update(env or {})
    os.environ["PYTHONPATH"] = str(ROOT)
    try:
        workers = LocalWorkers(count, url, Path(tempfile.mkdtemp(prefix="celeriac-logs-")))
        workers.start()
    finally:
        os.environ.clear()
        os.environ.update(previous)
    try:
        wait_for_workers(url, count)
        yield workers
    finally:
        workers.stop()
