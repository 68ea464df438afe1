"""Priors on doubles (SigOpt's normal and beta): designs sample mostly from the prior, a
right prior finds the optimum sooner, a wrong one does not hide it, and bad priors are
refused by field path."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.errors import ConfigError
from coordinator.spec.config import validate_experiment
from coordinator.spec.experiment import ExperimentSpec
from optimizer import Metric, Observation, Parameter, Settings, Space, suggest
from optimizer.priors import UNIFORM_SHARE, Prior

pytestmark = pytest.mark.timeout(120)


def test_random_suggestions_follow_a_normal_and_a_beta_prior():
    space = Space([Parameter("x", "double", 0, 1, prior=Prior("normal", mean=0.2, scale=0.05)),
                   Parameter("y", "double", 0, 10, prior=Prior("beta", shape_a=2, shape_b=8))])
    points = suggest(space, [Metric("f")], [], [], 400, Settings(type="random", seed=2))
    x = np.array([p.assignments["x"] for p in points])
    y = np.array([p.assignments["y"] for p in points])
    near = np.mean(np.abs(x - 0.2) < 0.1)  # two scales: 95 % of the prior's share
    assert near == pytest.approx((1 - UNIFORM_SHARE) * 0.95 + UNIFORM_SHARE * 0.2, abs=0.06)
    assert np.median(y) == pytest.approx(10 * 0.18, abs=0.4)  # beta(2, 8)'s median is 0.18
    assert x.min() >= 0 and x.max() <= 1 and y.min() >= 0 and y.max() <= 10


def test_the_warp_is_a_bijection_onto_the_bounds():
    prior = Prior("normal", mean=0.9, scale=0.01)
    u = np.linspace(0, 1, 101)
    x = prior.ppf(u, -3.0, 1.0)
    assert x[0] == -3.0 and x[-1] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(x) > 0)
    assert np.allclose(prior.cdf(x, -3.0, 1.0), u, atol=1e-9)


def best_after(prior: Prior | None, counts: tuple[int, ...], seed: int) -> list[float]:
    space = Space([Parameter("x", "double", 0, 1, prior=prior), Parameter("y", "double", 0, 1)])
    observations: list[Observation] = []
    while len(observations) < max(counts):
        for p in suggest(space, [Metric("f", "minimize")], observations, [], 2,
                         Settings(type="bayes", seed=seed), parallel_bandwidth=2):
            a = p.assignments
            observations.append(Observation(a, {"f": (a["x"] - 0.23) ** 2 + (a["y"] - 0.61) ** 2}))
    return [min(o.values["f"] for o in observations[:n]) for n in counts]


def test_a_right_prior_helps_early_and_a_wrong_one_does_not_hide_the_optimum():
    right = [best_after(Prior("normal", mean=0.25, scale=0.05), (6,), s)[0] for s in range(3)]
    none = [best_after(None, (6,), s)[0] for s in range(3)]
    assert np.median(right) < np.median(none)
    wrong = [best_after(Prior("normal", mean=0.8, scale=0.05), (24,), s)[0] for s in range(3)]
    assert np.median(wrong) < 1e-4


BASE = {"name": "priors", "budget": 10, "evaluate": "m:f", "parameters": [
    {"name": "x", "type": "double", "bounds": {"min": 0, "max": 1},
     "prior": {"name": "normal", "mean": 0.5, "scale": 0.1}}]}


def test_a_prior_is_stored_read_back_and_served():
    spec = validate_experiment(BASE)
    assert spec.parameters[0].prior == Prior("normal", mean=0.5, scale=0.1)
    assert ExperimentSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize(("parameter", "message"), [
    ({"prior": {"name": "gamma"}}, "parameters[0].prior.name: must be one of normal, beta"),
    ({"prior": {"name": "normal", "mean": 0.5}}, "parameters[0].prior.scale: a normal prior "
                                                 "needs a finite scale"),
    ({"prior": {"name": "beta", "shape_a": 2, "shape_b": 0}},
     "parameters[0].prior.shape_b: must be positive"),
    ({"prior": {"name": "normal", "mean": 0.5, "scale": 1, "shape_a": 1}},
     "parameters[0].prior.shape_a: not a field of a normal prior"),
    ({"prior": {"name": "normal", "mean": 9, "scale": 0.01}},
     "parameters[0].prior: almost none of this normal prior lies within the bounds"),
    ({"prior": {"name": "normal", "mean": 0.5, "scale": 1, "sd": 1}},
     "parameters[0].prior.sd: unknown key"),
    ({"type": "int", "bounds": {"min": 0, "max": 5}},
     "parameters[0].prior: a prior applies to a double parameter without a grid or a log"),
    ({"bounds": {"min": 0.01, "max": 1}, "transformation": "log"},
     "parameters[0].prior: a prior applies to a double parameter"),
])
def test_a_bad_prior_is_refused_by_its_field_path(parameter, message):
    with pytest.raises(ConfigError) as caught:
        validate_experiment({**BASE, "parameters": [{**BASE["parameters"][0], **parameter}]})
    assert message in str(caught.value)


def test_num_solutions_of_one_is_accepted_and_more_refused_by_name():
    assert validate_experiment({**BASE, "num_solutions": 1}).name == "priors"
    with pytest.raises(ConfigError) as caught:
        validate_experiment({**BASE, "num_solutions": 3})
    assert "num_solutions: only 1 is supported" in str(caught.value)
