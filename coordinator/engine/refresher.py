"""Recomputes an experiment's backlog in a background thread while the run loop dispatches.

The dispatch loop only pops ready suggestions, so a freed worker never waits for the
optimizer, however long a Gaussian-process fit takes on a busy machine. A refresh computes
the next suggestions with every open one as a pending point; any that the loop handed out
meanwhile were not pending in that computation, so fresh proposals lying next to one of them
are dropped rather than handed out as near-duplicates.
"""

from __future__ import annotations

import logging
import math
import threading

import numpy as np

from coordinator.engine.suggester import Suggester
from coordinator.state.records import Experiment
from optimizer import Proposal, Space

log = logging.getLogger(__name__)

NEAR = 0.02  # unit-cube distance per sqrt(dimension) below which two points are the same idea


class BacklogRefresher:
    def __init__(self, suggester: Suggester, experiment: Experiment) -> None:
        self.suggester = suggester
        self.experiment = experiment
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._size = 0
        self._target: int | None = None
        self.completed: int | None = None  # observation count the backlog last reflected
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"refresher-{experiment.id}")
        self.refreshes = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wanted.set()
        self._thread.join(timeout=30)

    def request(self, size: int, observations: int) -> None:
        """Asks for a backlog of `size` computed with the first `observations` known."""
        self._size, self._target = size, observations
        self._wanted.set()

    def wait_for(self, observations: int, timeout: float) -> bool:
        """True once a refresh that knew `observations` observations has landed."""
        with self._done:
            return self._done.wait_for(lambda: (self.completed or -1) >= observations,
                                       timeout=timeout)

    def _loop(self) -> None:
        while True:
            self._wanted.wait()
            if self._stop.is_set():
                return
            self._wanted.clear()
            target = self._target
            try:
                self.refresh(self._size)
                with self._done:
                    self.completed = target
                    self._done.notify_all()
            except Exception:  # Redis away or the optimizer failed: the next request retries
                log.exception("refreshing the backlog of experiment %s failed",
                              self.experiment.id)

    def refresh(self, size: int) -> None:
        if size <= 0:
            return
        store, spec = self.suggester.store, self.experiment.spec
        before = set(store.open_ids(self.experiment.id))
        proposals = self.suggester.compute(self.experiment.id, spec, size, include_backlog=False)
        opened = set(store.open_ids(self.experiment.id)) - before
        if opened:
            taken = [s.assignments for s in store.suggestions(self.experiment.id, opened)]
            proposals = drop_near(spec.space, proposals, taken)
        store.replace_backlog(self.experiment.id,
                              [self.suggester.encode(spec, p) for p in proposals])
        self.refreshes += 1


def drop_near(space: Space, proposals: list[Proposal], taken: list[dict]) -> list[Proposal]:
    """Proposals not within NEAR (scaled by dimension) of any point in `taken`."""
    if not proposals or not taken:
        return proposals
    fresh = space.encode([p.assignments for p in proposals])
    busy = space.encode(taken)
    distance = np.linalg.norm(fresh[:, None, :] - busy[None, :, :], axis=2).min(axis=1)
    limit = NEAR * math.sqrt(space.dimension)
    return [p for p, d in zip(proposals, distance, strict=True) if d > limit]
