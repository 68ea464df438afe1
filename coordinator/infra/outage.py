"""Riding out a Redis outage, and naming a Redis that is out of memory.

`RedisWait.call(step)` runs one step that touches Redis (a round of the run loop, a publish);
while Redis cannot be reached it waits with backoff (0.5 s doubling to 10 s) and runs the step
again, telling `on_wait` one line at each attempt, for up to CELERIAC_REDIS_PATIENCE seconds
(default 600). Steps must be safe to run again: the run loop keeps its state in Redis, so a
round cut short by the outage is simply made again. A Redis at maxmemory with `noeviction`
refuses writes; waiting would not help, so that becomes `RedisFull`, which says what to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from kombu.exceptions import OperationalError

from coordinator.env_numbers import env_seconds
from coordinator.errors import RedisFull, RedisUnavailable
from coordinator.infra.connection import redact
from coordinator.state.keys import ExperimentKeys

log = logging.getLogger(__name__)

PATIENCE_ENV = "CELERIAC_REDIS_PATIENCE"
DEFAULT_PATIENCE = 600.0  # seconds `coordinator run` waits for Redis before giving up
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 10.0
QUICK_RETRIES = 3  # redis-py's own retries (~0.35 s) for clients whose callers wait themselves
REDIS_AWAY = (redis.ConnectionError, redis.TimeoutError, OperationalError)  # kombu's publish
OUTAGE_ERRORS = (*REDIS_AWAY, OSError)  # what a step retries: a socket error from below too
OOM_TEXT = "OOM command not allowed"  # a script's refused write arrives as a plain ResponseError

T = TypeVar("T")


def patience(env: str = PATIENCE_ENV, default: float = DEFAULT_PATIENCE) -> float:
    """Seconds to wait for Redis, from `env` (a worker's result has a setting of its own)."""
    return env_seconds(env, default, 0, 7 * 86400)


def is_outage(exc: BaseException) -> bool:
    """Redis away (refused, reset, timed out, loading), not wrong credentials."""
    return isinstance(exc, OUTAGE_ERRORS) and not isinstance(exc, redis.AuthenticationError)


def out_of_memory(exc: BaseException) -> bool:
    """Redis refused a write at maxmemory; kombu may carry redis-py's error as the cause."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, redis.OutOfMemoryError) or OOM_TEXT in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def full(url: str) -> RedisFull:
    where = f"Redis at {redact(url)}" if url else "Redis"
    return RedisFull(f"{where} is out of memory (maxmemory reached, policy noeviction) and "
                     f"refuses writes; nothing was half-written. Raise maxmemory (`redis-cli "
                     f"CONFIG SET maxmemory 4gb`, and in redis.conf) or archive old "
                     f"experiments (`coordinator export ID -o ID.csv`, then unlink their keys "
                     f"{ExperimentKeys('ID').base}:*), then run the command again "
                     f"(`coordinator run ID` continues where it stopped)")


def explain(exc: BaseException, url: str = "") -> Exception | None:
    """The one-line error for a Redis failure a person can act on; None for anything else (a
    plain OSError is not named as Redis: a file the command writes may be what failed)."""
    if out_of_memory(exc):
        return full(url)
    if isinstance(exc, REDIS_AWAY) and not isinstance(exc, redis.AuthenticationError):
        where = f" at {redact(url)}" if url else ""
        return RedisUnavailable(f"lost the connection to Redis{where}: {exc}")
    return None


class RedisWait:
    """Runs steps that touch Redis, waiting out an outage (see the module docstring)."""

    def __init__(self, url: str, on_wait: Callable[[str], None] | None = None,
                 patience_s: float | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url
        self.on_wait = on_wait or (lambda line: log.warning("%s", line))
        self.patience = patience() if patience_s is None else patience_s
        self.sleep = sleep
        self.down_since: float | None = None  # shared by nested steps: one outage, one clock

    def call(self, step: Callable[[], T]) -> T:
        pause = FIRST_PAUSE
        while True:
            try:
                result = step()
            except Exception as exc:
                if out_of_memory(exc):
                    raise full(self.url) from None
                if not is_outage(exc):
                    raise
                pause = self._wait(exc, pause)
                continue
            self._back()
            return result

    def _wait(self, exc: BaseException, pause: float) -> float:
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = now
        down = now - self.down_since
        if down + pause > self.patience:
            self.down_since = None
            raise RedisUnavailable(f"lost the connection to Redis at {redact(self.url)}: {exc} "
                                   f"(waited {down:.0f} s; {PATIENCE_ENV} sets how long)"
                                   ) from None
        self.on_wait(f"waiting for Redis at {redact(self.url)} (down for {down:.0f} s)")
        self.sleep(pause)
        return min(pause * 2, LONGEST_PAUSE)

    def _back(self) -> None:
        if self.down_since is not None:
            down = time.monotonic() - self.down_since
            self.down_since = None
            self.on_wait(f"Redis at {redact(self.url)} is back after {down:.0f} s")
