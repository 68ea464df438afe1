"""suggest(): types, bounds, uniqueness against history and pending, reproducibility."""

import numpy as np
import pytest

from optimizer import Metric, Observation, Parameter, Settings, Space, suggest

STRATEGIES = ["random", "sobol", "grid", "bayes"]


def mixed_space() -> Space:
    return Space(
        [
            Parameter("x", "double", -5.0, 10.0),
            Parameter("lr", "double", 1e-4, 1.0, log=True),
            Parameter("n", "int", 1, 50),
            Parameter("kind", "categorical", categories=("a", "b", "c")),
        ]
    )


def objective(point):
    return -((point["x"] - 1.0) ** 2) - np.log10(point["lr"]) ** 2 - 0.01 * point["n"]


def history(space, count, seed=0):
    rng = np.random.default_rng(seed)
    points = space.decode(rng.random((count, space.dimension)))
    return [Observation(p, {"y": objective(p)}) for p in points]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_proposals_keep_types_and_bounds(strategy):
    space = mixed_space()
    settings = Settings(type=strategy, seed=3)
    props = suggest(space, [Metric("y")], history(space, 12), [], 5, settings)
    assert len(props) == 5
    for prop in props:
        assert space.canonical(prop.assignments) == prop.assignments
        assert type(prop.assignments["n"]) is int and type(prop.assignments["x"]) is float
        assert prop.strategy


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_proposals_never_repeat_observed_or_pending_points(strategy):
    kind = Parameter("c", "categorical", categories=("a", "b"))
    space = Space([Parameter("n", "int", 0, 9), kind])
    observed = [Observation({"n": i, "c": "a"}, {"y": float(i)}) for i in range(10)]
    pending = [{"n": i, "c": "b"} for i in range(5)]
    props = suggest(space, [Metric("y")], observed, pending, 3, Settings(type=strategy, seed=1))
    keys = {space.key(p.assignments) for p in props}
    assert len(keys) == 3
    assert keys.isdisjoint({space.key(o.assignments) for o in observed})
    assert keys.isdisjoint({space.key(p) for p in pending})


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_exhausted_finite_space_returns_what_is_left(strategy):
    space = Space([Parameter("n", "int", 0, 3)])
    observed = [Observation({"n": i}, {"y": float(i)}) for i in range(3)]
    props = suggest(space, [Metric("y")], observed, [], 4, Settings(type=strategy, seed=0))
    assert [p.assignments for p in props] == [{"n": 3}]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_seed_and_inputs_give_the_same_proposals(strategy):
    space = mixed_space()
    obs = history(space, 10)
    pending = [space.decode(np.full((1, 4), 0.3))[0]]
    runs = [
        suggest(space, [Metric("y")], obs, pending, 3, Settings(type=strategy, seed=11))
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_different_history_lengths_give_different_random_draws():
    space = mixed_space()
    a = suggest(space, [Metric("y")], history(space, 3), [], 2, Settings(type="random", seed=1))
    b = suggest(space, [Metric("y")], history(space, 4), [], 2, Settings(type="random", seed=1))
    assert a != b


def test_sobol_continues_one_sequence_across_calls():
    space = Space([Parameter("x", "double", 0, 1), Parameter("y", "double", 0, 1)])
    first = suggest(space, [], [], [], 8, Settings(type="sobol", seed=5))
    obs = [Observation(p.assignments, {}) for p in first[:4]]
    later = suggest(space, [], obs, [], 4, Settings(type="sobol", seed=5))
    np.testing.assert_allclose(space.encode([p.assignments for p in later]),
                               space.encode([p.assignments for p in first[4:]]), atol=1e-12)


def test_grid_covers_the_corners_first():
    space = Space([Parameter("x", "double", 0, 1), Parameter("y", "double", 0, 1)])
    props = suggest(space, [], [], [], 4, Settings(type="grid", seed=0))
    corners = sorted((p.assignments["x"], p.assignments["y"]) for p in props)
    np.testing.assert_allclose(corners, [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)],
                               atol=1e-12)


def test_invalid_history_points_are_ignored_rather_than_fatal():
    space = mixed_space()
    bad = Observation({"x": 99.0, "lr": 0.1, "n": 1, "kind": "a"}, {"y": 1.0})
    props = suggest(space, [Metric("y")], [bad], [{"nope": 1}], 2, Settings(seed=0))
    assert len(props) == 2


def test_zero_k_gives_nothing():
    assert suggest(mixed_space(), [Metric("y")], [], [], 0, Settings(seed=0)) == []


def test_min_open_distance_keeps_new_points_away_from_open_ones_with_the_same_choices():
    space = Space([Parameter("x", "double", 0.0, 1.0), Parameter("y", "double", 0.0, 1.0),
                   Parameter("kind", "categorical", categories=("a", "b"))])
    rng = np.random.default_rng(0)
    observations = [Observation(p, {"y": -(p["x"] - 0.3) ** 2 - (p["y"] - 0.6) ** 2})
                    for p in space.decode(rng.random((40, space.dimension)))]
    best = max(observations, key=lambda o: o.values["y"]).assignments
    pending = [dict(best, x=min(1.0, best["x"] + 0.001 * i)) for i in range(3)]
    settings = Settings(seed=1, min_open_distance=0.05)
    props = suggest(space, [Metric("y")], observations, pending, 8, settings, 8)
    assert len(props) == 8
    points = pending + [p.assignments for p in props]
    for i, p in enumerate(points[len(pending):], len(pending)):
        for q in points[:i]:
            if p["kind"] == q["kind"]:
                assert np.hypot(p["x"] - q["x"], p["y"] - q["y"]) >= 0.05


def test_min_open_distance_is_bounded_so_a_batch_can_always_be_filled():
    with pytest.raises(Exception, match="min_open_distance: must be at most 0.2"):
        Settings.from_dict({"min_open_distance": 0.5})
