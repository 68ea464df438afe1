"""Which observations are the best so far (SigOpt's best assignments)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optimizer.metrics import Metric, Observation, is_feasible, optimized


def best_observations(metrics: Sequence[Metric], observations: Sequence[Observation]) -> list[int]:
    """Indices of the best feasible observations.

    One optimized metric gives at most one index (the earliest on ties, so the answer is
    stable as history grows); several give the Pareto front ordered by the first metric.
    An observation an early-stopping scheduler stopped is never eligible (its values are
    partial, as Optuna's best trial ignores pruned ones); with only stopped ones, there is
    no best yet.
    """
    goals = optimized(metrics)
    if not goals:
        return []
    feasible = [
        i for i, o in enumerate(observations) if not o.stopped and is_feasible(metrics, o)
    ]
    if not feasible:
        return []
    scores = np.array(
        [[m.sign * float(observations[i].values[m.name]) for m in goals] for i in feasible]
    )
    if len(goals) == 1:
        return [feasible[int(np.argmax(scores[:, 0]))]]
    front = pareto_mask(scores)
    chosen = [(-scores[r, 0], feasible[r]) for r in range(len(feasible)) if front[r]]
    return [index for _, index in sorted(chosen)]


def pareto_mask(scores: np.ndarray) -> np.ndarray:
    """Rows not dominated by any other row (all columns maximized); equal rows both stay.

    In descending lexicographic order no row comes before one it dominates, so the first row
    left is never dominated: it joins the front and removes, in one vectorized step, every
    row it dominates. That is one step per row of the front, so a rebuild of a million
    observations' summary takes a fraction of a second, not hours.
    """
    mask = np.zeros(len(scores), dtype=bool)
    remaining = np.lexsort(scores.T[::-1])[::-1] if len(scores) else np.zeros(0, dtype=int)
    while remaining.size:
        head, rest = remaining[0], remaining[1:]
        mask[head] = True
        point, others = scores[head], scores[rest]
        dominated = np.all(point >= others, axis=1) & np.any(point > others, axis=1)
        remaining = rest[~dominated]
    return mask
    order = np.lexsort(scores.T[::-1])[::-1]
    front = np.empty((0, scores.shape[1]))
    for row in order:
        point = scores[row]
        if len(front) and bool(np.any(np.all(front >= point, axis=1)
                                      & np.any(front > point, axis=1))):
            continue
        mask[row] = True
        front = np.vstack([front, point])
    return mask
