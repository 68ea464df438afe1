"""TLS for Redis, verified by default.

kombu, given a `rediss://` URL and no `broker_use_ssl`, silently skips the certificate check;
redis-py verifies by default. Celeriac derives one set of options from the URL and the
environment and hands the same, verifying, settings to both, so the coordinator, the workers,
Flower and the HTTP server all check the server certificate unless a URL says
`ssl_cert_reqs=none` explicitly.

    rediss://user:pass@redis.internal:6380/0?ssl_ca_certs=/etc/celeriac/ca.pem
    CELERIAC_REDIS_CA_CERTS=/etc/celeriac/ca.pem      (instead of the query parameter)
    CELERIAC_REDIS_CERTFILE / CELERIAC_REDIS_KEYFILE  (client certificate, optional)
"""

from __future__ import annotations

import os
import ssl
from typing import Any
from urllib.parse import parse_qs, urlsplit

from coordinator.errors import RedisUnavailable

CERT_REQS = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
ENV = {"ssl_ca_certs": "CELERIAC_REDIS_CA_CERTS", "ssl_certfile": "CELERIAC_REDIS_CERTFILE",
       "ssl_keyfile": "CELERIAC_REDIS_KEYFILE"}


def is_tls(url: str) -> bool:
    return url.startswith("rediss://")


def tls_options(url: str) -> dict[str, Any]:
    """ssl_cert_reqs (an ssl constant), ssl_ca_certs, ssl_certfile, ssl_keyfile, for a
    rediss:// URL; {} for any other URL."""
    if not is_tls(url):
        return {}
    query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    reqs = query.get("ssl_cert_reqs", "required").lower().removeprefix("cert_")
    if reqs not in CERT_REQS:
        raise RedisUnavailable(f"ssl_cert_reqs={reqs!r} in the Redis URL: use required, "
                               f"optional or none")
    options: dict[str, Any] = {"ssl_cert_reqs": CERT_REQS[reqs]}
    for key, env in ENV.items():
        value = query.get(key) or os.environ.get(env)
        if value:
            if not os.path.exists(value):
                raise RedisUnavailable(f"{key}: file {value} not found (from the Redis URL or "
                                       f"{env})")
            options[key] = value
    return options


def redis_py_options(url: str) -> dict[str, Any]:
    """The same options as keyword arguments for redis.Redis.from_url."""
    options = tls_options(url)
    if options:
        reqs = options["ssl_cert_reqs"]
        options["ssl_cert_reqs"] = {v: k for k, v in CERT_REQS.items()}[reqs]
    return options
