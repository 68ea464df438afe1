"""Redis Cluster for the state of many experiments: each experiment's keys share one hash tag
(state/keys.py), so its Lua scripts run within one slot, and experiments spread over the nodes.

    CELERIAC_REDIS_URL=redis+cluster://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]

The nodes listed are where the client starts: it learns the rest of the cluster from them.
Celery's Redis transport cannot use a cluster, so CELERIAC_BROKER_URL must then name the broker
(a plain Redis or RabbitMQ).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from redis.cluster import ClusterNode, RedisCluster

from coordinator.errors import RedisUnavailable

SCHEME = "redis+cluster://"
FORM = "redis+cluster://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]"


def is_cluster(url: str) -> bool:
    return url.startswith(SCHEME)


def parse(url: str) -> tuple[list[tuple[str, int]], str | None, str | None]:
    """(nodes, user, password)."""
    rest = url[len(SCHEME):].partition("?")[0].rstrip("/")
    userinfo, _, hosts = rest.rpartition("@")
    nodes = []
    for host in filter(None, hosts.split(",")):
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            raise RedisUnavailable(f"invalid Redis Cluster URL: {host!r} is not HOST:PORT; "
                                   f"{FORM}")
        nodes.append((name, int(port)))
    if not nodes:
        raise RedisUnavailable(f"invalid Redis Cluster URL: give at least one node, {FORM}")
    user, _, password = userinfo.partition(":") if userinfo else ("", "", "")
    return nodes, unquote(user) or None, unquote(password) or None


def client(url: str, **options: Any) -> RedisCluster:
    """A cluster client that finds every node from the ones listed."""
    nodes, username, password = parse(url)
    options.pop("health_check_interval", None)  # node connections check on their own use
    return RedisCluster(startup_nodes=[ClusterNode(host, port)  # type: ignore[no-untyped-call, unused-ignore]
                                       for host, port in nodes],
                        username=username, password=password, **options)
