"""Sends evaluate tasks through Celery and keeps `parallel_bandwidth` suggestions in flight."""

from __future__ import annotations

from celery import Celery

from coordinator.engine.refresher import BacklogRefresher
from coordinator.infra import interrupts
from coordinator.infra.celery_config import DEFAULT_QUEUE, TASK_NAME, celery_settings
from coordinator.infra.timing import Timing
from coordinator.service.experiments import Service
from coordinator.state.records import Experiment
from coordinator.state.store import Counts

HARD_LIMIT_MARGIN = 60.0  # seconds past the soft limit before Celery kills the pool child
MODEL_FREE = ("random", "sobol", "grid")  # instant strategies: no background refresh needed
WAIT_SHARE = 0.05  # of a typical evaluation's duration a freed slot may wait for the optimizer


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
    """Keeps `parallel_bandwidth` suggestions of one experiment in flight.

    Freed slots get suggestions from the backlog, which a BacklogRefresher thread recomputes
    whenever observations arrive; a freed slot waits for that refresh only up to WAIT_SHARE of
    a typical evaluation, so the optimizer's time is spent while workers evaluate, not while
    they wait. Only an empty backlog (the very first batch, or a refresh that has not caught
    up) makes the loop compute on the spot."""

    def __init__(self, service: Service, sender: TaskSender, timing: Timing) -> None:
        self.service = service
        self.sender = sender
        self.timing = timing
        self._requested_at: int | None = None
        self.refresher: BacklogRefresher | None = None

    def start(self, experiment: Experiment) -> None:
        if experiment.spec.optimizer.type not in MODEL_FREE:
            self.refresher = BacklogRefresher(self.service.suggester, experiment)
            self.refresher.start()

    def stop(self) -> None:
        if self.refresher is not None:
            self.refresher.stop()
            self.refresher = None

    def free_slots(self, experiment: Experiment, counts: Counts) -> int:
        budget = experiment.spec.budget or 0
        return max(0, min(experiment.spec.parallel_bandwidth - counts.open,
                          budget - counts.observations - counts.open))

    def fill(self, experiment: Experiment, counts: Counts) -> list[str]:
        slots = self.free_slots(experiment, counts)
        suggester = self.service.suggester
        if slots and counts.backlog < slots and (self.refresher is None or
                                                   self._requested_at is None):
            suggester.refill(experiment.id, experiment.spec, self._batch(experiment, counts))
        elif slots:
            self._request_refresh(experiment, counts.observations, counts.open)
            self._await_fresh(experiment, counts.observations)
        sent = []
        for _ in range(slots):
            with interrupts.deferred():  # an open suggestion always has its task published
                taken = suggester.take(experiment.id, experiment.spec,
                                       claim_ms=self.timing.claim_ms)
                assert taken.suggestion_id is not None
                self.sender.send(experiment, taken.suggestion_id)
            sent.append(taken.suggestion_id)
        return sent

    def _batch(self, experiment: Experiment, counts: Counts) -> int:
        """How many to compute when the backlog runs short: the free slots for a model (its
        suggestions go stale as observations arrive), a few rounds' worth for model-free
        strategies, whose suggestions never do (fewer refills per observation)."""
        slots = self.free_slots(experiment, counts)
        if self.refresher is not None:
            return slots
        remaining = (experiment.spec.budget or 0) - counts.observations - counts.open
        return max(slots, min(remaining, 4 * experiment.spec.parallel_bandwidth, 64))

    def _await_fresh(self, experiment: Experiment, observations: int) -> None:
        """Waits for a backlog that knows the latest observations, but never longer than a
        small share of a typical evaluation: long evaluations get fresh suggestions (better
        regret, see benchmarks/RESULTS.md), short ones never leave a worker idle for long."""
        if self.refresher is None:
            return
        typical = self.service.suggester.observations.typical_duration(experiment.id)
        self.refresher.wait_for(observations, timeout=WAIT_SHARE * typical)

    def _request_refresh(self, experiment: Experiment, observations: int, open_count: int
                         ) -> None:
        size = min(experiment.spec.parallel_bandwidth,
                   (experiment.spec.budget or 0) - observations - open_count)
        if size <= 0 or observations == self._requested_at or self.refresher is None:
            return
        self._requested_at = observations
        self.refresher.request(size, observations)
