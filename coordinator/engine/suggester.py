"""Where suggestions come from: the per-experiment backlog, else one made on the spot.

Handing out a suggestion is one atomic pop (take_suggestion.lua). The optimizer's work happens
when the backlog is refreshed (coordinator/engine/backlog.py); only when the backlog is empty is
a suggestion made on the spot: by the API's request path a random point, otherwise (or when
random points keep colliding) the optimizer's, with every open and backlogged suggestion as a
pending point, under a short per-experiment lock so concurrent callers do not compute the same
point.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections import deque
from typing import Any

from coordinator.errors import Conflict
from coordinator.spec.experiment import ExperimentSpec
from coordinator.state.queue import Queue
from coordinator.state.records import Experiment, Suggestion
from coordinator.state.states import SuggestionState, TakeReply
from coordinator.state.store import NO_LIMIT, Limit, Store, Taken
from optimizer import Observation, Proposal, Settings, suggest

COMPUTED_ATTEMPTS = 5  # computed under the lock, for a take that found the backlog empty
DURATION_WINDOW = 20  # evaluations whose median duration is "typical"
FALLBACK = "fallback"  # strategy recorded for a random point the quick path made
LOCK_TTL_MS = 10_000
LOCK_WAIT_S = 2.0
QUICK_ATTEMPTS = 5  # random points a quick take tries before computing one
RANDOM = Settings(type="random")


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
        # queued points go out before anything computed now: the optimizer counts them as
        # open, so it neither proposes them again nor piles points next to them
        pending += [q.assignments for q in Queue(self.store.redis).items(experiment_id)]
        return suggest(spec.space, spec.metrics, observations, pending, k, spec.optimizer,
                       parallel_bandwidth=spec.parallel_bandwidth, max_resource=spec.max_resource)

    def take(self, experiment_id: str, spec: ExperimentSpec, *, claim_ms: int = 0,
             metadata: dict[str, Any] | None = None, quick: bool = False,
             bounded: bool = False) -> Taken:
        """A new open suggestion: the oldest queued one (coordinator/state/queue.py), else
        from the backlog, else made now. `quick` (the API's request path) makes a random
        point rather than wait for the optimizer; only a finite space that random points keep
        colliding with falls back to computing one under the lock. The quick path's first
        try is two Redis round trips: the id and the atomic take.
        `bounded` (run loops): FULL, and nothing taken, once the bandwidth or the budget is
        taken up, checked in the same atomic take, so several run loops keep to them too."""
        sid = self.store.allocate_ids()[0]
        limit = (spec.parallel_bandwidth, spec.reachable_budget or 0) if bounded else NO_LIMIT
        tries = ([self._take_random] * QUICK_ATTEMPTS if quick else [self._take_ready]) + \
            [self._take_computed] * COMPUTED_ATTEMPTS
        for attempt in tries:  # an unknown or deleted experiment raises ExperimentNotFound
            taken = attempt(experiment_id, spec, sid, claim_ms, metadata, limit)
            if taken.status in (TakeReply.OK, TakeReply.FULL):
                return taken
        raise _exhausted(experiment_id)

    def take_now(self, experiment: Experiment, metadata: dict[str, Any] | None = None
                 ) -> Suggestion:
        """The API's new suggestion, built from the take's reply rather than read back."""
        taken = self.take(experiment.id, experiment.spec, metadata=metadata, quick=True)
        assert taken.suggestion_id is not None
        return Suggestion(id=taken.suggestion_id, experiment=experiment.id,
                          state=SuggestionState.QUEUED,
                          assignments=taken.assignments or {}, strategy=taken.strategy,
                          created=int(time.time() * 1000),
                          metadata=dict(taken.metadata or metadata or {}))

    # Each way to take one returns the take's reply: OK, or EMPTY / DUPLICATE (try the next).

    def _take_ready(self, experiment_id: str, spec: ExperimentSpec, sid: str, claim_ms: int,
                    metadata: dict[str, Any] | None, limit: Limit = NO_LIMIT) -> Taken:
        return self.store.take_suggestion(experiment_id, sid, "", metadata, claim_ms, limit)

    def _take_random(self, experiment_id: str, spec: ExperimentSpec, sid: str, claim_ms: int,
                     metadata: dict[str, Any] | None, limit: Limit = NO_LIMIT) -> Taken:
        """The backlog's first ready suggestion (the script pops it first), else a random one."""
        point = suggest(spec.space, spec.metrics, [], [], 1, RANDOM)[0]
        entry = f"{FALLBACK}\t{spec.space.key(point.assignments)}"
        return self.store.take_suggestion(experiment_id, sid, entry, metadata, claim_ms, limit)

    def _take_computed(self, experiment_id: str, spec: ExperimentSpec, sid: str, claim_ms: int,
                       metadata: dict[str, Any] | None, limit: Limit = NO_LIMIT) -> Taken:
        token = uuid.uuid4().hex
        locked = self._lock(experiment_id, token)
        try:
            taken = self._take_ready(experiment_id, spec, sid, claim_ms, metadata, limit)
            if taken.status is not TakeReply.EMPTY:
                return taken  # someone refilled while we waited for the lock
            proposals = self.compute(experiment_id, spec, 1)
            if not proposals:
                # the rest may sit in a backlog refilled meanwhile (a refresh that went ahead
                # without the lock): those are the points to take, not a reason to give up
                taken = self._take_ready(experiment_id, spec, sid, claim_ms, metadata, limit)
                if taken.status is not TakeReply.EMPTY:
                    return taken
                raise _exhausted(experiment_id)
            return self.store.take_suggestion(experiment_id, sid, self.encode(spec, proposals[0]),
                                              metadata, claim_ms, limit)
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


def _exhausted(experiment_id: str) -> Conflict:
    return Conflict(f"experiment {experiment_id}: every point of the search space is observed "
                    f"or open; raise the budget no further or widen the space")
