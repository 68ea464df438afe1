"""Early-stopped observations: never the best, never suggested again, modelled as partial."""

import numpy as np
import pytest

from optimizer import (
    Metric,
    Observation,
    Parameter,
    Settings,
    Space,
    bayes,
    best_observations,
    fidelity,
    suggest,
)
from optimizer.gp import GaussianProcess, Hyper
from optimizer.proposals import History

SPACE = Space([Parameter("x", "double", 0.0, 1.0), Parameter("y", "double", 0.0, 1.0)])
LINE = Space([Parameter("x", "double", 0.0, 1.0)])
LOSS = [Metric("loss", objective="minimize")]
R = 27.0


def final(point):
    return (point["x"] - 0.3) ** 2 + (point.get("y", 0.6) - 0.6) ** 2


def curve(point, resource):
    """A learning curve whose partial values lie 0.5 * (1 - level) above the final loss."""
    level = np.log1p(resource) / np.log1p(R)
    return final(point) + 0.5 * (1.0 - level)


def asha_history(space, n=24, seed=0):
    """Every third run finished at R, the others stopped at 1, 3 or 9 with partial values."""
    points = space.decode(np.random.default_rng(seed).random((n, space.dimension)))
    history = []
    for i, p in enumerate(points):
        resource = R if i % 3 == 0 else (1.0, 3.0, 9.0)[i % 3]
        stopped = resource < R
        history.append(Observation(p, {"loss": curve(p, resource)}, resource=resource,
                                   stopped=stopped))
    return history


def keys(space, points):
    return {space.key(p) for p in points}


def test_best_never_picks_a_stopped_observation_even_with_the_best_partial_value():
    observations = [
        Observation({"x": 0.1}, {"loss": 0.9}),
        Observation({"x": 0.2}, {"loss": 0.01}, resource=1.0, stopped=True),
        Observation({"x": 0.3}, {"loss": 0.5}, resource=R),
        Observation({"x": 0.4}, {"loss": 2.0}, resource=3.0, stopped=True),
    ]
    assert best_observations(LOSS, observations) == [2]


def test_best_is_empty_when_every_observation_was_stopped():
    observations = [Observation({"x": 0.2}, {"loss": 0.1}, resource=1.0, stopped=True),
                    Observation({"x": 0.4}, {"loss": 0.3}, resource=9.0, stopped=True)]
    assert best_observations(LOSS, observations) == []


def test_stopped_observations_stay_off_the_pareto_front():
    metrics = [Metric("a"), Metric("b")]
    observations = [
        Observation({"x": 0.1}, {"a": 1.0, "b": 0.0}),
        Observation({"x": 0.2}, {"a": 5.0, "b": 5.0}, resource=1.0, stopped=True),
        Observation({"x": 0.3}, {"a": 0.0, "b": 1.0}),
    ]
    assert best_observations(metrics, observations) == [0, 2]


def test_history_keeps_resource_and_stopped_and_takes_stopped_points():
    observations = asha_history(SPACE, 6)
    history = History.build(SPACE, observations, [])
    assert [(o.resource, o.stopped) for o in history.observations] == [
        (o.resource, o.stopped) for o in observations
    ]
    assert keys(SPACE, [o.assignments for o in observations]) <= history.taken


def test_levels_are_one_for_finished_runs_and_log_scaled_for_stopped_ones():
    runs = [Observation({}, resource=None), Observation({}, resource=3.0),
            Observation({}, resource=1.0, stopped=True), Observation({}, stopped=True),
            Observation({}, resource=R, stopped=True)]
    levels = fidelity.levels(runs, R)
    assert levels[:2].tolist() == [1.0, 1.0]
    assert levels[2] == pytest.approx(np.log(2.0) / np.log(28.0))
    assert levels[3] == 0.0 and levels[4] == 1.0
    assert not fidelity.active(runs, None)
    assert fidelity.active(runs, R)
    assert not fidelity.active(runs[:2], R)


@pytest.mark.parametrize("k", [1, 4])
def test_identical_suggestions_with_and_without_max_resource_when_nothing_stopped(k):
    points = SPACE.decode(np.random.default_rng(3).random((14, 2)))
    observations = [Observation(p, {"loss": final(p)}, resource=R) for p in points]
    pending = SPACE.decode(np.random.default_rng(4).random((2, 2)))
    without = suggest(SPACE, LOSS, observations, pending, k, Settings(seed=5), 4)
    with_full = suggest(SPACE, LOSS, observations, pending, k, Settings(seed=5), 4, R)
    assert [p.assignments for p in without] == [p.assignments for p in with_full]
    assert [p.strategy for p in without] == [p.strategy for p in with_full]


def test_without_max_resource_stopped_observations_are_taken_as_finished():
    observations = asha_history(SPACE)
    as_finished = [Observation(o.assignments, o.values) for o in observations]
    a = suggest(SPACE, LOSS, observations, [], 3, Settings(seed=2), 4)
    b = suggest(SPACE, LOSS, as_finished, [], 3, Settings(seed=2), 4)
    assert [p.assignments for p in a] == [p.assignments for p in b]


def test_fidelity_changes_the_model_when_runs_were_stopped():
    observations = asha_history(SPACE)
    a = suggest(SPACE, LOSS, observations, [], 3, Settings(seed=2), 4)
    b = suggest(SPACE, LOSS, observations, [], 3, Settings(seed=2), 4, R)
    assert [p.assignments for p in a] != [p.assignments for p in b]
    assert {p.strategy for p in b} <= {"bayes", "quadratic"}


def test_suggestions_with_fidelity_never_repeat_a_stopped_point():
    space = Space([Parameter("n", "int", 0, 5), Parameter("m", "int", 0, 3)])
    points = space.decode(np.random.default_rng(0).random((40, 2)))
    unique = list({space.key(p): p for p in points}.values())
    observations = [
        Observation(p, {"loss": curve({"x": p["n"] / 5, "y": p["m"] / 3}, r)}, resource=r,
                    stopped=r < R)
        for i, p in enumerate(unique) for r in [(1.0, 3.0, R)[i % 3]]
    ]
    stopped = keys(space, [o.assignments for o in observations if o.stopped])
    observed = keys(space, [o.assignments for o in observations])
    props = suggest(space, LOSS, observations, [], 24, Settings(seed=1), 4, R)
    assert len(props) == 24 - len(observed)
    assert not keys(space, [p.assignments for p in props]) & stopped
    assert len(keys(space, [p.assignments for p in props])) == len(props)


def test_fidelity_model_predicts_full_resource_values_of_configs_seen_only_early():
    """A is near the optimum but was stopped at the first rung, so its partial loss (about
    0.5) is worse than finished B's final loss (0.16); the fidelity model predicts A's
    full-resource loss below B's, and with more confidence than a model that takes every
    run as finished (which can only call the rungs' differences noise)."""
    rng = np.random.default_rng(0)
    observations = []
    for i, x in enumerate(np.linspace(0.0, 1.0, 21)):
        resource = (1.0, R)[i % 2]
        p = {"x": float(np.clip(x + 0.01 * rng.standard_normal(), 0.0, 1.0))}
        observations.append(Observation(p, {"loss": curve(p, resource)}, resource=resource,
                                        stopped=resource < R))
    a, b = {"x": 0.32}, {"x": 0.7}
    observations += [Observation(a, {"loss": curve(a, 1.0)}, resource=1.0, stopped=True),
                     Observation(b, {"loss": curve(b, R)}, resource=R)]
    history = History.build(LINE, observations, [])
    settings = Settings(seed=0)
    means = {}
    for full in (None, R):
        problem = bayes._build_problem(history, LOSS, settings, np.random.default_rng(0), full)
        model, _ = bayes._objective_model(problem, problem.goals[:, 0], np.random.default_rng(1))
        means[full] = model.predict(LINE.features_of([a, b]))[0]  # larger is better
    assert means[R][0] > means[R][1]
    assert means[R][0] - means[R][1] > means[None][0] - means[None][1]


def test_held_coordinates_are_appended_to_queries_and_gradients_match():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.random((12, 2)), rng.choice([0.2, 1.0], 12)])
    y = np.sin(3 * x[:, 0]) + x[:, 1] - x[:, 2]
    hyper = Hyper(1.0, np.array([0.4, 0.5, 0.7]), 1e-6)
    held = GaussianProcess(hyper, x, y, np.zeros(12), held=np.array([1.0]))
    plain = GaussianProcess(hyper, x, y, np.zeros(12))
    queries = rng.random((5, 2))
    full = np.column_stack([queries, np.ones(5)])
    np.testing.assert_allclose(held.predict(queries)[0], plain.predict(full)[0])
    mean, std, dmean, dstd = held.predict_grad(queries)
    assert dmean.shape == dstd.shape == (5, 2)
    step = 1e-6
    for j in range(2):
        shifted = queries.copy()
        shifted[:, j] += step
        up, up_std = held.predict(shifted)
        np.testing.assert_allclose((up - mean) / step, dmean[:, j], rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose((up_std - std) / step, dstd[:, j], rtol=1e-3, atol=1e-4)
    conditioned = held.condition(queries[:1], np.array([0.5]))
    assert conditioned.x.shape == (13, 3) and conditioned.x[-1, 2] == 1.0
    assert conditioned.points.shape == (13, 2) and len(conditioned.scales) == 2


def test_fidelity_handles_constraints_two_metrics_and_only_stopped_runs():
    observations = asha_history(SPACE)
    with_constraint = [Observation(o.assignments, {**o.values, "c": o.assignments["x"]},
                                   resource=o.resource, stopped=o.stopped)
                       for o in observations]
    constraint = [*LOSS, Metric("c", objective="minimize", strategy="constraint",
                                threshold=0.5)]
    props = suggest(SPACE, constraint, with_constraint, [], 3, Settings(seed=0), 4, R)
    assert len(props) == 3
    two = [Metric("loss", objective="minimize"), Metric("c", objective="minimize")]
    assert len(suggest(SPACE, two, with_constraint, [], 3, Settings(seed=0), 4, R)) == 3
    only_stopped = [o for o in observations if o.stopped]
    props = suggest(SPACE, LOSS, only_stopped, [], 3, Settings(seed=0), 4, R)
    assert len(props) == 3 and not keys(SPACE, [p.assignments for p in props]) & keys(
        SPACE, [o.assignments for o in only_stopped])


@pytest.mark.parametrize("strategy", ["random", "sobol", "grid"])
def test_model_free_strategies_ignore_max_resource(strategy):
    observations = asha_history(SPACE, 8)
    a = suggest(SPACE, LOSS, observations, [], 3, Settings(type=strategy, seed=1))
    b = suggest(SPACE, LOSS, observations, [], 3, Settings(type=strategy, seed=1), 1, R)
    assert [p.assignments for p in a] == [p.assignments for p in b]


@pytest.mark.parametrize("bad", [0.0, -3.0, float("nan")])
def test_max_resource_must_be_positive(bad):
    with pytest.raises(ValueError, match="max_resource"):
        suggest(SPACE, LOSS, [], [], 1, Settings(seed=0), 1, bad)
