"""Model-free designs in the design cube: random, Sobol, nested grids and a maximin fill.

Everything here returns candidate cube rows; deduplication against observed and pending
points happens in one place (`optimizer.proposals.Batch`), so designs may over-produce freely.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from optimizer import quiet
from optimizer.space import Parameter, Space

GRID_ENUMERATION_LIMIT = 200_000
INSIDE_ROUNDS = 16  # draws for a design of points inside linear constraints


def random_points(space: Space, rng: np.random.Generator, n: int) -> np.ndarray:
    return inside_only(space, lambda m: rng.random((m, space.dimension)), n)


def inside_only(space: Space, draw: Callable[[int], np.ndarray], n: int) -> np.ndarray:
    """n rows of `draw` that meet the space's linear constraints (all of them when it has
    none): draws again while too few land inside; where the feasible region is too small for
    that, the rest are projected onto it."""
    polytope = space.polytope
    if not polytope:
        return draw(n)
    kept, count = [], 0
    for _ in range(INSIDE_ROUNDS):
        rows = draw(max(16, 4 * n))
        rows = rows[polytope.inside(rows)]
        kept.append(rows)
        count += len(rows)
        if count >= n:
            break
    found = np.vstack(kept)[:n]
    if len(found) < n:
        found = np.vstack([found, polytope.project(draw(n - len(found)))])
    return found


def sobol_sequence(space: Space, seed: int | None, start: int, n: int) -> np.ndarray:
    """Points start..start+n of one scrambled Sobol sequence.

    The optimizer is stateless, so a run continues the *same* sequence by skipping what was
    already handed out; with no seed the scramble comes from the space itself so that
    successive calls still continue one sequence instead of restarting a new random one.
    """
    scramble = seed if seed is not None else zlib.crc32(repr(space.names).encode())
    sampler = _sobol(space.dimension, scramble)
    quiet.ignore_expected_warnings()
    if start:
        sampler.fast_forward(start)
    points: np.ndarray = inside_only(space, sampler.random, n)
    return points


def sobol_points(space: Space, rng: np.random.Generator, n: int) -> np.ndarray:
    """A fresh scrambled Sobol set (power of two, so it keeps its balance properties)."""
    m = max(1, math.ceil(math.log2(max(n, 2))))
    points: np.ndarray = _sobol(space.dimension, rng).random_base2(m)[:n]
    return points


def _sobol(dimension: int, seed: int | np.random.Generator) -> Any:
    """A scrambled Sobol sampler (scipy's `qmc.Sobol`, which ships without type hints)."""
    # lazy: scipy.stats takes about a second to import, and the CLI never draws a design
    from scipy.stats import qmc  # noqa: PLC0415

    return qmc.Sobol(d=dimension, scramble=True, seed=seed)


def maximin_fill(
    space: Space, rng: np.random.Generator, existing: np.ndarray, n: int, pool: int = 512
) -> np.ndarray:
    """Greedy maximin picks from a Sobol pool: spreads new points away from taken ones.

    Unlike a fixed sequence this stays space-filling whatever happened before (failures,
    deleted suggestions, points supplied by the user), which a stateless optimizer needs.
    """
    size = max(pool, 4 * n)
    candidates = space.snap(inside_only(space, lambda m: sobol_points(space, rng, m), size))
    if len(existing) == 0:
        return candidates[:n]
    taken = space.snap(existing)
    nearest = _min_sq_dist(candidates, taken)
    chosen = []
    for _ in range(min(n, len(candidates))):
        best = int(np.argmax(nearest))
        chosen.append(candidates[best])
        nearest = np.minimum(nearest, np.sum((candidates - candidates[best]) ** 2, axis=1))
    return np.array(chosen)


def _min_sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2.0 * a @ b.T
    nearest: np.ndarray = np.maximum(d.min(axis=1), 0.0)
    return nearest


def grid_points(space: Space, rng: np.random.Generator, limit: int) -> Iterator[np.ndarray]:
    """Nested grids, coarse to fine (2, 3, 5, 9, ... levels per double).

    Each level contains the previous one, so filtering out taken points continues the grid
    search from where it stopped without remembering anything.
    """
    for refinement in range(12):
        levels = [_levels(p, 2**refinement + 1) for p in space.parameters]
        total = math.prod(len(lv) for lv in levels)
        if total <= GRID_ENUMERATION_LIMIT:
            order = rng.permutation(total)
        else:
            order = rng.choice(total, size=min(limit, GRID_ENUMERATION_LIMIT), replace=False)
        yield np.array([_grid_row(levels, int(i)) for i in order])
        if all(len(lv) == p.cells for lv, p in zip(levels, space.parameters, strict=True)):
            return


def _levels(p: Parameter, count: int) -> list[float]:
    if p.continuous:
        return list(np.linspace(0.0, 1.0, count))
    cells = int(p.cells)
    if cells <= count:
        return [(i + 0.5) / cells for i in range(cells)]
    picks = np.unique(np.round(np.linspace(0, cells - 1, count)).astype(int))
    return [(i + 0.5) / cells for i in picks]


def _grid_row(levels: list[list[float]], index: int) -> np.ndarray:
    row = []
    for lv in reversed(levels):
        index, r = divmod(index, len(lv))
        row.append(lv[r])
    return np.array(row[::-1])


def all_points(space: Space) -> np.ndarray:
    """Every point of a small finite space, used once random draws keep colliding."""
    cells = [int(p.cells) for p in space.parameters]
    axes = [[(i + 0.5) / c for i in range(c)] for c in cells]
    return np.array(list(itertools.product(*axes)))
