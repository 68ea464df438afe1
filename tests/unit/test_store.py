"""The store's atomic operations: claims, fencing, sweeping, duplicates."""

from __future__ import annotations

import time

from coordinator.service.experiments import Service


def new_running(service: Service, spec, ttl_ms: int = 10_000):
    experiment = service.create_experiment(spec)
    suggestion = service.create_suggestion(experiment.id, claim_ms=10_000)
    claim = service.store.claim(experiment.id, suggestion.id, "host:1", ttl_ms)
    assert claim.status == "OK"
    return experiment, suggestion, claim


def test_a_second_claim_of_the_same_suggestion_is_refused(service, spec):
    experiment, suggestion, _ = new_running(service, spec)
    assert service.store.claim(experiment.id, suggestion.id, "host:2", 10_000).status == "BUSY"


def test_a_second_observation_for_a_suggestion_is_refused(service, spec):
    experiment, suggestion, claim = new_running(service, spec)
    first = service.new_observation(experiment, suggestion, {"score": (1.0, None)})
    second = service.new_observation(experiment, suggestion, {"score": (2.0, None)})
    assert service.observe(first, epoch=claim.epoch) == "OK"
    assert service.observe(second, epoch=claim.epoch) == "CLOSED"
    assert len(service.observations(experiment.id)) == 1
    assert service.store.counts(experiment.id).observations == 1


def test_a_late_result_from_a_worker_whose_lease_was_swept_is_stale(service, spec):
    experiment, suggestion, claim = new_running(service, spec, ttl_ms=1)
    time.sleep(0.01)
    failure = service.new_observation(experiment, suggestion, {}, failed=True, reason="x")
    store = service.store
    assert store.sweep_one(experiment.id, suggestion.id, failure, 3, 10_000) == "REQUEUED"
    again = store.claim(experiment.id, suggestion.id, "host:2", 10_000)
    assert again.status == "OK" and again.epoch == claim.epoch + 1
    late = service.new_observation(experiment, suggestion, {"score": (9.0, None)})
    assert service.observe(late, epoch=claim.epoch) == "STALE"
    assert not store.heartbeat(experiment.id, suggestion.id, claim.epoch, 10_000)
    fresh = service.new_observation(experiment, suggestion, {"score": (1.0, None)})
    assert service.observe(fresh, epoch=again.epoch) == "OK"


def test_attempts_used_up_close_the_suggestion_as_a_failed_observation(service, spec):
    experiment, suggestion, _ = new_running(service, spec, ttl_ms=1)
    store = service.store
    for attempt in range(spec.max_attempts):
        time.sleep(0.01)
        failure = service.new_observation(experiment, suggestion, {}, failed=True,
                                          reason="lease expired")
        outcome = store.sweep_one(experiment.id, suggestion.id, failure, spec.max_attempts, 1)
        if attempt + 1 < spec.max_attempts:
            assert outcome == "REQUEUED"
            assert store.claim(experiment.id, suggestion.id, "h:2", 1).status == "OK"
    assert outcome == "FAILED"
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
        == "REDISPATCH"
    assert service.store.expired_leases(experiment.id) == []


def test_release_hands_the_suggestion_back_without_using_an_attempt(service, spec):
    experiment, suggestion, claim = new_running(service, spec)
    assert service.store.release(experiment.id, suggestion.id, claim.epoch)
    back = service.store.suggestion(experiment.id, suggestion.id)
    assert back.state == "queued" and back.attempts == 0
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
    assert [s.state for s in service.suggestions(experiment.id)] == ["closed"]


def test_ids_are_unique_digit_strings(store):
    ids = store.allocate_ids(5) + store.allocate_ids(3)
    assert len(set(ids)) == 8 and all(i.isdigit() for i in ids)


def test_releasing_the_refill_lock_never_drops_another_holders_lock(store):
    assert store.acquire_refill_lock("7", "mine", 10_000)
    store.release_refill_lock("7", "someone-else")
    assert not store.acquire_refill_lock("7", "theirs", 10_000)  # still held
    store.release_refill_lock("7", "mine")
    assert store.acquire_refill_lock("7", "theirs", 10_000)
