"""Linear constraints on doubles: every suggestion of every strategy meets them (initial
design, acquisition search, local steps, random fill), the optimizer finds an optimum on the
constraint's boundary, and a config's constraints are checked field by field."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.errors import ConfigError
from coordinator.spec.config import validate_experiment
from coordinator.spec.experiment import ExperimentSpec
from optimizer import LinearConstraint, Metric, Observation, Parameter, Settings, Space, suggest

pytestmark = pytest.mark.timeout(120)

PARAMETERS = [Parameter("x", "double", 0, 1), Parameter("y", "double", 0, 1),
              Parameter("z", "double", -1, 1), Parameter("kind", "categorical",
                                                         categories=("a", "b"))]
CONSTRAINTS = [LinearConstraint("less_than", 1.0, (("x", 1), ("y", 1))),
               LinearConstraint("greater_than", 0.2, (("x", 1), ("z", -2)))]
SPACE = Space(PARAMETERS, CONSTRAINTS)


def loss(a: dict) -> float:
    """Unconstrained optimum (0.7, 0.6, -0.2) breaks x + y <= 1; constrained: (0.55, 0.45)."""
    return (a["x"] - 0.7) ** 2 + (a["y"] - 0.6) ** 2 + (a["z"] + 0.2) ** 2 \
        + (0.0 if a["kind"] == "a" else 0.1)


def run(strategy: str, count: int, k: int = 3) -> list[Observation]:
    observations: list[Observation] = []
    while len(observations) < count:
        for p in suggest(SPACE, [Metric("loss", "minimize")], observations, [], k,
                         Settings(type=strategy, seed=4), parallel_bandwidth=k):
            assert all(c.holds(p.assignments) for c in CONSTRAINTS), (strategy, p)
            observations.append(Observation(p.assignments, {"loss": loss(p.assignments)}))
    return observations


@pytest.mark.parametrize("strategy", ["random", "sobol", "grid"])
def test_every_model_free_suggestion_meets_the_constraints(strategy):
    assert len(run(strategy, 60)) >= 60


def test_bayes_meets_the_constraints_and_finds_the_optimum_on_their_boundary():
    observations = run("bayes", 45)
    best = min(observations, key=lambda o: o.values["loss"])
    assert best.values["loss"] == pytest.approx(0.045, abs=0.01)
    assert best.assignments["x"] + best.assignments["y"] == pytest.approx(1.0, abs=0.05)


def test_projection_lands_inside_and_leaves_inside_points_alone():
    rng = np.random.default_rng(0)
    cube = rng.random((500, SPACE.dimension))
    projected = SPACE.inside(cube)
    assert SPACE.polytope.inside(projected).all()
    already = SPACE.polytope.inside(cube)
    assert np.array_equal(projected[already], cube[already])
    decoded = SPACE.decode(projected)
    assert all(SPACE.satisfies(a) for a in decoded)


def test_a_narrow_feasible_region_still_gives_points_inside():
    narrow = Space(PARAMETERS[:2], [LinearConstraint("greater_than", 1.98, (("x", 1), ("y", 1)))])
    assert narrow.polytope.feasible_volume(np.random.default_rng(1)) < 0.001
    proposals = suggest(narrow, [Metric("loss", "minimize")], [], [], 8,
                        Settings(type="random", seed=1))
    assert len(proposals) == 8
    assert all(p.assignments["x"] + p.assignments["y"] >= 1.98 for p in proposals)


BASE = {"name": "lc", "budget": 10, "evaluate": "m:f",
        "parameters": [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}},
                       {"name": "y", "type": "double", "bounds": {"min": 0, "max": 1}},
                       {"name": "lr", "type": "double", "bounds": {"min": 0.001, "max": 1},
                        "transformation": "log"},
                       {"name": "n", "type": "int", "bounds": {"min": 1, "max": 5}}]}
SUM = {"type": "less_than", "threshold": 1,
       "terms": [{"name": "x", "weight": 1}, {"name": "y", "weight": 1}]}


def test_a_config_with_constraints_is_stored_and_read_back_whole():
    spec = validate_experiment({**BASE, "linear_constraints": [SUM]})
    assert spec.linear_constraints == (LinearConstraint("less_than", 1.0,
                                                        (("x", 1.0), ("y", 1.0))),)
    assert ExperimentSpec.from_json(spec.to_json()) == spec
    assert spec.space.constraints == spec.linear_constraints


@pytest.mark.parametrize(("constraint", "message"), [
    ({**SUM, "type": "lt"}, "linear_constraints[0].type: must be one of greater_than, less_than"),
    ({**SUM, "terms": [{"name": "q", "weight": 1}]},
     "linear_constraints[0].terms[0].name: 'q' is not a parameter"),
    ({**SUM, "terms": [{"name": "lr", "weight": 1}]},
     "linear_constraints[0].terms[0].name: 'lr' must be a double parameter without a grid, "
     "a prior, conditions or a log transformation"),
    ({**SUM, "terms": [{"name": "n", "weight": 1}]},
     "linear_constraints[0].terms[0].name: 'n' must be a double parameter"),
    ({**SUM, "threshold": "one"}, "linear_constraints[0].threshold:"),
    ({**SUM, "terms": [{"name": "x", "weight": 0}]}, "every weight is 0"),
    ({**SUM, "terms": [{"name": "x", "weight": 1}, {"name": "x", "weight": 2}]},
     "names a parameter twice"),
    ({**SUM, "threshold": -1}, "linear_constraints: no point within the parameters' bounds"),
    ({**SUM, "extra": 1}, "linear_constraints[0].extra: unknown key"),
])
def test_a_bad_constraint_is_refused_by_its_field_path(constraint, message):
    with pytest.raises(ConfigError) as caught:
        validate_experiment({**BASE, "linear_constraints": [constraint]})
    assert message in str(caught.value)
