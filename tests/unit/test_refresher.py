"""The backlog refresher computes while the run loop dispatches, without near-duplicates."""

from __future__ import annotations

import time

from coordinator.engine.refresher import BacklogRefresher, drop_near
from optimizer import Proposal


def test_proposals_next_to_a_point_handed_out_meanwhile_are_dropped(spec):
    space = spec.space
    near = Proposal({"x": 0.5001, "n": 10, "kind": "a"}, "bayes")
    far = Proposal({"x": 0.9, "n": 40, "kind": "c"}, "bayes")
    kept = drop_near(space, [near, far], [{"x": 0.5, "n": 10, "kind": "a"}])
    assert kept == [far]


def test_a_refresh_fills_the_backlog_with_points_that_are_not_open(service, spec):
    experiment = service.create_experiment(spec)
    opened = [service.create_suggestion(experiment.id) for _ in range(2)]
    refresher = BacklogRefresher(service.suggester, experiment)
    refresher.refresh(3)
    entries = service.store.backlog_entries(experiment.id)
    assert len(entries) == 3
    open_keys = {spec.space.key(s.assignments) for s in opened}
    assert not {entry.split("\t", 1)[1] for entry in entries} & open_keys


def test_the_refresher_thread_answers_requests_and_stops(service, spec):
    experiment = service.create_experiment(spec)
    refresher = BacklogRefresher(service.suggester, experiment)
    refresher.start()
    refresher.request(2, 0)
    deadline = time.monotonic() + 10
    while refresher.refreshes == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    refresher.stop()
    assert refresher.refreshes == 1
    assert len(service.store.backlog_entries(experiment.id)) == 2
