"""The store's atomic operations: claims, fencing, sweeping, duplicates, training runs."""

from __future__ import annotations

import json
import time

import pytest

from coordinator.errors import (
    ExperimentNotFound,
    RunStateRefused,
    SuggestionClosed,
    SuggestionNotFound,
    TrainingRunNotFound,
)
from coordinator.service.experiments import Service
from coordinator.state import keys
from coordinator.state.states import (
    ClaimReply,
    HeartbeatReply,
    ObserveReply,
    ReleaseReply,
    RunState,
    SuggestionState,
    SweepReply,
    TakeReply,
)
from coordinator.web.statuses import http_status


def new_running(service: Service, spec, ttl_ms: int = 10_000):
    experiment = service.create_experiment(spec)
    suggestion = service.create_suggestion(experiment.id, claim_ms=10_000)
    claim = service.store.claim(experiment.id, suggestion.id, "host:1", ttl_ms)
    assert claim.status is ClaimReply.OK
    return experiment, suggestion, claim


def test_a_second_claim_of_the_same_suggestion_is_refused(service, spec):
    experiment, suggestion, _ = new_running(service, spec)
    second = service.store.claim(experiment.id, suggestion.id, "host:2", 10_000)
    assert second.status is ClaimReply.BUSY


def test_a_second_observation_for_a_suggestion_is_refused(service, spec):
    experiment, suggestion, claim = new_running(service, spec)
    first = service.new_observation(experiment, suggestion, {"score": (1.0, None)})
    second = service.new_observation(experiment, suggestion, {"score": (2.0, None)})
    assert service.observe(first, epoch=claim.epoch) is ObserveReply.OK
    assert service.observe(second, epoch=claim.epoch) is ObserveReply.CLOSED
    assert len(service.observations(experiment.id)) == 1
    assert service.store.counts(experiment.id).observations == 1


def test_a_late_result_from_a_worker_whose_lease_was_swept_is_stale(service, spec):
    experiment, suggestion, claim = new_running(service, spec, ttl_ms=1)
    time.sleep(0.01)
    failure = service.new_observation(experiment, suggestion, {}, failed=True, reason="x")
    store = service.store
    assert store.sweep_one(experiment.id, suggestion.id, failure, 3, 10_000) \
        is SweepReply.REQUEUED
    again = store.claim(experiment.id, suggestion.id, "host:2", 10_000)
    assert again.status is ClaimReply.OK and again.epoch == claim.epoch + 1
    late = service.new_observation(experiment, suggestion, {"score": (9.0, None)})
    assert service.observe(late, epoch=claim.epoch) is ObserveReply.STALE
    assert store.heartbeat(experiment.id, suggestion.id, claim.epoch, 10_000) \
        is HeartbeatReply.LOST
    assert store.release(experiment.id, suggestion.id, claim.epoch) is ReleaseReply.LOST
    assert store.heartbeat(experiment.id, suggestion.id, again.epoch, 10_000) \
        is HeartbeatReply.OK
    fresh = service.new_observation(experiment, suggestion, {"score": (1.0, None)})
    assert service.observe(fresh, epoch=again.epoch) is ObserveReply.OK


def test_attempts_used_up_close_the_suggestion_as_a_failed_observation(service, spec):
    experiment, suggestion, _ = new_running(service, spec, ttl_ms=1)
    store = service.store
    for attempt in range(spec.max_attempts):
        time.sleep(0.01)
        failure = service.new_observation(experiment, suggestion, {}, failed=True,
                                          reason="lease expired")
        outcome = store.sweep_one(experiment.id, suggestion.id, failure, spec.max_attempts, 1)
        if attempt + 1 < spec.max_attempts:
            assert outcome is SweepReply.REQUEUED
            assert store.claim(experiment.id, suggestion.id, "h:2", 1).status is ClaimReply.OK
    assert outcome is SweepReply.FAILED
    [observation] = service.observations(experiment.id)
    assert observation.failed and "lease expired" in observation.reason
    assert store.counts(experiment.id).failed == 1


def test_a_dispatched_but_unclaimed_suggestion_is_sent_again_after_the_claim_timeout(
        service, spec):
    experiment = service.create_experiment(spec)
    suggestion = service.create_suggestion(experiment.id, claim_ms=1)
    time.sleep(0.01)
    assert service.store.expired_leases(experiment.id) == [suggestion.id]
    failure = service.new_observation(experiment, suggestion, {}, failed=True, reason="x")
    assert service.store.sweep_one(experiment.id, suggestion.id, failure, 3, 10_000) \
        is SweepReply.REDISPATCH
    assert service.store.expired_leases(experiment.id) == []


def test_release_hands_the_suggestion_back_without_using_an_attempt(service, spec):
    experiment, suggestion, claim = new_running(service, spec)
    assert service.store.release(experiment.id, suggestion.id, claim.epoch) is ReleaseReply.OK
    back = service.store.suggestion(experiment.id, suggestion.id)
    assert back.state is SuggestionState.QUEUED and back.attempts == 0
    assert service.store.expired_leases(experiment.id) == [suggestion.id]


def test_suggestions_never_repeat_an_open_point(service, spec):
    experiment = service.create_experiment(spec)
    keys = {spec.space.key(service.create_suggestion(experiment.id).assignments)
            for _ in range(15)}
    assert len(keys) == 15


def test_deleting_open_suggestions_leaves_observed_ones(service, spec):
    experiment, suggestion, claim = new_running(service, spec)
    observation = service.new_observation(experiment, suggestion, {"score": (1.0, None)})
    service.observe(observation, epoch=claim.epoch)
    for _ in range(3):
        service.create_suggestion(experiment.id)
    assert service.delete_open_suggestions(experiment.id) == 3
    assert [s.state for s in service.suggestions(experiment.id)] == [SuggestionState.CLOSED]


def test_ids_are_unique_digit_strings(store):
    ids = store.allocate_ids(5) + store.allocate_ids(3)
    assert len(set(ids)) == 8 and all(i.isdigit() for i in ids)


def test_releasing_the_refill_lock_never_drops_another_holders_lock(store):
    assert store.acquire_refill_lock("7", "mine", 10_000)
    assert not store.release_refill_lock("7", "someone-else")
    assert not store.acquire_refill_lock("7", "theirs", 10_000)  # still held
    assert store.release_refill_lock("7", "mine")
    assert store.acquire_refill_lock("7", "theirs", 10_000)


def test_an_api_observation_of_a_closed_or_deleted_suggestion_is_a_domain_error(service, spec):
    experiment, suggestion, claim = new_running(service, spec)
    first = service.new_observation(experiment, suggestion, {"score": (1.0, None)})
    assert service.observe(first) is ObserveReply.OK
    with pytest.raises(SuggestionClosed) as closed:
        service.observe(service.new_observation(experiment, suggestion, {"score": (2.0, None)}))
    assert http_status(closed.value) == 409
    other = service.create_suggestion(experiment.id)
    assert service.store.delete_suggestion(experiment.id, other.id)
    assert not service.store.delete_suggestion(experiment.id, other.id)
    with pytest.raises(SuggestionNotFound) as missing:
        service.observe(service.new_observation(experiment, other, {"score": (2.0, None)}))
    assert http_status(missing.value) == 404


def test_a_deleted_experiment_refuses_new_suggestions_and_observations(service, spec):
    experiment = service.create_experiment(spec)
    suggestion = service.create_suggestion(experiment.id)
    service.delete_experiment(experiment.id)
    store = service.store
    with pytest.raises(ExperimentNotFound) as refused:
        store.take_suggestion(experiment.id, store.allocate_ids()[0], "manual\t{}")
    assert http_status(refused.value) == 404
    record = service.new_observation(experiment, suggestion, {"score": (1.0, None)})
    with pytest.raises(ExperimentNotFound):
        store.observe_assignments(record)
    assert store.suggestion_ids(experiment.id) == []  # deleted with it; nothing created
    assert store.counts(experiment.id).observations == 0


def new_run(service: Service, spec, state: str = "active") -> tuple[str, str]:
    experiment_id = service.create_experiment(spec).id
    run_id = service.store.allocate_ids()[0]
    service.store.add_run(experiment_id, run_id, json.dumps({"state": state, "log": []}))
    return experiment_id, run_id


def appending(item: str, state: str | None = None):
    def change(text: str) -> str:
        run = json.loads(text)
        return json.dumps({**run, "log": [*run["log"], item], "state": state or run["state"]})
    return change


def test_a_run_update_that_raced_another_writer_is_computed_again_so_neither_is_lost(
        service, spec):
    experiment_id, run_id = new_run(service, spec)
    runs_key = keys.ExperimentKeys(experiment_id).runs
    calls = []

    def change(text: str) -> str:
        calls.append(text)
        if len(calls) == 1:  # another writer gets in between our read and our write
            service.store.redis.hset(runs_key, run_id, appending("theirs")(text))
        return appending("ours", "completed")(text)

    update = service.store.update_run(experiment_id, run_id, change)
    assert len(calls) == 2 and json.loads(update.new)["log"] == ["theirs", "ours"]
    assert update.finishes and update.new_state is RunState.COMPLETED
    assert not service.store.update_run(experiment_id, run_id, appending("more")).finishes


def test_a_finished_run_never_turns_active_and_failed_is_never_overwritten(service, spec):
    experiment_id, run_id = new_run(service, spec, "completed")
    store = service.store
    with pytest.raises(RunStateRefused) as refused:
        store.update_run(experiment_id, run_id, appending("x", "active"))
    assert http_status(refused.value) == 409
    assert store.update_run(experiment_id, run_id, appending("x", "failed")).new_state \
        is RunState.FAILED
    with pytest.raises(RunStateRefused):
        store.update_run(experiment_id, run_id, appending("y", "completed"))
    assert json.loads(store.run(experiment_id, run_id) or "")["log"] == ["x"]
    with pytest.raises(TrainingRunNotFound):
        store.update_run(experiment_id, "999999", appending("z"))


def test_experiments_are_numbered_by_their_own_counter_skipping_ids_already_taken(service,
                                                                                spec):
    first = service.create_experiment(spec)
    service.create_suggestion(first.id, claim_ms=10_000)  # suggestion ids: another counter
    # a Redis whose experiments came from the shared counter of old already has experiment 2
    service.store.redis.hset(keys.ExperimentKeys("2").meta, mapping={"id": "2"})
    second, third = service.create_experiment(spec), service.create_experiment(spec)
    assert (first.id, second.id, third.id) == ("1", "3", "4")


def test_suggestions_and_observations_are_numbered_within_their_experiment(service, spec):
    one, two = service.create_experiment(spec), service.create_experiment(spec)
    for experiment in (one, two, one, two, one):
        suggestion = service.create_suggestion(experiment.id, claim_ms=10_000)
        claim = service.store.claim(experiment.id, suggestion.id, "host:1", 10_000)
        observation = service.new_observation(experiment, suggestion, {"score": (1.0, None)})
        assert observation.number == 0 and observation.label == observation.id
        assert service.observe(observation, epoch=claim.epoch) is ObserveReply.OK
    for experiment, count in ((one, 3), (two, 2)):
        suggestions = service.suggestions(experiment.id, None)
        assert sorted(s.number for s in suggestions) == list(range(1, count + 1))
        observations = service.observations(experiment)
        assert sorted(o.number for o in observations) == list(range(1, count + 1))
        assert {o.label for o in observations} == {f"#{n}" for n in range(1, count + 1)}
        ids = [o.id for o in observations]
        assert len(set(ids)) == count  # the API's ids stay unique across experiments
    assert not {o.id for o in service.observations(one)} & {
        o.id for o in service.observations(two)}


def test_a_bounded_take_is_refused_at_the_bandwidth_and_the_budget_and_creates_nothing(
        service, spec):
    """Several run loops on one experiment keep to its bandwidth and budget together: the
    check is in the same atomic take."""
    experiment = service.create_experiment(spec)
    bandwidth = experiment.spec.parallel_bandwidth
    taken = [service.suggester.take(experiment.id, experiment.spec, claim_ms=10_000,
                                    bounded=True) for _ in range(bandwidth + 2)]
    statuses = [t.status for t in taken]
    assert statuses == [TakeReply.OK] * bandwidth + [TakeReply.FULL] * 2
    assert service.counts(experiment.id).open == bandwidth
    unbounded = service.suggester.take(experiment.id, experiment.spec, claim_ms=10_000)
    assert unbounded.status is TakeReply.OK  # API routes and tools keep to no bandwidth
