"""How long a write that a caller is told is stored waits for replicas (Redis WAIT).

An observation acknowledged to a worker or an API client must survive a failover to a replica
right after: with a replicated state Redis (a Sentinel URL) the observe transitions wait until
`replicas` replicas have them, for at most `timeout_ms`. With a single Redis nothing waits.

    CELERIAC_REDIS_WAIT_REPLICAS  replicas to wait for (default 1 through Sentinel, else 0)
    CELERIAC_REDIS_WAIT_MS        the longest wait (default 1000)

A wait that times out (no replica up, say after a failover, until a new replica joins) is
logged, not an error: the write is on the primary, and a worker whose observation is lost in
a later failover sees its suggestion requeued by the sweeper, so it is evaluated again rather
than lost. Waiting then stops for `DEGRADED_PAUSE` seconds at a time, so that a primary left
without replicas costs one timeout every pause instead of one per observation.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from redis.sentinel import SentinelConnectionPool

from coordinator.env_numbers import env_int
from coordinator.errors import ConfigError
from coordinator.state.together import is_cluster

REPLICAS_ENV = "CELERIAC_REDIS_WAIT_REPLICAS"
TIMEOUT_ENV = "CELERIAC_REDIS_WAIT_MS"
WARN_EVERY = 60.0  # seconds between warnings that replicas did not acknowledge
DEGRADED_PAUSE = 10.0  # seconds without waiting after a wait the replicas did not answer

log = logging.getLogger("coordinator.state")


@dataclass
class Replication:
    replicas: int = 0
    timeout_ms: int = 1000
    short: int = 0  # waits that ended with fewer replicas than asked
    _warned: float = 0.0
    _paused_until: float = 0.0

    @classmethod
    def for_client(cls, client: Any) -> Replication:
        replicated = isinstance(getattr(client, "connection_pool", None), SentinelConnectionPool)
        replicas = env_int(REPLICAS_ENV, 1 if replicated else 0, 0, 16, "replicas")
        if replicas and is_cluster(client):
            # WAIT counts the writes of its own connection, and a cluster client spreads one
            # node's commands over a pool of connections: it could not be a guarantee
            raise ConfigError([f"{replicas}: not supported with a Redis Cluster (the state's "
                               f"replicas cannot be waited for there); unset it, or use "
                               f"Sentinel for that guarantee"], REPLICAS_ENV)
        return cls(replicas, env_int(TIMEOUT_ENV, 1000, 1, 60_000, "milliseconds"))

    def waiting(self) -> bool:
        """Whether the next durable write waits (not while paused after a short wait)."""
        return self.replicas > 0 and time.monotonic() >= self._paused_until

    def record(self, acknowledged: int) -> None:
        """What WAIT answered, run on the connection that made the write (a pipeline), since
        WAIT only covers that connection's writes."""
        if acknowledged >= self.replicas:
            return
        self.short += 1
        now = time.monotonic()
        self._paused_until = now + DEGRADED_PAUSE
        if now - self._warned > WARN_EVERY:
            self._warned = now
            log.warning("an observation reached %d of %d replicas within %d ms; a failover now "
                        "could lose it (its suggestion would be evaluated again); not waiting "
                        "for replicas for %g s", acknowledged, self.replicas, self.timeout_ms,
                        DEGRADED_PAUSE)


