"""One backlog policy for the run loop and the server: its sizes and staleness, the refresh
that drops near-duplicates, and the keeper that runs it."""

from __future__ import annotations

import time

from coordinator.engine.backlog import (
    MIN_BACKLOG,
    RUN_LOOP,
    SERVER,
    BacklogKeeper,
    KeeperThread,
    drop_near,
    refresh,
)
from coordinator.infra.timing import Timing
from coordinator.runloop.dispatch import Dispatcher
from coordinator.state.states import TakeReply
from coordinator.state.store import Counts
from optimizer import Proposal
from tests.unit.conftest import make_spec


def counts(observations: int = 0, open_: int = 0, backlog: int = 0) -> Counts:
    return Counts(observations=observations, failed=0, open=open_, backlog=backlog)


def test_the_run_loop_keeps_a_bandwidth_and_the_server_at_least_a_few():
    spec = make_spec(optimizer={"type": "bayes"}, parallel_bandwidth=2, budget=20)
    assert RUN_LOOP.size(spec, counts()) == 2
    assert SERVER.size(spec, counts()) == MIN_BACKLOG


def test_only_the_run_loop_counts_open_suggestions_against_the_budget():
    spec = make_spec(optimizer={"type": "bayes"}, parallel_bandwidth=4, budget=10)
    assert RUN_LOOP.size(spec, counts(observations=7, open_=2)) == 1
    assert SERVER.size(spec, counts(observations=7, open_=2)) == 4
    assert SERVER.size(spec, counts(observations=10)) == 0


def test_model_free_suggestions_are_made_a_few_rounds_at_a_time():
    spec = make_spec(optimizer={"type": "random"}, parallel_bandwidth=2, budget=100)
    assert RUN_LOOP.size(spec, counts()) == SERVER.size(spec, counts()) == 8


def test_a_models_backlog_goes_stale_when_observations_arrive_a_model_free_one_when_low():
    bayes = make_spec(optimizer={"type": "bayes"}, parallel_bandwidth=2, budget=20)
    random = make_spec(optimizer={"type": "random"}, parallel_bandwidth=2, budget=20)
    full = counts(observations=3, open_=1, backlog=8)
    assert SERVER.stale(bayes, full, refreshed_at=2) and RUN_LOOP.stale(bayes, full, 2)
    assert not SERVER.stale(bayes, full, refreshed_at=3)
    assert not SERVER.stale(random, full, refreshed_at=2)
    assert SERVER.stale(random, counts(observations=3, open_=1, backlog=3), refreshed_at=3)


def test_the_run_loop_calls_a_backlog_low_only_below_its_free_slots():
    spec = make_spec(optimizer={"type": "bayes"}, parallel_bandwidth=4, budget=20)
    assert not RUN_LOOP.low(spec, counts(open_=4, backlog=0))
    assert RUN_LOOP.low(spec, counts(open_=2, backlog=1))
    assert RUN_LOOP.next_round(spec, counts(observations=18, open_=1)) == 1


def test_proposals_next_to_a_point_handed_out_meanwhile_are_dropped(spec):
    space = spec.space
    near = Proposal({"x": 0.5001, "n": 10, "kind": "a"}, "bayes")
    far = Proposal({"x": 0.9, "n": 40, "kind": "c"}, "bayes")
    kept = drop_near(space, [near, far], [{"x": 0.5, "n": 10, "kind": "a"}])
    assert kept == [far]


def test_a_refresh_fills_the_backlog_with_points_that_are_not_open(service, spec):
    experiment = service.create_experiment(spec)
    opened = [service.create_suggestion(experiment.id) for _ in range(2)]
    assert refresh(service.suggester, experiment.id, spec, 3) == 3
    entries = service.store.backlog_entries(experiment.id)
    assert len(entries) == 3
    open_keys = {spec.space.key(s.assignments) for s in opened}
    assert not {entry.split("\t", 1)[1] for entry in entries} & open_keys


def test_a_refresh_drops_what_lies_next_to_a_suggestion_handed_out_while_it_computed(
        service, spec, monkeypatch):
    experiment = service.create_experiment(spec)
    suggester = service.suggester
    compute = suggester.compute
    handed_out = []

    def compute_while_one_is_handed_out(*args, **kwargs):  # type: ignore[no-untyped-def]
        proposals = compute(*args, **kwargs)
        handed_out.append(service.store.take_suggestion(
            experiment.id, service.store.allocate_ids()[0], suggester.encode(spec, proposals[0])))
        return proposals

    monkeypatch.setattr(suggester, "compute", compute_while_one_is_handed_out)
    assert refresh(suggester, experiment.id, spec, 3) == 2
    assert handed_out[0].status is TakeReply.OK
    taken_key = spec.space.key(handed_out[0].assignments)
    assert all(e.split("\t", 1)[1] != taken_key
               for e in service.store.backlog_entries(experiment.id))


def test_the_keeper_thread_refreshes_when_nudged_and_stops(service):
    experiment = service.create_experiment(make_spec(optimizer={"type": "bayes"}))
    keeper = BacklogKeeper(service.suggester, RUN_LOOP, [experiment], poll=None)
    thread = KeeperThread(keeper)
    thread.start()
    time.sleep(0.05)
    assert keeper.refreshes == 0  # waits to be asked: the run loop makes its first batch
    keeper.nudge()
    assert keeper.wait_for(experiment.id, 0, timeout=10)
    thread.stop()
    assert not thread.thread.is_alive()
    assert keeper.refreshes == 1
    assert len(service.store.backlog_entries(experiment.id)) == 2


class Sender:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, experiment, suggestion_id: str) -> None:  # type: ignore[no-untyped-def]
        self.sent.append(suggestion_id)


def test_after_the_first_batch_the_run_loop_takes_from_its_keepers_refreshes(service):
    experiment = service.create_experiment(make_spec(optimizer={"type": "bayes"}))
    dispatcher = Dispatcher(service, Sender(), Timing())  # type: ignore[arg-type]
    dispatcher.start(experiment)
    try:
        assert len(dispatcher.fill(experiment, service.store.counts(experiment.id))) == 2
        first = service.store.suggestion(experiment.id, service.store.open_ids(experiment.id)[0])
        assert first is not None
        service.observe(service.new_observation(experiment, first, {"score": (1.0, None)}))
        assert len(dispatcher.fill(experiment, service.store.counts(experiment.id))) == 1
        assert dispatcher.keeper is not None
        assert dispatcher.keeper.wait_for(experiment.id, 1, timeout=10)
        assert dispatcher.keeper.refreshes == 1
    finally:
        dispatcher.stop()
