"""Celery settings shared by the worker app and the coordinator's task sender.

Why each matters is in docs/reliability.md; in short: JSON only, late acks with prefetch 1,
a visibility timeout longer than any evaluation (the sweeper, not kombu, owns recovery), task
events on for Flower, and no result backend as the record of anything.
"""

from __future__ import annotations

from typing import Any

from coordinator.infra import sentinel
from coordinator.infra.connection import broker_url, is_amqp, resolve_broker_url
from coordinator.infra.tls import tls_options
from coordinator.state import keys

TASK_NAME = "celeriac.evaluate"
DEFAULT_QUEUE = "celeriac"
VISIBILITY_TIMEOUT = 8 * 3600


def celery_settings(redis_url: str, broker: str | None = None) -> dict[str, Any]:
    """`redis_url` is the state Redis; the broker is `broker`, else CELERIAC_BROKER_URL, else
    that same Redis."""
    broker = broker or resolve_broker_url(redis_url)
    settings = _base_settings(broker)
    tls = {} if is_amqp(broker) else tls_options(broker)
    if tls:  # never kombu's silent CERT_NONE default for rediss://
        settings["broker_use_ssl"] = tls
    return settings


def _transport_options(broker: str) -> dict[str, Any]:
    if is_amqp(broker):
        # RabbitMQ redelivers an unacknowledged message as soon as its consumer's connection
        # drops, and closes a channel whose delivery stays unacknowledged past the server's
        # consumer_timeout (30 min by default): set it above the longest evaluation
        # (docs/operations.md). The claim fences a redelivery either way.
        return {"confirm_publish": True}
    found = sentinel.kombu_url(broker)[1] if sentinel.is_sentinel(broker) else {}
    return {
        **found,  # master_name (and the sentinels' password) through Sentinel
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "global_keyprefix": keys.BROKER_PREFIX,
        "socket_timeout": 30,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "health_check_interval": 25,
        "retry_on_timeout": True,
    }


def _base_settings(broker: str) -> dict[str, Any]:
    return {
        "broker_url": broker_url(broker),
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "broker_transport_options": _transport_options(broker),
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
