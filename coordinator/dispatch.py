"""Sends evaluate tasks through Celery and keeps `parallel_bandwidth` suggestions in flight."""

from __future__ import annotations

from celery import Celery

from coordinator.celery_config import DEFAULT_QUEUE, TASK_NAME, celery_settings
from coordinator.service import Experiment, Service
from coordinator.settings import Timing
from coordinator.store import Counts

HARD_LIMIT_MARGIN = 60.0  # seconds past the soft limit before Celery kills the pool child


class TaskSender:
    """Publishes evaluate(experiment_id, suggestion_id) by name: no import of the worker."""

    def __init__(self, redis_url: str, queue: str = DEFAULT_QUEUE) -> None:
        self.app = Celery("celeriac-coordinator", set_as_current=False)
        self.app.conf.update(celery_settings(redis_url))
        # Workers' received/started/succeeded events are what Flower shows; a task-sent event
        # per dispatch would double the coordinator's publishes for little.
        self.app.conf.task_send_sent_event = False
        self.queue = queue

    def send(self, experiment: Experiment, suggestion_id: str) -> None:
        timeout = experiment.spec.evaluation.timeout
        self.app.send_task(TASK_NAME, kwargs={"experiment_id": experiment.id,
                                              "suggestion_id": suggestion_id},
                           queue=self.queue, soft_time_limit=timeout + 5,
                           time_limit=timeout + HARD_LIMIT_MARGIN)

    def close(self) -> None:
        self.app.close()


class Dispatcher:
    def __init__(self, service: Service, sender: TaskSender, timing: Timing) -> None:
        self.service = service
        self.sender = sender
        self.timing = timing
        self._refilled_at: int | None = None

    def free_slots(self, experiment: Experiment, counts: Counts) -> int:
        budget = experiment.spec.budget or 0
        return max(0, min(experiment.spec.parallel_bandwidth - counts.open,
                          budget - counts.observations - counts.open))

    def fill(self, experiment: Experiment, counts: Counts) -> list[str]:
        """Sends a suggestion for every free slot straight from the backlog, then refreshes
        the backlog with what the new observations taught, while the workers are busy.

        The optimizer's time is thus spent while workers evaluate, not while they wait; every
        backlog entry was computed with all open suggestions as pending points, so handing it
        out one observation late costs little (measured in benchmarks/RESULTS.md)."""
        slots = self.free_slots(experiment, counts)
        suggester = self.service.suggester
        if slots and counts.backlog < slots:
            suggester.refill(experiment.id, experiment.spec, slots)
            self._refilled_at = counts.observations
        sent = []
        for _ in range(slots):
            taken = suggester.take(experiment.id, experiment.spec,
                                   claim_ms=self.timing.claim_ms)
            assert taken.suggestion_id is not None
            self.sender.send(experiment, taken.suggestion_id)
            sent.append(taken.suggestion_id)
        self._refresh(experiment, counts.observations, counts.open + len(sent))
        return sent

    def _refresh(self, experiment: Experiment, observations: int, open_count: int) -> None:
        size = min(experiment.spec.parallel_bandwidth,
                   (experiment.spec.budget or 0) - observations - open_count)
        if size > 0 and observations != self._refilled_at:
            self.service.suggester.refill(experiment.id, experiment.spec, size)
            self._refilled_at = observations
