"""The Celery app. Redis comes from CELERIAC_REDIS_URL, else the embedded local server; the
broker from CELERIAC_BROKER_URL, else that Redis."""

from __future__ import annotations

import sys

from celery import Celery

from coordinator.errors import CeleriacError
from coordinator.infra.celery_config import celery_settings
from coordinator.infra.connection import resolve_url
from worker import startup

_redis_url = resolve_url()
app = Celery("celeriac", include=["worker.tasks"])
try:
    app.conf.update(celery_settings(_redis_url))
except CeleriacError as exc:  # a malformed CELERIAC_BROKER_URL: one line, no traceback
    print(f"celeriac worker: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(startup.EXIT_CREDENTIALS) from None
startup.install(_redis_url)  # at worker start: refuse wrong credentials, unique node names
