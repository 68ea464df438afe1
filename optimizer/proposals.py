"""What every strategy works from and hands back: the history and the batch being collected.

A module of its own so that `suggest` and the strategies it calls (`bayes`) can both use these
types without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from optimizer.metrics import Observation
from optimizer.space import Space, canonical_key

CHUNK = 32  # rows decoded at a time: usually the first one is accepted
# Two open points are near-duplicates when every int and categorical is equal and their double
# parameters lie closer than `Settings.min_open_distance` in the design cube (each double's
# range, log-scaled where it is, is [0, 1]: 0.01 is 1 % of one range). With it set, a proposal
# that near an open point (pending, or earlier in the same batch) is refused. Observed points
# are never kept away: refining near the best is what the local steps are for.


@dataclass(frozen=True)
class Proposal:
    """One suggested point and the strategy that chose it."""

    assignments: dict[str, Any]
    strategy: str


@dataclass
class History:
    """Observations and pending points in canonical form; invalid ones are dropped, not fatal.

    Every observation is taken, stopped ones included: a run an early-stopping scheduler
    ended is never suggested again.

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
                    replace(obs, assignments=canon, values=dict(obs.values),
                            stddevs=dict(obs.stddevs))
                )
                history.taken.add(canonical_key(canon))
        for point in pending:
            canon = _try_canonical(space, point)
            if canon is not None:
                history.pending.append(canon)
                history.taken.add(canonical_key(canon))
        return history

    def cube(self) -> np.ndarray:
        """Observed and pending points as design-cube rows."""
        return self.space.encode([*(o.assignments for o in self.observations), *self.pending])


class Batch:
    """Collects unique proposals; every strategy offers cube rows and this keeps the valid ones."""

    def __init__(self, space: Space, taken: set[str], k: int,
                 pending: Sequence[Mapping[str, Any]] = (), min_distance: float = 0.0) -> None:
        self.space = space
        self.taken = set(taken)
        self.proposals: list[Proposal] = []
        self.k = k
        self.min_distance = min_distance
        kinds = [p.continuous for p in space.parameters]
        self._doubles = np.flatnonzero(kinds)
        self._discrete = np.flatnonzero([not k for k in kinds])
        self._open = space.encode(list(pending)) if pending and min_distance > 0 \
            else np.empty((0, space.dimension))

    @property
    def full(self) -> bool:
        return len(self.proposals) >= self.k

    def offer(self, cube: np.ndarray, strategy: str, limit: int | None = None) -> list[int]:
        """Accept rows in order until full (or `limit` taken); returns the indices accepted."""
        accepted: list[int] = []
        constrained = bool(self.space.constraints)
        for start in range(0, len(cube), CHUNK):
            rows = self.space.inside(cube[start : start + CHUNK])
            for i, point in enumerate(self.space.decode(rows), start):
                if self.full or (limit is not None and len(accepted) >= limit):
                    return accepted
                key = canonical_key(point)
                if key in self.taken or (constrained and not self.space.satisfies(point)):
                    continue
                if self.min_distance > 0:
                    row = self.space.encode([point])
                    if self.near_open(row[0]):
                        continue
                    self._open = np.vstack([self._open, row])
                self.taken.add(key)
                self.proposals.append(Proposal(point, strategy))
                accepted.append(i)
        return accepted

    def near_open(self, row: np.ndarray) -> bool:
        """Whether a cube row is a near-duplicate of an open point (see the module's top)."""
        if not len(self._open) or not len(self._doubles) or self.min_distance <= 0:
            return False
        same = np.all(self._open[:, self._discrete] == row[self._discrete], axis=1)
        if not same.any():
            return False
        gaps = self._open[same][:, self._doubles] - row[self._doubles]
        return bool(np.min(np.sum(gaps * gaps, axis=1)) < self.min_distance ** 2)

    def cube(self) -> np.ndarray:
        """The proposals accepted so far as design-cube rows."""
        return self.space.encode([p.assignments for p in self.proposals])


def _try_canonical(space: Space, assignments: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        return space.canonical(assignments)
    except (ValueError, TypeError):
        return None
