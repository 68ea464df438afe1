"""Everything in a Redis database as plain Python values, to prove a refused request wrote
nothing. Read by type rather than DUMP, whose bytes fakeredis does not keep stable."""

from __future__ import annotations

from typing import Any

import redis

RATE_LIMIT_PREFIX = "celeriac:ratelimit:"  # buckets change on every request, by design


def _value(client: redis.Redis, key: str, kind: str) -> Any:
    readers = {
        "string": lambda: client.get(key),
        "hash": lambda: client.hgetall(key),
        "list": lambda: client.lrange(key, 0, -1),
        "set": lambda: sorted(client.smembers(key)),
        "zset": lambda: client.zrange(key, 0, -1, withscores=True),
        "stream": lambda: client.xrange(key),
    }
    return readers[kind]() if kind in readers else kind


def snapshot(client: redis.Redis) -> dict[str, Any]:
    found = {}
    for raw in client.scan_iter(count=1000):
        key = raw.decode() if isinstance(raw, bytes) else raw
        if key.startswith(RATE_LIMIT_PREFIX):
            continue
        kind = client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        found[key] = (kind, _value(client, key, kind))
    return found
