"""The search space: parameter types, canonical values and the unit-cube encodings.

Two encodings exist because they serve different jobs:

* the *design cube* has one coordinate per parameter in [0, 1]. Space-filling designs
  (Sobol, random, grid) and the acquisition search live there, so every point of the cube
  decodes to a valid assignment (ints rounded, categoricals picked by interval).
* the *feature space* is what the Gaussian process sees: doubles and ints as one coordinate,
  categoricals one-hot, so that no false ordering between categories is implied.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np

from optimizer.constraints import LinearConstraint, Polytope, check_terms
from optimizer.priors import Prior

PARAMETER_TYPES = ("double", "int", "categorical")
INACTIVE = 0.5  # the design-cube coordinate of a parameter that does not exist in a point


@dataclass(frozen=True)
class Parameter:
    """One tunable parameter; validated on construction so a bad space fails early."""

    name: str
    type: str
    low: float | None = None
    high: float | None = None
    categories: tuple[str, ...] = ()
    log: bool = False
    # A double or int that takes these values only (SigOpt's `grid`), in increasing order. It
    # is modelled as an ordinal: one cell per value, neighbours in the order given, so the
    # optimizer never proposes a value between them. low/high are the grid's ends.
    grid: tuple[float, ...] = ()
    # A double's prior belief (SigOpt's `prior`): warps its design-cube coordinate, see
    # optimizer.priors
    prior: Prior | None = None
    # SigOpt's conditionals: a conditional is a categorical whose value decides which other
    # parameters exist (`conditional=True`); a parameter with `conditions` is active only when
    # each named conditional takes one of the listed values, and absent from assignments
    # otherwise. ((conditional name, (values...)), ...)
    conditional: bool = False
    conditions: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(
            (str(name), tuple(str(v) for v in values)) for name, values in self.conditions))
        if self.conditional and (self.type != "categorical" or self.conditions):
            raise ValueError(f"{self.name}: a conditional is a list of values and has no "
                             f"conditions of its own")
        if self.type not in PARAMETER_TYPES:
            raise ValueError(
                f"{self.name}: type must be one of {PARAMETER_TYPES}, got {self.type!r}"
            )
        if self.type == "categorical":
            self._check_categories()
        else:
            if self.grid:
                self._check_grid()
            self._check_bounds()
        if self.prior is not None:
            self._check_prior()

    def _check_prior(self) -> None:
        if isinstance(self.prior, Mapping):  # as read back from JSON
            object.__setattr__(self, "prior", Prior.from_dict(self.prior))
        assert self.prior is not None
        if self.type != "double" or self.grid or self.log:
            raise ValueError(f"{self.name}: a prior applies to a double parameter without a "
                             f"grid or a log transformation")
        self.prior.check_bounds(*self.bounds)

    def _check_grid(self) -> None:
        values = [float(v) for v in self.grid]
        if len(values) < 2 or not all(math.isfinite(v) for v in values):
            raise ValueError(f"{self.name}: a grid needs at least 2 finite values")
        if len(set(values)) != len(values):
            raise ValueError(f"{self.name}: grid values must be unique")
        if self.type == "int" and not all(v.is_integer() for v in values):
            raise ValueError(f"{self.name}: the grid of an int parameter must be whole numbers")
        if self.log:
            raise ValueError(f"{self.name}: a grid takes its values in order; drop the log "
                             f"transformation")
        grid = tuple(sorted(int(v) if self.type == "int" else v + 0.0 for v in values))
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "low", float(grid[0]))
        object.__setattr__(self, "high", float(grid[-1]))

    @property
    def continuous(self) -> bool:
        """A double without a grid: the only kind gradients move and a range holds densely."""
        return self.type == "double" and not self.grid

    def _check_categories(self) -> None:
        cats = tuple(self.categories)
        if not cats:
            raise ValueError(f"{self.name}: a categorical parameter needs at least one category")
        if len(set(cats)) != len(cats):
            raise ValueError(f"{self.name}: categories must be unique")
        if not all(isinstance(c, str) for c in cats):
            raise ValueError(f"{self.name}: categories must be strings")
        if self.log:
            raise ValueError(f"{self.name}: a categorical parameter cannot be log-transformed")
        object.__setattr__(self, "categories", cats)

    def _check_bounds(self) -> None:
        if self.low is None or self.high is None:
            raise ValueError(f"{self.name}: a {self.type} parameter needs low and high bounds")
        low, high = float(self.low), float(self.high)
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"{self.name}: bounds must be finite")
        if self.type == "int" and (low != int(low) or high != int(high)):
            raise ValueError(f"{self.name}: int bounds must be whole numbers")
        if low > high or (self.type == "double" and low == high):
            raise ValueError(f"{self.name}: low {low:g} must be below high {high:g}")
        if self.log and low <= 0:
            raise ValueError(f"{self.name}: a log transformation needs low > 0")

    @property
    def width(self) -> int:
        """Number of feature-space coordinates (one-hot width for categoricals)."""
        return len(self.categories) if self.type == "categorical" else 1

    @property
    def bounds(self) -> tuple[float, float]:
        """(low, high) of a double or int: validated on construction, so never missing."""
        if self.low is None or self.high is None:
            raise ValueError(f"{self.name}: a {self.type} parameter has no bounds")
        return float(self.low), float(self.high)

    @property
    def cells(self) -> float:
        """How many distinct values the parameter takes (an int), or inf for a double."""
        if self.continuous:
            return math.inf
        if self.type == "categorical":
            return len(self.categories)
        if self.grid:
            return len(self.grid)
        low, high = self.bounds
        return int(high) - int(low) + 1


class Space:
    """An ordered set of parameters with conversions between assignments and the unit cube."""

    def __init__(self, parameters: Sequence[Parameter],
                 constraints: Sequence[LinearConstraint] = ()) -> None:
        self.parameters: tuple[Parameter, ...] = tuple(parameters)
        names = [p.name for p in self.parameters]
        if not names:
            raise ValueError("parameters: at least one parameter is needed")
        if len(set(names)) != len(names):
            raise ValueError("parameters: names must be unique")
        self.names = tuple(names)
        self.dimension = len(self.parameters)
        self.feature_dimension = sum(p.width for p in self.parameters)
        self._check_conditions()
        check_terms(constraints, self.parameters)
        self.constraints = tuple(constraints)
        self.polytope = Polytope(self.constraints, self.parameters)

    def _check_conditions(self) -> None:
        by_name = {p.name: p for p in self.parameters}
        self.conditioned = tuple(j for j, p in enumerate(self.parameters) if p.conditions)
        for p in self.parameters:
            for name, values in p.conditions:
                switch = by_name.get(name)
                if switch is None or not switch.conditional:
                    raise ValueError(f"{p.name}: conditions name {name!r}, which is not a "
                                     f"conditional")
                unknown = [v for v in values if v not in switch.categories]
                if unknown or not values:
                    raise ValueError(f"{p.name}: conditions on {name!r} need values among "
                                     f"{list(switch.categories)}, got {list(values)}")
        if self.conditioned and all(p.conditions or p.conditional for p in self.parameters):
            raise ValueError("parameters: every parameter has conditions; at least one must "
                             "always be active")

    def active(self, p: Parameter, assignments: Mapping[str, Any]) -> bool:
        """Whether a parameter exists in a point, given the point's conditionals."""
        return all(assignments.get(name) in values for name, values in p.conditions)

    def activity(self, cube: np.ndarray) -> np.ndarray:
        """(rows, dimension): which parameters are active in each cube row."""
        cube = np.atleast_2d(cube)
        out = np.ones(cube.shape, dtype=bool)
        if not self.conditioned:
            return out
        index = {p.name: j for j, p in enumerate(self.parameters)}
        for j in self.conditioned:
            p = self.parameters[j]
            for name, values in p.conditions:
                switch = self.parameters[index[name]]
                count = len(switch.categories)
                chosen = np.minimum(np.floor(cube[:, index[name]] * count), count - 1)
                allowed = [switch.categories.index(v) for v in values]
                out[:, j] &= np.isin(chosen, allowed)
        return out

    def __repr__(self) -> str:
        extra = f", {list(self.constraints)!r}" if self.constraints else ""
        return f"Space({list(self.parameters)!r}{extra})"

    def satisfies(self, canonical: Mapping[str, Any]) -> bool:
        """Whether a (canonical) point meets every linear constraint."""
        return self.polytope.holds(canonical) if self.constraints else True

    def inside(self, cube: np.ndarray) -> np.ndarray:
        """Cube rows moved onto the feasible region of the linear constraints (rows already
        inside, and every row of a space without constraints, are unchanged)."""
        return self.polytope.project(cube) if self.constraints else cube

    def canonical(self, assignments: Mapping[str, Any]) -> dict[str, Any]:
        """Exact types so that equal points compare, hash and serialise equal everywhere."""
        given = set(assignments)
        extra = sorted(given - set(self.names))
        if extra:
            raise ValueError(f"{extra[0]}: not a parameter of this space")
        if self.conditioned:
            return self._canonical_conditioned(assignments)
        missing = [n for n in self.names if n not in given]
        if missing:
            raise ValueError(f"{missing[0]}: missing from assignments")
        return {p.name: _canonical_value(p, assignments[p.name]) for p in self.parameters}

    def _canonical_conditioned(self, assignments: Mapping[str, Any]) -> dict[str, Any]:
        """Conditionals first; then the active parameters (an inactive one given anyway is
        dropped: it does not exist in that point)."""
        out = {p.name: _canonical_value(p, assignments[p.name]) for p in self.parameters
               if not p.conditions and p.name in assignments}
        missing = [p.name for p in self.parameters if not p.conditions and p.name not in out]
        if missing:
            raise ValueError(f"{missing[0]}: missing from assignments")
        for j in self.conditioned:
            p = self.parameters[j]
            if not self.active(p, out):
                continue
            if p.name not in assignments:
                raise ValueError(f"{p.name}: missing from assignments (it is active when "
                                 + ", ".join(f"{n} is {' or '.join(v)}" for n, v in p.conditions)
                                 + ")")
            out[p.name] = _canonical_value(p, assignments[p.name])
        return {p.name: out[p.name] for p in self.parameters if p.name in out}

    def key(self, assignments: Mapping[str, Any]) -> str:
        """Canonical JSON: equal points have equal keys, so keys can be used for dedup."""
        return canonical_key(self.canonical(assignments))

    def size(self) -> float:
        """Number of distinct points (inf when a double is present)."""
        if self.conditioned:
            return self._conditioned_size()
        total = 1.0
        for p in self.parameters:
            if p.continuous:
                return math.inf
            total *= p.cells
        return total

    def _conditioned_size(self) -> float:
        """Distinct points summed over every combination of the conditionals' values."""
        switches = [p for p in self.parameters if p.conditional]
        total = 0.0
        for values in itertools.product(*(p.categories for p in switches)):
            point = dict(zip((p.name for p in switches), values, strict=True))
            branch = 1.0
            for p in self.parameters:
                if p.conditional or not self.active(p, point):
                    continue
                if p.continuous:
                    return math.inf
                branch *= p.cells
            total += branch
        return total

    def decode(self, cube: np.ndarray) -> list[dict[str, Any]]:
        """Design-cube rows (n, dimension) to canonical assignments."""
        cube = np.clip(np.atleast_2d(np.asarray(cube, dtype=float)), 0.0, 1.0)
        columns = [_decode_column(p, cube[:, j]) for j, p in enumerate(self.parameters)]
        names = self.names
        rows = range(len(cube))
        if self.conditioned:
            active = self.activity(cube)
            return [{n: col[i] for j, (n, col) in enumerate(zip(names, columns, strict=True))
                     if active[i, j]} for i in rows]
        return [{n: col[i] for n, col in zip(names, columns, strict=True)} for i in rows]

    def encode(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Assignments to design-cube rows; the centre of each int/category cell."""
        out = np.empty((len(points), self.dimension))
        for i, point in enumerate(points):
            canon = self.canonical(point)
            for j, p in enumerate(self.parameters):
                # an inactive parameter sits at its range's centre: one fixed value, so points
                # that differ only where a parameter does not exist encode equal
                out[i, j] = _encode_value(p, canon[p.name]) if p.name in canon else INACTIVE
        return out

    def features_of(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Assignments straight to GP features; an empty list gives an empty (0, D) array."""
        if not points:
            return np.empty((0, self.feature_dimension))
        return self.features(self.encode(points))

    def features(self, cube: np.ndarray) -> np.ndarray:
        """Design-cube rows to GP features: ints snapped to their cell, categoricals one-hot."""
        cube = np.clip(np.atleast_2d(np.asarray(cube, dtype=float)), 0.0, 1.0)
        active = self.activity(cube) if self.conditioned else None
        if active is not None:  # inactive parameters at their fixed value (see encode)
            cube = np.where(active, cube, INACTIVE)
        blocks = []
        for j, p in enumerate(self.parameters):
            u = cube[:, j]
            if p.continuous:
                blocks.append(u[:, None])
            elif p.type != "categorical":
                cells = p.cells
                blocks.append(((np.minimum(np.floor(u * cells), cells - 1) + 0.5) / cells)[:, None])
            else:
                count = len(p.categories)
                index = np.minimum(np.floor(u * count), count - 1).astype(int)
                hot = np.eye(count)[index]
                if active is not None:
                    hot[~active[:, j]] = 0.0  # an absent category is none of them
                blocks.append(hot)
        return np.hstack(blocks)

    def snap(self, cube: np.ndarray) -> np.ndarray:
        """Move each int/categorical coordinate to its cell centre (keeps doubles)."""
        cube = np.clip(np.atleast_2d(np.asarray(cube, dtype=float)), 0.0, 1.0).copy()
        for j, p in enumerate(self.parameters):
            if not p.continuous:
                cells = p.cells
                cube[:, j] = (np.minimum(np.floor(cube[:, j] * cells), cells - 1) + 0.5) / cells
        return cube

    def ordered_features(self) -> np.ndarray:
        """Which feature columns carry a distance (everything but categorical one-hots)."""
        return np.concatenate([[p.type != "categorical"] * p.width for p in self.parameters])

    def continuous_mask(self) -> np.ndarray:
        """Which design-cube coordinates are doubles (the only ones gradients can move)."""
        return np.array([p.continuous for p in self.parameters])


def _transformed_range(p: Parameter) -> tuple[float, float]:
    """Bounds in the transformed scale; ints widen by half a step so every int gets a cell."""
    if p.grid:
        return -0.5, len(p.grid) - 0.5  # positions in the grid
    low, high = p.bounds
    if p.type == "int":
        low, high = low - 0.5, high + 0.5
    if p.log:
        return math.log(low), math.log(high)
    return low, high


def _decode_column(p: Parameter, u: np.ndarray) -> list[Any]:
    if p.type == "categorical":
        count = len(p.categories)
        index = np.minimum(np.floor(u * count), count - 1).astype(int)
        return [p.categories[i] for i in index]
    if p.prior is not None:
        return [float(v) + 0.0 for v in p.prior.ppf(u, *p.bounds)]
    a, b = _transformed_range(p)
    x = a + u * (b - a)
    if p.grid:
        return [p.grid[i] for i in np.clip(np.round(x), 0, len(p.grid) - 1).astype(int)]
    if p.log:
        x = np.exp(x)
    low, high = p.bounds
    if p.type == "int":
        return [int(v) for v in np.clip(np.round(x), low, high)]
    return [float(v) + 0.0 for v in np.clip(x, low, high)]


def _encode_value(p: Parameter, value: Any) -> float:
    if p.type == "categorical":
        count = len(p.categories)
        return (p.categories.index(value) + 0.5) / count
    if p.prior is not None:
        return float(p.prior.cdf(np.array([value]), *p.bounds)[0])
    a, b = _transformed_range(p)
    x = float(p.grid.index(value)) if p.grid else math.log(value) if p.log else float(value)
    return min(1.0, max(0.0, (x - a) / (b - a)))


def canonical_key(canonical: Mapping[str, Any]) -> str:
    """`Space.key` of a point that is already canonical (skips re-validating it)."""
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"))


def _canonical_value(p: Parameter, value: Any) -> Any:
    if p.grid:
        return _grid_value(p, value)
    kind = type(value)
    if (kind is float and p.type == "double") or (kind is int and p.type == "int"):
        low, high = p.bounds
        if low <= value <= high:
            return value + 0.0 if kind is float else value  # the common case, without ABCs
    if p.type == "categorical":
        if not isinstance(value, str) or value not in p.categories:
            raise ValueError(f"{p.name}: {value!r} is not one of {list(p.categories)}")
        return value
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{p.name}: must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{p.name}: must be finite, got {value!r}")
    if p.type == "int":
        if not isinstance(value, Integral) and number != round(number):
            raise ValueError(f"{p.name}: must be an integer, got {value!r}")
        number = float(round(number))
    low, high = p.bounds
    if number < low or number > high:
        raise ValueError(f"{p.name}: {value!r} is outside [{low:g}, {high:g}]")
    return int(number) if p.type == "int" else number + 0.0


def _grid_value(p: Parameter, value: Any) -> Any:
    """The grid's own value equal to `value` (1e-9 relative tolerance for doubles)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{p.name}: must be a number, got {value!r}")
    number = float(value)
    for v in p.grid:
        if number == v or abs(number - v) <= 1e-9 * max(abs(v), abs(number)):
            return v
    raise ValueError(f"{p.name}: {value!r} is not one of its grid values {list(p.grid)}")
