"""SigOpt's multitask experiments on the early-stopping machinery: tasks validated by name,
each suggestion's task fixed by its id, cheap tasks partial for the optimizer and never best."""

from __future__ import annotations

from collections import Counter

import pytest

from coordinator.errors import ConfigError
from coordinator.service import views
from coordinator.spec.config import validate_experiment
from coordinator.spec.experiment import ExperimentSpec
from coordinator.spec.tasks import Task, task_of
from tests.unit.conftest import make_spec

TASKS = [{"name": "subsample", "cost": 0.1}, {"name": "full", "cost": 1.0}]


def refused(**overrides) -> str:
    with pytest.raises(ConfigError) as caught:
        make_spec(**overrides)
    return str(caught.value)


def test_tasks_are_stored_and_give_the_optimizer_a_full_resource_of_one():
    spec = make_spec(tasks=TASKS)
    assert spec.tasks == (Task("subsample", 0.1), Task("full", 1.0))
    assert spec.max_resource == 1.0
    assert ExperimentSpec.from_json(spec.to_json()).tasks == spec.tasks


@pytest.mark.parametrize(("tasks", "expected"), [
    ([{"name": "a", "cost": 0.5}], "tasks: must list 2 to 10 tasks"),
    ([{"name": "a", "cost": 0.5}, {"name": "b", "cost": 0.2}], "one task must have cost 1"),
    ([{"name": "a", "cost": 0}, {"name": "b", "cost": 1}], "tasks[0].cost: must be above 0"),
    ([{"name": "a", "cost": 1}, {"name": "a", "cost": 0.3}], "tasks[1].name: duplicate"),
    ([{"name": "a", "cost": 1}, {"name": "b", "cots": 0.3}], "did you mean 'cost'"),
])
def test_bad_tasks_are_refused_naming_the_field(tasks, expected):
    assert expected in refused(tasks=tasks)


def test_tasks_and_early_stopping_together_are_refused():
    message = refused(tasks=TASKS, early_stopping={"scheduler": "asha", "max_resource": 9})
    assert "tasks: give either tasks" in message


def test_every_process_gives_a_suggestion_the_same_task_and_cheap_tasks_come_more_often():
    tasks = (Task("cheap", 0.1), Task("full", 1.0))
    drawn = Counter(task_of(tasks, str(i)).name for i in range(4000))  # type: ignore[union-attr]
    assert [task_of(tasks, "17")] * 3 == [task_of(tasks, "17") for _ in range(3)]
    assert 0.70 < drawn["cheap"] / 4000 < 0.82  # weight 1/sqrt(cost): sqrt(10) to 1


def observe_each(service, experiment, values):
    """Takes suggestions until every task was observed, with the value the task gives."""
    seen = {}
    while len(seen) < 2:
        suggestion = service.create_suggestion(experiment.id)
        task = task_of(experiment.spec.tasks, suggestion.id)
        record = service.new_observation(experiment, suggestion,
                                         {"score": (values[task.name], None)})
        assert service.observe(record).name == "OK"
        seen[task.name] = record
    return seen


def test_cheap_observations_are_partial_for_the_optimizer_and_never_the_best(service):
    spec = validate_experiment({**make_raw(), "tasks": TASKS})
    experiment = service.create_experiment(spec)
    seen = observe_each(service, experiment, {"subsample": 10.0, "full": 1.0})
    cheap, full = seen["subsample"], seen["full"]
    assert cheap.task == {"name": "subsample", "cost": 0.1} and cheap.partial
    assert cheap.to_optimizer().stopped and cheap.to_optimizer().resource == 0.1
    assert not full.partial and full.to_optimizer().resource == 1.0
    assert [o.id for o in views.best(service, experiment)] == [full.id]  # 10 > 1, but partial


def make_raw() -> dict:
    return {"name": "mt", "parameters": [{"name": "x", "type": "double",
                                          "bounds": {"min": 0, "max": 1}}],
            "metrics": [{"name": "score", "objective": "maximize"}], "budget": 20,
            "optimizer": {"type": "bayes", "seed": 1}}


def test_the_bayesian_optimizer_suggests_after_cheap_and_full_observations(service):
    experiment = service.create_experiment(validate_experiment({**make_raw(), "tasks": TASKS}))
    for _ in range(3):
        observe_each(service, experiment, {"subsample": 0.2, "full": 0.5})
    proposals = service.suggester.compute(experiment.id, experiment.spec, 2)
    assert len(proposals) == 2
