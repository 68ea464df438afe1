"""The experiment lifecycle the official client expects, against a real `coordinator serve`:
updating budget, name, metadata and bandwidth (a running `coordinator run` follows a new
budget at once), archiving and unarchiving (a deleted experiment still reads), refusing
changes to what observations were made for, and archiving training runs."""

from __future__ import annotations

import time

import pytest
from sigopt import Connection
from sigopt.exception import ApiException

from tests.integration.api_fixtures import *  # noqa: F403
from tests.integration.api_fixtures import ApiServer
from tests.integration.invariants import assert_invariants
from tests.integration.processes import coordinator, end_group, start_coordinator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PARAMETERS = [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}]


def connection(api: ApiServer) -> Connection:
    conn = Connection(client_token=api.token)
    conn.set_api_url(api.url)
    return conn


def test_update_changes_budget_name_metadata_and_bandwidth_and_refuses_the_space(api):
    conn = connection(api)
    experiment = conn.experiments().create(name="before", parameters=PARAMETERS,
                                           metrics=[{"name": "v"}], observation_budget=5)
    updated = conn.experiments(experiment.id).update(
        name="after", observation_budget=12, parallel_bandwidth=3, metadata={"team": "a"})
    assert (updated.name, updated.observation_budget, updated.parallel_bandwidth) == \
        ("after", 12, 3)
    fetched = conn.experiments(experiment.id).fetch()
    assert fetched.name == "after" and fetched.metadata["team"] == "a"
    assert fetched.observation_budget == 12
    shrunk = conn.experiments(experiment.id).update(observation_budget=2)
    assert shrunk.observation_budget == 2 and shrunk.name == "after"  # the rest is kept

    for body, message in (
            ({"parameters": PARAMETERS}, "parameters: cannot change after the experiment is "
                                         "created"),
            ({"observation_budget": 0}, "observation_budget: must be"),
            ({"parallel_bandwidth": "many"}, "parallel_bandwidth:"),
            ({"state": "paused"}, "state: must be one of active, deleted"),
            ({"budgett": 3}, "budgett: unknown key; did you mean 'budget'?")):
        with pytest.raises(ApiException) as caught:
            conn.experiments(experiment.id).update(**body)
        assert caught.value.status_code == 400 and message in str(caught.value), body
    assert conn.experiments(experiment.id).fetch().observation_budget == 2  # nothing changed


def test_a_deleted_experiment_still_reads_and_the_ai_module_archives_and_unarchives(
        api, sigopt_module):
    experiment = sigopt_module.create_experiment(
        name="archive me", parameters=PARAMETERS, metrics=[{"name": "v"}], budget=4)
    run = experiment.create_run()
    run.log_metric("v", 0.5)
    run.end()
    experiment.archive()  # DELETE, then a fetch of the deleted experiment: must not raise
    assert experiment.state == "deleted"
    conn = connection(api)
    assert conn.experiments(experiment.id).fetch().state == "deleted"
    with pytest.raises(ApiException) as caught:
        conn.experiments(experiment.id).suggestions().create()
    assert caught.value.status_code == 404
    sigopt_module.unarchive_experiment(experiment.id)
    assert conn.experiments(experiment.id).fetch().state == "active"
    assert conn.experiments(experiment.id).suggestions().create().assignments["x"] >= 0

    # training runs archive and unarchive; include_runs archives them with their experiment
    sigopt_module.archive_run(run.id)
    assert conn.training_runs(run.id).fetch().deleted is True
    sigopt_module.unarchive_run(run.id)
    assert conn.training_runs(run.id).fetch().deleted is False
    sigopt_module.archive_experiment(experiment.id, include_runs=True)
    assert conn.training_runs(run.id).fetch().deleted is True
    assert conn.aiexperiments(experiment.id).fetch().state == "deleted"


CONFIG = """
name: growing
parameters: [{name: x, type: double, bounds: {min: -1, max: 1}},
             {name: y, type: double, bounds: {min: -2, max: 0}}]
metrics: [{name: value, objective: maximize}]
budget: 4
parallel_bandwidth: 2
evaluate: tests.integration.metrics:quadratic
optimizer: {type: sobol, seed: 3}
"""


def test_a_running_coordinator_run_follows_a_new_budget_and_bandwidth(
        env, tmp_path, service, start_worker):
    config = tmp_path / "exp.yml"
    config.write_text(CONFIG)
    experiment_id = coordinator(["create", str(config)], env).stdout.split()[-1]
    for name in ("a", "b", "c"):  # 3 s evaluations: the first budget of 4 takes two rounds
        start_worker(name, extra_env={"CELERIAC_TEST_SLEEP": "3"})
    run = start_coordinator(["run", experiment_id], env, tmp_path / "run.log")
    try:
        deadline = time.monotonic() + 60
        while service.counts(experiment_id).open < 1 and time.monotonic() < deadline:
            time.sleep(0.1)  # the run is dispatching: it reads the update while it runs
        result = coordinator(["update", experiment_id, "--budget", "10",
                              "--parallel-bandwidth", "3"], env)
        assert "budget 10, parallel bandwidth 3" in result.stdout
        assert service.counts(experiment_id).observations < 4  # the update came mid-run
        assert run.wait(timeout=90) == 0, (tmp_path / "run.log").read_text()
    finally:
        end_group(run)
    assert_invariants(service, experiment_id, 10)
    assert "budget: must be" in coordinator(["update", experiment_id, "--budget", "0"], env,
                                            check=False).stderr
