"""Acquisition functions with input gradients, all written as 'maximize this'.

Each factor returns (value, gradient) so that constrained acquisitions are plain products
(expected improvement times the probability that every constraint holds and that the
evaluation does not fail) and the product rule gives the gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, overload

import numpy as np
from scipy.special import expit, ndtr

from optimizer.gp import GaussianProcess

INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
# The bound's softness when it is multiplied by feasibility probabilities. At softness 1 the
# incumbent itself is worth ln 2 (0.69), so on a constraint's boundary, where a point is
# feasible with probability 1/2, repeating the incumbent outranked a better region feasible
# with probability 1/10: Gramacy's problem stayed on one local optimum for 25 of its 40
# evaluations in 7 of 10 seeds. Chosen on the constrained problems (benchmarks/RESULTS.md,
# "The whole suite at ten seeds"); alone the bound is monotone in it.
FACTORED = 0.01


def _pdf(z: np.ndarray) -> np.ndarray:
    density: np.ndarray = INV_SQRT_2PI * np.exp(-0.5 * z**2)
    return density


@dataclass
class Objective:
    """Improvement over `best` of a GP on 'larger is better' targets."""

    model: GaussianProcess
    best: float
    kind: str = "ei"
    xi: float = 0.0
    kappa: float = 1.0
    softness: float = 1.0  # of the bound's softplus (see `value`); FACTORED with factors

    def value(self, x: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if grad:
            mean, std, dmean, dstd = self.model.predict_grad(x)
        else:
            (mean, std), dmean, dstd = self.model.predict(x), None, None
        if self.kind == "lcb":
            # softplus of how far the confidence bound (an upper one: targets are 'larger is
            # better') reaches above the incumbent: monotone, so alone it picks the bound's
            # maximizer, yet positive and small where nothing can be gained, so its product
            # with feasibility probabilities means what EI x feasibility means. How small is
            # the softness t: t softplus(reach / t), which is t ln 2 at the incumbent itself.
            t = self.softness
            reach = mean + self.kappa * std - self.best
            value = t * np.logaddexp(0.0, reach / t)
            if dmean is None or dstd is None:
                return value, None
            return value, expit(reach / t)[:, None] * (dmean + self.kappa * dstd)
        z = (mean - self.best - self.xi) / std
        cdf, pdf = ndtr(z), _pdf(z)
        value = (mean - self.best - self.xi) * cdf + std * pdf
        if dmean is None or dstd is None:
            return value, None
        gradient = cdf[:, None] * dmean + pdf[:, None] * dstd
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
class Penalty:
    """Local penalization (Gonzalez et al., 2016) around pending points.

    Each pending point x_j excludes a ball whose radius is (best - mean(x_j)) / lipschitz,
    softened by the GP's uncertainty at x_j; distances are in length-scale units. A pending
    point predicted at or above the incumbent excludes almost nothing, so a batch can
    cluster at the optimum, unlike kriging believer, whose fantasies remove the variance a
    length scale around every pending point.
    """

    centres: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    best: float
    lipschitz: float
    scales: np.ndarray

    def value(self, x: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
        diff = (x[:, None, :] - self.centres[None, :, :]) / self.scales
        dist = np.sqrt(np.sum(diff**2, axis=2)) + 1e-12
        z = (self.lipschitz * dist - self.best + self.mean[None, :]) / self.std[None, :]
        phi = np.clip(ndtr(z), 1e-12, 1.0)
        value = np.prod(phi, axis=1)
        if not grad:
            return value, None
        dz = (_pdf(z) / phi * self.lipschitz / self.std[None, :] / dist)[:, :, None] * diff
        return value, value[:, None] * np.sum(dz, axis=1) / self.scales


class Factor(Protocol):
    """Value per row of x and, when `grad`, its gradient in x."""

    def value(self, x: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray | None]: ...


@dataclass
class Acquisition:
    """Objective (or nothing, when no point is feasible yet) times every feasibility factor.

    The objective is expected improvement or the confidence bound on one GP (`Objective`),
    or, with two optimized metrics, the hypervolume improvement (`pareto.Hypervolume`)."""

    objective: Factor | None
    feasibility: Sequence[Feasibility | Penalty]  # factors multiplying the objective

    @overload
    def value(self, x: np.ndarray, grad: Literal[False] = False) -> tuple[np.ndarray, None]: ...

    @overload
    def value(self, x: np.ndarray, grad: Literal[True]) -> tuple[np.ndarray, np.ndarray]: ...

    def value(self, x: np.ndarray, grad: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        factors = ([self.objective] if self.objective else []) + list(self.feasibility)
        value = np.ones(len(x))
        gradient = np.zeros_like(x) if grad else None
        for factor in factors:
            v, g = factor.value(x, grad)
            if gradient is not None:
                assert g is not None  # every factor asked for its gradient returns one
                gradient = gradient * v[:, None] + value[:, None] * g
            value = value * v
        return value, gradient
