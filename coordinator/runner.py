"""`coordinator run`: dispatch, sweep and report until the budget is spent.

The loop keeps nothing that is not in Redis: kill it at any moment and a new run carries on
where it stopped (the sweeper re-sends whatever was dispatched but never claimed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from coordinator import reporting
from coordinator.dispatch import Dispatcher, TaskSender
from coordinator.errors import InvalidInput
from coordinator.reporting import Status
from coordinator.service import Experiment, Service
from coordinator.settings import Timing
from coordinator.sweeper import Sweeper

OnProgress = Callable[[Status], None]


class Runner:
    def __init__(self, service: Service, sender: TaskSender, timing: Timing) -> None:
        self.service = service
        self.sender = sender
        self.timing = timing
        self.dispatcher = Dispatcher(service, sender, timing)

    def run(self, experiment_id: str, stop: threading.Event,
            on_progress: OnProgress | None = None) -> Status:
        experiment = self.service.experiment(experiment_id)
        check_runnable(experiment)
        sweeper = Sweeper(self.service, lambda _eid, sid: self.sender.send(experiment, sid),
                          self.timing)
        store = self.service.store
        cursor = store.last_event_id(experiment.id)
        last_sweep, last_seen = 0.0, None
        while not stop.is_set():
            if time.monotonic() - last_sweep >= self.timing.sweep_interval:
                sweeper.sweep(experiment)
                last_sweep = time.monotonic()
            counts = store.counts(experiment.id)
            if counts.observations >= (experiment.spec.budget or 0):
                break
            self.dispatcher.fill(experiment, counts)
            if on_progress and (counts.observations, counts.open) != last_seen:
                last_seen = (counts.observations, counts.open)
                on_progress(reporting.status(self.service, experiment.id))
            events = store.wait_for_events(experiment.id, cursor,
                                           int(self.timing.sweep_interval * 1000))
            if events:
                cursor = events[-1][0]
        final = reporting.status(self.service, experiment.id)
        if on_progress:
            on_progress(final)
        return final


def check_runnable(experiment: Experiment) -> None:
    spec = experiment.spec
    if not spec.evaluation.configured:
        raise InvalidInput(f"experiment {experiment.id} has no evaluate or command, so workers "
                           f"cannot evaluate it; drive it through `coordinator serve` instead")
    if spec.budget is None:
        raise InvalidInput(f"experiment {experiment.id} has no budget; `coordinator run` needs "
                           f"one to know when to stop")
