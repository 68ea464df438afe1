"""Two optimized metrics: the optimistic hypervolume improvement over the known front.

Each metric has its own GP, and a point is worth the hypervolume its optimistic outcome
(mean + kappa x std of every metric, the confidence bound of the single-metric `auto`) would
add to the front, as in SMS-EGO (Ponweiser et al., 2008). Pending points enter the front at
their predicted means (kriging believer), so a batch spreads along the front instead of
piling onto one part.

Targets are 'larger is better' and standardized per metric, so the hypervolume is measured
in standard deviations of each metric. Only two metrics: the sweep below is exact in 2-D.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.gp import GaussianProcess

MARGIN = 0.1  # the reference point lies this share of the front's range below its nadir
FLOOR = 1e-9  # value of a dominated outcome at the front, decaying with its distance


def front(points: np.ndarray) -> np.ndarray:
    """The non-dominated rows (maximized), sorted by the first metric, largest first."""
    order = np.lexsort((-points[:, 1], -points[:, 0]))
    kept, ceiling = [], -np.inf
    for row in points[order]:
        if row[1] > ceiling:  # strictly better on the second than every row before it
            kept.append(row)
            ceiling = row[1]
    return np.array(kept).reshape(-1, 2)


def reference(pareto: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Below the front's worst value of each metric (its nadir), by MARGIN of the front's
    range (or of all observations' while the front is a single point)."""
    low, high = pareto.min(axis=0), pareto.max(axis=0)
    span = np.where(high > low, high - low, np.ptp(observed, axis=0))
    ref: np.ndarray = low - MARGIN * np.maximum(span, 1e-9)
    return ref


def improvement(u: np.ndarray, pareto: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, ...]:
    """Hypervolume that each outcome row u adds to the front, with its gradient in u.

    The box between the reference and u, less the part the front already dominates: that
    part is the hypervolume of the front clipped to the box, a staircase summed in one
    vectorized sweep (rows of `pareto` are sorted by the first metric, largest first).
    """
    u = np.maximum(u, ref)
    p1, p2 = pareto[None, :, 0], pareto[None, :, 1]
    q1 = np.minimum(p1, u[:, :1]) - ref[0]
    q2 = np.minimum(p2, u[:, 1:])
    below = np.concatenate([np.full((len(u), 1), ref[1]), q2[:, :-1]], axis=1)
    covered = np.sum(q1 * (q2 - below), axis=1)
    value = (u[:, 0] - ref[0]) * (u[:, 1] - ref[1]) - covered
    d1 = (u[:, 1] - ref[1]) - np.sum((p1 > u[:, :1]) * (q2 - below), axis=1)
    above = np.concatenate([np.zeros((len(u), 1), bool), (p2 > u[:, 1:])[:, :-1]], axis=1)
    d2 = (u[:, 0] - ref[0]) - np.sum(q1 * ((p2 > u[:, 1:]).astype(float) - above), axis=1)
    return np.maximum(value, 0.0), np.stack([d1, d2], axis=1)


def escape(u: np.ndarray, pareto: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How far each outcome must rise on both metrics to leave the front's shadow (0 when
    it is not dominated), with its gradient in u."""
    gaps = pareto[None, :, :] - u[:, None, :]  # (n, front, 2)
    pick = np.argmin(gaps, axis=2)  # the metric on which leaving each front point is cheaper
    needed = np.take_along_axis(gaps, pick[:, :, None], axis=2)[:, :, 0]
    worst = np.argmax(needed, axis=1)
    distance = np.maximum(needed[np.arange(len(u)), worst], 0.0)
    grad = np.zeros_like(u)
    rows = np.flatnonzero(distance > 0)
    grad[rows, pick[rows, worst[rows]]] = -1.0
    return distance, grad


@dataclass
class Hypervolume:
    """Acquisition factor: optimistic hypervolume improvement, 'maximize this'."""

    models: Sequence[GaussianProcess]
    pareto: np.ndarray
    ref: np.ndarray
    kappa: float = 1.0
    width: float = 1.0  # decay of the dominated outcomes' value, in the metrics' units

    def value(self, x: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
        means, derivs = [], []
        for model in self.models:
            if grad:
                mean, std, dmean, dstd = model.predict_grad(x)
                derivs.append(dmean + self.kappa * dstd)
            else:
                mean, std = model.predict(x)
            means.append(mean + self.kappa * std)
        u = np.stack(means, axis=1)
        gain, dgain = improvement(u, self.pareto, self.ref)
        distance, ddist = escape(u, self.pareto)
        tail = FLOOR * np.exp(-distance / self.width)
        value = gain + tail
        if not grad:
            return value, None
        du = dgain * (gain > 0)[:, None] - (tail / self.width)[:, None] * ddist
        return value, sum(du[:, j : j + 1] * derivs[j] for j in range(len(derivs)))
