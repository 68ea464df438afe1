"""SigOpt's multitask experiments with the official client against a real `coordinator serve`:
tasks echoed, every suggestion carries its task, observations keep it, and only full-cost
observations are best."""

from __future__ import annotations

import pytest
from sigopt import Connection

from tests.integration.api_fixtures import *  # noqa: F403
from tests.integration.api_fixtures import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TASKS = [{"name": "one_fold", "cost": 0.2}, {"name": "five_folds", "cost": 1.0}]


def test_a_multitask_loop_with_the_official_client(api: ApiServer):
    conn = Connection(client_token=api.token)
    conn.set_api_url(api.url)
    experiment = conn.experiments().create(
        name="multitask", parameters=[{"name": "x", "type": "double",
                                       "bounds": {"min": 0, "max": 1}}],
        metrics=[{"name": "score", "objective": "maximize"}], observation_budget=24,
        tasks=TASKS)
    assert sorted((t.name, t.cost) for t in experiment.tasks) == [("five_folds", 1.0),
                                                                   ("one_fold", 0.2)]
    by_task: dict[str, list[str]] = {"one_fold": [], "five_folds": []}
    while conn.experiments(experiment.id).fetch().progress.observation_count < 24:
        suggestion = conn.experiments(experiment.id).suggestions().create()
        assert suggestion.task.name in by_task
        assert conn.experiments(experiment.id).suggestions(suggestion.id).fetch().task.name \
            == suggestion.task.name
        # the cheap task overestimates: its values must never win
        value = suggestion.assignments["x"] + (5.0 if suggestion.task.cost < 1 else 0.0)
        observation = conn.experiments(experiment.id).observations().create(
            suggestion=suggestion.id, value=value)
        assert observation.task.name == suggestion.task.name
        by_task[suggestion.task.name].append(observation.id)
    assert by_task["one_fold"] and by_task["five_folds"]
    assert len(by_task["one_fold"]) > len(by_task["five_folds"])  # cheap ones come more often
    best = list(conn.experiments(experiment.id).best_assignments().fetch().iterate_pages())
    assert len(best) == 1 and best[0].id in by_task["five_folds"]
    assert best[0].to_json()["task"]["name"] == "five_folds"  # the client model has no field


def test_tasks_without_a_full_one_are_refused_naming_the_field(api: ApiServer):
    reply = api.http().post("/v1/experiments", json={
        "name": "bad", "parameters": [{"name": "x", "type": "double",
                                       "bounds": {"min": 0, "max": 1}}],
        "tasks": [{"name": "a", "cost": 0.5}, {"name": "b", "cost": 0.3}]})
    assert reply.status_code == 400
    assert "tasks: one task must have cost 1" in reply.text
