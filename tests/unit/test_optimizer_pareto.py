"""Two optimized metrics: the front, the hypervolume a new outcome adds, and its gradient."""

import numpy as np
import pytest

from optimizer import pareto

FRONT = pareto.front(np.array([[3.0, 1.0], [1.0, 3.0], [2.0, 2.0], [1.5, 1.5], [0.5, 0.5]]))
REF = np.array([0.0, 0.0])


def area(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume by counting a fine grid's cells: slow, obviously right."""
    step = 0.01
    grid = np.arange(ref[0] + step / 2, 5, step)
    xs, ys = np.meshgrid(grid, np.arange(ref[1] + step / 2, 5, step))
    covered = np.zeros_like(xs, dtype=bool)
    for p in points:
        covered |= (xs <= p[0]) & (ys <= p[1])
    return float(covered.sum() * step**2)


def test_the_front_keeps_only_non_dominated_points_sorted_by_the_first_metric():
    assert FRONT.tolist() == [[3.0, 1.0], [2.0, 2.0], [1.0, 3.0]]


@pytest.mark.parametrize("u", [[2.5, 2.5], [4.0, 0.5], [1.2, 2.1], [3.5, 3.5], [0.5, 4.0]])
def test_improvement_is_the_area_the_outcome_adds_to_the_front(u):
    gain, _ = pareto.improvement(np.array([u]), FRONT, REF)
    expected = area(np.vstack([FRONT, [u]]), REF) - area(FRONT, REF)
    assert gain[0] == pytest.approx(expected, abs=0.05)


def test_a_dominated_outcome_adds_nothing_and_its_escape_is_the_cheaper_rise():
    u = np.array([[1.5, 1.0]])  # under (2, 2): rising 0.5 on the first metric frees it
    gain, _ = pareto.improvement(u, FRONT, REF)
    distance, grad = pareto.escape(u, FRONT)
    assert gain[0] == pytest.approx(0.0, abs=1e-12) and distance[0] == pytest.approx(0.5)
    assert grad.tolist() == [[-1.0, 0.0]]
    assert pareto.escape(np.array([[2.5, 2.5]]), FRONT)[0][0] == pytest.approx(0.0, abs=1e-12)


def test_improvement_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    u = rng.uniform(0.3, 3.7, size=(40, 2))
    gain, grad = pareto.improvement(u, FRONT, REF)
    h = 1e-6
    for j in range(2):
        shifted = u.copy()
        shifted[:, j] += h
        numeric = (pareto.improvement(shifted, FRONT, REF)[0] - gain) / h
        improving = gain > 1e-3  # the gradient is only used where the outcome adds something
        assert np.allclose(grad[improving, j], numeric[improving], atol=1e-4)


def test_the_reference_lies_below_the_fronts_worst_values():
    ref = pareto.reference(FRONT, FRONT)
    assert np.all(ref < FRONT.min(axis=0))
    lone = pareto.front(np.array([[1.0, 1.0]]))
    assert np.all(pareto.reference(lone, np.array([[1.0, 1.0], [0.0, 3.0]])) < 1.0)
