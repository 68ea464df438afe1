"""What a `celery -A worker worker` does before it starts consuming.

- Wrong Redis credentials end it with one line. Celery retries a broker connection forever
  (right for an outage, which ends), and a refused password is a connection error to kombu
  too: the worker would log tracebacks every few seconds until someone noticed.
- Without `-n/--hostname` each worker is named `celery-<pid>@<host>` instead of Celery's
  `celery@<host>`, so several workers on one machine (one per GPU, say) are told apart by
  Flower, `celery inspect` and the remote-control commands, which otherwise see one node and
  warn about duplicates.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from celery import signals
from celery.utils.nodenames import nodesplit

from coordinator.infra.connection import credentials_refused

EXIT_CREDENTIALS = 3  # sysexits' EX_CONFIG would be 78; a small distinct code is enough


def check_credentials(urls: list[str]) -> None:
    """Ends the process with one line on stderr when Redis refuses the credentials."""
    for url in dict.fromkeys(urls):
        problem = credentials_refused(url)
        if problem:
            print(f"celeriac worker: {problem}", file=sys.stderr, flush=True)
            raise SystemExit(EXIT_CREDENTIALS)


def unique_node_name(current: str) -> str | None:
    """`celery-<pid>@<host>` when the user chose no name (-n, --hostname or
    CELERY_WORKER_HOSTNAME); None to keep the one given."""
    context = click.get_current_context(silent=True)
    if context is None or "hostname" not in context.params:
        return None  # started without the CLI (app.Worker(...) in code): leave it alone
    source = context.get_parameter_source("hostname")
    if source is not click.core.ParameterSource.DEFAULT:
        return None
    name, host = nodesplit(current)
    return f"{name or 'celery'}-{os.getpid()}@{host}"


def _before_worker_starts(sender: Any = None, instance: Any = None, conf: Any = None,
                          **_: Any) -> None:
    check_credentials(_redis_urls(conf))
    if instance is not None:
        renamed = unique_node_name(str(instance.hostname))
        if renamed:
            instance.hostname = renamed


def _redis_urls(conf: Any) -> list[str]:
    """The state Redis and the broker (the same server unless configured otherwise)."""
    broker = str(getattr(conf, "broker_url", "") or "")
    if broker.startswith("redis+socket://"):
        broker = "unix://" + broker[len("redis+socket://"):]
    brokers = [broker] if broker.startswith(("redis://", "rediss://", "unix://")) else []
    return _state_url + brokers


_state_url: list[str] = []


def install(state_url: str) -> None:
    """Called once by the app module (worker/celery.py) with the Redis the tasks use."""
    _state_url[:] = [state_url]
    signals.celeryd_init.connect(_before_worker_starts)
