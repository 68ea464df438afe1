"""Bayesian optimization: uses the model, spreads batches, honours constraints and failures."""

import numpy as np
import pytest

from optimizer import Metric, Observation, Parameter, Settings, Space, bayes, suggest
from optimizer.acquisition import FACTORED, Objective, Penalty
from optimizer.bayes import initial_points
from optimizer.gp import GaussianProcess, Hyper

SPACE = Space([Parameter("x", "double", 0.0, 1.0), Parameter("y", "double", 0.0, 1.0)])


def peak(point):
    return -((point["x"] - 0.3) ** 2) - (point["y"] - 0.6) ** 2


def grid_history(function=peak, n=16, metric="f"):
    points = SPACE.decode(np.random.default_rng(0).random((n, 2)))
    return [Observation(p, {metric: function(p)}) for p in points]


def distance(a, b):
    return float(np.hypot(a["x"] - b["x"], a["y"] - b["y"]))


def test_first_wave_is_space_filling_design():
    props = suggest(SPACE, [Metric("f")], [], [], 4, Settings(seed=0), parallel_bandwidth=4)
    assert {p.strategy for p in props} == {"sobol"}
    assert initial_points(2, 4) % 4 == 0


def test_model_proposals_go_near_the_optimum():
    # the GP's own proposal in the trust region: on this exact quadratic the local step would
    # take the slot, and the 17th proposal is a global round's with global_every: 2
    props = suggest(SPACE, [Metric("f")], grid_history(), [], 1,
                    Settings(seed=1, local_every=0, global_every=0))
    assert props[0].strategy == "bayes"
    assert distance(props[0].assignments, {"x": 0.3, "y": 0.6}) < 0.2


def test_minimize_objective_is_honoured():
    history = grid_history(lambda p: -peak(p))
    props = suggest(SPACE, [Metric("f", objective="minimize")], history, [], 1,
                    Settings(seed=1, global_every=0))  # a trust-region proposal, not a global
    assert distance(props[0].assignments, {"x": 0.3, "y": 0.6}) < 0.2


def test_batch_with_pending_points_is_spread_out():
    history = grid_history()
    pending = [{"x": 0.3, "y": 0.6}]
    cases = ((Settings(seed=2, trust_region=False), 0.01), (Settings(seed=2), 1e-3))
    for settings, spread in cases:
        props = suggest(SPACE, [Metric("f")], history, pending, 4, settings, 5)
        points = [p.assignments for p in props] + pending
        gaps = [distance(a, b) for i, a in enumerate(points) for b in points[i + 1 :]]
        # inside a trust region that has shrunk around the optimum the batch is tighter
        assert len(props) == 4 and min(gaps) > spread


def test_same_seed_gives_the_same_bayes_batch():
    history = grid_history()
    runs = [suggest(SPACE, [Metric("f")], history, [], 3, Settings(seed=5), 3) for _ in range(2)]
    assert runs[0] == runs[1]


def test_constraint_metric_keeps_proposals_feasible():
    def values(p):
        return {"f": p["x"], "cost": p["x"] + p["y"]}

    points = SPACE.decode(np.random.default_rng(0).random((20, 2)))
    history = [Observation(p, values(p)) for p in points]
    metrics = [Metric("f"), Metric("cost", "minimize", "constraint", threshold=0.8)]
    # 20 random points replay into a small trust region around a mediocre incumbent: the
    # feasible optimum near x=0.8, y=0 is reached by the global step (one per round here)
    props = suggest(SPACE, metrics, history, [], 3, Settings(seed=3, global_every=1), 3)
    assert all(p.assignments["x"] + p.assignments["y"] < 0.95 for p in props)
    assert max(p.assignments["x"] for p in props) > 0.5


def test_failed_region_is_avoided():
    points = SPACE.decode(np.random.default_rng(0).random((24, 2)))
    history = [
        Observation(p, {}, failed=True) if p["x"] > 0.6 else Observation(p, {"f": p["x"]})
        for p in points
    ]
    props = suggest(SPACE, [Metric("f")], history, [], 3, Settings(seed=4), 3)
    assert all(p.assignments["x"] < 0.75 for p in props)


def test_two_objectives_search_along_the_front():
    points = SPACE.decode(np.random.default_rng(0).random((16, 2)))
    history = [Observation(p, {"a": p["x"], "b": 1 - p["x"] ** 2 - p["y"]}) for p in points]
    props = suggest(SPACE, [Metric("a"), Metric("b")], history, [], 4, Settings(seed=6), 4)
    assert len(props) == 4 and {p.strategy for p in props} == {"bayes"}
    assert np.mean([p.assignments["y"] for p in props]) < 0.4


def test_a_batch_for_two_metrics_spreads_along_the_whole_front():
    def quarter_circle(p):  # both minimized; the front is y = 0.5, every x
        radius = 1 + 4 * (p["y"] - 0.5) ** 2
        angle = 0.5 * np.pi * p["x"]
        return {"a": radius * np.cos(angle), "b": radius * np.sin(angle)}

    points = SPACE.decode(np.random.default_rng(1).random((12, 2)))
    history = [Observation(p, quarter_circle(p)) for p in points]
    metrics = [Metric("a", "minimize"), Metric("b", "minimize")]
    props = suggest(SPACE, metrics, history, [], 6, Settings(seed=4), 6)
    xs = sorted(p.assignments["x"] for p in props)
    assert xs[-1] - xs[0] > 0.5  # not piled onto one end of the front
    assert np.median([abs(p.assignments["y"] - 0.5) for p in props]) < 0.2


def test_more_than_two_optimized_metrics_are_refused_as_the_config_refuses_them():
    points = SPACE.decode(np.random.default_rng(0).random((8, 2)))
    history = [Observation(p, {"a": p["x"], "b": p["y"], "c": 1.0}) for p in points]
    with pytest.raises(ValueError, match="at most 2"):
        suggest(SPACE, [Metric("a"), Metric("b"), Metric("c")], history, [], 1, Settings(seed=0))


def test_reported_stddevs_are_accepted_as_noise():
    points = SPACE.decode(np.random.default_rng(0).random((12, 2)))
    history = [Observation(p, {"f": peak(p)}, stddevs={"f": 0.05}) for p in points]
    props = suggest(SPACE, [Metric("f")], history, [], 2, Settings(seed=7), 2)
    assert len(props) == 2 and all(SPACE.canonical(p.assignments) for p in props)


def test_mixed_space_keeps_types_under_the_model():
    space = Space(
        [
            Parameter("lr", "double", 1e-4, 1.0, log=True),
            Parameter("n", "int", 1, 10),
            Parameter("kind", "categorical", categories=("a", "b", "c")),
        ]
    )
    points = space.decode(np.random.default_rng(0).random((12, 3)))
    history = [Observation(p, {"f": -abs(np.log10(p["lr"]) + 2) - p["n"]}) for p in points]
    props = suggest(space, [Metric("f")], history, [], 3, Settings(seed=8), 3)
    for prop in props:
        assert space.canonical(prop.assignments) == prop.assignments
        assert type(prop.assignments["n"]) is int


def test_large_history_still_produces_a_batch():
    points = SPACE.decode(np.random.default_rng(1).random((400, 2)))
    history = [Observation(p, {"f": peak(p)}) for p in points]
    props = suggest(SPACE, [Metric("f")], history, [], 4, Settings(seed=9, max_history=60), 4)
    assert len({SPACE.key(p.assignments) for p in props}) == 4


def test_no_feasible_observation_yet_still_suggests():
    points = SPACE.decode(np.random.default_rng(2).random((8, 2)))
    history = [Observation(p, {"f": 1.0}) for p in points]
    metrics = [Metric("f", threshold=5.0)]
    props = suggest(SPACE, metrics, history, [], 2, Settings(seed=10), 2)
    assert len(props) == 2


def test_local_penalization_batch_is_distinct_and_reproducible():
    history = grid_history()
    pending = [{"x": 0.3, "y": 0.6}, {"x": 0.9, "y": 0.1}]
    settings = Settings(seed=3, pending="penalize")
    runs = [suggest(SPACE, [Metric("f")], history, pending, 4, settings, 6) for _ in range(2)]
    assert runs[0] == runs[1] and {p.strategy for p in runs[0]} == {"bayes"}
    points = [p.assignments for p in runs[0]] + pending
    assert len({(p["x"], p["y"]) for p in points}) == 6
    # the poor pending point far from the optimum excludes its neighbourhood
    assert min(distance(p.assignments, pending[1]) for p in runs[0]) > 0.05


def test_penalty_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    penalty = Penalty(rng.random((3, 2)), np.array([-1.0, 0.2, -0.5]), np.array([0.3, 0.1, 0.2]),
                      0.5, 4.0, np.array([0.3, 0.7]))
    x = rng.random((5, 2))
    value, grad = penalty.value(x, True)
    step = 1e-6
    for d in range(2):
        shifted = x.copy()
        shifted[:, d] += step
        numeric = (penalty.value(shifted, False)[0] - value) / step
        assert np.allclose(grad[:, d], numeric, rtol=1e-3, atol=1e-6)


def _fixed_model():
    rng = np.random.default_rng(0)
    x = rng.random((15, 2))
    y = np.sin(4 * x[:, 0]) + np.cos(3 * x[:, 1])
    return GaussianProcess(Hyper(1.2, np.array([0.3, 0.5]), 1e-6), x, (y - y.mean()) / y.std(),
                           np.zeros(15))


def _check_gradient(factor, dims=2):
    x = np.random.default_rng(1).random((6, dims))
    value, grad = factor.value(x, True)
    step = 1e-6
    for d in range(dims):
        up, down = x.copy(), x.copy()
        up[:, d] += step
        down[:, d] -= step
        numeric = (factor.value(up, False)[0] - factor.value(down, False)[0]) / (2 * step)
        assert np.allclose(grad[:, d], numeric, rtol=1e-4, atol=1e-7)


def test_upper_confidence_bound_uses_kappa_and_has_exact_gradients():
    model = _fixed_model()
    x = np.random.default_rng(2).random((6, 2))
    mean, std = model.predict(x)
    wide, narrow = (Objective(model, -5.0, "lcb", kappa=k) for k in (3.0, 0.5))
    reach = mean + 3.0 * std + 5.0
    assert np.allclose(wide.value(x, False)[0], np.log1p(np.exp(reach)))
    assert np.all(wide.value(x, False)[0] > narrow.value(x, False)[0])
    _check_gradient(wide)


def test_the_sharpened_bound_ranks_points_as_the_soft_one_and_has_exact_gradients():
    # alone (no feasibility factor) the softness changes no choice; with factors it is what
    # lets a batch leave a local optimum on a constraint's boundary (the next test)
    model = _fixed_model()
    x = np.random.default_rng(2).random((6, 2))
    soft, sharp = (Objective(model, -5.0, "lcb", softness=t) for t in (1.0, FACTORED))
    assert np.argmax(soft.value(x, False)[0]) == np.argmax(sharp.value(x, False)[0])
    _check_gradient(sharp)


# The first 20 evaluations of a benchmark run of Gramacy's problem (seed 2) that then spent
# 25 more on (0, 0.75): a local optimum on the sinusoidal constraint's boundary.
GRAMACY_STUCK = [(0.0822, 0.28), (0.0611, 0.9839), (0.2537, 0.5299), (0.4758, 0.028),
                 (0.9788, 0.1207), (0.9892, 0.6608), (0.6882, 0.4369), (0.0, 0.6984),
                 (0.0, 0.894), (0.6852, 0.8708), (0.0, 0.6604), (0.5143, 1.0), (0.0, 0.8104),
                 (0.0, 0.7535), (0.0, 0.0), (0.0, 0.7502), (0.0, 0.75), (0.0, 0.7728),
                 (0.0, 0.7507), (0.0, 0.7504)]


@pytest.mark.parametrize(("softness", "batches_leaving"), [(FACTORED, 5), (1.0, 1)])
def test_a_batch_leaves_a_local_optimum_on_a_constraint_boundary(monkeypatch, softness,
                                                                 batches_leaving):
    from benchmarks.optimizer_problems import gramacy_c1, gramacy_c2

    space = Space([Parameter("x1", "double", 0.0, 1.0), Parameter("x2", "double", 0.0, 1.0)])
    metrics = [Metric("f", "minimize"), Metric("c1", "minimize", "constraint", 0.0),
               Metric("c2", "minimize", "constraint", 0.0)]
    history = []
    for a, b in GRAMACY_STUCK:
        p = {"x1": a, "x2": b}
        history.append(Observation(p, {"f": a + b, "c1": gramacy_c1(p), "c2": gramacy_c2(p)}))
    monkeypatch.setattr(bayes, "FACTORED", softness)
    leaving = 0
    for seed in range(5):
        props = suggest(space, metrics, history, [], 4, Settings(seed=seed), 4)
        leaving += any(np.hypot(p.assignments["x1"], p.assignments["x2"] - 0.75) > 0.05
                       for p in props)
    # the default sends a proposal elsewhere in every batch; softness 1 in at most one
    assert leaving >= batches_leaving if softness == FACTORED else leaving <= batches_leaving


def test_constraint_is_honoured_with_pending_points_under_the_confidence_bound():
    # with pending points `auto` uses the confidence bound; its product with the
    # probability of feasibility must still keep proposals feasible and good
    points = SPACE.decode(np.random.default_rng(0).random((20, 2)))
    history = [Observation(p, {"f": p["x"], "cost": p["x"] + p["y"]}) for p in points]
    metrics = [Metric("f"), Metric("cost", "minimize", "constraint", threshold=0.8)]
    pending = [{"x": 0.5, "y": 0.1}, {"x": 0.2, "y": 0.5}]
    settings = Settings(seed=3, trust_region=False)  # the acquisition alone, whole space
    props = suggest(SPACE, metrics, history, pending, 3, settings, 5)
    assert all(p.assignments["x"] + p.assignments["y"] < 0.9 for p in props)
    assert all(p.assignments["x"] > 0.7 for p in props)  # the feasible optimum is (0.8, 0)


def test_repeated_observations_of_the_same_points_still_fit():
    # the noise floor is thin (1e-11): duplicates must not break the factorisation
    points = SPACE.decode(np.random.default_rng(6).random((4, 2)))
    history = [Observation(p, {"f": peak(p)}) for p in points * 6]
    props = suggest(SPACE, [Metric("f")], history, points[:2], 3, Settings(seed=2), 5)
    assert len(props) == 3


def _kinds_searched(monkeypatch, history, pending, settings):
    """Which acquisitions one proposal was searched with, in order."""
    kinds = []
    maximize = bayes.search.maximize

    def spy(space, acq, *args, **kwargs):
        kinds.append(acq.objective.kind)
        return maximize(space, acq, *args, **kwargs)

    monkeypatch.setattr(bayes.search, "maximize", spy)
    suggest(SPACE, [Metric("f")], history, pending, 1, settings, 1 + len(pending))
    return kinds


def test_a_lone_proposal_that_would_repeat_an_observation_goes_to_expected_improvement(
        monkeypatch):
    # f = x + y peaks at the observed corner (1, 1): nothing reaches above the best
    # observation, so the confidence bound's maximum is that observation again
    points = SPACE.decode(np.random.default_rng(0).random((14, 2))) + [{"x": 1.0, "y": 1.0}]
    corner = [Observation(p, {"f": p["x"] + p["y"]}) for p in points]
    settings = Settings(seed=0, local_every=0, trust_region=False)
    assert _kinds_searched(monkeypatch, corner, [], settings) == ["lcb", "ei"]
    monkeypatch.undo()
    # with pending points the bound stays (believer-EI would leave the optimum too early)
    assert _kinds_searched(monkeypatch, corner, [{"x": 0.2, "y": 0.2}], settings) == ["lcb"]
    monkeypatch.undo()
    # an interior peak leaves the bound something to learn
    assert _kinds_searched(monkeypatch, grid_history(), [], settings) == ["lcb"]
    monkeypatch.undo()
    forced = Settings(seed=0, local_every=0, trust_region=False, acquisition="lcb")
    assert _kinds_searched(monkeypatch, corner, [], forced) == ["lcb"]
