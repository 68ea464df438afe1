"""The broad benchmark suite: multimodal, noisy, int/categorical problems with known minima.

Each entry of `suite()` is a Problem with a known minimum (computed to full precision where
the textbook value is rounded) and `ARGMIN[name]`, a point where the function takes it (the
unit tests check the pair). The real tuning tasks live in `benchmarks.tuning_tasks`.

Multimodal functions follow the definitions of the Virtual Library of Simulation
Experiments (Surjanovic and Bingham, sfu.ca/~ssurjano); noise levels are the sd of the
Gaussian observation noise as a share of the function's range over the domain.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.optimizer_problems import HARTMANN6_MINIMUM, Problem, hartmann6
from optimizer import Parameter


def _vector(p: dict[str, Any], d: int) -> np.ndarray:
    return np.array([float(p[f"x{i}"]) for i in range(d)])


def _doubles(d: int, low: float, high: float) -> tuple[Parameter, ...]:
    return tuple(Parameter(f"x{i}", "double", low, high) for i in range(d))


def _point(x: np.ndarray | list[float]) -> dict[str, float]:
    return {f"x{i}": float(v) for i, v in enumerate(x)}


# --- multimodal functions ------------------------------------------------------------------

def rastrigin(x: np.ndarray) -> float:
    return float(10 * len(x) + np.sum(x**2 - 10 * np.cos(2 * np.pi * x)))


def schwefel(x: np.ndarray) -> float:
    return float(418.9829 * len(x) - np.sum(x * np.sin(np.sqrt(np.abs(x)))))


def griewank(x: np.ndarray) -> float:
    i = np.arange(1, len(x) + 1)
    return float(np.sum(x**2) / 4000 - np.prod(np.cos(x / np.sqrt(i))) + 1)


def michalewicz(x: np.ndarray, m: int = 10) -> float:
    i = np.arange(1, len(x) + 1)
    return float(-np.sum(np.sin(x) * np.sin(i * x**2 / np.pi) ** (2 * m)))


SHEKEL_C = 0.1 * np.array([1, 2, 2, 4, 4, 6, 3, 7, 5, 5])
SHEKEL_A = np.array([
    [4, 1, 8, 6, 3, 2, 5, 8, 6, 7],
    [4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6],
    [4, 1, 8, 6, 3, 2, 5, 8, 6, 7],
    [4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6],
], dtype=float)


def shekel(x: np.ndarray) -> float:
    """Shekel with m = 10 in 4-D on [0, 10]^4 (minimum -10.5364 near (4, 4, 4, 4))."""
    diff = x[:, None] - SHEKEL_A
    return float(-np.sum(1.0 / (np.sum(diff**2, axis=0) + SHEKEL_C)))


def styblinski_tang(x: np.ndarray) -> float:
    return float(0.5 * np.sum(x**4 - 16 * x**2 + 5 * x))


def ackley(x: np.ndarray) -> float:
    d = len(x)
    a = -20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d))
    return float(a - np.exp(np.sum(np.cos(2 * np.pi * x)) / d) + 20 + np.e)


def _separable_argmin(term: Callable[[float], float], low: float, high: float) -> float:
    """A separable function's coordinate minimum: a dense grid, then bounded Brent."""
    from scipy.optimize import minimize_scalar  # noqa: PLC0415

    grid = np.linspace(low, high, 200_001)
    values = np.array([term(v) for v in grid[::100]])
    j = int(np.argmin(values)) * 100
    lo, hi = grid[max(j - 100, 0)], grid[min(j + 100, len(grid) - 1)]
    res = minimize_scalar(term, bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-12, "maxiter": 500})
    return float(res.x)


@functools.cache
def schwefel_argmin() -> float:
    return _separable_argmin(lambda v: -v * np.sin(np.sqrt(abs(v))), -500, 500)


@functools.cache
def styblinski_tang_argmin() -> float:
    return _separable_argmin(lambda v: v**4 - 16 * v**2 + 5 * v, -5, 5)


@functools.cache
def michalewicz_argmin(d: int) -> tuple[float, ...]:
    """Michalewicz is separable: each coordinate's term has its own minimum on [0, pi]."""
    return tuple(
        _separable_argmin(lambda v, i=i: -np.sin(v) * np.sin(i * v**2 / np.pi) ** 20, 0, np.pi)
        for i in range(1, d + 1)
    )


@functools.cache
def shekel_argmin() -> tuple[float, ...]:
    from scipy.optimize import minimize  # noqa: PLC0415

    res = minimize(shekel, np.full(4, 4.0), method="Nelder-Mead",
                   options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 20_000})
    return tuple(float(v) for v in res.x)


# --- int and categorical problems ----------------------------------------------------------

# A correlated quadratic on five ints: the continuous optimum is off the lattice and the
# correlations make its rounding a worse lattice point than the integer optimum.
INT_CENTER = np.array([13.4, 27.6, 8.5, 31.2, 20.7])
_L = np.array([
    [1.0, 0, 0, 0, 0],
    [0.9, 0.45, 0, 0, 0],
    [-0.6, 0.5, 0.5, 0, 0],
    [0.3, -0.7, 0.4, 0.4, 0],
    [0.5, 0.2, -0.6, 0.5, 0.3],
])
INT_MATRIX = _L @ _L.T


def int_quadratic(p: dict[str, Any]) -> float:
    d = np.array([p[f"n{i}"] for i in range(5)], dtype=float) - INT_CENTER
    return float(d @ INT_MATRIX @ d)


@functools.cache
def int_quadratic_argmin() -> tuple[int, ...]:
    """Brute force on the lattice within 4 of the continuous optimum (9^5 points)."""
    ranges = [range(int(np.floor(c)) - 4, int(np.ceil(c)) + 5) for c in INT_CENTER]
    grid = np.array(list(itertools.product(*ranges)), dtype=float) - INT_CENTER
    values = np.einsum("ij,jk,ik->i", grid, INT_MATRIX, grid)
    best = grid[int(np.argmin(values))] + INT_CENTER
    return tuple(int(round(v)) for v in best)


def int_rastrigin(p: dict[str, Any]) -> float:
    """Rastrigin on x = n / 8 for three ints in [-40, 40]: a lattice of local minima."""
    return rastrigin(np.array([p[f"n{i}"] for i in range(3)], dtype=float) / 8)


# A categorical of six kinds, each its own bowl: centre, curvature and depth differ, so the
# kind moves the optimum's location (not only the level); the deepest kind is "e".
KINDS = ("a", "b", "c", "d", "e", "f")
KIND_CENTERS = np.array([
    [0.2, 0.8, 0.5], [0.8, 0.2, 0.3], [0.5, 0.5, 0.9],
    [0.1, 0.1, 0.1], [0.7, 0.75, 0.15], [0.35, 0.3, 0.65],
])
KIND_SCALES = np.array([2.0, 1.0, 3.0, 1.5, 4.0, 2.5])
KIND_DEPTHS = np.array([0.15, 0.08, 0.2, 0.3, 0.0, 0.05])


def cat_shift(p: dict[str, Any]) -> float:
    k = KINDS.index(p["kind"])
    x = np.array([p["x0"], p["x1"], p["x2"]])
    d = x - KIND_CENTERS[k]
    wiggle = 0.05 * np.sum(np.sin(3 * np.pi * d) ** 2)
    return float(KIND_DEPTHS[k] + KIND_SCALES[k] * np.sum(d**2) + wiggle)


# Two categoricals (5 x 4 combinations) whose pair sets the location of the optimum in two
# doubles and an int, and its depth: an interaction no per-category offset can describe.
PAIR_A = ("relu", "tanh", "gelu", "elu", "selu")
PAIR_B = ("adam", "sgd", "rmsprop", "adagrad")
_pair_rng = np.random.default_rng(7)
PAIR_X = np.round(_pair_rng.uniform(-1.6, 1.6, (5, 4)), 3)
PAIR_Y = np.round(_pair_rng.uniform(-1.6, 1.6, (5, 4)), 3)
PAIR_N = _pair_rng.integers(2, 19, (5, 4))
PAIR_DEPTH = np.round(_pair_rng.uniform(0.1, 0.6, (5, 4)), 3)
PAIR_DEPTH[3, 1] = 0.0  # elu + sgd is the best pair


def cat_interact(p: dict[str, Any]) -> float:
    a, b = PAIR_A.index(p["act"]), PAIR_B.index(p["opt"])
    return float(PAIR_DEPTH[a, b] + (p["x"] - PAIR_X[a, b]) ** 2 + (p["y"] - PAIR_Y[a, b]) ** 2
                 + 0.03 * (p["n"] - PAIR_N[a, b]) ** 2)


# --- the suite -----------------------------------------------------------------------------

RASTRIGIN_RANGE_PER_DIM = 40.35329019  # max at |x| = 4.52299 on [-5.12, 5.12]
HARTMANN6_RANGE = -HARTMANN6_MINIMUM  # its maximum on the cube is just below 0


def _vec_problem(name: str, f: Callable[[np.ndarray], float], d: int, low: float, high: float,
                 minimum: float, budget: int, noise: float = 0.0) -> Problem:
    return Problem(name, _doubles(d, low, high), lambda p: f(_vector(p, d)), minimum, budget,
                   noise=noise)


# A point where each problem takes its stated minimum (filled by `suite()`).
ARGMIN: dict[str, dict[str, Any]] = {}


@functools.cache
def suite() -> dict[str, Problem]:
    out: dict[str, Problem] = {}

    def add(problem: Problem, argmin: dict[str, Any]) -> None:
        out[problem.name] = problem
        ARGMIN[problem.name] = argmin

    zeros = lambda d: _point(np.zeros(d))  # noqa: E731
    # multimodal, budgets scaled with the dimension (at most 100)
    add(_vec_problem("rastrigin-2", rastrigin, 2, -5.12, 5.12, 0.0, 40), zeros(2))
    add(_vec_problem("rastrigin-10", rastrigin, 10, -5.12, 5.12, 0.0, 100), zeros(10))
    xs = schwefel_argmin()
    add(_vec_problem("schwefel-5", schwefel, 5, -500, 500, schwefel(np.full(5, xs)), 80),
        _point(np.full(5, xs)))
    add(_vec_problem("griewank-8", griewank, 8, -600, 600, 0.0, 80), zeros(8))
    xm = np.array(michalewicz_argmin(5))
    add(_vec_problem("michalewicz-5", michalewicz, 5, 0, np.pi, michalewicz(xm), 80),
        _point(xm))
    xk = np.array(shekel_argmin())
    add(_vec_problem("shekel-10", shekel, 4, 0, 10, shekel(xk), 60), _point(xk))
    xt = styblinski_tang_argmin()
    add(_vec_problem("styblinski-tang-8", styblinski_tang, 8, -5, 5,
                     styblinski_tang(np.full(8, xt)), 80), _point(np.full(8, xt)))
    add(_vec_problem("ackley-5", ackley, 5, -32.768, 32.768, 0.0, 60), zeros(5))
    add(_vec_problem("ackley-20", ackley, 20, -32.768, 32.768, 0.0, 100), zeros(20))

    # noisy: sd as a share of the range over the domain (the regret stays noise-free)
    h6_argmin = _point([0.20168951107193658, 0.1500106877565915, 0.47687397258643693,
                        0.2753324311417338, 0.3116516160678926, 0.6573005327816093])
    for level in (0.05, 0.2):
        add(Problem(f"hartmann6-noise{level:g}", _doubles(6, 0, 1), hartmann6,
                    HARTMANN6_MINIMUM, 60,
                    noise=level * HARTMANN6_RANGE), h6_argmin)
    for level in (0.02, 0.1):
        add(_vec_problem(f"rastrigin-2-noise{level:g}", rastrigin, 2, -5.12, 5.12, 0.0, 40,
                         noise=level * 2 * RASTRIGIN_RANGE_PER_DIM), zeros(2))

    # ints and categoricals that matter
    n_star = int_quadratic_argmin()
    ints = tuple(Parameter(f"n{i}", "int", 0, 40) for i in range(5))
    add(Problem("int-quadratic-5", ints, int_quadratic,
                int_quadratic({f"n{i}": v for i, v in enumerate(n_star)}), 60),
        {f"n{i}": v for i, v in enumerate(n_star)})
    add(Problem("int-rastrigin-3", tuple(Parameter(f"n{i}", "int", -40, 40) for i in range(3)),
                int_rastrigin, 0.0, 60), {f"n{i}": 0 for i in range(3)})
    best = int(np.argmin(KIND_DEPTHS))
    add(Problem("cat-shift-6", (*_doubles(3, 0, 1),
                                Parameter("kind", "categorical", categories=KINDS)),
                cat_shift, float(KIND_DEPTHS[best]), 60),
        {**_point(KIND_CENTERS[best]), "kind": KINDS[best]})
    a, b = np.unravel_index(int(np.argmin(PAIR_DEPTH)), PAIR_DEPTH.shape)
    add(Problem("cat-interact", (
        Parameter("act", "categorical", categories=PAIR_A),
        Parameter("opt", "categorical", categories=PAIR_B),
        Parameter("x", "double", -2, 2), Parameter("y", "double", -2, 2),
        Parameter("n", "int", 0, 20)), cat_interact, float(PAIR_DEPTH[a, b]), 60),
        {"act": PAIR_A[a], "opt": PAIR_B[b], "x": float(PAIR_X[a, b]),
         "y": float(PAIR_Y[a, b]), "n": int(PAIR_N[a, b])})
    return out


# --- off-centre variants: where the minimum is not the centre of the domain ----------------

# Ackley's and Rastrigin's minimum is the origin, the centre of their textbook domains, and
# CMA-ES (Optuna's CmaEsSampler) starts its search distribution there. These variants move
# the minimum to a fixed point away from the centre (as the COCO/BBOB suite shifts every
# function), to tell a search that finds the basin from one that starts in it. They are
# diagnostics for the suite's report, not members of `suite()`.
OFF_CENTRE_SHIFT = 0.5  # the minimum sits this share of the half-width from the centre, per axis


def _offset(d: int, half_width: float) -> np.ndarray:
    signs = np.random.default_rng(d).choice([-1.0, 1.0], size=d)
    return OFF_CENTRE_SHIFT * half_width * signs


@functools.cache
def off_centre() -> dict[str, Problem]:
    out: dict[str, Problem] = {}
    for name, f, d, half, budget in (("ackley-20", ackley, 20, 32.768, 100),
                                     ("rastrigin-10", rastrigin, 10, 5.12, 100)):
        shift = _offset(d, half)
        problem = _vec_problem(f"{name}-off-centre", lambda x, f=f, s=shift: f(x - s), d,
                               -half, half, 0.0, budget)
        out[problem.name] = problem
        ARGMIN[problem.name] = _point(shift)
    return out
