"""A long experiment's page reads a window of its observations (the latest, every one that
improved the best so far, the best) and the whole's numbers from the running summary: the
counts, the failures by reason and the best are the whole experiment's, and the best-so-far
line is the one a full read draws."""

from __future__ import annotations

from starlette.testclient import TestClient

from coordinator.api.app import create_app
from coordinator.dashboard import data
from coordinator.dashboard.figures import figures
from coordinator.service import views
from coordinator.state.records import MetricValue, ObservationRecord
from coordinator.state.tokens import Tokens
from tests.unit.conftest import make_spec

COUNT = 2600


def long_experiment(service):
    experiment = service.create_experiment(make_spec(budget=10_000))
    for i, oid in enumerate(service.store.allocate_ids(COUNT)):
        failed = i % 10 == 3
        service.store.observe_assignments(ObservationRecord(
            id=oid, experiment=experiment.id, suggestion=None, assignments={"x": i / COUNT},
            values=() if failed else (MetricValue("score", (i % 97) + i / 1000),),
            failed=failed, reason=f"out of memory on gpu{i % 3} | frame" if failed else ""))
    return experiment


def best_so_far(snap):
    (history,) = [f for f in figures(snap, views.best(
        None, snap.experiment, snap.observations)) if f.name == "history-0"]
    (steps,) = [s for s in history.series if s.label == "best so far"]
    return steps.points


def test_a_long_experiments_page_holds_a_window_with_the_wholes_numbers(service):
    experiment = long_experiment(service)
    whole = data.snapshot(service, experiment.id, window_above=COUNT)
    part = data.snapshot(service, experiment.id, window_above=1000)
    assert whole.window is None and len(whole.observations) == COUNT
    assert part.window is not None and len(part.observations) < COUNT
    view = data.experiment_view(service, part)
    assert view["window"] == {"shown": len(part.observations), "total": COUNT}
    full = data.experiment_view(service, whole)
    for key in ("observations", "failed", "best_value", "stopped", "state"):
        assert view["progress"][key] == full["progress"][key], key
    assert [(g["reason"], g["count"]) for g in view["failure_reasons"]] == \
        [(g["reason"], g["count"]) for g in full["failure_reasons"]]
    assert [r["id"] for r in view["best"]] == [r["id"] for r in full["best"]]
    # the step line changes exactly where the full read's does, at the same numbers
    assert changes(best_so_far(part)) == changes(best_so_far(whole))


def changes(points):
    """The (x, y) where a step line takes a new value."""
    return [(x, y) for i, (x, y) in enumerate(points) if i == 0 or y != points[i - 1][1]]


def test_the_pager_reads_every_observation_500_a_page_newest_first(service, fake_redis):
    experiment = long_experiment(service)
    http = TestClient(create_app(service, tokens={}))
    http.auth = (Tokens(fake_redis).create()[0], "")
    base = f"/dashboard/api/experiments/{experiment.id}/observations"
    first, last = http.get(base).json(), http.get(base + "?page=5").json()
    ids = sorted(service.store.observation_ids(experiment.id), key=int, reverse=True)
    assert (first["page"], first["pages"], first["total"]) == (0, 6, COUNT)
    assert [r["id"] for r in first["observations"]] == ids[:500]
    assert [r["id"] for r in last["observations"]] == ids[2500:]
    assert sum(r["best"] for r in first["observations"] + last["observations"]) <= 1
    refused = http.get(base + "?page=-1")
    assert refused.status_code == 400 and "page" in refused.json()["message"]
