"""Writes that belong together, on one Redis or on a Redis Cluster.

On one Redis they are one MULTI/EXEC: both or neither, even at maxmemory. A Redis Cluster runs
a transaction only within one hash slot, and these writes span an experiment's (or project's)
slot and a global key, so there they are sent one by one, in the order given. Every caller
writes the record first and the index that points at it last, so a failure in between leaves
a record nothing points at (never an index entry without its record).
"""

from __future__ import annotations

from typing import Any

from redis.cluster import RedisCluster


def is_cluster(client: Any) -> bool:
    return isinstance(client, RedisCluster)


class InOrder:
    """Records commands as a pipeline does, then runs them one at a time, in order."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> InOrder:
            self._calls.append((name, args, kwargs))
            return self
        return record

    def execute(self) -> list[Any]:
        calls, self._calls = self._calls, []
        return [getattr(self._client, name)(*args, **kwargs) for name, args, kwargs in calls]


def together(client: Any) -> Any:
    """A pipeline for writes that belong together (see the module's note)."""
    return InOrder(client) if is_cluster(client) else client.pipeline(transaction=True)
