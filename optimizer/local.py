"""A quadratic response surface around the incumbent, and the Newton step to its optimum.

Inside a smooth basin the GP's proposals close in on the optimum slowly, while a full
quadratic through the few points nearest the incumbent (as many as it has coefficients)
lands where those points say the basin bottoms out (derivative-free trust-region methods
such as NEWUOA rest on the same model). The step is taken only where the model is
trustworthy: enough points that are local (at most half the history), a fit that is concave
(larger is better), and a step no longer than the neighbourhood it was fitted on. Open
suggestions near the target do not hold the step back; only a repeat of an open or observed
point (closer than SAME) is refused.

Only double coordinates are modelled. Ints and categoricals stay at the incumbent's values,
and only points sharing them are neighbours.
"""

from __future__ import annotations

import numpy as np

NOISE_LIMIT = 1e-4  # GP noise variance (standardized data) above which a metric is noisy
# Neighbours beyond the number of coefficients. 0 interpolates: the nearest points are the
# most accurate about the basin's bottom.
SPARE = 0
SAME = 1e-9  # length scales: a step this close to an observed or open point repeats it


def coefficients(dimension: int) -> int:
    """Constant, linear and all quadratic terms of a full quadratic in `dimension` variables."""
    return (dimension + 1) * (dimension + 2) // 2


def step(cube: np.ndarray, values: np.ndarray, continuous: np.ndarray,
         scales: np.ndarray, taken: np.ndarray) -> np.ndarray | None:
    """Design-cube row of the local quadratic's maximum, or None where it cannot be trusted
    or would repeat a point of `taken` (observed and open rows).

    cube: (n, dimension) valued points; values: larger is better; continuous: which columns
    are doubles; scales: a length scale per column, so neighbours are near in the model's eyes.
    """
    dimension = int(continuous.sum())
    needed = coefficients(dimension) + SPARE
    if dimension == 0 or len(values) < 2 * coefficients(dimension):
        return None
    best = int(np.argmax(values))
    centre = cube[best]
    rows = np.flatnonzero(_same_cells(cube, centre, continuous))
    if len(rows) < needed:
        return None
    order = rows[np.argsort(_distances(cube[rows], centre, continuous, scales), kind="stable")]
    target = _newton(cube, values, order[:needed], centre, continuous, scales)
    return None if target is None or repeats(target, taken, continuous, scales) else target


def repeats(point: np.ndarray, taken: np.ndarray, continuous: np.ndarray,
            scales: np.ndarray, within: float = SAME) -> bool:
    """Whether point is one of the taken rows for the model: closer than `within` length
    scales over the doubles, and the same ints and categoricals."""
    if not len(taken):
        return False
    near = _distances(taken, point, continuous, scales) < within
    return bool(np.any(near & _same_cells(taken, point, continuous)))


def _newton(cube: np.ndarray, values: np.ndarray, nearest: np.ndarray, centre: np.ndarray,
            continuous: np.ndarray, scales: np.ndarray) -> np.ndarray | None:
    """The quadratic through the nearest points, in units of their reach, and its maximum."""
    dimension = int(continuous.sum())
    local = (cube[nearest][:, continuous] - centre[continuous]) / scales[continuous]
    radius = float(np.max(np.abs(local)))
    if not radius > 0.0:
        return None
    z = local / radius
    design = _terms(z)
    y = values[nearest]
    fit, *_ = np.linalg.lstsq(design, y - y.mean(), rcond=None)
    gradient, hessian = _derivatives(fit, dimension)
    try:
        if np.linalg.eigvalsh(hessian).max() >= 0.0:  # not a basin: no maximum to step to
            return None
        move = -np.linalg.solve(hessian, gradient)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(move)):
        return None
    move = np.clip(move, -1.0, 1.0)  # no further than the neighbourhood reaches
    target = centre.copy()
    target[continuous] = np.clip(centre[continuous] + move * radius * scales[continuous], 0.0, 1.0)
    return target


def _distances(rows: np.ndarray, point: np.ndarray, continuous: np.ndarray,
               scales: np.ndarray) -> np.ndarray:
    """Euclidean distance over the doubles, in length scales, from each row to point."""
    distances: np.ndarray = np.sqrt(np.sum(((rows - point) / scales)[:, continuous] ** 2, axis=1))
    return distances


def _same_cells(rows: np.ndarray, point: np.ndarray, continuous: np.ndarray) -> np.ndarray:
    """Which rows share point's int and categorical values."""
    same: np.ndarray = np.all(np.isclose(rows[:, ~continuous], point[~continuous]), axis=1)
    return same


def _terms(z: np.ndarray) -> np.ndarray:
    n, d = z.shape
    columns = [np.ones(n), *(z[:, i] for i in range(d))]
    columns += [z[:, i] * z[:, j] for i in range(d) for j in range(i, d)]
    return np.stack(columns, axis=1)


def _derivatives(fit: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian at the centre (z = 0) of the fitted quadratic."""
    gradient = fit[1 : 1 + d]
    hessian = np.zeros((d, d))
    k = 1 + d
    for i in range(d):
        for j in range(i, d):
            if i == j:
                hessian[i, i] = 2.0 * fit[k]
            else:
                hessian[i, j] = hessian[j, i] = fit[k]
            k += 1
    return gradient, hessian
