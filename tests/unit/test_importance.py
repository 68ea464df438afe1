"""Parameter importance on the dashboard and in the report: the parameter the metric depends
on ranks first, and too few or flat observations say why there is no answer."""

from __future__ import annotations

import pytest

from coordinator.dashboard.importance import MIN_OBSERVATIONS, parameter_importance
from coordinator.spec.config import validate_experiment

pytestmark = pytest.mark.timeout(60)

SPEC = {"name": "importance", "budget": 60,
        "parameters": [{"name": "matters", "type": "double", "bounds": {"min": 0, "max": 1}},
                       {"name": "noise", "type": "double", "bounds": {"min": 0.001, "max": 1},
                        "transformation": "log"},
                       {"name": "kind", "type": "categorical",
                        "categorical_values": ["a", "b"]}],
        "metrics": [{"name": "loss", "objective": "minimize"}],
        "evaluate": "pkg.mod:fn", "optimizer": {"type": "random", "seed": 3}}


def observe(service, experiment, count: int, value) -> list:
    for _ in range(count):
        suggestion = service.create_suggestion(experiment.id)
        service.observe(service.new_observation(
            experiment, suggestion, {"loss": (value(suggestion.assignments), None)}))
    return service.observations(experiment.id)


def test_the_parameter_the_metric_depends_on_ranks_first(service):
    experiment = service.create_experiment(validate_experiment(SPEC))
    observations = observe(service, experiment, 40, lambda a: (a["matters"] - 0.3) ** 2)
    found = parameter_importance(experiment.spec, observations)
    ranked = [i["parameter"] for i in found["importances"]]
    assert ranked[0] == "matters" and found["importances"][0]["importance"] > 0.6
    assert found["metric"] == "loss" and found["observations"] == 40
    assert "permutation importance" in found["method"]
    assert sum(i["importance"] for i in found["importances"]) == pytest.approx(1, abs=1e-3)


def test_too_few_or_flat_observations_give_a_note_instead_of_numbers(service):
    experiment = service.create_experiment(validate_experiment(SPEC))
    few = observe(service, experiment, MIN_OBSERVATIONS - 1, lambda a: a["matters"])
    assert parameter_importance(experiment.spec, few)["note"].startswith(
        f"needs {MIN_OBSERVATIONS} successful observations")
    flat = service.create_experiment(validate_experiment(SPEC))
    found = parameter_importance(flat.spec, observe(service, flat, MIN_OBSERVATIONS + 2,
                                                    lambda a: 0.0))
    assert found["importances"] == [] and "the same loss" in found["note"]
