"""The one entry point the coordinator calls: the next k suggestions for an experiment."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer import design
from optimizer.metrics import Metric, Observation
from optimizer.settings import Settings
from optimizer.space import Space, canonical_key

ENUMERATE_LIMIT = 100_000
CHUNK = 32


@dataclass(frozen=True)
class Proposal:
    assignments: dict[str, Any]
    strategy: str


@dataclass
class History:
    """Observations and pending points in canonical form; invalid ones are dropped, not fatal.

    A point that no longer fits the space (for example reported by hand through the API)
    cannot collide with a proposal and cannot be encoded, so ignoring it is the safe choice.
    """

    space: Space
    observations: list[Observation]
    pending: list[dict[str, Any]]
    taken: set[str] = field(default_factory=set)

    @classmethod
    def build(
        cls, space: Space, observations: Sequence[Observation], pending: Sequence[Mapping[str, Any]]
    ) -> History:
        history = cls(space, [], [])
        for obs in observations:
            canon = _try_canonical(space, obs.assignments)
            if canon is not None:
                history.observations.append(
                    Observation(canon, dict(obs.values), dict(obs.stddevs), obs.failed)
                )
                history.taken.add(canonical_key(canon))
        for point in pending:
            canon = _try_canonical(space, point)
            if canon is not None:
                history.pending.append(canon)
                history.taken.add(canonical_key(canon))
        return history

    def cube(self) -> np.ndarray:
        points = [o.assignments for o in self.observations] + self.pending
        return self.space.encode(points) if points else np.empty((0, self.space.dimension))


class Batch:
    """Collects unique proposals; every strategy offers cube rows and this keeps the valid ones."""

    def __init__(self, space: Space, taken: set[str], k: int) -> None:
        self.space = space
        self.taken = set(taken)
        self.proposals: list[Proposal] = []
        self.k = k

    @property
    def full(self) -> bool:
        return len(self.proposals) >= self.k

    def offer(self, cube: np.ndarray, strategy: str, limit: int | None = None) -> list[int]:
        """Accept rows in order until full (or `limit` taken); returns the indices accepted."""
        accepted: list[int] = []
        for start in range(0, len(cube), CHUNK):  # usually the first row wins: decode lazily
            for i, point in enumerate(self.space.decode(cube[start : start + CHUNK]), start):
                if self.full or (limit is not None and len(accepted) >= limit):
                    return accepted
                key = canonical_key(point)
                if key not in self.taken:
                    self.taken.add(key)
                    self.proposals.append(Proposal(point, strategy))
                    accepted.append(i)
        return accepted

    def cube(self) -> np.ndarray:
        points = [p.assignments for p in self.proposals]
        return self.space.encode(points) if points else np.empty((0, self.space.dimension))


def suggest(
    space: Space,
    metrics: Sequence[Metric],
    observations: Sequence[Observation],
    pending: Sequence[Mapping[str, Any]],
    k: int,
    settings: Settings,
    parallel_bandwidth: int = 1,
) -> list[Proposal]:
    """k new points, never equal to an observed or pending point nor to each other.

    Fewer than k come back only when a finite (int/categorical) space is exhausted.
    """
    history = History.build(space, observations, pending)
    k = min(int(k), _remaining(space, history))
    if k <= 0:
        return []
    rng = make_rng(settings.seed, len(observations) + len(pending))
    batch = Batch(space, history.taken, k)
    if settings.type == "bayes":
        from optimizer.bayes import propose_bayes

        propose_bayes(history, metrics, settings, max(1, parallel_bandwidth), rng, batch)
    elif settings.type == "sobol":
        start = len(observations) + len(pending)
        batch.offer(design.sobol_sequence(space, settings.seed, start, 4 * k + 16), "sobol")
    elif settings.type == "grid":
        for rows in design.grid_points(space, rng, 4 * k + len(history.taken)):
            batch.offer(rows, "grid")
            if batch.full:
                break
    _fill_randomly(space, rng, batch)
    return batch.proposals


def make_rng(seed: int | None, salt: int) -> np.random.Generator:
    """Same seed and same amount of history give the same stream; no seed means fresh entropy."""
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([int(seed), int(salt)])


def _fill_randomly(space: Space, rng: np.random.Generator, batch: Batch) -> None:
    """Uniform draws until full; small finite spaces fall back to enumeration when crowded."""
    for _ in range(20):
        if batch.full:
            return
        batch.offer(design.random_points(space, rng, 4 * batch.k + 16), "random")
    if not batch.full and space.size() <= ENUMERATE_LIMIT:
        everything = design.all_points(space)
        batch.offer(everything[rng.permutation(len(everything))], "random")


def _remaining(space: Space, history: History) -> int:
    size = space.size()
    return int(size - len(history.taken)) if math.isfinite(size) else 1 << 62


def _try_canonical(space: Space, assignments: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        return space.canonical(assignments)
    except (ValueError, TypeError):
        return None
