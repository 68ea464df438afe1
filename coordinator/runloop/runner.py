"""`coordinator run`: dispatch, sweep and report until the budget is spent.

The loop keeps nothing that is not in Redis: kill it at any moment and a new run carries on
where it stopped (the sweeper re-sends whatever was dispatched but never claimed). A suggestion a
stopping worker hands back is swept (re-sent) as soon as its `released` event arrives, not at
the next sweep tick. A Redis outage is ridden out: each round of the loop (sweep, counts,
dispatch, progress, events) and each publish runs through one `RedisWait`
(coordinator/infra/outage.py), which waits with backoff, shows "waiting for Redis" and makes
the round again once Redis is back, for up to CELERIAC_REDIS_PATIENCE seconds.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from coordinator.errors import InvalidInput
from coordinator.infra.connection import redact
from coordinator.infra.outage import RedisWait
from coordinator.infra.timing import Timing
from coordinator.runloop.dispatch import Dispatcher, TaskSender
from coordinator.runloop.failures import Event, FailureStreak
from coordinator.runloop.sweeper import Sweeper
from coordinator.service import views
from coordinator.service.experiments import Service
from coordinator.service.views import Status
from coordinator.state.records import Experiment
from coordinator.state.states import ExperimentState

log = logging.getLogger(__name__)

OnProgress = Callable[[Status], None]

PROGRESS_INTERVAL = 0.25  # seconds between progress updates
IDLE_EVENTS = frozenset({"created", "claimed"})


@dataclass
class Round:
    """What the loop carries from one round to the next; all of it can be read again from
    Redis, so a round an outage cut short is simply made again."""

    cursor: str
    streak: FailureStreak
    idle: NoWorkerHint
    last_sweep: float = 0.0
    last_shown: float = 0.0
    last_seen: tuple[int, int] | None = None
    updated: bool = False  # the spec changed: read it again before the next round


class Runner:
    def __init__(self, service: Service, sender: TaskSender, timing: Timing,
                 wait: RedisWait | None = None) -> None:
        self.service = service
        self.sender = sender
        self.timing = timing
        self.wait = wait or RedisWait(getattr(sender, "redis_url", ""))
        self.patient = PatientSender(sender, self.wait)
        self.dispatcher = Dispatcher(service, self.patient, timing)

    def run(self, experiment_id: str, stop: threading.Event,
            on_progress: OnProgress | None = None) -> Status:
        experiment = self.wait.call(lambda: self.service.experiment(experiment_id))
        check_runnable(experiment)
        sweeper = Sweeper(self.service, lambda _eid, sid: self.patient.send(experiment, sid),
                          self.timing)
        self.dispatcher.start(experiment)
        try:
            state = self.wait.call(lambda: self._first_round(experiment))
            while not stop.is_set():
                one_round = functools.partial(self._round, experiment, sweeper, state,
                                              on_progress)
                if self.wait.call(one_round):
                    break
                if state.updated:  # `coordinator update` or the API changed budget, bandwidth
                    experiment = self.wait.call(lambda: self.service.experiment(
                        experiment_id, include_deleted=True))
                    self.dispatcher.update(experiment)
                    state.updated = False
                    if experiment.state is ExperimentState.DELETED:
                        log.warning("experiment %s was archived; stopping (its open "
                                    "evaluations are dropped)", experiment_id)
                        break
            final = self.wait.call(lambda: views.status(self.service, experiment.id))
        finally:
            self.dispatcher.stop()
        if state.streak.reason:
            final = dataclasses.replace(final, paused=state.streak.message())
        if on_progress:
            on_progress(final)
        return final

    def _first_round(self, experiment: Experiment) -> Round:
        return Round(cursor=self.service.store.last_event_id(experiment.id),
                     streak=FailureStreak(self.service, experiment.id,
                                          experiment.spec.pause_after_failures),
                     idle=NoWorkerHint(self.service, experiment, self.sender, self.timing))

    def _round(self, experiment: Experiment, sweeper: Sweeper, state: Round,
               on_progress: OnProgress | None) -> bool:
        """One round of the loop; True once the run is over."""
        store, streak = self.service.store, state.streak
        state.idle.check()
        if time.monotonic() - state.last_sweep >= self.timing.sweep_interval:
            sweeper.sweep(experiment)
            state.last_sweep = time.monotonic()
        counts = store.counts(experiment.id)
        if counts.observations >= (experiment.spec.reachable_budget or 0):
            return True
        if streak.reason or resource_spent(self.service, experiment):
            if not counts.open:
                return True  # open runs stop at their next report (report.lua), or fail
        else:
            self.dispatcher.fill(experiment, counts)
        # A status reads every observation (for the best so far): at most a few a second,
        # so a long, fast experiment's loop is not slowed by its own progress display.
        if on_progress and (counts.observations, counts.open) != state.last_seen and \
                time.monotonic() - state.last_shown >= PROGRESS_INTERVAL:
            on_progress(views.status(self.service, experiment.id))
            state.last_seen, state.last_shown = (counts.observations, counts.open), \
                time.monotonic()
        state.cursor, events = self._wait(experiment.id, state.cursor,
                                          quiet=on_progress is None)
        if any(fields.get("type") == "released" for _, fields in events):
            state.last_sweep = 0.0  # a stopping worker handed one back: re-send it now
        if any(fields.get("type") == "updated" for _, fields in events):
            state.updated = True
        # The cursor has moved on: if Redis goes away while the streak reads these events'
        # observations, they are not seen again (the streak may pause later, never earlier).
        if not streak.reason and streak.see(events) and counts.open:
            log.warning("dispatching paused after %d failures in a row for one reason; "
                        "waiting for the open evaluations", streak.count)
        return False

    def _wait(self, experiment_id: str, cursor: str, quiet: bool
              ) -> tuple[str, list[Event]]:
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
        state = getattr(self.sender, "redis_url", "") or "this Redis"
        broker = getattr(self.sender, "broker_url", "") or state
        where = redact(state) if broker == state else \
            f"{redact(state)} CELERIAC_BROKER_URL={redact(broker)}"
        log.warning("no worker has claimed a suggestion in %g s: start workers with "
                    "`CELERIAC_REDIS_URL=%s celery -A worker worker -Q %s` (same Redis, same "
                    "broker, same queue), or pass --workers N", self.timeout, where,
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
    """Publishes through the TaskSender, waiting out a Redis outage (RedisWait).

    kombu's own publish retry gives up after about 0.6 s, shorter than any Redis restart; and a
    suggestion whose task was never published would otherwise wait the whole claim timeout
    before the sweeper re-sends it."""

    def __init__(self, sender: TaskSender, wait: RedisWait) -> None:
        self.sender = sender
        self.app, self.queue = sender.app, sender.queue
        self.redis_url = getattr(sender, "redis_url", "")
        self.wait = wait

    def send(self, experiment: Experiment, suggestion_id: str) -> None:
        self.wait.call(lambda: self.sender.send(experiment, suggestion_id))

    def close(self) -> None:
        self.sender.close()
