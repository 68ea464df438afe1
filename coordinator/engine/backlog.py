"""The backlog policy: how many ready suggestions an experiment keeps, when they are recomputed,
and the refresh itself. `coordinator run` and `coordinator serve` both keep backlogs this way.

Handing out a suggestion is one atomic pop; fitting the model (tens of milliseconds to seconds)
happens here instead, off the hand-out path: a refresh replaces the backlog with suggestions
computed with every open one as a pending point. Any suggestion handed out while it computed
was not pending in that computation, so fresh proposals lying next to one of them are dropped
rather than handed out as near-duplicates.

A BacklogKeeper runs the policy. `coordinator run` keeps its one experiment's backlog from a
thread beside the dispatch loop, which asks for a refresh when observations arrive and waits for
it a bounded time; `coordinator serve` keeps every active experiment's from a child process
(KeeperProcess), polling, so the optimizer never competes with request handling for the GIL.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coordinator.engine.suggester import Suggester
from coordinator.infra.connection import connect
from coordinator.infra.outage import explain
from coordinator.spec.experiment import ExperimentSpec
from coordinator.state.records import Experiment
from coordinator.state.states import ExperimentState
from coordinator.state.store import Counts, Store
from optimizer import Proposal, Space

log = logging.getLogger(__name__)

MIN_BACKLOG = 4  # ready suggestions for API clients, who need not keep to the bandwidth
MODEL_FREE = ("random", "sobol", "grid")  # their suggestions never go stale
MODEL_FREE_ROUNDS = 4  # bandwidths' worth of model-free suggestions made at once...
MODEL_FREE_MAX = 64  # ...but no more than this many
NEAR = 0.02  # unit-cube distance per sqrt(dimension) below which two points are the same idea
POLL_SECONDS = 0.1
OUTAGE_PAUSE = 2.0  # seconds between passes while Redis is away or full
UNLIMITED = sys.maxsize


@dataclass(frozen=True)
class BacklogPolicy:
    """How full an experiment's backlog is kept, and when it is stale.

    `bounded`: every taker keeps to the bandwidth and the budget, as the run loop's dispatcher
    does, so the backlog holds what the next round of freed slots takes and no more. API clients
    keep to neither (SigOpt's budget is advisory), so the server keeps at least MIN_BACKLOG
    ready until the budget is observed. Model-free suggestions never go stale: they are made
    a few rounds at a time and recomputed only when the backlog runs low; a model's are
    recomputed whenever observations arrived since."""

    bounded: bool

    def size(self, spec: ExperimentSpec, counts: Counts) -> int:
        left = self._left(spec, counts)
        if left <= 0:
            return 0
        bandwidth = spec.parallel_bandwidth
        want = bandwidth if self.bounded else max(bandwidth, MIN_BACKLOG)
        if spec.optimizer.type in MODEL_FREE:  # fewer refreshes per observation
            want = max(want, min(MODEL_FREE_ROUNDS * bandwidth, MODEL_FREE_MAX))
        return min(want, left)

    def next_round(self, spec: ExperimentSpec, counts: Counts) -> int:
        """How many suggestions the takers may want before the next refresh: the free slots
        when they are bounded, else (not knowing) half the size."""
        if self.bounded:
            return max(0, min(spec.parallel_bandwidth - counts.open, self._left(spec, counts)))
        return max(1, self.size(spec, counts) // 2)

    def low(self, spec: ExperimentSpec, counts: Counts) -> bool:
        return counts.backlog < self.next_round(spec, counts)

    def stale(self, spec: ExperimentSpec, counts: Counts, refreshed_at: int | None) -> bool:
        """Whether to recompute a backlog last computed knowing `refreshed_at` observations."""
        if self.size(spec, counts) == 0:
            return False
        arrived = refreshed_at != counts.observations and spec.optimizer.type not in MODEL_FREE
        return arrived or self.low(spec, counts)

    def _left(self, spec: ExperimentSpec, counts: Counts) -> int:
        """Suggestions the budget still needs: bounded takers count the open ones against it;
        API clients may take any number until the budget is observed."""
        if spec.budget is None:
            return UNLIMITED
        left = (spec.reachable_budget or 0) - counts.observations
        if not self.bounded:
            return UNLIMITED if left > 0 else 0
        return left - counts.open


RUN_LOOP = BacklogPolicy(bounded=True)
SERVER = BacklogPolicy(bounded=False)


def refresh(suggester: Suggester, experiment_id: str, spec: ExperimentSpec, size: int) -> int:
    """Replaces the backlog with up to `size` suggestions that know every observation; returns
    how many it holds now."""
    if size <= 0:
        return 0
    store = suggester.store
    before = set(store.open_ids(experiment_id))
    proposals = suggester.compute(experiment_id, spec, size, include_backlog=False)
    opened = set(store.open_ids(experiment_id)) - before
    if opened:
        taken = [s.assignments for s in store.suggestions(experiment_id, sorted(opened))]
        proposals = drop_near(spec.space, proposals, taken)
    store.replace_backlog(experiment_id, [suggester.encode(spec, p) for p in proposals])
    return len(proposals)


def drop_near(space: Space, proposals: list[Proposal], taken: Sequence[dict[str, Any]]
              ) -> list[Proposal]:
    """Proposals not within NEAR (scaled by dimension) of any point in `taken`."""
    if not proposals or not taken:
        return proposals
    fresh = space.encode([p.assignments for p in proposals])
    busy = space.encode(list(taken))
    distance = np.linalg.norm(fresh[:, None, :] - busy[None, :, :], axis=2).min(axis=1)
    limit = NEAR * math.sqrt(space.dimension)
    return [p for p, d in zip(proposals, distance, strict=True) if d > limit]


class BacklogKeeper:
    """Keeps backlogs fresh by the policy: of the given experiments, or of every active one.

    It looks every `poll` seconds, and whenever nudged (`poll` None: only then). A deleted
    experiment is never looked at again."""

    def __init__(self, suggester: Suggester, policy: BacklogPolicy,
                 experiments: Sequence[Experiment] | None = None,
                 poll: float | None = POLL_SECONDS) -> None:
        self.suggester = suggester
        self.policy = policy
        self.poll = poll
        self.only = None if experiments is None else [e.id for e in experiments]
        self.specs = {e.id: e.spec for e in experiments or ()}
        self.gone: set[str] = set()
        self.refreshes = 0
        self._tried_at: dict[str, int] = {}  # eid -> observation count of the last attempt
        self._landed_at: dict[str, int] = {}  # eid -> observation count the backlog knows
        self._landed = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()

    def nudge(self) -> None:
        """Look now: observations arrived, or suggestions were taken."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wait_for(self, experiment_id: str, observations: int, timeout: float) -> bool:
        """True once a refresh that knew `observations` observations has landed."""
        with self._landed:
            return self._landed.wait_for(
                lambda: self._landed_at.get(experiment_id, -1) >= observations, timeout=timeout)

    def run(self, parent: int | None = None) -> None:
        """Refreshes until stopped (or, given `parent`, until that process is gone)."""
        busy, troubled = 0, False
        while True:
            if not busy:  # waits first: the run loop computes its first batch itself
                self._wake.wait(self.poll)
                self._wake.clear()
            if self._stop.is_set() or (parent is not None and os.getppid() != parent):
                return  # stopped, or the server died without stopping us
            try:
                busy = self.refresh_stale()
            except Exception as exc:  # Redis away or full: the next pass retries
                busy = 0
                if explain(exc) is None:
                    log.exception("backlog pass failed; retrying")
                    continue
                if not troubled:  # one line; a run loop (no poll) shows the wait itself
                    log.log(logging.INFO if self.poll is None else logging.WARNING,
                            "backlog pass failed (%s); retrying every %g s", exc, OUTAGE_PAUSE)
                troubled = True
                self._stop.wait(OUTAGE_PAUSE)
                continue
            troubled = False

    def refresh_stale(self) -> int:
        """One pass over the experiments; returns how many backlogs were refreshed."""
        done = 0
        ids = self.only if self.only is not None else self.suggester.store.experiment_ids()
        for experiment_id in ids:
            due = self._due(experiment_id)
            if due is None:
                continue
            spec, counts = due
            try:
                refresh(self.suggester, experiment_id, spec, self.policy.size(spec, counts))
            except Exception as exc:  # one broken experiment must not starve the others
                if explain(exc) is not None:
                    raise  # Redis itself is away or full: the pass as a whole fails
                log.exception("refreshing the backlog of experiment %s failed", experiment_id)
                continue
            with self._landed:
                self._landed_at[experiment_id] = counts.observations
                self._landed.notify_all()
            self.refreshes += 1
            done += 1
        return done

    def _due(self, experiment_id: str) -> tuple[ExperimentSpec, Counts] | None:
        """The spec and counts of an active experiment whose backlog is stale, else None."""
        store = self.suggester.store
        spec = None if experiment_id in self.gone else self._spec(experiment_id)
        if spec is None:
            return None
        counts = store.counts(experiment_id)
        if not self.policy.stale(spec, counts, self._tried_at.get(experiment_id)):
            return None
        meta = store.experiment_meta(experiment_id)
        if meta.get("state") != ExperimentState.ACTIVE:
            self.gone.add(experiment_id)
            return None
        if meta.get("spec") and meta["spec"] != spec.to_json():  # updated: budget, bandwidth
            spec = self.specs[experiment_id] = ExperimentSpec.from_json(meta["spec"])
        self._tried_at[experiment_id] = counts.observations  # a failure waits for news
        return spec, counts

    def forget(self, experiment_id: str) -> None:
        """Read the experiment again on the next pass (it was updated or unarchived)."""
        self.gone.discard(experiment_id)
        self.specs.pop(experiment_id, None)

    def _spec(self, experiment_id: str) -> ExperimentSpec | None:
        if experiment_id not in self.specs:
            meta = self.suggester.store.experiment_meta(experiment_id)
            if not meta or meta.get("state") != ExperimentState.ACTIVE:
                self.gone.add(experiment_id)
                return None
            self.specs[experiment_id] = ExperimentSpec.from_json(meta["spec"])
        return self.specs[experiment_id]


class KeeperThread:
    """A keeper in a daemon thread: the run loop's, and servers' given only a Suggester."""

    def __init__(self, keeper: BacklogKeeper, name: str = "celeriac-backlog") -> None:
        self.keeper = keeper
        self.thread = threading.Thread(target=keeper.run, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.keeper.stop()
        self.thread.join(timeout)


def _process_main(redis_url: str, parent: int) -> None:
    """The child's entry point (spawned, so it imports this module afresh)."""
    logging.basicConfig(level=logging.INFO)
    BacklogKeeper(Suggester(Store(connect(redis_url))), SERVER).run(parent=parent)


class KeeperProcess:
    """The server's keeper (every active experiment) in a child process it starts and ends.

    It is stopped with SIGTERM rather than a shared Event: a child killed while holding an
    Event's lock would leave the server hanging in `Event.set()`. Stopping mid-refresh is safe
    (the backlog is replaced in one transaction), and the child also exits by itself when it
    notices its parent is gone.
    """

    def __init__(self, redis_url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(target=_process_main, name="celeriac-backlog",
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
