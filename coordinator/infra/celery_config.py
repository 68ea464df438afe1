"""Celery settings shared by the worker app and the coordinator's task sender.

Why each matters is in docs/reliability.md; in short: JSON only, late acks with prefetch 1,
a visibility timeout longer than any evaluation (the sweeper, not kombu, owns recovery), task
events on for Flower, and no result backend as the record of anything.
"""

from __future__ import annotations

from typing import Any

from coordinator.infra.connection import broker_url
from coordinator.infra.tls import tls_options
from coordinator.state import keys

TASK_NAME = "celeriac.evaluate"
DEFAULT_QUEUE = "celeriac"
VISIBILITY_TIMEOUT = 8 * 3600


def celery_settings(redis_url: str) -> dict[str, Any]:
    settings = _base_settings(redis_url)
    tls = tls_options(redis_url)
    if tls:  # never kombu's silent CERT_NONE default for rediss://
        settings["broker_use_ssl"] = tls
    return settings


def _base_settings(redis_url: str) -> dict[str, Any]:
    return {
        "broker_url": broker_url(redis_url),
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "broker_transport_options": {
            "visibility_timeout": VISIBILITY_TIMEOUT,
            "global_keyprefix": keys.BROKER_PREFIX,
            "socket_timeout": 30,
            "socket_connect_timeout": 5,
            "socket_keepalive": True,
            "health_check_interval": 25,
            "retry_on_timeout": True,
        },
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": False,
        "worker_prefetch_multiplier": 1,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "task_default_queue": DEFAULT_QUEUE,
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "worker_hijack_root_logger": False,
    }
