"""Where Redis is: --redis-url, else CELERIAC_REDIS_URL, else the embedded server; and where
Celery's broker is: CELERIAC_BROKER_URL, else that same Redis."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from coordinator.errors import RedisUnavailable
from coordinator.infra import cluster, sentinel
from coordinator.infra.embedded import default_embedded
from coordinator.infra.tls import redis_py_options

ENV_URL = "CELERIAC_REDIS_URL"
BROKER_ENV = "CELERIAC_BROKER_URL"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
AMQP_SCHEMES = ("amqp://", "amqps://")
MAX_CONNECTIONS = 10_000  # per client (per node of a cluster): Redis's default maxclients


def resolve_url(explicit: str | None = None) -> str:
    url = explicit or os.environ.get(ENV_URL)
    if url:
        return url
    return default_embedded().ensure_running()


def resolve_broker_url(state_url: str) -> str:
    """CELERIAC_BROKER_URL (a Redis or RabbitMQ URL) if set, else the state Redis (which a
    Redis Cluster cannot be: Celery's transport speaks to one Redis)."""
    url = os.environ.get(BROKER_ENV, "").strip()
    if not url and cluster.is_cluster(state_url):
        raise RedisUnavailable(f"the state Redis is a Redis Cluster, which cannot be Celery's "
                               f"broker: set {BROKER_ENV} to a plain Redis (redis://HOST:PORT) "
                               f"or RabbitMQ (amqp://...) URL")
    if not url:
        return state_url
    if not url.startswith((*REDIS_SCHEMES, *AMQP_SCHEMES, sentinel.SCHEME)):
        raise RedisUnavailable(f"{BROKER_ENV}={redact(url)!r}: give a redis://, rediss://, "
                               f"unix://, redis+sentinel://, amqp:// or amqps:// URL, or unset "
                               f"it to use the state Redis as the broker")
    return url


def is_amqp(url: str) -> bool:
    return url.startswith(AMQP_SCHEMES)


def connect(url: str, retries: int = 40) -> redis.Redis:
    """A client that rides out a Redis restart: retries with backoff for about half a minute."""
    tcp = {} if url.startswith("unix://") else {"socket_keepalive": True,
                                                **redis_py_options(url)}
    options = {"decode_responses": True, "socket_connect_timeout": 5,
               "health_check_interval": 25, **tcp,
               # redis-py 8 caps a pool at 100 connections and then raises; every thread of a
               # process blocked in a call holds one (a threads-pool worker's evaluations, an
               # API server's requests, runs of many experiments), so the cap is Redis's own
               # default `maxclients` instead
               "max_connections": MAX_CONNECTIONS,
               "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=retries),
               "retry_on_error": [redis.ConnectionError, redis.TimeoutError]}
    if sentinel.is_sentinel(url):
        return sentinel.primary(url, **options)
    if cluster.is_cluster(url):
        return cluster.client(url, **options)  # type: ignore[return-value]
    try:
        client = redis.Redis.from_url(url, **options)
    except ValueError as exc:
        raise RedisUnavailable(f"invalid Redis URL {url!r}: {exc}") from None
    return client


def check(url: str) -> None:
    """Fail fast, with a message naming the URL, when Redis cannot be reached at all."""
    try:
        connect(url, retries=0).ping()
    except redis.AuthenticationError as exc:
        raise RedisUnavailable(f"Redis at {redact(url)} refused the credentials: {exc}") from None
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise RedisUnavailable(f"cannot reach Redis at {redact(url)}: {exc}; start it or fix "
                               f"--redis-url / {ENV_URL}") from None


def broker_url(url: str) -> str:
    """kombu spells unix sockets `redis+socket://` and sentinels `sentinel://` (one per host;
    the service name goes in the transport options, celery_config)."""
    if sentinel.is_sentinel(url):
        return sentinel.kombu_url(url)[0]
    if url.startswith("unix://"):
        return "redis+socket://" + url[len("unix://"):]
    return url


def redact(url: str) -> str:
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1) if "://" in url else ("", url)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def credentials_refused(url: str) -> str | None:
    """One line for a person when Redis refuses the credentials in `url` (WRONGPASS, or NOAUTH
    when it wants a password and none is given); None when it accepts them or cannot be
    reached at all (an outage may end, so that is left to the caller's retries)."""
    try:
        connect(url, retries=0).ping()
    except (redis.AuthenticationError, redis.ResponseError) as exc:
        text = str(exc)
        if not isinstance(exc, redis.AuthenticationError) and \
                not text.startswith(("NOAUTH", "WRONGPASS", "invalid password")):
            return None
        what = ("wants a password and the URL gives none" if not _has_password(url)
                else "refused the user name or password")
        return (f"Redis at {redact(url)} {what} ({text.rstrip('.')}): put the right ones in "
                f"{ENV_URL} (redis://USER:PASSWORD@HOST:PORT/DB) and start again")
    except (redis.ConnectionError, redis.TimeoutError, OSError, ValueError):
        return None
    return None


def _has_password(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.password or parse_qs(parts.query).get("password"))
