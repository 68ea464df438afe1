"""Test problems for the optimizer benchmark: known minima, fixed budgets, typed spaces."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer import LinearConstraint, Parameter, Space


@dataclass(frozen=True)
class Constraint:
    """A constraint metric, reported with the objective: feasible where its value <= threshold."""

    name: str
    function: Callable[[dict[str, Any]], float]
    threshold: float = 0.0
    # A linear constraint on the parameters, reported as a metric for the regret's
    # feasibility: Celeriac takes it as a `linear_constraints` entry (every suggestion meets
    # it), Optuna as a soft constraint, random search by rejection.
    linear: LinearConstraint | None = None


@dataclass(frozen=True)
class Objective:
    """A further objective, minimized like the first: the problem's answer is a Pareto front."""

    name: str
    function: Callable[[dict[str, Any]], float]


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
    # With further objectives, regret is the front's hypervolume short of the largest one
    # (`minimum`), measured from `reference`, one coordinate per objective.
    objectives: tuple[Objective, ...] = ()
    reference: tuple[float, ...] = ()
    # A real tuning task (benchmarks.tuning_tasks): no known minimum (nan), so reports
    # compare its best loss and ranks instead of regret.
    tuning: bool = False

    @property
    def linear_constraints(self) -> tuple[LinearConstraint, ...]:
        return tuple(c.linear for c in self.constraints if c.linear is not None)

    @property
    def space(self) -> Space:
        return Space(self.parameters, self.linear_constraints)

    def feasible(self, values: dict[str, float]) -> bool:
        return all(values[c.name] <= c.threshold for c in self.constraints)

    def extra(self, point: dict[str, Any]) -> dict[str, float]:
        """The metrics reported beside the first objective: further objectives, constraints."""
        return {m.name: m.function(point) for m in (*self.objectives, *self.constraints)}


def hypervolume(values: np.ndarray, reference: tuple[float, ...]) -> float:
    """Area dominated by minimized two-objective points, up to the reference point."""
    inside = values[np.all(values < np.asarray(reference), axis=1)]
    volume, ceiling = 0.0, reference[1]
    for first, second in inside[np.lexsort((inside[:, 1], inside[:, 0]))]:
        if second < ceiling:  # sweeping along the first objective: each step adds a slab
            volume += (reference[0] - first) * (ceiling - second)
            ceiling = second
    return volume


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


def _dtlz2(p: dict[str, Any]) -> tuple[float, float]:
    """DTLZ2 with two objectives (Deb et al., 2002): the front is the quarter circle
    f1^2 + f2^2 = 1, reached where every coordinate but the first is 0.5."""
    g = sum((p[f"x{i}"] - 0.5) ** 2 for i in range(1, 4))
    angle = 0.5 * np.pi * p["x0"]
    return float((1 + g) * np.cos(angle)), float((1 + g) * np.sin(angle))


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
# The square up to (1.1, 1.1) less the quarter disc under DTLZ2's front.
DTLZ2_REFERENCE = (1.1, 1.1)
DTLZ2_HYPERVOLUME = 1.1 * 1.1 - np.pi / 4


# A conditional space of three branches (SigOpt's conditionals; Optuna's define-by-run):
# Branin on two doubles (minimum 0.398), a bowl of two doubles and an int (0.2), a parabola
# of one double (1.0), plus a shared double every branch pays for: the minimum is 0.2, in
# the bowl branch, whose int only exists there.
def branches(p: dict[str, Any]) -> float:
    shared = (p["s"] - 0.5) ** 2
    if p["branch"] == "branin":
        return branin({"x1": p["x1"], "x2": p["x2"]}) + shared
    if p["branch"] == "bowl":
        return 0.2 + 4 * (p["u"] - 0.3) ** 2 + 4 * (p["v"] - 0.7) ** 2 \
            + 0.05 * abs(p["n"] - 6) + shared
    return 1.0 + p["w"] ** 2 + shared


def _branch_parameters() -> tuple[Parameter, ...]:
    def only(branch: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return (("branch", (branch,)),)
    return (
        Parameter("branch", "categorical", categories=("branin", "bowl", "parabola"),
                  conditional=True),
        Parameter("x1", "double", -5, 10, conditions=only("branin")),
        Parameter("x2", "double", 0, 15, conditions=only("branin")),
        Parameter("u", "double", 0, 1, conditions=only("bowl")),
        Parameter("v", "double", 0, 1, conditions=only("bowl")),
        Parameter("n", "int", 0, 20, conditions=only("bowl")),
        Parameter("w", "double", -2, 2, conditions=only("parabola")),
        Parameter("s", "double", 0, 1),
    )


# Hartmann6 under one linear constraint, sum(x) <= 1.5: its unconstrained optimum sums to
# 2.07, so the constraint is active and the answer lies on the plane.
LINEAR_SUM = LinearConstraint("less_than", 1.5, tuple((f"x{i}", 1.0) for i in range(6)))


@functools.cache
def hartmann6_linear_minimum() -> float:
    """By SLSQP from 400 starts inside the constraint (the best of them)."""
    from scipy.optimize import minimize  # noqa: PLC0415

    rng = np.random.default_rng(0)
    best = np.inf
    names = [f"x{i}" for i in range(6)]
    for _ in range(400):
        start = rng.dirichlet(np.ones(7))[:6] * 1.5
        result = minimize(lambda x: hartmann6(dict(zip(names, x, strict=True))), start,
                          method="SLSQP", bounds=[(0, 1)] * 6,
                          constraints=[{"type": "ineq", "fun": lambda x: 1.5 - np.sum(x)}])
        if result.success and np.sum(result.x) <= 1.5 + 1e-9:
            best = min(best, float(result.fun))
    return best


def problems() -> dict[str, Problem]:
    """The original problems, then the broad suite's (benchmarks.suite_problems) and the
    real tuning tasks (benchmarks.tuning_tasks)."""
    from benchmarks.suite_problems import suite  # noqa: PLC0415  (they import this module)
    from benchmarks.tuning_tasks import tasks  # noqa: PLC0415

    return {**_original(), **suite(), **tasks()}


def every_problem() -> dict[str, Problem]:
    """problems() and the off-centre diagnostics (`suite_problems.off_centre`), by name."""
    from benchmarks.suite_problems import off_centre  # noqa: PLC0415

    return {**problems(), **off_centre()}


def _original() -> dict[str, Problem]:
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
        # Hartmann6 with a constraint metric (BoTorch's constrained example): the optimum
        # is unchanged (its coordinates sum to 2.07), half of the cube is infeasible.
        "hartmann6-c": Problem(
            "hartmann6-c", tuple(dbl(f"x{i}", 0, 1) for i in range(6)), hartmann6,
            HARTMANN6_MINIMUM, 60,
            constraints=(Constraint("sum", lambda p: sum(p[f"x{i}"] for i in range(6)), 3.0),),
            worst=0.0,
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
        # Two minimized objectives of four doubles; the front's largest hypervolume is known.
        "dtlz2": Problem(
            "dtlz2", tuple(dbl(f"x{i}", 0, 1) for i in range(4)), lambda p: _dtlz2(p)[0],
            DTLZ2_HYPERVOLUME, 60, objectives=(Objective("y2", lambda p: _dtlz2(p)[1]),),
            reference=DTLZ2_REFERENCE,
        ),
        "conditional": Problem("conditional", _branch_parameters(), branches, 0.2, 60),
        "hartmann6-linear": Problem(
            "hartmann6-linear", tuple(dbl(f"x{i}", 0, 1) for i in range(6)), hartmann6,
            hartmann6_linear_minimum(), 60,
            constraints=(Constraint("sum", lambda p: sum(w * p[n] for n, w in LINEAR_SUM.terms),
                                    LINEAR_SUM.threshold, linear=LINEAR_SUM),),
            worst=0.0,
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
