"""A bare Celery app with Celeriac's settings and one no-op task: the throughput anchor.

The task only INCRs a counter (so the benchmark knows when all are done), about the least a
task that reports anything can do.
"""

from __future__ import annotations

import os
import time

import redis
from celery import Celery

from coordinator.infra.celery_config import celery_settings

URL = os.environ["CELERIAC_REDIS_URL"]
app = Celery("celeriac-raw-bench")
app.conf.update(celery_settings(URL))
app.conf.task_default_queue = "raw-bench"
_client = redis.Redis.from_url(URL)


@app.task(name="bench.noop", acks_late=True, ignore_result=True)
def noop(counter: str) -> None:
    _client.incr(counter)


@app.task(name="bench.sleep", acks_late=True, ignore_result=True)
def sleep(counter: str, seconds: float) -> None:
    """A stand-in for an evaluation as long as the Celeriac metric's (thousand_workers.py)."""
    time.sleep(seconds)
    _client.incr(counter)
