"""Test problems for the optimizer benchmark: known minima, fixed budgets, typed spaces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer import Parameter


@dataclass(frozen=True)
class Constraint:
    """A constraint metric, reported with the objective: feasible where its value <= threshold."""

    name: str
    function: Callable[[dict[str, Any]], float]
    threshold: float = 0.0


@dataclass(frozen=True)
class Problem:
    name: str
    parameters: tuple[Parameter, ...]
    function: Callable[[dict[str, Any]], float]
    minimum: float
    budget: int
    noise: float = 0.0  # sd of Gaussian noise on every observed value (regret is noise-free)
    constraints: tuple[Constraint, ...] = ()
    worst: float = float("nan")  # the objective's largest value: regret while nothing is feasible

    def feasible(self, values: dict[str, float]) -> bool:
        return all(values[c.name] <= c.threshold for c in self.constraints)


def branin(p: dict[str, Any]) -> float:
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
    return float((x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10)


HARTMANN_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
HARTMANN_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(p: dict[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(6)])
    inner = np.sum(HARTMANN_A * (x - HARTMANN_P) ** 2, axis=1)
    return float(-np.sum(HARTMANN_ALPHA * np.exp(-inner)))


def rosenbrock4(p: dict[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(4)])
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


MIXED_OFFSETS = {"adam": 0.0, "sgd": 0.6, "rmsprop": 0.3}


def mixed(p: dict[str, Any]) -> float:
    """Two doubles with a wiggle, an int with a quadratic cost and a categorical offset."""
    x, y, n = p["x"], p["y"], p["n"]
    smooth = (x - 0.7) ** 2 + 2 * (y + 1.2) ** 2 + 0.3 * np.sin(5 * x) * np.cos(3 * y)
    return float(smooth + 0.02 * (n - 13) ** 2 + MIXED_OFFSETS[p["opt"]])


def _mixed_minimum() -> float:
    """Grid then Nelder-Mead on the doubles at the best int/categorical (which separate)."""
    from scipy.optimize import minimize

    def f(v: np.ndarray) -> float:
        return mixed({"x": v[0], "y": v[1], "n": 13, "opt": "adam"})

    grid = np.linspace(-3, 3, 301)
    xs, ys = np.meshgrid(grid, grid)
    values = np.vectorize(lambda a, b: f(np.array([a, b])))(xs, ys)
    i = np.unravel_index(np.argmin(values), values.shape)
    tight = {"xatol": 1e-10, "fatol": 1e-14}
    res = minimize(f, [xs[i], ys[i]], method="Nelder-Mead", options=tight)
    return float(res.fun)


def gramacy_c1(p: dict[str, Any]) -> float:
    """Gramacy et al. (2016)'s sinusoidal constraint: the optimum lies on its boundary."""
    x1, x2 = p["x1"], p["x2"]
    return float(1.5 - x1 - 2 * x2 - 0.5 * np.sin(2 * np.pi * (x1**2 - 2 * x2)))


def gramacy_c2(p: dict[str, Any]) -> float:
    return float(p["x1"] ** 2 + p["x2"] ** 2 - 1.5)


# Known minima to full precision: rounded to 6 decimals they put a floor under the regret
# (Branin's 0.397887 stopped every run at log10 regret -6.45).
BRANIN_MINIMUM = 0.39788735772973816  # 5 / (4 pi), at (pi, 2.275) and two other points
HARTMANN6_MINIMUM = -3.3223680114155147
# x1 + x2 on [0, 1]^2 under both Gramacy constraints: SLSQP (ftol 1e-15) from the best
# feasible point of a 401 x 401 grid, at (0.19512269, 0.40466536) with the first one active.
GRAMACY_MINIMUM = 0.5997880520100523


def problems() -> dict[str, Problem]:
    dbl = lambda n, lo, hi: Parameter(n, "double", lo, hi)  # noqa: E731
    return {
        "branin": Problem(
            "branin", (dbl("x1", -5, 10), dbl("x2", 0, 15)), branin, BRANIN_MINIMUM, 40
        ),
        # Branin observed with noise (sd 0.1, 0.03 % of its range over the domain): the
        # optimizer must not mistake it for a deterministic metric; regret is measured at the
        # true value of the best observed point.
        "branin-noisy": Problem(
            "branin-noisy", (dbl("x1", -5, 10), dbl("x2", 0, 15)), branin, BRANIN_MINIMUM, 40,
            noise=0.1,
        ),
        "hartmann6": Problem(
            "hartmann6", tuple(dbl(f"x{i}", 0, 1) for i in range(6)), hartmann6,
            HARTMANN6_MINIMUM, 60,
        ),
        "rosenbrock4": Problem(
            "rosenbrock4", tuple(dbl(f"x{i}", -5, 10) for i in range(4)), rosenbrock4, 0.0, 60
        ),
        # A linear objective whose optimum is fixed by two constraint metrics (Gramacy et al.,
        # 2016): unconstrained, the objective alone leads to the infeasible corner (0, 0).
        "gramacy": Problem(
            "gramacy", (dbl("x1", 0, 1), dbl("x2", 0, 1)), lambda p: p["x1"] + p["x2"],
            GRAMACY_MINIMUM, 40,
            constraints=(Constraint("c1", gramacy_c1), Constraint("c2", gramacy_c2)),
            worst=2.0,
        ),
        "mixed": Problem(
            "mixed",
            (
                dbl("x", -3, 3),
                dbl("y", -3, 3),
                Parameter("n", "int", 0, 30),
                Parameter("opt", "categorical", categories=tuple(MIXED_OFFSETS)),
            ),
            mixed,
            _mixed_minimum(),
            60,
        ),
    }
