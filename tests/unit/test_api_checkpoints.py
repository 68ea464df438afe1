"""Checkpoints of training runs and the experiment's training_monitor / early_stopping, through
the HTTP API in-process (Starlette TestClient over fakeredis with Lua)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from coordinator.api import create_app
from coordinator.spec.config import validate_experiment
from coordinator.state.tokens import Tokens

PARAMETERS = [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}]
METRICS = [{"name": "loss", "objective": "minimize"}, {"name": "acc", "strategy": "store"}]
MONITOR = {"max_checkpoints": 6, "early_stopping_criteria": [
    {"type": "convergence", "name": "Look Back 2 Steps", "metric": "loss",
     "lookback_checkpoints": 2, "min_checkpoints": 3}]}


@pytest.fixture
def client(service, fake_redis) -> TestClient:
    token, _ = Tokens(fake_redis).create("acme")
    http = TestClient(create_app(service, tokens={}))
    http.auth = (token, "")
    return http


def ai_experiment(client: TestClient, **fields) -> dict:
    answer = client.post("/v1/clients/acme/projects/p/aiexperiments", json={
        "name": "monitored", "parameters": PARAMETERS, "metrics": METRICS, "budget": 4,
        **fields})
    assert answer.status_code == 200, answer.text
    return answer.json()


def new_run(client: TestClient, experiment: dict) -> dict:
    kind = "aiexperiments" if experiment["object"] == "aiexperiment" else "experiments"
    answer = client.post(f"/v1/{kind}/{experiment['id']}/training_runs", json={})
    assert answer.status_code == 200, answer.text
    return answer.json()


def checkpoint(client: TestClient, run: dict, **values: float) -> dict:
    answer = client.post(f"/v1/training_runs/{run['id']}/checkpoints", json={
        "values": [{"name": n, "value": v} for n, v in values.items()]})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_training_monitor_is_echoed_as_sigopt_did_and_is_null_when_absent(client):
    experiment = ai_experiment(client, training_monitor=MONITOR)
    monitor = experiment["training_monitor"]
    assert monitor["max_checkpoints"] == 6 and experiment["early_stopping"] is None
    assert monitor["early_stopping_criteria"] == [{
        "object": "training_early_stopping_criteria", "type": "convergence",
        "name": "Look Back 2 Steps", "metric": "loss", "lookback_checkpoints": 2,
        "min_checkpoints": 3}]
    fetched = client.get(f"/v1/aiexperiments/{experiment['id']}").json()
    assert fetched["training_monitor"] == monitor
    plain = ai_experiment(client)
    assert plain["training_monitor"] is None and plain["early_stopping"] is None


@pytest.mark.parametrize("block", [
    {"scheduler": "asha", "metric": "loss", "min_resource": 1, "max_resource": 27,
     "reduction_factor": 3},
    {"scheduler": "hyperband", "max_resource": 27, "brackets": 2},
    {"scheduler": "median", "min_resource": 2, "min_samples": 4, "max_checkpoints": 9},
    {"scheduler": "convergence", "lookback_checkpoints": 3, "min_relative_improvement": 0.1},
])
def test_a_core_experiments_early_stopping_is_echoed_as_a_block_that_validates_back_the_same(
        client, block):
    answer = client.post("/v1/experiments", json={
        "name": "stopping", "parameters": PARAMETERS, "metrics": METRICS,
        "early_stopping": block})
    assert answer.status_code == 200, answer.text
    echoed = answer.json()["early_stopping"]
    assert echoed["scheduler"] == block["scheduler"]
    assert answer.json()["training_monitor"] is None

    def settings(stopping: dict):
        return validate_experiment({"name": "e", "parameters": PARAMETERS, "metrics": METRICS,
                                    "early_stopping": stopping}).early_stopping
    assert settings(echoed) == settings(block)


@pytest.mark.parametrize("fields, named", [
    ({"training_monitor": {"max_checkpoint": 3}}, "training_monitor.max_checkpoint"),
    ({"training_monitor": {"early_stopping_criteria": [{"type": "plateau",
                                                        "lookback_checkpoints": 2}]}},
     "training_monitor.early_stopping_criteria[0].type"),
    ({"training_monitor": {"early_stopping_criteria": [{"metric": "nope",
                                                        "lookback_checkpoints": 2}]}},
     "training_monitor.early_stopping_criteria[0].metric"),
    ({"training_monitor": MONITOR, "early_stopping": {"scheduler": "asha"}},
     "training_monitor"),
    ({"early_stopping": {"scheduler": "asha", "metric": "loss"}},
     "early_stopping.max_resource"),
])
def test_a_stopping_setting_that_is_not_accepted_is_refused_by_name(client, fields, named):
    answer = client.post("/v1/clients/acme/projects/p/aiexperiments", json={
        "name": "bad", "parameters": PARAMETERS, "metrics": METRICS, **fields})
    assert answer.status_code == 400 and named in answer.json()["message"], answer.text


def test_a_plateauing_run_is_told_to_stop_by_its_named_criterion(client, service):
    experiment = ai_experiment(client, training_monitor=MONITOR)
    run = new_run(client, experiment)
    answers = [checkpoint(client, run, loss=loss, acc=0.5) for loss in (3.0, 2.0, 2.5, 2.1)]
    assert [a["should_stop"] for a in answers] == [False, False, False, True]
    assert answers[-1]["stopping_reasons"] == {"Look Back 2 Steps": True,
                                               "max_checkpoints": False}
    assert answers[0]["object"] == "checkpoint" and answers[0]["training_run"] == run["id"]
    assert answers[0]["values"] == [
        {"object": "metric_evaluation", "name": "loss", "value": 3.0, "value_stddev": None},
        {"object": "metric_evaluation", "name": "acc", "value": 0.5, "value_stddev": None}]
    fetched = client.get(f"/v1/training_runs/{run['id']}").json()
    assert fetched["checkpoint_count"] == 4 and fetched["best_checkpoint"] == answers[1]["id"]
    assert "checkpoint_log" not in fetched
    listed = client.get(f"/v1/training_runs/{run['id']}/checkpoints").json()
    assert listed["object"] == "pagination" and listed["count"] == 4
    assert [c["id"] for c in listed["data"]] == [a["id"] for a in reversed(answers)]
    assert [c["should_stop"] for c in listed["data"]] == [True, False, False, False]
    one = client.get(f"/v1/training_runs/{run['id']}/checkpoints/{answers[2]['id']}").json()
    assert one["values"][0]["value"] == 2.5 and one["should_stop"] is False
    page = client.get(f"/v1/training_runs/{run['id']}/checkpoints", params={"limit": 1}).json()
    assert [c["id"] for c in page["data"]] == [answers[-1]["id"]]
    assert page["paging"]["before"] == answers[-1]["id"]
    assert client.get(f"/v1/training_runs/{run['id']}/checkpoints/999999").status_code == 404


def test_a_run_ending_without_values_is_observed_with_its_last_checkpoint_and_marked_stopped(
        client, service):
    experiment = ai_experiment(client, training_monitor=MONITOR)
    run = new_run(client, experiment)
    for loss in (1.0, 1.0, 1.0, 1.0):
        checkpoint(client, run, loss=loss, acc=loss / 2)
    ended = client.request("MERGE", f"/v1/training_runs/{run['id']}",
                           json={"state": "completed"}, headers={"X-Response-Content": "skip"})
    assert ended.status_code == 204
    [observation] = service.observations(experiment["id"])
    assert not observation.failed and observation.value_of("loss") == 1.0
    assert observation.value_of("acc") == 0.5
    assert observation.resource == 4 and observation.stopped


def test_final_values_win_over_checkpoints_and_a_run_that_was_not_stopped_is_not_marked(
        client, service):
    experiment = ai_experiment(client, training_monitor=MONITOR)
    run = new_run(client, experiment)
    checkpoint(client, run, loss=2.0)
    client.request("MERGE", f"/v1/training_runs/{run['id']}", json={
        "values": {"loss": {"value": 0.25}, "acc": {"value": 0.9}}, "state": "completed"})
    [observation] = service.observations(experiment["id"])
    assert observation.value_of("loss") == 0.25 and observation.resource == 1
    assert not observation.stopped


def test_the_clients_skip_header_gets_204_and_a_mapping_of_values_is_accepted(client):
    experiment = ai_experiment(client, training_monitor=MONITOR)
    run = new_run(client, experiment)
    path = f"/v1/training_runs/{run['id']}/checkpoints"
    skipped = client.post(path, json={"values": [{"name": "loss", "value": 1}]},
                          headers={"X-Response-Content": "skip"})
    assert skipped.status_code == 204
    mapped = client.post(path, json={"values": {"loss": 0.5, "acc": {"value": 1}},
                                     "metadata": {"epoch": 2}})
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["metadata"] == {"epoch": 2}
    listed = client.get(path).json()["data"]
    assert listed[0]["metadata"] == {"epoch": 2} and listed[1]["metadata"] is None


@pytest.mark.parametrize("body, named", [
    ({"values": [{"name": "lost", "value": 1}]}, "values[0].name"),
    ({"values": [{"name": "loss", "value": "NaN"}]}, "values[0].value"),
    ({"values": [{"name": "loss", "value": None}]}, "values[0].value"),
    ({"values": {"loss": "inf"}}, "values.loss"),
    ({"values": [{"name": "loss", "value": 1, "value_stddev": 0.1}]}, "values[0].value_stddev"),
    ({"values": [{"name": "acc", "value": 1}]}, "values: metric 'loss' is missing"),
    ({"values": []}, "values"),
    ({"values": [{"name": "loss", "value": 1}], "metadata": {"k": [1]}}, "metadata.k"),
    ({"values": [{"name": "loss", "value": 1}], "step": 3}, "step"),
])
def test_a_bad_checkpoint_is_a_400_naming_the_field_and_nothing_is_stored(
        client, service, body, named):
    experiment = ai_experiment(client, training_monitor=MONITOR)
    run = new_run(client, experiment)
    answer = client.post(f"/v1/training_runs/{run['id']}/checkpoints", json=body)
    assert answer.status_code == 400 and named in answer.json()["message"], answer.text
    raw_nan = client.post(f"/v1/training_runs/{run['id']}/checkpoints",
                          content=b'{"values": [{"name": "loss", "value": NaN}]}',
                          headers={"Content-Type": "application/json"})
    assert raw_nan.status_code == 400 and "NaN" in raw_nan.json()["message"]
    assert client.get(f"/v1/training_runs/{run['id']}").json()["checkpoint_count"] == 0
    assert service.store.curve(experiment["id"], run["suggestion"]) == []


def test_a_finished_run_or_one_at_max_checkpoints_refuses_more_checkpoints(client):
    experiment = ai_experiment(client, training_monitor={"max_checkpoints": 2})
    run = new_run(client, experiment)
    assert checkpoint(client, run, loss=2)["should_stop"] is False
    last = checkpoint(client, run, loss=1)
    assert last["should_stop"] and last["stopping_reasons"] == {"max_checkpoints": True}
    path = f"/v1/training_runs/{run['id']}/checkpoints"
    full = client.post(path, json={"values": [{"name": "loss", "value": 1}]})
    assert full.status_code == 409 and "max_checkpoints (2)" in full.json()["message"]
    other = new_run(client, experiment)
    client.request("MERGE", f"/v1/training_runs/{other['id']}", json={"state": "failed"})
    closed = client.post(f"/v1/training_runs/{other['id']}/checkpoints",
                         json={"values": [{"name": "loss", "value": 1}]})
    assert closed.status_code == 409 and "is failed" in closed.json()["message"]


def test_asha_over_core_experiment_runs_stops_the_worse_run_at_the_first_rung(client, service):
    created = client.post("/v1/experiments", json={
        "name": "asha", "parameters": PARAMETERS, "metrics": [{"name": "acc"}],
        "early_stopping": {"scheduler": "asha", "min_resource": 1, "max_resource": 9}})
    assert created.status_code == 200, created.text
    experiment = created.json()
    good, bad = new_run(client, experiment), new_run(client, experiment)
    assert checkpoint(client, good, acc=0.9)["should_stop"] is False
    told = checkpoint(client, bad, acc=0.1)
    assert told["should_stop"] and told["stopping_reasons"] == {"asha": True,
                                                                "max_resource": False}
    client.request("MERGE", f"/v1/training_runs/{bad['id']}", json={"state": "completed"})
    [observation] = service.observations(experiment["id"])
    assert observation.stopped and observation.resource == 1
    assert observation.value_of("acc") == 0.1
