"""Where suggestions come from: the per-experiment backlog, refilled by the optimizer.

Handing out a suggestion is one atomic pop (take_suggestion.lua). The optimizer's work happens
when the backlog is refilled, with every open and backlogged suggestion passed as a pending
point; only when the backlog is empty is a suggestion computed on the spot, under a short
per-experiment lock so concurrent callers do not compute the same point.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections import deque
from typing import Any

from coordinator.errors import Conflict, NotFound
from coordinator.spec.experiment import ExperimentSpec
from coordinator.state.store import Store, Taken
from optimizer import Observation, Proposal, suggest

DURATION_WINDOW = 20  # evaluations whose median duration is "typical"
LOCK_TTL_MS = 10_000
LOCK_WAIT_S = 2.0


class ObservationCache:
    """Observations never change once written, so each process reads each one once: a refill
    costs one HKEYS plus the new records, not the whole history every time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: dict[str, dict[str, Observation]] = {}
        self._durations: dict[str, deque[float]] = {}

    def get(self, experiment_id: str) -> list[Observation]:
        seen = self._seen.setdefault(experiment_id, {})
        durations = self._durations.setdefault(experiment_id, deque(maxlen=DURATION_WINDOW))
        ids = self.store.observation_ids(experiment_id)
        new = [i for i in ids if i not in seen]
        for record in self.store.observations_by_id(experiment_id, new):
            seen[record.id] = record.to_optimizer()
            if record.duration:
                durations.append(record.duration)
        return [seen[i] for i in sorted(ids, key=int) if i in seen]

    def typical_duration(self, experiment_id: str) -> float:
        """Median seconds of the latest evaluations seen, 0 before any."""
        durations = self._durations.get(experiment_id)
        return float(statistics.median(durations)) if durations else 0.0


class Suggester:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.observations = ObservationCache(store)

    def compute(self, experiment_id: str, spec: ExperimentSpec, k: int,
                include_backlog: bool = True) -> list[Proposal]:
        observations = self.observations.get(experiment_id)
        pending = [s.assignments for s in
                   self.store.suggestions(experiment_id, self.store.open_ids(experiment_id))]
        if include_backlog:
            pending += [self._decode(e)[1] for e in self.store.backlog_entries(experiment_id)]
        return suggest(spec.space, spec.metrics, observations, pending, k, spec.optimizer,
                       parallel_bandwidth=spec.parallel_bandwidth)

    def refill(self, experiment_id: str, spec: ExperimentSpec, size: int) -> int:
        """Replaces the backlog with `size` fresh suggestions that know every observation."""
        proposals = self.compute(experiment_id, spec, size, include_backlog=False)
        self.store.replace_backlog(experiment_id, [self.encode(spec, p) for p in proposals])
        return len(proposals)

    def take(self, experiment_id: str, spec: ExperimentSpec, *, claim_ms: int = 0,
             metadata: dict[str, Any] | None = None) -> Taken:
        """A new open suggestion: from the backlog, else computed now."""
        sid = self.store.allocate_ids()[0]
        taken = self.store.take_suggestion(experiment_id, sid, "", metadata, claim_ms)
        attempts = 0
        while taken.status in ("EMPTY", "DUPLICATE") and attempts < 5:
            attempts += 1
            taken = self._take_computed(experiment_id, spec, sid, claim_ms, metadata)
        if taken.status == "NO_EXPERIMENT":
            raise NotFound(f"experiment {experiment_id} does not exist or was deleted")
        if taken.status != "OK":
            raise Conflict(f"experiment {experiment_id}: every point of the search space is "
                           f"observed or open; raise the budget no further or widen the space")
        return taken

    def _take_computed(self, experiment_id: str, spec: ExperimentSpec, sid: str, claim_ms: int,
                       metadata: dict[str, Any] | None) -> Taken:
        token = uuid.uuid4().hex
        locked = self._lock(experiment_id, token)
        try:
            taken = self.store.take_suggestion(experiment_id, sid, "", metadata, claim_ms)
            if taken.status != "EMPTY":
                return taken  # someone refilled while we waited for the lock
            proposals = self.compute(experiment_id, spec, 1)
            if not proposals:
                return Taken("EXHAUSTED")
            return self.store.take_suggestion(experiment_id, sid, self.encode(spec, proposals[0]),
                                              metadata, claim_ms)
        finally:
            if locked:
                self.store.release_refill_lock(experiment_id, token)

    def _lock(self, experiment_id: str, token: str) -> bool:
        deadline = time.monotonic() + LOCK_WAIT_S
        while not self.store.acquire_refill_lock(experiment_id, token, LOCK_TTL_MS):
            if time.monotonic() > deadline:
                return False  # go ahead unlocked: take_suggestion still refuses duplicates
            time.sleep(0.01)
        return True

    @staticmethod
    def encode(spec: ExperimentSpec, proposal: Proposal) -> str:
        return f"{proposal.strategy}\t{spec.space.key(proposal.assignments)}"

    @staticmethod
    def _decode(entry: str) -> tuple[str, dict[str, Any]]:
        strategy, _, assignments = entry.partition("\t")
        return strategy, json.loads(assignments)
