"""The quadratic step around the incumbent: exact on a basin, absent where it cannot be trusted."""

import numpy as np
import pytest

from optimizer import Metric, Observation, Parameter, Settings, Space, local, suggest

DOUBLES = np.array([True, True])
SCALES = np.array([0.3, 0.3])
NO_POINTS = np.empty((0, 2))


def bowl(cube):
    """Larger is better, maximum at (0.31, 0.62), with unequal curvature and a cross term."""
    dx, dy = cube[:, 0] - 0.31, cube[:, 1] - 0.62
    return -(3.0 * dx**2 + dx * dy + 0.5 * dy**2)


def scattered(n=14, seed=0):
    return np.random.default_rng(seed).random((n, 2))


def test_a_quadratic_basin_is_solved_in_one_step():
    cube = scattered()
    row = local.step(cube, bowl(cube), DOUBLES, SCALES, NO_POINTS)
    assert row is not None
    np.testing.assert_allclose(row, [0.31, 0.62], atol=1e-9)


def test_no_step_without_a_maximum_to_step_to():
    cube = scattered()
    saddle = (cube[:, 0] - 0.5) ** 2 - (cube[:, 1] - 0.5) ** 2
    assert local.step(cube, saddle, DOUBLES, SCALES, NO_POINTS) is None
    upside_down = -bowl(cube)
    assert local.step(cube, upside_down, DOUBLES, SCALES, NO_POINTS) is None


def test_no_step_until_the_neighbourhood_is_at_most_half_the_history():
    cube = scattered(n=2 * local.coefficients(2) - 1)
    assert local.step(cube, bowl(cube), DOUBLES, SCALES, NO_POINTS) is None


def test_the_step_stays_within_the_neighbourhood_it_was_fitted_on():
    cube = 0.05 + 0.1 * scattered(n=14)  # a cluster far from the bowl's maximum
    row = local.step(cube, bowl(cube), DOUBLES, SCALES, NO_POINTS)
    assert row is not None
    best = cube[np.argmax(bowl(cube))]
    reach = np.max(np.abs(cube - best))
    assert np.all(np.abs(row - best) <= reach + 1e-12)


def test_ints_and_categoricals_stay_at_the_incumbents_values():
    rng = np.random.default_rng(1)
    cube = np.column_stack([rng.random(30), rng.random(30), rng.choice([0.25, 0.75], 30)])
    values = bowl(cube) - (cube[:, 2] > 0.5)  # the second category is worse everywhere
    row = local.step(cube, values, np.array([True, True, False]), np.ones(3) * 0.3,
                     np.empty((0, 3)))
    assert row is not None and row[2] == pytest.approx(0.25)
    np.testing.assert_allclose(row[:2], [0.31, 0.62], atol=1e-9)


SPACE = Space([Parameter("x", "double", 0.0, 1.0), Parameter("y", "double", 0.0, 1.0)])


def history(noise=0.0, n=16, stddev=None):
    rng = np.random.default_rng(0)
    cube = rng.random((n, 2))
    values = bowl(cube) + noise * rng.standard_normal(n)
    stddevs = {} if stddev is None else {"f": stddev}
    return [Observation(p, {"f": float(v)}, stddevs)
            for p, v in zip(SPACE.decode(cube), values, strict=True)]


def test_a_deterministic_basin_gets_a_quadratic_proposal_at_its_optimum():
    every = Settings().local_every
    observations = history(n=5 * every)  # the next proposal's number is a multiple of every
    props = suggest(SPACE, [Metric("f")], observations, [], 1, Settings(seed=0))
    steps = [p for p in props if p.strategy == "quadratic"]
    assert len(steps) == 1
    point = steps[0].assignments
    assert abs(point["x"] - 0.31) < 1e-6 and abs(point["y"] - 0.62) < 1e-6


def test_noisy_metrics_and_the_switch_get_no_quadratic_proposal():
    for observations, settings in (
        (history(noise=0.05), Settings(seed=0)),
        (history(stddev=1e-3), Settings(seed=0)),
        (history(), Settings(seed=0, local_every=0)),
    ):
        props = suggest(SPACE, [Metric("f")], observations, [], 4, settings, 4)
        assert {p.strategy for p in props} == {"bayes"}


def test_an_open_point_near_the_step_does_not_hold_it_back_but_a_repeat_is_refused():
    # in the trust region (the step is never a global round's proposal)
    observations, settings = history(), Settings(seed=0, local_every=1, global_every=0)
    alone = suggest(SPACE, [Metric("f")], observations, [], 1, settings)[0]
    assert alone.strategy == "quadratic"
    nearby = {"x": alone.assignments["x"] + 1e-4, "y": alone.assignments["y"]}
    again = suggest(SPACE, [Metric("f")], observations, [nearby], 1, settings)[0]
    # the pending point changes the random stream, so the GP's length scales and with them
    # the step's last digits may differ: the same step, up to rounding
    assert again.strategy == "quadratic"
    assert again.assignments == pytest.approx(alone.assignments, abs=1e-9)
    x, y = alone.assignments["x"], alone.assignments["y"]
    for twin in ({"x": x, "y": y}, {"x": x + 1e-15, "y": y}):  # the same point, or all but
        repeat = suggest(SPACE, [Metric("f")], observations, [twin], 1, settings)[0]
        assert repeat.strategy == "bayes"
        assert abs(repeat.assignments["x"] - x) + abs(repeat.assignments["y"] - y) > 1e-6
