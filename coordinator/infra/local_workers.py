"""Starts and stops local `celery -A worker worker` processes for `coordinator run --workers N`.

Each worker runs in its own process group, so stopping one ends exactly the processes it
started (its pool children included) and nothing else.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from coordinator.infra.celery_config import DEFAULT_QUEUE
from coordinator.infra.connection import ENV_URL


class LocalWorkers:
    def __init__(self, count: int, redis_url: str, log_dir: Path, queue: str = DEFAULT_QUEUE,
                 concurrency: int = 1) -> None:
        self.count = count
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.queue = queue
        self.concurrency = concurrency
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, ENV_URL: self.redis_url}
        for i in range(self.count):
            name = f"celeriac{i + 1}-{os.getpid()}@%h"
            log = open(self.log_dir / f"worker-{i + 1}.log", "ab")
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "worker", "worker", "-n", name,
                 "-c", str(self.concurrency), "-Q", self.queue, "--loglevel", "INFO",
                 "--without-mingle", "--without-gossip"],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True))
            log.close()

    def alive(self) -> int:
        return sum(p.poll() is None for p in self.processes)

    def stop(self, grace: float = 10.0) -> None:
        for process in self.processes:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=5)
        self.processes.clear()

    def __enter__(self) -> LocalWorkers:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
