"""SigOpt's training monitor and Celeriac's early stopping through checkpoints, with the official
client (`sigopt.create_experiment`, `experiment.loop()`, `log_checkpoint`, the Core
`Connection`) against a real `coordinator serve`."""

from __future__ import annotations

import httpx
import pytest
from sigopt import Connection
from sigopt.exception import ApiException

from tests.integration.api_fixtures import *  # noqa: F403
from tests.integration.api_fixtures import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

CRITERION = {"type": "convergence", "name": "Look Back 2 Steps", "metric": "loss",
             "lookback_checkpoints": 2, "min_checkpoints": 3}
PARAMETERS = [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}]


def connection(api: ApiServer) -> Connection:
    conn = Connection(client_token=api.token)
    conn.set_api_url(api.url)
    return conn


def merge(conn: Connection, run_id: str, **fields) -> None:
    """What the AI module sends when a run ends (the Core client has no MERGE method)."""
    conn.impl.request("MERGE", ["training_runs", run_id], fields,
                      {"X-Response-Content": "skip"})


def newest_checkpoint(conn: Connection, run_id: str):
    """Listings are newest first, as SigOpt's."""
    return next(conn.training_runs(run_id).checkpoints().fetch(limit=1).iterate_pages())


def plateau(epoch: int) -> float:
    """Improves for three checkpoints, then stays flat."""
    return 1.0 / (1 + min(epoch, 2))


def test_a_plateauing_run_in_the_loop_is_told_to_stop_and_observed_as_stopped(
        api, sigopt_module):
    experiment = sigopt_module.create_experiment(
        name="monitored loop", parameters=PARAMETERS,
        metrics=[{"name": "loss", "objective": "minimize"}], budget=3,
        training_monitor={"max_checkpoints": 10, "early_stopping_criteria": [CRITERION]})
    conn = connection(api)
    told: dict[str, tuple[int, dict]] = {}
    for number, run in enumerate(experiment.loop()):
        with run:
            for epoch in range(10):
                run.log_checkpoint({"loss": plateau(epoch) + run.params.x / 100})
                latest = newest_checkpoint(conn, run.id)
                if latest.should_stop:
                    told[run.id] = (epoch + 1, dict(latest.stopping_reasons))
                    break
            if number < 2:  # the last run logs checkpoints only
                run.log_metric("loss", plateau(epoch) + run.params.x / 100)
    assert len(told) == 3
    assert all(step == 5 and reasons == {"Look Back 2 Steps": True, "max_checkpoints": False}
               for step, reasons in told.values())
    monitor = conn.aiexperiments(experiment.id).fetch().to_json()["training_monitor"]
    assert monitor["max_checkpoints"] == 10
    assert monitor["early_stopping_criteria"][0]["name"] == CRITERION["name"]
    observations = api.service.observations(experiment.id)
    assert len(observations) == 3
    assert all(o.stopped and o.resource == 5 and not o.failed for o in observations)
    last_run = [r for r in experiment.get_runs() if not r.values][0]
    assert last_run.checkpoint_count == 5
    last_checkpoint = newest_checkpoint(conn, last_run.id)
    [observed] = [o for o in observations if o.metadata["training_run"] == last_run.id]
    assert observed.value_of("loss") == last_checkpoint.values[0].value


def test_the_core_connection_creates_and_fetches_checkpoints_as_sigopt_objects(api):
    conn = connection(api)
    experiment = conn.experiments().create(
        name="core monitored", parameters=PARAMETERS,
        metrics=[{"name": "loss", "objective": "minimize"}],
        training_monitor={"max_checkpoints": 4, "early_stopping_criteria": [CRITERION]})
    assert experiment.training_monitor.max_checkpoints == 4
    assert experiment.training_monitor.early_stopping_criteria[0].lookback_checkpoints == 2
    run = conn.experiments(experiment.id).training_runs().create(name="by hand")
    created = [conn.training_runs(run.id).checkpoints().create(
        values=[{"name": "loss", "value": 0.5}], metadata={"epoch": i}) for i in range(4)]
    assert [c.should_stop for c in created] == [False, False, True, True]  # no gain in 2
    assert dict(created[-1].stopping_reasons) == {"Look Back 2 Steps": True,
                                                  "max_checkpoints": False}
    assert created[0].values[0].name == "loss" and created[0].training_run == run.id
    one = conn.training_runs(run.id).checkpoints(created[1].id).fetch()
    assert one.id == created[1].id and one.metadata["epoch"] == 1
    fetched = conn.training_runs(run.id).fetch()
    assert fetched.checkpoint_count == 4 and fetched.best_checkpoint == created[0].id
    with pytest.raises(ApiException) as refused:
        conn.training_runs(run.id).checkpoints().create(values=[{"name": "loss", "value": 1}])
    assert refused.value.status_code == 409 and "max_checkpoints" in str(refused.value)


def test_asha_stops_the_worse_of_two_interleaved_clients_runs_at_a_rung(api):
    first, second = connection(api), connection(api)
    experiment = first.experiments().create(
        name="asha core", parameters=PARAMETERS, metrics=[{"name": "acc"}],
        early_stopping={"scheduler": "asha", "min_resource": 1, "max_resource": 9,
                        "reduction_factor": 3})
    assert experiment.to_json()["early_stopping"]["scheduler"] == "asha"
    good = first.experiments(experiment.id).training_runs().create(name="good")
    bad = second.experiments(experiment.id).training_runs().create(name="bad")
    answers = {"good": [], "bad": []}
    for step in range(3):
        for name, conn, run, acc in (("good", first, good, 0.5 + step / 10),
                                     ("bad", second, bad, 0.1)):
            if answers[name] and answers[name][-1].should_stop:
                continue
            answers[name].append(conn.training_runs(run.id).checkpoints().create(
                values=[{"name": "acc", "value": acc}]))
    assert [c.should_stop for c in answers["good"]] == [False, False, False]
    assert [c.should_stop for c in answers["bad"]] == [True]
    assert dict(answers["bad"][0].stopping_reasons) == {"asha": True, "max_resource": False}
    suggestion = api.service.suggestion(experiment.id, bad.suggestion)
    assert suggestion.stopped and "rung 1" in suggestion.stop
    merge(first, good.id, state="completed")
    merge(second, bad.id, state="completed")
    by_run = {o.metadata["training_run"]: o for o in api.service.observations(experiment.id)}
    assert by_run[bad.id].stopped and by_run[bad.id].resource == 1
    assert by_run[bad.id].value_of("acc") == 0.1
    assert not by_run[good.id].stopped and by_run[good.id].resource == 3
    assert by_run[good.id].value_of("acc") == pytest.approx(0.7)


def test_a_nan_or_unknown_metric_checkpoint_is_a_400_naming_the_field_and_stores_nothing(api):
    conn = connection(api)
    experiment = conn.experiments().create(
        name="bad checkpoints", parameters=PARAMETERS,
        metrics=[{"name": "loss", "objective": "minimize"}],
        training_monitor={"early_stopping_criteria": [CRITERION]})
    run = conn.experiments(experiment.id).training_runs().create()
    conn.training_runs(run.id).checkpoints().create(values=[{"name": "loss", "value": 1.0}])
    with pytest.raises(ApiException) as unknown:
        conn.training_runs(run.id).checkpoints().create(values=[{"name": "lost", "value": 1}])
    assert unknown.value.status_code == 400 and "values[0].name" in str(unknown.value)
    assert conn.training_runs(run.id).fetch().checkpoint_count == 1
    with pytest.raises(ApiException) as text_nan:
        conn.training_runs(run.id).checkpoints().create(values=[{"name": "loss",
                                                                  "value": "NaN"}])
    assert text_nan.value.status_code == 400 and "values[0].value" in str(text_nan.value)
    assert conn.training_runs(run.id).fetch().checkpoint_count == 1
    with httpx.Client(base_url=api.url, auth=(api.token, ""), timeout=30) as http:
        raw = http.post(f"/v1/training_runs/{run.id}/checkpoints",
                        content=b'{"values": [{"name": "loss", "value": NaN}]}',
                        headers={"Content-Type": "application/json"})
    assert raw.status_code == 400 and "NaN" in raw.json()["message"]
    assert conn.training_runs(run.id).fetch().checkpoint_count == 1
    assert len(api.service.store.curve(experiment.id, run.suggestion)) == 1
    merge(conn, run.id, state="completed")
    with pytest.raises(ApiException) as closed:
        conn.training_runs(run.id).checkpoints().create(values=[{"name": "loss", "value": 1}])
    assert closed.value.status_code == 409 and "is completed" in str(closed.value)
