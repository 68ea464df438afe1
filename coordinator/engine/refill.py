"""Keeps every active experiment's backlog of ready suggestions fresh, off the request path.

The API hands out suggestions with one atomic pop; fitting the model (tens of milliseconds to
seconds) happens here instead: whenever an experiment's observation count changed or its
backlog runs low, the backlog is replaced by suggestions computed with every open one as a
pending point. `coordinator serve` runs this in its own process, so the optimizer never
competes with request handling for the GIL.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from dataclasses import dataclass, field

from coordinator.engine.suggester import Suggester
from coordinator.spec.experiment import ExperimentSpec

log = logging.getLogger("coordinator.engine.refill")

MIN_BACKLOG = 4
POLL_SECONDS = 0.1


def backlog_size(spec: ExperimentSpec) -> int:
    return max(spec.parallel_bandwidth, MIN_BACKLOG)


@dataclass
class Refiller:
    suggester: Suggester
    refilled_at: dict[str, int] = field(default_factory=dict)  # eid -> observation count
    specs: dict[str, ExperimentSpec] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)  # deleted experiments: never active again

    def needs_refill(self, experiment_id: str) -> ExperimentSpec | None:
        store = self.suggester.store
        if experiment_id in self.gone:
            return None
        if experiment_id not in self.specs:
            meta = store.experiment_meta(experiment_id)
            if not meta or meta.get("state") != "active":
                self.gone.add(experiment_id)
                return None
            self.specs[experiment_id] = ExperimentSpec.from_json(meta["spec"])
        spec = self.specs[experiment_id]
        counts = store.counts(experiment_id)
        if spec.budget is not None and counts.observations >= spec.budget:
            return None
        changed = self.refilled_at.get(experiment_id) != counts.observations
        low = counts.backlog < max(1, backlog_size(spec) // 2)
        if not (changed or low):
            return None
        if store.experiment_meta(experiment_id).get("state") != "active":
            self.gone.add(experiment_id)
            return None
        self.refilled_at[experiment_id] = counts.observations
        return spec

    def refill_once(self) -> int:
        """One pass over the experiments; returns how many backlogs were refilled."""
        done = 0
        for experiment_id in self.suggester.store.experiment_ids():
            spec = self.needs_refill(experiment_id)
            if spec is None:
                continue
            try:
                self.suggester.refill(experiment_id, spec, backlog_size(spec))
                done += 1
            except Exception:  # one broken experiment must not starve the others
                log.exception("refilling experiment %s failed", experiment_id)
        return done

    def run(self, stop: threading.Event | None = None, parent: int | None = None) -> None:
        stop = stop or threading.Event()
        while not stop.is_set():
            if parent is not None and os.getppid() != parent:
                return  # the server died without stopping us
            try:
                busy = self.refill_once()
            except Exception:
                log.exception("refill pass failed; retrying")
                busy = 0
            if not busy:
                stop.wait(POLL_SECONDS)


def _process_main(redis_url: str, parent: int) -> None:
    from coordinator.infra.connection import connect
    from coordinator.state.store import Store

    logging.basicConfig(level=logging.INFO)
    Refiller(Suggester(Store(connect(redis_url)))).run(parent=parent)


class RefillProcess:
    """The refiller in a child process started (and ended, by its handle) by the server.

    It is stopped with SIGTERM rather than a shared Event: a child killed while holding an
    Event's lock would leave the server hanging in `Event.set()`. Stopping mid-refill is safe
    (the backlog is replaced in one transaction), and the child also exits by itself when it
    notices its parent is gone.
    """

    def __init__(self, redis_url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(target=_process_main, name="celeriac-refill",
                                       args=(redis_url, os.getpid()), daemon=True)

    def start(self) -> None:
        self.process.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)


class RefillThread:
    """The refiller in a thread: for tests and for servers given only a Suggester."""

    def __init__(self, suggester: Suggester) -> None:
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=Refiller(suggester).run, args=(self.stop_event,),
                                       name="celeriac-refill", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        self.thread.join(timeout)
