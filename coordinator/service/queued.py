"""Queued suggestions (SigOpt's): points to evaluate before any the optimizer proposes.

The API and the CLI queue them here; `Suggester.take` hands them out first, to the HTTP API's
POST /suggestions and to `coordinator run` alike, each exactly once. A queued point equal to an
open or observed one is still handed out: the user asked for it.
"""

from __future__ import annotations

from typing import Any

from coordinator.errors import InvalidInput, NotFound
from coordinator.service.experiments import Service
from coordinator.state.queue import Queue, QueuedSuggestion
from coordinator.state.records import Experiment

MAX_QUEUED = 10_000  # per experiment: a queue is a list of points to try, not a data set


def enqueue(service: Service, experiment: Experiment, assignments: dict[str, Any],
            metadata: dict[str, Any] | None = None) -> QueuedSuggestion:
    try:
        key = experiment.spec.space.key(assignments)
    except ValueError as exc:
        raise InvalidInput(f"assignments.{exc}") from None
    except OverflowError:  # an int of hundreds of digits
        raise InvalidInput("assignments: a number is too large for its parameter") from None
    queue = Queue(service.store.redis)
    if queue.size(experiment.id) >= MAX_QUEUED:
        raise InvalidInput(f"experiment {experiment.id} has {MAX_QUEUED} queued suggestions "
                           f"already; let some be handed out or delete some first")
    return queue.add(experiment.id, service.store.allocate_ids()[0], key, metadata or {})


def queued(service: Service, experiment_id: str) -> list[QueuedSuggestion]:
    """Oldest first: the order they will be handed out in."""
    return Queue(service.store.redis).items(experiment_id)


def queued_one(service: Service, experiment_id: str, queued_id: str) -> QueuedSuggestion:
    found = Queue(service.store.redis).get(experiment_id, queued_id) \
        if _is_id(queued_id) else None
    if found is None:
        raise _not_queued(queued_id)
    return found


def dequeue(service: Service, experiment_id: str, queued_id: str) -> None:
    if not _is_id(queued_id) or not Queue(service.store.redis).remove(experiment_id, queued_id):
        raise _not_queued(queued_id)


def dequeue_all(service: Service, experiment_id: str) -> int:
    return Queue(service.store.redis).clear(experiment_id)


def _is_id(text: str) -> bool:
    return text.isdigit() and len(text) <= 30


def _not_queued(queued_id: str) -> NotFound:
    return NotFound(f"queued suggestion {queued_id[:40]!r} not found (it may have been handed "
                    f"out already: it is a suggestion now)")
