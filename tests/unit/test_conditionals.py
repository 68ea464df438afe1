"""Conditional spaces: a parameter whose conditions do not hold is absent from the
suggestion, points that differ only where a parameter is absent are one point, a finite
conditional space is counted branch by branch, the optimizer finds the better branch, and a
config's conditionals are checked by field path."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.errors import ConfigError
from coordinator.spec.config import validate_experiment
from coordinator.spec.experiment import ExperimentSpec
from optimizer import Metric, Observation, Parameter, Settings, Space, suggest

pytestmark = pytest.mark.timeout(120)

MODEL = Parameter("model", "categorical", categories=("svm", "tree"), conditional=True)
SPACE = Space([MODEL,
               Parameter("C", "double", 0.01, 100, log=True, conditions=(("model", ("svm",)),)),
               Parameter("depth", "int", 1, 10, conditions=(("model", ("tree",)),)),
               Parameter("lr", "double", 0, 1)])


def loss(a: dict) -> float:
    if a["model"] == "svm":
        return (np.log10(a["C"]) - 1) ** 2 + (a["lr"] - 0.3) ** 2 + 0.2
    return (a["depth"] - 7) ** 2 / 10 + (a["lr"] - 0.6) ** 2


def run(strategy: str, count: int, seed: int = 1) -> list[Observation]:
    observations: list[Observation] = []
    while len(observations) < count:
        for p in suggest(SPACE, [Metric("loss", "minimize")], observations, [], 3,
                         Settings(type=strategy, seed=seed), parallel_bandwidth=3):
            a = p.assignments
            expected = {"model", "lr", "C" if a["model"] == "svm" else "depth"}
            assert set(a) == expected, (strategy, a)
            observations.append(Observation(a, {"loss": loss(a)}))
    return observations


@pytest.mark.parametrize("strategy", ["random", "sobol", "grid", "bayes"])
def test_every_suggestion_has_exactly_the_active_parameters(strategy):
    assert {o.assignments["model"] for o in run(strategy, 30)} == {"svm", "tree"}


def test_bayes_finds_the_better_branch_and_its_optimum():
    best = [min(run("bayes", 36, seed), key=lambda o: o.values["loss"]) for seed in range(3)]
    assert all(b.assignments["model"] == "tree" and b.assignments["depth"] == 7 for b in best)
    assert np.median([b.values["loss"] for b in best]) < 0.01


def test_an_inactive_parameter_is_dropped_and_a_missing_active_one_named():
    assert SPACE.canonical({"model": "tree", "depth": 3, "lr": 0.5, "C": 5.0}) == \
        {"model": "tree", "depth": 3, "lr": 0.5}
    assert SPACE.key({"model": "tree", "depth": 3, "lr": 0.5, "C": 5.0}) == \
        SPACE.key({"model": "tree", "depth": 3, "lr": 0.5})
    with pytest.raises(ValueError, match="depth: missing from assignments .it is active when "
                                         "model is tree"):
        SPACE.canonical({"model": "tree", "lr": 0.5})
    # the features of an absent parameter are one fixed value, whatever the cube holds
    rows = SPACE.encode([{"model": "tree", "depth": 3, "lr": 0.5}] * 2)
    rows[1, 1] = 0.9  # C's coordinate, absent in a tree point
    features = SPACE.features(rows)
    assert np.array_equal(features[0], features[1])


def test_a_finite_conditional_space_counts_its_points_branch_by_branch():
    space = Space([MODEL, Parameter("k", "int", 1, 3, conditions=(("model", ("svm",)),)),
                   Parameter("kind", "categorical", categories=("a", "b"))])
    assert space.size() == 3 * 2 + 1 * 2  # svm: k x kind; tree: kind
    points = suggest(space, [Metric("f")], [], [], 20, Settings(type="random", seed=0))
    assert len(points) == 8 and len({space.key(p.assignments) for p in points}) == 8


BASE = {"name": "branches", "budget": 10, "evaluate": "m:f",
        "conditionals": [{"name": "model", "values": ["svm", "tree"]}],
        "parameters": [{"name": "C", "type": "double", "bounds": {"min": 0.01, "max": 100},
                        "conditions": {"model": "svm"}},
                       {"name": "lr", "type": "double", "bounds": {"min": 0, "max": 1}}]}


def test_a_conditional_config_is_stored_and_read_back_whole():
    spec = validate_experiment(BASE)
    assert [p.name for p in spec.parameters] == ["model", "C", "lr"]
    assert spec.parameters[0].conditional and spec.parameters[1].conditions == (
        ("model", ("svm",)),)
    assert ExperimentSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize(("change", "message"), [
    ({"conditionals": [{"name": "model", "values": []}]}, "conditionals[0].values: must list"),
    ({"conditionals": [{"name": "model", "values": ["a", "a"]}]}, "values must be unique"),
    ({"conditionals": [{"name": "model", "vals": ["a"]}]}, "conditionals[0].vals: unknown key"),
    ({"parameters": [{**BASE["parameters"][0], "conditions": {"modl": "svm"}},
                     BASE["parameters"][1]]},
     "parameters[0].conditions.modl: not a conditional; conditionals: model"),
    ({"parameters": [{**BASE["parameters"][0], "conditions": {"model": "knn"}},
                     BASE["parameters"][1]]},
     "parameters[0].conditions.model: 'knn' is not a value of conditional 'model'"),
    ({"parameters": [BASE["parameters"][0]]},
     "conditionals: every parameter has conditions; at least one must always be active"),
    ({"conditionals": [{"name": "lr", "values": ["a"]}]},
     "'lr' is both a conditional and a parameter"),
])
def test_a_bad_conditional_is_refused_by_its_field_path(change, message):
    with pytest.raises(ConfigError) as caught:
        validate_experiment({**BASE, **change})
    assert message in str(caught.value)
