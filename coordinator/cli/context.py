"""What every command shares: the Redis URL and the Service, made on first use so that
`--help` and commands that need no Redis never connect."""

from __future__ import annotations

import click

from coordinator.infra.connection import check, resolve_url
from coordinator.infra.outage import QUICK_RETRIES
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
