"""`coordinator run`: dispatch, sweep and report until the budget is spent.

The loop keeps nothing that is not in Redis: kill it at any moment and a new run carries on
where it stopped (the sweeper re-sends whatever was dispatched but never claimed). A suggestion a
stopping worker hands back is swept (re-sent) as soon as its `released` event arrives, not at
the next sweep tick. A Redis restart is ridden out: redis-py retries each command with backoff
(coordinator/infra/connection.py), and publishing a task, whose kombu retry gives up within a
second, is retried here with backoff for as long as Redis stays away.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

import redis
from kombu.exceptions import OperationalError

from coordinator.errors import InvalidInput
from coordinator.infra.connection import redact
from coordinator.infra.timing import Timing
from coordinator.runloop.dispatch import Dispatcher, TaskSender
from coordinator.runloop.failures import FailureStreak
from coordinator.runloop.sweeper import Sweeper
from coordinator.service import views
from coordinator.service.experiments import Service
from coordinator.service.views import Status
from coordinator.state.records import Experiment

log = logging.getLogger(__name__)

OnProgress = Callable[[Status], None]

OUTAGE_ERRORS = (redis.ConnectionError, redis.TimeoutError, OperationalError, OSError)
PROGRESS_INTERVAL = 0.25  # seconds between progress updates
IDLE_EVENTS = frozenset({"created", "claimed"})
SEND_PATIENCE = 120.0  # seconds a publish keeps retrying before the loop gives up on Redis


class Runner:
    def __init__(self, service: Service, sender: TaskSender, timing: Timing) -> None:
        self.service = service
        self.sender = sender
        self.timing = timing
        self.dispatcher = Dispatcher(service, PatientSender(sender), timing)

    def run(self, experiment_id: str, stop: threading.Event,
            on_progress: OnProgress | None = None) -> Status:
        experiment = self.service.experiment(experiment_id)
        check_runnable(experiment)
        patient = PatientSender(self.sender)
        sweeper = Sweeper(self.service, lambda _eid, sid: patient.send(experiment, sid),
                          self.timing)
        self.dispatcher.start(experiment)
        try:
            return self._loop(experiment, sweeper, stop, on_progress)
        finally:
            self.dispatcher.stop()

    def _loop(self, experiment: Experiment, sweeper: Sweeper, stop: threading.Event,
              on_progress: OnProgress | None) -> Status:
        store = self.service.store
        cursor = store.last_event_id(experiment.id)
        last_sweep, last_seen, last_shown = 0.0, None, 0.0
        idle = NoWorkerHint(self.service, experiment, self.sender, self.timing)
        streak = FailureStreak(self.service, experiment.id, experiment.spec.pause_after_failures)
        while not stop.is_set():
            idle.check()
            if time.monotonic() - last_sweep >= self.timing.sweep_interval:
                sweeper.sweep(experiment)
                last_sweep = time.monotonic()
            counts = store.counts(experiment.id)
            if counts.observations >= (experiment.spec.reachable_budget or 0):
                break
            if streak.reason or resource_spent(self.service, experiment):
                if not counts.open:
                    break  # open runs stop at their next report (report.lua), or fail
            else:
                self.dispatcher.fill(experiment, counts)
            # A status reads every observation (for the best so far): at most a few a second,
            # so a long, fast experiment's loop is not slowed by its own progress display.
            if on_progress and (counts.observations, counts.open) != last_seen and \
                    time.monotonic() - last_shown >= PROGRESS_INTERVAL:
                last_seen, last_shown = (counts.observations, counts.open), time.monotonic()
                on_progress(views.status(self.service, experiment.id))
            cursor, events = self._wait(experiment.id, cursor, quiet=on_progress is None)
            if any(fields.get("type") == "released" for _, fields in events):
                last_sweep = 0.0  # a stopping worker handed one back: re-send it now
            if not streak.reason and streak.see(events) and counts.open:
                log.warning("dispatching paused after %d failures in a row for one reason; "
                            "waiting for the open evaluations", streak.count)
        final = views.status(self.service, experiment.id)
        if streak.reason:
            final = dataclasses.replace(final, paused=streak.message())
        if on_progress:
            on_progress(final)
        return final


    def _wait(self, experiment_id: str, cursor: str, quiet: bool
              ) -> tuple[str, list[tuple[str, dict[str, str]]]]:
        """Blocks until something the loop acts on happens, or the sweep interval passes.

        Creations and claims change nothing the dispatcher acts on; without a progress view
        they do not wake it, which saves a round of reads per event under high throughput."""
        idle = IDLE_EVENTS if quiet else {"created"}
        deadline = time.monotonic() + self.timing.sweep_interval
        while (remaining := deadline - time.monotonic()) > 0:
            events = self.service.store.wait_for_events(experiment_id, cursor,
                                                        max(1, int(remaining * 1000)))
            if not events:
                break
            cursor = events[-1][0]
            if any(fields.get("type") not in idle for _, fields in events):
                return cursor, events
        return cursor, []


class NoWorkerHint:
    """The classic first-hour mistake is a worker on another Redis (a forgotten
    CELERIAC_REDIS_URL) or queue: the run sits at 0 with no hint. Once the claim timeout passes
    with nothing claimed, say so once, naming the Redis URL (password masked) and the queue."""

    def __init__(self, service: Service, experiment: Experiment, sender: TaskSender,
                 timing: Timing) -> None:
        self.service, self.experiment, self.sender = service, experiment, sender
        self.deadline = time.monotonic() + timing.claim_timeout
        self.timeout = timing.claim_timeout
        self.observed = service.store.counts(experiment.id).observations
        self.done = False

    def check(self) -> None:
        if self.done or time.monotonic() < self.deadline:
            return
        self.done = True
        store = self.service.store
        if store.counts(self.experiment.id).observations > self.observed:
            return
        open_now = store.suggestions(self.experiment.id, store.open_ids(self.experiment.id))
        if any(s.claimed for s in open_now):
            return
        where = redact(getattr(self.sender, "redis_url", "") or "this Redis")
        log.warning("no worker has claimed a suggestion in %g s: start workers with "
                    "`CELERIAC_REDIS_URL=%s celery -A worker worker -Q %s` (same Redis, same "
                    "queue), or pass --workers N", self.timeout, where,
                    getattr(self.sender, "queue", "celeriac"))


def resource_spent(service: Service, experiment: Experiment) -> bool:
    """The experiment's resource budget, if it has one, is used up: dispatch nothing more."""
    budget = experiment.spec.resource_budget
    return budget is not None and service.store.resource_spent(experiment.id) >= budget


def check_runnable(experiment: Experiment) -> None:
    spec = experiment.spec
    if not spec.evaluation.configured:
        raise InvalidInput(f"experiment {experiment.id} has no evaluate or command, so workers "
                           f"cannot evaluate it; drive it through `coordinator serve` instead")
    if spec.budget is None:
        raise InvalidInput(f"experiment {experiment.id} has no budget; `coordinator run` needs "
                           f"one to know when to stop")


class PatientSender(TaskSender):
    """Publishes through the TaskSender, retrying with backoff while Redis is away.

    kombu's own publish retry gives up after about 0.6 s, shorter than any Redis restart; and a
    suggestion whose task was never published would otherwise wait the whole claim timeout
    before the sweeper re-sends it."""

    def __init__(self, sender: TaskSender, patience: float = SEND_PATIENCE) -> None:
        self.sender = sender
        self.app, self.queue = sender.app, sender.queue
        self.patience = patience

    def send(self, experiment: Experiment, suggestion_id: str) -> None:
        deadline, pause = time.monotonic() + self.patience, 0.1
        while True:
            try:
                self.sender.send(experiment, suggestion_id)
                return
            except OUTAGE_ERRORS as exc:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("sending suggestion %s failed (%s); retrying in %.1f s",
                            suggestion_id, exc, pause)
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    def close(self) -> None:
        self.sender.close()
