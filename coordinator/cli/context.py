"""What every command shares: the Redis URL and the Service, made on first use so that
`--help` and commands that need no Redis never connect."""

from __future__ import annotations

import click
import redis

from coordinator.infra.connection import check, connect, resolve_url
from coordinator.infra.outage import QUICK_RETRIES, RedisWait
from coordinator.service.experiments import Service


class Context:
    def __init__(self, redis_url: str | None) -> None:
        self.explicit_url = redis_url
        self._service: Service | None = None
        self._waiting: Service | None = None
        self.url = ""

    @property
    def service(self) -> Service:
        if self._service is None:
            self.url = resolve_url(self.explicit_url)
            check(self.url)
            self._service = Service.connect(self.url)
        return self._service

    def service_when_redis_is_up(self) -> Service:
        """`coordinator run`, which may be (re)started during an outage: instead of failing
        fast, it waits for Redis, one line per attempt, for CELERIAC_REDIS_PATIENCE."""
        if self._service is None:
            self.url = resolve_url(self.explicit_url)
            url = self.url
            wait = RedisWait(url, on_wait=lambda line: click.echo(
                f"{line}; is the URL right? (--redis-url / CELERIAC_REDIS_URL; Ctrl-C stops)",
                err=True))
            try:
                wait.call(lambda: connect(url, retries=0).ping())
            except redis.AuthenticationError:
                check(url)  # says so in one line, naming the URL
            self._service = Service.connect(url)
        return self._service

    def waiting_service(self) -> Service:
        """For commands that wait out a Redis outage themselves (`run`, `serve`): a client
        whose commands give up within a second, so the wait is theirs to show, instead of
        redis-py's half a minute of silent retries per command."""
        service = self.service
        if not self.url:  # a ready Service given by a test
            return service
        if self._waiting is None:
            self._waiting = Service.connect(self.url, retries=QUICK_RETRIES)
        return self._waiting


pass_context = click.make_pass_decorator(Context)
