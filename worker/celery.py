"""The Celery app. Redis comes from CELERIAC_REDIS_URL, else the embedded local server."""

from __future__ import annotations

from celery import Celery

from coordinator.infra.celery_config import celery_settings
from coordinator.infra.connection import resolve_url
from worker import startup

_redis_url = resolve_url()
app = Celery("celeriac", include=["worker.tasks"])
app.conf.update(celery_settings(_redis_url))
startup.install(_redis_url)  # at worker start: refuse wrong credentials, unique node names
