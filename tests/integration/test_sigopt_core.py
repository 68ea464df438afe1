"""SigOpt's Core-module workflows with the official client against a real `coordinator serve`."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sigopt import Connection
from sigopt.exception import ApiException

from tests.integration.api_fixtures import *  # noqa: F403
from tests.integration.api_fixtures import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PARAMETERS = [
    {"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}},
    {"name": "n", "type": "int", "bounds": {"min": 1, "max": 1000}},
    {"name": "kind", "type": "categorical", "categorical_values": ["a", "b", "c"]},
]

WORKER = """
import json, os, sys
from sigopt import Connection
conn = Connection(client_token=os.environ["SIGOPT_API_TOKEN"])
eid = sys.argv[1]
while True:
    experiment = conn.experiments(eid).fetch()
    if experiment.progress.observation_count >= experiment.observation_budget:
        break
    s = conn.experiments(eid).suggestions().create()
    print(json.dumps({"id": s.id, "assignments": dict(s.assignments)}), flush=True)
    conn.experiments(eid).observations().create(suggestion=s.id, value=s.assignments["x"],
                                                value_stddev=0.1, metadata={"hostname": "p"})
"""


def connection(api: ApiServer) -> Connection:
    conn = Connection(client_token=api.token)
    conn.set_api_url(api.url)
    return conn


def create(conn: Connection, **extra):
    body = {"name": "core", "parameters": PARAMETERS,
            "metrics": [{"name": "score", "objective": "maximize"}],
            "observation_budget": 30, "parallel_bandwidth": 4, **extra}
    return conn.experiments().create(**body)


def thread_worker(conn: Connection, eid: str, seen: list) -> None:
    while True:
        experiment = conn.experiments(eid).fetch()
        if experiment.progress.observation_count >= experiment.observation_budget:
            return
        s = conn.experiments(eid).suggestions().create()
        seen.append(s.id)
        conn.experiments(eid).observations().create(suggestion=s.id, value=s.assignments["x"],
                                                    value_stddev=0.1,
                                                    metadata={"hostname": "t"})


def test_threads_and_processes_together_run_an_experiment_to_its_budget_without_duplicates(
        api, sigopt_env, tmp_path: Path):
    conn = connection(api)
    experiment = create(conn, metadata={"team": "core"})
    assert experiment.progress.observation_count == 0
    assert experiment.metadata["team"] == "core"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    processes = [subprocess.Popen([sys.executable, str(script), experiment.id], env=sigopt_env,
                                  stdout=subprocess.PIPE, text=True) for _ in range(2)]
    seen: list[str] = []
    threads = [threading.Thread(target=thread_worker, args=(conn, experiment.id, seen))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    for p in processes:
        out, _ = p.communicate(timeout=90)
        seen += [json.loads(line)["id"] for line in out.splitlines()]
        assert p.returncode == 0
    assert len(seen) == len(set(seen))
    done = conn.experiments(experiment.id).fetch().progress.observation_count
    assert 30 <= done <= 30 + 6 - 1
    observations = list(conn.experiments(experiment.id).observations().fetch().iterate_pages())
    assert len(observations) == done
    assert sorted(o.suggestion for o in observations) == sorted(seen)
    assert all(o.value == o.assignments["x"] and o.value_stddev == 0.1 for o in observations)


def test_suggestions_created_concurrently_are_distinct_open_points_with_unique_ids(api):
    conn = connection(api)
    experiment = create(conn)
    made: list = []

    def grab() -> None:
        for _ in range(6):
            made.append(conn.experiments(experiment.id).suggestions().create())
    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(made) == 48
    assert len({s.id for s in made}) == 48
    assert len({json.dumps(dict(s.assignments), sort_keys=True) for s in made}) == 48
    assert all(isinstance(s.assignments["n"], int) and s.assignments["kind"] in "abc"
               for s in made)


def test_failed_several_metric_and_suggestionless_observations_are_recorded(api):
    conn = connection(api)
    experiment = create(conn, metrics=[{"name": "acc"}, {"name": "cost",
                                                         "objective": "minimize"}])
    eid = experiment.id
    s = conn.experiments(eid).suggestions().create()
    failed = conn.experiments(eid).observations().create(suggestion=s.id, failed=True,
                                                         value=None)
    assert failed.failed and failed.values == []
    s = conn.experiments(eid).suggestions().create()
    both = conn.experiments(eid).observations().create(
        suggestion=s.id, values=[{"name": "acc", "value": 0.9},
                                 {"name": "cost", "value": 3.0, "value_stddev": 0.5}])
    assert {v.name: v.value for v in both.values} == {"acc": 0.9, "cost": 3.0}
    own = conn.experiments(eid).observations().create(
        assignments={"x": 0.25, "n": 7, "kind": "b"},
        values=[{"name": "acc", "value": 0.5}, {"name": "cost", "value": 1.0}])
    assert own.suggestion is None and own.assignments["n"] == 7
    assert conn.experiments(eid).fetch().progress.observation_count == 3
    assert conn.experiments(eid).suggestions(s.id).fetch().state == "closed"


def test_open_suggestions_and_observations_page_to_the_end_and_open_ones_can_be_deleted(api):
    conn = connection(api)
    eid = create(conn).id
    for _ in range(4):
        s = conn.experiments(eid).suggestions().create()
        conn.experiments(eid).observations().create(suggestion=s.id, value=1.0)
    opened = [conn.experiments(eid).suggestions().create().id for _ in range(7)]
    pages = conn.experiments(eid).suggestions().fetch(state="open", limit=3)
    assert pages.count == 7
    listed = [s.id for s in pages.iterate_pages()]
    assert sorted(listed) == sorted(opened)
    assert listed == sorted(listed, key=int, reverse=True)
    observed = list(conn.experiments(eid).observations().fetch(limit=2).iterate_pages())
    assert len(observed) == 4
    conn.experiments(eid).suggestions().delete(state="open")
    assert conn.experiments(eid).suggestions().fetch(state="open").count == 0
    assert conn.experiments(eid).suggestions().fetch().count == 4


def test_best_assignments_honour_thresholds_and_give_a_pareto_front_for_two_metrics(api):
    conn = connection(api)
    metrics = [{"name": "acc", "objective": "maximize"},
               {"name": "time", "objective": "minimize", "threshold": 10}]
    eid = create(conn, metrics=metrics).id
    points = [(0.99, 50.0), (0.9, 5.0), (0.8, 1.0), (0.7, 2.0)]
    for acc, time_ in points:
        s = conn.experiments(eid).suggestions().create()
        conn.experiments(eid).observations().create(
            suggestion=s.id, values=[{"name": "acc", "value": acc},
                                     {"name": "time", "value": time_}])
    front = list(conn.experiments(eid).best_assignments().fetch().iterate_pages())
    assert [[v.value for v in b.values if v.name == "acc"][0] for b in front] == [0.9, 0.8]
    single = create(conn, metrics=[{"name": "acc", "threshold": 0.5}]).id
    for value in (0.3, 0.6, 0.4):
        s = conn.experiments(single).suggestions().create()
        conn.experiments(single).observations().create(suggestion=s.id, value=value)
    best = list(conn.experiments(single).best_assignments().fetch().iterate_pages())
    assert [b.value for b in best] == [0.6]


def test_a_deleted_experiment_still_reads_as_deleted_and_takes_no_suggestions(api):
    conn = connection(api)
    eid = create(conn).id
    conn.experiments(eid).delete()
    assert conn.experiments(eid).fetch().state == "deleted"  # SigOpt's soft delete
    with pytest.raises(ApiException) as caught:
        conn.experiments(eid).suggestions().create()
    assert caught.value.status_code == 404
    assert eid not in [e.id for e in api.service.experiments()]
