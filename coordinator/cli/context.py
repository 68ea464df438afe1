"""What every command shares: the Redis URL and the Service, made on first use so that
`--help` and commands that need no Redis never connect."""

from __future__ import annotations

import click

from coordinator.infra.connection import check, resolve_url
from coordinator.service.experiments import Service


class Context:
    def __init__(self, redis_url: str | None) -> None:
        self.explicit_url = redis_url
        self._service: Service | None = None
        self.url = ""

    @property
    def service(self) -> Service:
        if self._service is None:
            self.url = resolve_url(self.explicit_url)
            check(self.url)
            self._service = Service.connect(self.url)
        return self._service


pass_context = click.make_pass_decorator(Context)
