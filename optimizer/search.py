"""Maximizing an acquisition over the design cube: many candidates, then L-BFGS-B.

Candidates mix a Sobol set (global) with perturbations of the best points seen (local,
including flips of int/categorical coordinates, which gradients cannot move). The best few
start one joint L-BFGS-B run over the double coordinates, with ints and categoricals held.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from optimizer import design
from optimizer.acquisition import Acquisition
from optimizer.space import Space

STARTS = 6
SCALES = (0.3, 0.1, 0.03, 0.01)


def candidates(space: Space, rng: np.random.Generator, centres: np.ndarray, n: int) -> np.ndarray:
    """Half global Sobol, half local perturbations of the given centres."""
    n_local = n // 2 if len(centres) else 0
    glob = design.sobol_points(space, rng, n - n_local)
    if not n_local:
        return glob
    picks = centres[rng.integers(len(centres), size=n_local)]
    scale = rng.choice(SCALES, size=(n_local, 1))
    local = picks + scale * rng.standard_normal(picks.shape)
    categorical = np.array([p.type == "categorical" for p in space.parameters])
    if categorical.any():
        flip = (rng.random(picks.shape) < 1.0 / space.dimension) & categorical
        kept = np.where(flip, rng.random(picks.shape), picks)
        local[:, categorical] = kept[:, categorical]
    return np.clip(local, 0.0, 1.0)


Box = tuple[np.ndarray, np.ndarray]


def maximize(
    space: Space, acq: Acquisition, rng: np.random.Generator, centres: np.ndarray, n: int,
    box: Box | None = None,
) -> np.ndarray:
    """Design-cube rows ordered best first (refined starts, then the remaining candidates).

    With a box (a trust region) every candidate and every refinement stays inside it.
    """
    cube = candidates(space, rng, centres, n)
    if box is not None:
        cube = _into_box(cube, box, n - n // 2 if len(centres) else n)
    cube = space.inside(space.snap(cube))
    values, _ = acq.value(space.features(cube))
    order = np.argsort(-values)
    starts = cube[order[:STARTS]]
    refined = space.inside(_refine(space, acq, starts, box))
    refined_values, _ = acq.value(space.features(refined))
    pool = np.vstack([refined, cube[order[STARTS:]]])
    scores = np.concatenate([refined_values, values[order[STARTS:]]])
    return pool[np.argsort(-scores, kind="stable")]


def _refine(space: Space, acq: Acquisition, starts: np.ndarray, box: Box | None) -> np.ndarray:
    """Joint L-BFGS-B over all starts: the sum is separable, so each start climbs on its own."""
    mask = space.continuous_mask()
    if not mask.any():
        return starts
    columns = feature_columns(space)[mask]
    scale = max(float(np.max(acq.value(space.features(starts))[0])), 1e-300)
    b, c = len(starts), int(mask.sum())

    def negative(flat: np.ndarray) -> tuple[float, np.ndarray]:
        cube = starts.copy()
        cube[:, mask] = flat.reshape(b, c)
        value, grad = acq.value(space.features(cube), grad=True)
        return -float(np.sum(value)) / scale, -grad[:, columns].ravel() / scale

    result = minimize(
        negative, starts[:, mask].ravel(), jac=True, method="L-BFGS-B",
        bounds=_bounds(box, mask, b), options={"maxiter": 100},
    )
    out = starts.copy()
    out[:, mask] = np.clip(result.x.reshape(b, c), 0.0, 1.0)
    return out


def feature_columns(space: Space) -> np.ndarray:
    """Feature column of each design coordinate (the first one-hot column for categoricals)."""
    offsets = np.cumsum([0] + [p.width for p in space.parameters[:-1]])
    return np.asarray(offsets, dtype=int)


def _into_box(cube: np.ndarray, box: Box, n_global: int) -> np.ndarray:
    """Global rows are rescaled into the box (stay space-filling there), local ones clipped."""
    low, high = box
    scaled = low + (high - low) * cube[:n_global]
    return np.vstack([scaled, np.clip(cube[n_global:], low, high)])


def _bounds(box: Box | None, mask: np.ndarray, starts: int) -> list[tuple[float, float]]:
    if box is None:
        return [(0.0, 1.0)] * (starts * int(mask.sum()))
    pairs = list(zip(box[0][mask], box[1][mask], strict=True))
    return pairs * starts
