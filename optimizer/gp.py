"""A Gaussian process whose hyperparameters come from scikit-learn and whose posterior is ours.

scikit-learn fits the Matern-5/2 ARD kernel well, but its `predict` has no gradients and a
per-call overhead that dominates a gradient-based acquisition search. So sklearn picks the
hyperparameters and this class keeps the Cholesky factor and evaluates the posterior mean,
standard deviation and their input gradients for a whole batch of points at once.
Conditioning on extra points (pending ones, or points already chosen in a batch) reuses the
hyperparameters, which is what kriging believer / constant liar need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.optimize import minimize
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel, Matern, WhiteKernel

from optimizer import quiet

SQRT5 = np.sqrt(5.0)
JITTER = 1e-12  # as small as the noise floor (1e-11), so deterministic metrics resolve fully
JITTERS = (JITTER, 1e-8, 1e-6)  # tried in turn when a fit is singular
LENGTH_PRIOR = (0.4, 1.0)  # log-normal: median length scale in the unit cube, sd of its log
# A second fit starts from this noise level: from the first fit's start (1e-4) L-BFGS-B
# mostly stays in the optimum that interpolates the noise; the better likelihood is kept.
NOISY_START = 0.1

LogLikelihood = Callable[..., tuple[float, np.ndarray]]  # sklearn's obj_func(theta, eval_gradient)
HyperOptimizer = Callable[[LogLikelihood, np.ndarray, np.ndarray], tuple[np.ndarray, float]]


@dataclass(frozen=True)
class Hyper:
    amplitude: float
    length_scales: np.ndarray
    noise: float


@dataclass(frozen=True)
class Bounds:
    """Hyperparameter bounds; label-like targets (success/failure) need smoother models."""

    length: tuple[float, float] = (1e-2, 2e1)
    # Up to the whole variance: capped at a tenth, a metric whose noise is as large as its
    # signal was fitted as signal (benchmarks/RESULTS.md, "The whole suite at ten seeds").
    noise: tuple[float, float] = (1e-11, 1.0)


SMOOTH = Bounds(length=(1e-1, 2e1), noise=(1e-2, 5e-1))


def fit_hyper(
    x: np.ndarray, y: np.ndarray, alpha: np.ndarray, seed: int, restarts: int,
    bounds: Bounds = Bounds(),  # noqa: B008 - frozen dataclass, safe as a default
    prior: np.ndarray | None = None,
) -> Hyper:
    """Maximum marginal likelihood on standardized y; bounds keep length scales sane in [0,1].

    Without the SMOOTH bounds a success/failure model interpolates its +-1 labels with tiny
    length scales and then predicts 'probably fine' a short distance from every failure.
    """
    quiet.ignore_expected_warnings()
    dim = x.shape[1]
    optimizer = _with_length_prior(np.ones(dim, bool) if prior is None else prior)
    for jitter in JITTERS:  # duplicates can make the noise floor too thin
        model = _regressor(dim, bounds, max(1e-4, bounds.noise[0]), alpha + jitter, restarts,
                           seed, optimizer)
        try:
            model.fit(x, y)
            break
        except np.linalg.LinAlgError:
            if jitter == JITTERS[-1]:
                raise
    if bounds.noise[1] > NOISY_START:
        noisy = _regressor(dim, bounds, NOISY_START, alpha + jitter, 0, seed, optimizer)
        try:
            noisy.fit(x, y)
            if noisy.log_marginal_likelihood_value_ > model.log_marginal_likelihood_value_:
                model = noisy
        except np.linalg.LinAlgError:
            pass  # the first fit stands
    k = model.kernel_
    return Hyper(
        amplitude=float(k.k1.k1.constant_value),
        length_scales=np.atleast_1d(np.asarray(k.k1.k2.length_scale, dtype=float)),
        noise=float(k.k2.noise_level),
    )


def _regressor(dim: int, bounds: Bounds, noise: float, alpha: np.ndarray, restarts: int,
               seed: int, optimizer: HyperOptimizer) -> GaussianProcessRegressor:
    return GaussianProcessRegressor(
        _kernel(dim, bounds, noise), alpha=alpha, n_restarts_optimizer=restarts,
        random_state=seed, optimizer=optimizer,
    )


def _kernel(dim: int, bounds: Bounds, noise: float) -> Kernel:
    """Amplitude x Matern 5/2 with a length scale per column, plus white noise from `noise`."""
    kernel: Kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
        length_scale=np.full(dim, 0.3), length_scale_bounds=bounds.length, nu=2.5
    ) + WhiteKernel(noise, bounds.noise)
    return kernel


def _with_length_prior(prior: np.ndarray) -> HyperOptimizer:
    """sklearn's `optimizer` hook: L-BFGS-B on the negative log marginal likelihood plus a
    log-normal prior on the length scales of the columns in `prior`.

    theta is [log amplitude, log length scales..., log noise]. With the few points of the
    first models, maximum likelihood alone picks length scales at their bounds; the prior
    keeps them near the scale of the unit cube until the data say otherwise. One-hot columns
    of categoricals are exempt: how much categories share is not a distance.
    """
    mask = prior.astype(float)
    centre = np.log(LENGTH_PRIOR[0])
    width = LENGTH_PRIOR[1]
    dim = len(mask)

    def optimize(obj_func: LogLikelihood, initial_theta: np.ndarray,
                 bounds: np.ndarray) -> tuple[np.ndarray, float]:
        def penalized(theta: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = obj_func(theta, eval_gradient=True)
            z = mask * (theta[1 : 1 + dim] - centre) / width
            grad = np.array(grad, dtype=float)
            grad[1 : 1 + dim] += z / width
            return float(value + 0.5 * np.sum(z**2)), grad

        result = minimize(penalized, initial_theta, jac=True, method="L-BFGS-B", bounds=bounds)
        return result.x, float(result.fun)

    return optimize


class GaussianProcess:
    """Zero-mean GP on standardized targets with fixed hyperparameters.

    `held` are trailing input coordinates that every query point takes (a fidelity model's
    resource level, queried at the full resource): training rows carry them, while points
    given to `predict`, `predict_grad` and `condition` leave them out, and gradients are
    over the other coordinates only.
    """

    def __init__(self, hyper: Hyper, x: np.ndarray, y: np.ndarray, alpha: np.ndarray,
                 held: np.ndarray | None = None) -> None:
        self.hyper = hyper
        self.held = np.empty(0) if held is None else np.asarray(held, dtype=float)
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.alpha_diag = np.asarray(alpha, dtype=float)
        gram = self._kernel(self.x, self.x)
        gram[np.diag_indices_from(gram)] += hyper.noise + self.alpha_diag + JITTER
        self.chol = _safe_cholesky(gram)
        self.weights = cho_solve((self.chol, True), self.y)
        # L^-1 once per model: the acquisition search evaluates the variance hundreds of
        # times on a handful of points, where a GEMM is much faster than a triangular solve.
        self.chol_inv_t = solve_triangular(
            self.chol, np.eye(len(self.chol)), lower=True, check_finite=False
        ).T

    def condition(self, x_new: np.ndarray, y_new: np.ndarray) -> GaussianProcess:
        """A new GP that also saw (x_new, y_new) as noise-free-ish observations."""
        if len(x_new) == 0:
            return self
        x = np.vstack([self.x, self._holding(x_new)])
        y = np.concatenate([self.y, y_new])
        alpha = np.concatenate([self.alpha_diag, np.zeros(len(x_new))])
        return GaussianProcess(self.hyper, x, y, alpha, self.held)

    @property
    def points(self) -> np.ndarray:
        """Training inputs without the held coordinates, as query points are given."""
        points: np.ndarray = self.x[:, : self.x.shape[1] - len(self.held)]
        return points

    @property
    def scales(self) -> np.ndarray:
        """Length scales of the coordinates query points are given in."""
        scales: np.ndarray = self.hyper.length_scales[: self.x.shape[1] - len(self.held)]
        return scales

    def _holding(self, x: np.ndarray) -> np.ndarray:
        if not len(self.held):
            return x
        return np.hstack([x, np.broadcast_to(self.held, (len(x), len(self.held)))])

    def _kernel(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        r = np.sqrt(_scaled_sq_dist(a, b, self.hyper.length_scales))
        k: np.ndarray = (
            self.hyper.amplitude * (1.0 + SQRT5 * r + 5.0 / 3.0 * r**2) * np.exp(-SQRT5 * r)
        )
        return k

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function."""
        k = self._kernel(self._holding(x), self.x)
        mean = k @ self.weights
        w = k @ self.chol_inv_t
        var = np.maximum(self.hyper.amplitude - np.sum(w * w, axis=1), 1e-12)
        return mean, np.sqrt(var)

    def predict_grad(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """Mean, std and their gradients (B, D) for a batch, for the L-BFGS-B refinement."""
        width = x.shape[1]
        x = self._holding(x)
        ls2 = self.hyper.length_scales**2
        r = np.sqrt(_scaled_sq_dist(x, self.x, self.hyper.length_scales))
        e = np.exp(-SQRT5 * r)
        amp = self.hyper.amplitude
        k = amp * (1.0 + SQRT5 * r + 5.0 / 3.0 * r**2) * e
        g = -amp * 5.0 / 3.0 * (1.0 + SQRT5 * r) * e  # dk/dx = g * (x - x_i) / ls2
        mean = k @ self.weights
        w = k @ self.chol_inv_t
        v = w @ self.chol_inv_t.T  # K^-1 k, for the variance gradient
        var = np.maximum(amp - np.sum(w * w, axis=1), 1e-12)
        std = np.sqrt(var)
        dmean = _weighted_diff(x, self.x, g * self.weights) / ls2
        dvar = -2.0 * _weighted_diff(x, self.x, g * v) / ls2
        dstd = dvar / (2.0 * std[:, None])
        return mean, std, dmean[:, :width], dstd[:, :width]


def _weighted_diff(x: np.ndarray, train: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_i w[b, i] * (x[b] - train[i]) without building the (B, n, D) tensor."""
    diff: np.ndarray = x * w.sum(axis=1)[:, None] - w @ train
    return diff


def _scaled_sq_dist(a: np.ndarray, b: np.ndarray, ls: np.ndarray) -> np.ndarray:
    a, b = a / ls, b / ls
    d = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2.0 * a @ b.T
    distances: np.ndarray = np.maximum(d, 0.0)
    return distances


def _safe_cholesky(gram: np.ndarray) -> np.ndarray:
    """Adds jitter until the factorisation succeeds: duplicates or tiny noise must not crash."""
    jitter = 1e-10 * np.mean(np.diag(gram))
    factor: np.ndarray
    for _ in range(8):
        try:
            factor = cholesky(gram, lower=True, check_finite=False)
            return factor
        except np.linalg.LinAlgError:
            gram = gram + np.eye(len(gram)) * jitter
            jitter *= 10.0
    factor = cholesky(gram + np.eye(len(gram)) * 1e-4, lower=True, check_finite=False)
    return factor
