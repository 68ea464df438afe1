"""Turning history into fitted GPs: targets, the points a fit sees, and ranking by metrics.

All targets are oriented so that larger is better and standardized, because the kernel
bounds and the acquisition code assume unit-scale targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.gp import Bounds, GaussianProcess, fit_hyper

FIT_LIMIT = 80
PARETO_RHO = 0.05


@dataclass
class Target:
    """Standardized targets plus what is needed to map thresholds and noise the same way."""

    y: np.ndarray
    alpha: np.ndarray
    mean: float
    scale: float

    @classmethod
    def standardize(cls, raw: np.ndarray, stddevs: np.ndarray | None = None) -> Target:
        mean = float(np.mean(raw))
        scale = float(np.std(raw)) or 1.0
        alpha = np.zeros(len(raw)) if stddevs is None else (np.nan_to_num(stddevs) / scale) ** 2
        return cls((raw - mean) / scale, alpha, mean, scale)

    def level(self, raw_value: float) -> float:
        return (raw_value - self.mean) / self.scale


def compress_tail(raw: np.ndarray) -> np.ndarray:
    """Log-compress values worse than the median, in units of the interquartile range.

    Keeps the order (so the argmax and EI's incumbent are unchanged) and keeps the good half
    linear, where the optimum is resolved, but stops a few huge losses from setting the scale.
    """
    median = float(np.median(raw))
    iqr = float(np.subtract(*np.percentile(raw, [75, 25]))) or 1.0
    out = raw.astype(float).copy()
    worse = out < median
    out[worse] = median - iqr * np.log1p((median - out[worse]) / iqr)
    return out


def fit_model(
    x: np.ndarray, target: Target, rng: np.random.Generator, bounds: Bounds = Bounds(),  # noqa: B008
    prior: np.ndarray | None = None, held: np.ndarray | None = None,
) -> GaussianProcess:
    """Hyperparameters from at most FIT_LIMIT points (the best half plus random others).

    `held`: values of x's trailing columns at which the model is queried (`GaussianProcess`).
    """
    n = len(x)
    if n > FIT_LIMIT:
        order = np.argsort(-target.y)
        top = order[: FIT_LIMIT // 2]
        rest = rng.choice(order[FIT_LIMIT // 2 :], size=FIT_LIMIT - len(top), replace=False)
        idx = np.concatenate([top, rest])
    else:
        idx = np.arange(n)
    restarts = 1 if n <= 30 else 0
    seed = int(rng.integers(2**31))
    hyper = fit_hyper(x[idx], target.y[idx], target.alpha[idx], seed, restarts, bounds, prior)
    return GaussianProcess(hyper, x, target.y, target.alpha, held)


def scalarize(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ParEGO's augmented Chebyshev scalarization of maximized, [0,1]-normalized objectives:
    ranks observations of several metrics, and spreads the search along a front."""
    low, high = values.min(axis=0), values.max(axis=0)
    normalized = (values - low) / np.where(high > low, high - low, 1.0)
    weighted = normalized * weights
    scores: np.ndarray = weighted.min(axis=1) + PARETO_RHO * weighted.sum(axis=1)
    return scores


def subsample(scores: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Keep the best half by score plus a random half: local detail and a global picture."""
    n = len(scores)
    if n <= limit:
        return np.arange(n)
    order = np.argsort(-scores)
    top = order[: limit // 2]
    rest = rng.choice(order[limit // 2 :], size=limit - len(top), replace=False)
    return np.sort(np.concatenate([top, rest]))
