"""Redis Sentinel: the state Redis (and, unless CELERIAC_BROKER_URL says otherwise, the broker)
found through sentinels, so a failover moves every process to the new primary.

    CELERIAC_REDIS_URL=redis+sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]/SERVICE[/DB]

The user and password are the primary's (and its replicas'); `?sentinel_password=` gives the
sentinels' own, if they have one. Writes that a caller is told are stored (an observation) are
waited on until a replica has them (`Store.durable`, Redis WAIT), so a failover right after
the answer does not lose them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import redis
from redis.sentinel import Sentinel

from coordinator.errors import RedisUnavailable

SCHEME = "redis+sentinel://"
FORM = "redis+sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]/SERVICE[/DB]"


@dataclass(frozen=True)
class SentinelUrl:
    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None


def is_sentinel(url: str) -> bool:
    return url.startswith(SCHEME)


def parse(url: str) -> SentinelUrl:
    rest = url[len(SCHEME):]
    rest, _, query = rest.partition("?")
    userinfo, _, hosts_and_path = rest.rpartition("@")
    hosts, _, path = hosts_and_path.partition("/")
    parts = [p for p in path.split("/") if p]
    sentinels = []
    for host in filter(None, hosts.split(",")):
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            raise RedisUnavailable(f"invalid Sentinel URL: {host!r} is not HOST:PORT; {FORM}")
        sentinels.append((name, int(port)))
    if not sentinels or not parts or len(parts) > 2 or (len(parts) == 2 and
                                                         not parts[1].isdigit()):
        raise RedisUnavailable(f"invalid Sentinel URL: give the sentinels and the service "
                               f"name, {FORM}")
    user, _, password = userinfo.partition(":") if userinfo else ("", "", "")
    options = parse_qs(query)
    return SentinelUrl(tuple(sentinels), unquote(parts[0]), int(parts[1]) if len(parts) > 1
                       else 0, unquote(user) or None, unquote(password) or None,
                       options.get("sentinel_password", [None])[0])


def primary(url: str, **options: Any) -> redis.Redis:
    """A client of the current primary; after a failover its next command finds the new one
    (a demoted primary's READONLY counts as a connection error, so the retry covers it)."""
    parsed = parse(url)
    sentinel_options = {"password": parsed.sentinel_password} if parsed.sentinel_password \
        else {}
    sentinels = Sentinel(  # type: ignore[no-untyped-call, unused-ignore]
        list(parsed.sentinels),
        sentinel_kwargs={"socket_timeout": 2, **sentinel_options})
    client: redis.Redis = sentinels.master_for(  # type: ignore[no-untyped-call, unused-ignore]
        parsed.service, redis_class=redis.Redis, db=parsed.db, username=parsed.username,
        password=parsed.password, **options)
    return client


def kombu_url(url: str) -> tuple[str, dict[str, Any]]:
    """kombu's spelling (`sentinel://...;sentinel://...`) and its transport options."""
    parsed = parse(url)
    auth = ""
    if parsed.password:
        auth = f"{quote(parsed.username or '', safe='')}:{quote(parsed.password, safe='')}@"
    hosts = ";".join(f"sentinel://{auth}{host}:{port}/{parsed.db}"
                     for host, port in parsed.sentinels)
    options: dict[str, Any] = {"master_name": parsed.service}
    if parsed.sentinel_password:
        options["sentinel_kwargs"] = {"password": parsed.sentinel_password}
    return hosts, options
