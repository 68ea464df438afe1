"""Sends evaluate tasks through Celery and keeps `parallel_bandwidth` suggestions in flight."""

from __future__ import annotations

from celery import Celery

from coordinator.engine.backlog import MODEL_FREE, RUN_LOOP, BacklogKeeper, KeeperThread, refresh
from coordinator.infra import interrupts
from coordinator.infra.celery_config import DEFAULT_QUEUE, TASK_NAME, celery_settings
from coordinator.infra.connection import resolve_broker_url
from coordinator.infra.timing import Timing
from coordinator.service.experiments import Service
from coordinator.state.records import Experiment
from coordinator.state.states import TakeReply
from coordinator.state.store import Counts

HARD_LIMIT_MARGIN = 60.0  # seconds past the soft limit before Celery kills the pool child
STOP_PATIENCE = 30.0  # seconds stopping waits for a refresh in progress
WAIT_SHARE = 0.05  # of a typical evaluation's duration a freed slot may wait for the optimizer


class TaskSender:
    """Publishes evaluate(experiment_id, suggestion_id) by name: no import of the worker."""

    def __init__(self, redis_url: str, queue: str = DEFAULT_QUEUE) -> None:
        self.app = Celery("celeriac-coordinator", set_as_current=False)
        self.broker_url = resolve_broker_url(redis_url)
        self.app.conf.update(celery_settings(redis_url, self.broker_url))
        # Workers' received/started/succeeded events are what Flower shows; a task-sent event
        # per dispatch would double the coordinator's publishes for little.
        self.app.conf.task_send_sent_event = False
        self.queue = queue
        self.redis_url = redis_url

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

    Freed slots get suggestions from the backlog, which a BacklogKeeper thread recomputes
    (coordinator/engine/backlog.py, the run loop's policy) whenever observations arrive; a freed
    slot waits for that refresh only up to WAIT_SHARE of a typical evaluation, so the
    optimizer's time is spent while workers evaluate, not while they wait. Model-free
    strategies need no thread: their suggestions never go stale, so the loop makes them a few
    rounds at a time when the backlog runs low. Only an empty backlog (the very first batch, or
    a refresh that has not caught up) makes the loop compute on the spot."""

    def __init__(self, service: Service, sender: TaskSender, timing: Timing) -> None:
        self.service = service
        self.sender = sender
        self.timing = timing
        self.keeper: BacklogKeeper | None = None
        self._thread: KeeperThread | None = None
        self._primed = False  # the first batch is made (or found ready)

    def start(self, experiment: Experiment) -> None:
        if experiment.spec.optimizer.type not in MODEL_FREE:
            self.keeper = BacklogKeeper(self.service.suggester, RUN_LOOP, [experiment],
                                        poll=None)
            self._thread = KeeperThread(self.keeper, name=f"backlog-{experiment.id}")
            self._thread.start()

    def update(self, experiment: Experiment) -> None:
        """The experiment's spec changed (budget, bandwidth): the backlog follows it."""
        if self.keeper is not None:
            self.keeper.specs[experiment.id] = experiment.spec
            self.keeper.nudge()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop(STOP_PATIENCE)
        self.keeper = self._thread = None

    def free_slots(self, experiment: Experiment, counts: Counts) -> int:
        return RUN_LOOP.next_round(experiment.spec, counts)

    def fill(self, experiment: Experiment, counts: Counts) -> list[str]:
        slots = self.free_slots(experiment, counts)
        if not slots:
            return []
        if self.keeper is not None and (self._primed or not RUN_LOOP.low(experiment.spec,
                                                                           counts)):
            self.keeper.nudge()
            self._await_fresh(experiment, counts.observations)
        elif RUN_LOOP.low(experiment.spec, counts):  # the first batch, or a model-free round
            refresh(self.service.suggester, experiment.id, experiment.spec,
                    RUN_LOOP.size(experiment.spec, counts))
        self._primed = True
        sent: list[str] = []
        for _ in range(slots):
            sid = self._send_one(experiment)
            if sid is None:
                break  # another run loop on this experiment took the slot first
            sent.append(sid)
        return sent

    def _send_one(self, experiment: Experiment) -> str | None:
        with interrupts.deferred():  # an open suggestion always has its task published
            taken = self.service.suggester.take(experiment.id, experiment.spec,
                                                claim_ms=self.timing.claim_ms, bounded=True)
            if taken.status is TakeReply.FULL:
                return None
            assert taken.suggestion_id is not None
            self.sender.send(experiment, taken.suggestion_id)
        return taken.suggestion_id

    def _await_fresh(self, experiment: Experiment, observations: int) -> None:
        """Waits for a backlog that knows the latest observations, but never longer than a
        small share of a typical evaluation: long evaluations get fresh suggestions (better
        regret, see benchmarks/RESULTS.md), short ones never leave a worker idle for long."""
        assert self.keeper is not None
        typical = self.service.suggester.observations.typical_duration(experiment.id)
        self.keeper.wait_for(experiment.id, observations, timeout=WAIT_SHARE * typical)
