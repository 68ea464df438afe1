"""Queued suggestions and a config's warm start: the official client against a real
`coordinator serve`, and `coordinator run` with real Celery workers."""

from __future__ import annotations

import threading

import pytest
from sigopt import Connection
from sigopt.exception import ApiException

from coordinator.service.experiments import Service
from coordinator.state.states import SuggestionState
from tests.integration.api_fixtures import *  # noqa: F403
from tests.integration.api_fixtures import ApiServer
from tests.integration.invariants import assert_invariants
from tests.integration.processes import coordinator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PARAMETERS = [
    {"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}},
    {"name": "n", "type": "int", "bounds": {"min": 1, "max": 1000}},
    {"name": "kind", "type": "categorical", "categorical_values": ["a", "b", "c"]},
]


def connection(api: ApiServer) -> Connection:
    conn = Connection(client_token=api.token)
    conn.set_api_url(api.url)
    return conn


def create(conn: Connection):
    return conn.experiments().create(name="queued", parameters=PARAMETERS,
                                     metrics=[{"name": "score"}], observation_budget=50,
                                     parallel_bandwidth=2)


def point(i: int) -> dict:
    return {"x": round(0.01 * i, 2), "n": 100 + i, "kind": "abc"[i % 3]}


def test_a_queued_suggestion_is_created_listed_fetched_and_deleted(api):
    conn = connection(api)
    experiment = create(conn)
    queue = conn.experiments(experiment.id).queued_suggestions
    made = queue().create(assignments=point(1), metadata={"why": "baseline"})
    assert (made.experiment, dict(made.assignments), made.task) == (experiment.id, point(1), None)
    assert made.id.isdigit() and isinstance(made.created, int)
    second = queue().create(assignments={"x": 0.5, "n": 7.0, "kind": "b"})
    assert dict(second.assignments) == {"x": 0.5, "n": 7, "kind": "b"}
    page = queue().fetch()
    assert page.count == 2 and [q.id for q in page.data] == [second.id, made.id]  # newest first
    assert [q.id for q in queue().fetch().iterate_pages()] == [second.id, made.id]
    assert dict(queue(made.id).fetch().assignments) == point(1)
    queue(made.id).delete()
    with pytest.raises(ApiException) as caught:
        queue(made.id).fetch()
    assert caught.value.status_code == 404
    queue().delete()
    assert queue().fetch().count == 0


def test_bad_queued_suggestions_are_400s_naming_the_field(api):
    conn = connection(api)
    experiment = create(conn)
    queue = conn.experiments(experiment.id).queued_suggestions
    cases = [({"assignments": {**point(1), "x": 5}}, "assignments.x: 5 is outside [0, 1]"),
             ({"assignments": {"x": 0.5, "kind": "a"}}, "assignments.n: missing from assignments"),
             ({"assignments": {**point(1), "depth": 2}},
              "assignments.depth: not a parameter of this space"),
             ({"assignment": point(1)}, "assignment: unknown key; did you mean 'assignments'?"),
             ({"metadata": {"a": 1}}, "assignments: required"),
             ({"assignments": point(1), "metadata": {"a": [1]}}, "metadata.a: must be a string")]
    for body, message in cases:
        with pytest.raises(ApiException) as caught:
            queue().create(**body)
        assert caught.value.status_code == 400
        assert message in str(caught.value), (body, str(caught.value))
        conn.experiments(experiment.id).fetch()  # a success between errors: no client back-off
    assert queue().fetch().count == 0


def test_queued_suggestions_come_first_in_order_then_the_optimizers(api):
    conn = connection(api)
    experiment = create(conn)
    for i in range(3):
        conn.experiments(experiment.id).queued_suggestions().create(assignments=point(i))
    handed = [conn.experiments(experiment.id).suggestions().create() for _ in range(4)]
    assert [dict(s.assignments) for s in handed[:3]] == [point(i) for i in range(3)]
    assert dict(handed[3].assignments) not in [point(i) for i in range(3)]
    assert conn.experiments(experiment.id).queued_suggestions().fetch().count == 0


def test_under_eight_threads_each_queued_suggestion_is_handed_out_once_and_first(api):
    conn = connection(api)
    experiment = create(conn)
    queued = 6
    for i in range(queued):
        conn.experiments(experiment.id).queued_suggestions().create(
            assignments=point(i), metadata={"queued": i})
    handed: list = []
    lock, start = threading.Lock(), threading.Barrier(8)

    def take() -> None:
        own = connection(api)
        start.wait()
        for _ in range(3):
            s = own.experiments(experiment.id).suggestions().create()
            with lock:
                handed.append(s)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(handed) == 24 and len({s.id for s in handed}) == 24
    from_queue = [s for s in handed if s.metadata and "queued" in s.metadata]
    assert sorted(s.metadata["queued"] for s in from_queue) == list(range(queued))
    for s in from_queue:
        assert dict(s.assignments) == point(int(s.metadata["queued"]))
    stored = api.service.store.suggestions(experiment.id,
                                           [s.id for s in handed])
    by_number = sorted(stored, key=lambda s: s.number)
    assert [s.assignments for s in by_number[:queued]] == [point(i) for i in range(queued)]
    assert all(s.strategy != "queued" for s in by_number[queued:])


def test_a_queued_point_equal_to_an_open_one_is_still_handed_out(api):
    conn = connection(api)
    experiment = create(conn)
    open_one = conn.experiments(experiment.id).suggestions().create()
    conn.experiments(experiment.id).queued_suggestions().create(
        assignments=dict(open_one.assignments))
    again = conn.experiments(experiment.id).suggestions().create()
    assert dict(again.assignments) == dict(open_one.assignments) and again.id != open_one.id
    listed = conn.experiments(experiment.id).suggestions().fetch(state="open")
    assert {s.id for s in listed.data} == {open_one.id, again.id}


RUN_CONFIG = """
name: warm
parameters:
  - {name: x, type: double, bounds: {min: -1, max: 1}}
  - {name: y, type: double, bounds: {min: -2, max: 0}}
metrics: [{name: value}]
budget: 8
parallel_bandwidth: 2
evaluate: tests.integration.metrics:quadratic
warm_start:
  - {x: 0.3, y: -1}
  - {x: -0.5, y: -0.25}
  - {x: 0.75, y: -1.5}
"""
WARM = [{"x": 0.3, "y": -1.0}, {"x": -0.5, "y": -0.25}, {"x": 0.75, "y": -1.5}]


def test_a_run_evaluates_the_warm_start_points_first_and_spends_exactly_the_budget(
        env, tmp_path, service: Service):
    config = tmp_path / "warm.yml"
    config.write_text(RUN_CONFIG)
    result = coordinator(["run", str(config), "--workers", "2"], env, timeout=150, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warm start: 3 point(s) queued, 0 observation(s) imported" in result.stderr
    [experiment] = service.experiments()
    assert_invariants(service, experiment.id, 8)
    store = service.store
    suggestions = sorted(store.suggestions(experiment.id, store.suggestion_ids(experiment.id)),
                         key=lambda s: s.number)
    assert [s.assignments for s in suggestions[:3]] == WARM
    assert [s.strategy for s in suggestions[:3]] == ["queued"] * 3
    assert all(s.strategy != "queued" for s in suggestions[3:])
    first = next(o for o in service.observations(experiment) if o.suggestion == suggestions[0].id)
    assert first.value_of("value") == 0.0  # the warm start's first point is the optimum


BASE_CONFIG = """
name: imported
parameters:
  - {name: x, type: double, bounds: {min: -1, max: 1}}
  - {name: y, type: double, bounds: {min: -2, max: 0}}
metrics: [{name: value}]
budget: 8
evaluate: tests.integration.metrics:quadratic
"""


def test_a_warm_start_imports_an_exported_csv_and_the_cli_queues_points(
        env, tmp_path, service: Service):
    (tmp_path / "first.yml").write_text(BASE_CONFIG)
    first = coordinator(["create", str(tmp_path / "first.yml")], env).stdout.split()[-1]
    experiment = service.experiment(first)
    for i in range(3):
        s = service.create_suggestion(first)
        service.observe(service.new_observation(experiment, s, {"value": (-0.1 * i, None)},
                                                failed=i == 2))
    coordinator(["export", first, "-o", str(tmp_path / "earlier.csv")], env)
    (tmp_path / "second.yml").write_text(
        BASE_CONFIG + "warm_start: {observations: earlier.csv}\n")
    created = coordinator(["create", str(tmp_path / "second.yml")], env)
    assert "0 point(s) queued, 3 observation(s) imported" in created.stderr
    second = service.experiment(created.stdout.split()[-1])
    old = {tuple(o.assignments.items()): o for o in service.observations(experiment)}
    new = service.observations(second)
    assert len(new) == 3
    for o in new:
        was = old[tuple(o.assignments.items())]
        assert (o.failed, o.value_of("value")) == (was.failed, was.value_of("value"))
    assert service.counts(second.id).failed == 1

    queued_id = coordinator(["enqueue", second.id, "x=0.25", "y=-1"], env).stdout.strip()
    assert queued_id.isdigit()
    listed = coordinator(["queue", second.id], env).stdout
    assert listed == f'{queued_id}\t{{"x": 0.25, "y": -1.0}}\n'
    taken = service.create_suggestion(second.id)
    assert taken.assignments == {"x": 0.25, "y": -1.0}
    assert taken.state is SuggestionState.QUEUED
    assert coordinator(["queue", second.id], env).stdout == ""
    bad = coordinator(["enqueue", second.id, "x=3", "y=-1"], env, check=False)
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr == "error: assignments.x: 3.0 is outside [-1, 1]\n"


def test_a_bad_warm_start_is_one_line_naming_the_field_and_stores_nothing(
        env, tmp_path, service: Service):
    config = tmp_path / "bad.yml"
    config.write_text(BASE_CONFIG + "warm_start:\n  - {x: 0.1, y: -1}\n  - {x: 0.1, y: 5}\n")
    result = coordinator(["create", str(config)], env, check=False)
    assert result.returncode == 1
    assert result.stderr == f"error: {config}: warm_start[1].y: 5 is outside [-2, 0]\n"
    (tmp_path / "rows.csv").write_text("id,param.x,param.y,metric.value,failed\n"
                                       "1,0.1,-1,0.5,False\n2,0.1,-1,oops,False\n")
    config.write_text(BASE_CONFIG + "warm_start: {observations: rows.csv}\n")
    result = coordinator(["create", str(config)], env, check=False)
    assert result.returncode == 1
    assert result.stderr == (f"error: {config}: warm_start.observations: rows.csv line 3: "
                             f"metric.value: needs a finite number unless the observation "
                             f"failed, got 'oops'\n")
    assert service.experiments() == []
