"""Acquisition functions with input gradients, all written as 'maximize this'.

Each factor returns (value, gradient) so that constrained acquisitions are plain products
(expected improvement times the probability that every constraint holds and that the
evaluation does not fail) and the product rule gives the gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from optimizer.gp import GaussianProcess

INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _pdf(z: np.ndarray) -> np.ndarray:
    return INV_SQRT_2PI * np.exp(-0.5 * z**2)


@dataclass
class Objective:
    """Improvement over `best` of a GP on 'larger is better' targets."""

    model: GaussianProcess
    best: float
    kind: str = "ei"
    xi: float = 0.0

    def value(self, x: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if grad:
            mean, std, dmean, dstd = self.model.predict_grad(x)
        else:
            (mean, std), dmean, dstd = self.model.predict(x), None, None
        z = (mean - self.best - self.xi) / std
        cdf, pdf = ndtr(z), _pdf(z)
        if self.kind == "pi":
            value = cdf
            gradient = None if not grad else (pdf / std)[:, None] * (dmean - z[:, None] * dstd)
        else:
            value = (mean - self.best - self.xi) * cdf + std * pdf
            gradient = None if not grad else cdf[:, None] * dmean + pdf[:, None] * dstd
        return value, gradient


@dataclass
class Feasibility:
    """Probability that a GP-modelled quantity is >= its threshold (signs folded in)."""

    model: GaussianProcess
    threshold: float

    def value(self, x: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if grad:
            mean, std, dmean, dstd = self.model.predict_grad(x)
        else:
            (mean, std), dmean, dstd = self.model.predict(x), None, None
        z = (mean - self.threshold) / std
        value = ndtr(z)
        if not grad:
            return value, None
        return value, (_pdf(z) / std)[:, None] * (dmean - z[:, None] * dstd)


@dataclass
class Acquisition:
    """Objective (or nothing, when no point is feasible yet) times every feasibility factor."""

    objective: Objective | None
    feasibility: Sequence[Feasibility]

    def value(self, x: np.ndarray, grad: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        factors = ([self.objective] if self.objective else []) + list(self.feasibility)
        value = np.ones(len(x))
        gradient = np.zeros_like(x) if grad else None
        for factor in factors:
            v, g = factor.value(x, grad)
            if grad:
                gradient = gradient * v[:, None] + value[:, None] * g  # type: ignore[operator]
            value = value * v
        return value, gradient
