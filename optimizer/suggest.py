"""The one entry point the coordinator calls: the next k suggestions for an experiment."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from optimizer import design
from optimizer.metrics import Metric, Observation
from optimizer.proposals import Batch, History, Proposal
from optimizer.settings import Settings
from optimizer.space import Space

ENUMERATE_LIMIT = 100_000


def suggest(
    space: Space,
    metrics: Sequence[Metric],
    observations: Sequence[Observation],
    pending: Sequence[Mapping[str, Any]],
    k: int,
    settings: Settings,
    parallel_bandwidth: int = 1,
    max_resource: float | None = None,
) -> list[Proposal]:
    """k new points, never equal to an observed or pending point nor to each other.

    Fewer than k come back only when a finite (int/categorical) space is exhausted.
    `max_resource` is the full training length of an experiment with early stopping (None:
    none); with it, the Bayesian strategy models early-stopped observations' values as
    partial (see `optimizer.fidelity`). Stopped observations are never suggested again.
    """
    if max_resource is not None and not max_resource > 0:
        raise ValueError(f"max_resource: must be positive, got {max_resource!r}")
    history = History.build(space, observations, pending)
    k = min(int(k), _remaining(space, history))
    if k <= 0:
        return []
    rng = make_rng(settings.seed, len(observations) + len(pending))
    batch = Batch(space, history.taken, k, history.pending, settings.min_open_distance)
    if settings.type == "bayes":
        # lazy: bayes imports scikit-learn and scipy.stats (about 2 s), which the model-free
        # strategies and the coordinator's commands never need
        from optimizer.bayes import propose_bayes  # noqa: PLC0415

        propose_bayes(history, metrics, settings, max(1, parallel_bandwidth), rng, batch,
                      max_resource)
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
        batch.min_distance = 0.0  # a crowded finite space: any point not yet taken will do
        everything = design.all_points(space)
        batch.offer(everything[rng.permutation(len(everything))], "random")


def _remaining(space: Space, history: History) -> int:
    size = space.size()
    return int(size - len(history.taken)) if math.isfinite(size) else 1 << 62
