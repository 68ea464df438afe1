"""A stateless TuRBO-style trust region: a box around the incumbent sized by recent progress.

A global search keeps spending evaluations on the whole domain long after the basin is
found. TuRBO (Eriksson et al., 2019) instead searches a box around the best point, doubling
it after a run of improvements and halving it after a run of failures. The optimizer keeps no
state, so the side length is replayed from the observation order on every call, which gives
the same answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BASE = 0.8
SHORTEST = 0.5**7
LONGEST = 1.6
SUCCESSES = 3
TOLERANCE = 1e-3


@dataclass(frozen=True)
class Region:
    """The trust region replayed from history: its side, and whether it has collapsed and
    restarted with no success since (the incumbent's basin is exhausted)."""

    length: float = BASE
    converged: bool = False


def replay(values: np.ndarray, dimension: int, bandwidth: int, patience: int = 0) -> Region:
    """Replay TuRBO's success/failure counters over values (larger is better) in order.

    As in TuRBO, the counters move once per batch: the observations are taken in groups of
    `bandwidth` (report order), and a group succeeds when its best beats the incumbent, so
    that one round of many workers cannot collapse the box. `patience` is the run of failed
    groups that halves the box; 0 means TuRBO's ceil(max(4, dimension) / bandwidth).
    """
    patience = patience or math.ceil(max(4.0, dimension) / bandwidth)
    length, best = BASE, -math.inf
    wins = losses = 0
    converged = False
    for start in range(0, len(values), bandwidth):
        value = float(np.max(values[start : start + bandwidth]))
        if best == -math.inf or value > best + TOLERANCE * abs(best):
            wins, losses, converged = wins + 1, 0, False
        else:
            wins, losses = 0, losses + 1
        best = max(best, value)
        if wins == SUCCESSES:
            length, wins = min(2.0 * length, LONGEST), 0
        if losses == patience:
            length, losses = length / 2.0, 0
        if length < SHORTEST:  # converged: start again at full size around the incumbent
            length, converged = BASE, True
    return Region(length, converged)


def box(
    centre: np.ndarray, length_scales: np.ndarray, length: float, ordered: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cube bounds around centre, wider along long length scales; categoricals stay free."""
    weights = length_scales / np.exp(np.mean(np.log(length_scales)))
    half = 0.5 * length * np.clip(weights, 0.1, 10.0)
    low = np.where(ordered, np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where(ordered, np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high
