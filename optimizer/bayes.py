"""Bayesian optimization strategy (initial design for now; the model comes next)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optimizer import design
from optimizer.metrics import Metric
from optimizer.settings import Settings


def initial_points(dimension: int, bandwidth: int) -> int:
    """Enough points to fit length scales, rounded up so a full first wave is all design."""
    base = max(5, dimension + 2)
    return -(-base // bandwidth) * bandwidth


def propose_bayes(history, metrics: Sequence[Metric], settings: Settings, bandwidth: int,
                  rng: np.random.Generator, batch) -> None:  # type: ignore[no-untyped-def]
    existing = history.cube()
    batch.offer(design.maximin_fill(history.space, rng, existing, 2 * batch.k), "sobol")
