"""A pickle message published to the task queue is refused without being deserialized."""

from __future__ import annotations

import os
import pickle
import time
import uuid

import pytest
from kombu import Connection, Exchange, Producer, Queue

from coordinator.infra.celery_config import DEFAULT_QUEUE, TASK_NAME, celery_settings
from tests.integration.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


class Exploit:
    """Unpickling this runs a command that leaves a marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_task_message_is_refused_and_never_unpickled(env, tmp_path, start_worker):
    marker = tmp_path / "pwned"
    worker = start_worker()
    settings = celery_settings(env["CELERIAC_REDIS_URL"])
    wait_until(lambda: "ready" in worker.log(), 60, what="the worker to be ready")
    with Connection(settings["broker_url"],
                    transport_options=settings["broker_transport_options"]) as connection:
        producer = Producer(connection)
        queue = Queue(DEFAULT_QUEUE, Exchange(DEFAULT_QUEUE), routing_key=DEFAULT_QUEUE)
        task_id = str(uuid.uuid4())
        producer.publish(
            pickle.dumps(((), {"payload": Exploit(str(marker))}, {})),
            content_type="application/x-python-serialize", content_encoding="binary",
            exchange=queue.exchange, routing_key=DEFAULT_QUEUE, declare=[queue],
            headers={"lang": "py", "task": TASK_NAME, "id": task_id, "root_id": task_id,
                     "argsrepr": "()", "kwargsrepr": "{}"})
    wait_until(lambda: "disallowed" in worker.log().lower() or
               "refusing" in worker.log().lower(), 30, what="the worker to refuse the message")
    time.sleep(1.0)
    assert not marker.exists()
    assert worker.alive()
