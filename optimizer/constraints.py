"""Linear constraints on double parameters (SigOpt's `linear_constraints`).

A constraint is `sum(weight * value) >= threshold` (`greater_than`) or `<= threshold`
(`less_than`) over doubles without a log transformation or a grid: on those a value is a
linear function of its design-cube coordinate, so each constraint is a half-space of the cube
and the feasible region is a convex polytope. Every strategy's candidates meet them in one of
two ways:

* designs (Sobol, random) keep only the draws inside (`feasible_rows`), so they stay spread
  over the feasible region rather than piled on its boundary;
* the acquisition search and local steps are projected onto the polytope (`project`:
  Dykstra's alternating projections onto each half-space and the cube) before they are taken.

`Batch.offer` checks every point once more on its decoded values, so no suggestion that
breaks a constraint is ever handed out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class Parameter(Protocol):
    """What a constraint needs of `optimizer.space.Parameter` (which imports this module)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def log(self) -> bool: ...
    @property
    def grid(self) -> tuple[float, ...]: ...
    @property
    def bounds(self) -> tuple[float, float]: ...

KINDS = ("greater_than", "less_than")
MARGIN = 1e-9  # projections aim this far inside (relative), so decoded values still satisfy
PROJECTION_ROUNDS = 200


@dataclass(frozen=True)
class LinearConstraint:
    """`sum(weight * parameter) >= threshold` (greater_than) or `<=` (less_than)."""

    type: str
    threshold: float
    terms: tuple[tuple[str, float], ...]  # (parameter name, weight)

    def __post_init__(self) -> None:
        if self.type not in KINDS:
            raise ValueError(f"type: must be one of {list(KINDS)}, got {self.type!r}")
        if not math.isfinite(self.threshold):
            raise ValueError("threshold: must be a finite number")
        names = [n for n, _ in self.terms]
        if not names:
            raise ValueError("terms: at least one term is needed")
        if len(set(names)) != len(names):
            raise ValueError("terms: each parameter at most once")
        if not all(math.isfinite(w) for _, w in self.terms):
            raise ValueError("terms: weights must be finite numbers")
        if all(w == 0 for _, w in self.terms):
            raise ValueError("terms: at least one weight must be nonzero")
        object.__setattr__(self, "terms", tuple((str(n), float(w)) for n, w in self.terms))
        object.__setattr__(self, "threshold", float(self.threshold))

    def holds(self, assignments: Mapping[str, Any]) -> bool:
        total = math.fsum(w * float(assignments[n]) for n, w in self.terms)
        return total >= self.threshold if self.type == "greater_than" else \
            total <= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "threshold": self.threshold,
                "terms": [{"name": n, "weight": w} for n, w in self.terms]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearConstraint:
        return cls(type=data["type"], threshold=data["threshold"],
                   terms=tuple((t["name"], t["weight"]) for t in data["terms"]))


def constrainable(p: Parameter) -> bool:
    """A double whose value is linear in its design-cube coordinate and always present:
    no grid, log transformation or prior, no conditions."""
    return p.type == "double" and not p.grid and not p.log \
        and not getattr(p, "prior", None) and not getattr(p, "conditions", ())


def check_terms(constraints: Sequence[LinearConstraint], parameters: Sequence[Parameter]
                ) -> None:
    """Every term names a double without log or grid; the polytope meets the box."""
    by_name = {p.name: p for p in parameters}
    for i, c in enumerate(constraints):
        for j, (name, _) in enumerate(c.terms):
            p = by_name.get(name)
            where = f"linear_constraints[{i}].terms[{j}].name"
            if p is None:
                raise ValueError(f"{where}: {name!r} is not a parameter")
            if not constrainable(p):
                raise ValueError(f"{where}: {name!r} must be a double parameter without a "
                                 f"grid, a prior or a log transformation")


class Polytope:
    """The constraints as `A u <= b` over the design cube of one space."""

    def __init__(self, constraints: Sequence[LinearConstraint],
                 parameters: Sequence[Parameter]) -> None:
        self.constraints = tuple(constraints)
        index = {p.name: j for j, p in enumerate(parameters)}
        dimension = len(parameters)
        rows, limits = [], []
        for c in self.constraints:
            sign = -1.0 if c.type == "greater_than" else 1.0
            row = np.zeros(dimension)
            offset = 0.0
            for name, weight in c.terms:
                low, high = parameters[index[name]].bounds
                row[index[name]] += sign * weight * (high - low)  # value = low + u (high - low)
                offset += sign * weight * low
            rows.append(row)
            limits.append(sign * c.threshold - offset)
        self.a = np.array(rows).reshape(len(rows), dimension)
        self.b = np.array(limits)
        norms = np.linalg.norm(self.a, axis=1)
        self.norms2 = norms ** 2
        self.inner = self.b - MARGIN * (np.abs(self.b) + norms + 1.0)

    def __bool__(self) -> bool:
        return bool(self.constraints)

    def inside(self, cube: np.ndarray) -> np.ndarray:
        """Which cube rows meet every constraint."""
        inside: np.ndarray = np.all(np.atleast_2d(cube) @ self.a.T <= self.b, axis=1)
        return inside

    def holds(self, assignments: Mapping[str, Any]) -> bool:
        return all(c.holds(assignments) for c in self.constraints)

    def project(self, cube: np.ndarray) -> np.ndarray:
        """The nearest points of the polytope (within the cube) to rows outside it, by
        Dykstra's algorithm; rows already inside are returned unchanged."""
        cube = np.clip(np.atleast_2d(np.asarray(cube, dtype=float)), 0.0, 1.0)
        out = cube.copy()
        outside = ~np.all(cube @ self.a.T <= self.inner, axis=1)
        if not outside.any():
            return out
        x = cube[outside].copy()
        sets = len(self.b) + 1  # each half-space, then the cube
        corrections = np.zeros((sets, *x.shape))
        for _ in range(PROJECTION_ROUNDS):
            for s in range(sets):
                y = x + corrections[s]
                if s < len(self.b):
                    excess = y @ self.a[s] - self.inner[s]
                    step = np.where(excess > 0, excess / self.norms2[s], 0.0)
                    new = y - step[:, None] * self.a[s]
                else:
                    new = np.clip(y, 0.0, 1.0)
                corrections[s] = y - new
                x = new
            if np.all(x @ self.a.T <= self.inner + 1e-12):
                break
        out[outside] = np.clip(x, 0.0, 1.0)
        return out

    def feasible_volume(self, rng: np.random.Generator, draws: int = 4096) -> float:
        """The share of the cube inside (a Monte Carlo estimate)."""
        return float(self.inside(rng.random((draws, self.a.shape[1]))).mean())

    def meets_cube(self) -> bool:
        """Whether any point of the cube meets every constraint (a linear program)."""
        # lazy: scipy.optimize is only needed when a space with constraints is validated
        from scipy.optimize import linprog  # noqa: PLC0415

        dimension = self.a.shape[1]
        result = linprog(np.zeros(dimension), A_ub=self.a, b_ub=self.inner,
                         bounds=[(0.0, 1.0)] * dimension, method="highs")
        return bool(result.status == 0)
