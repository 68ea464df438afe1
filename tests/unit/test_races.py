"""Sweepers, claimers, zombies and duplicate messages racing in threads over one store.

fakeredis runs each Lua script under its server lock, as Redis runs it atomically, so threads
interleave between scripts exactly as processes do against a real server; leases are 50 ms so
expiries, requeues and stale results happen many times per test.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections import Counter

import pytest

from coordinator.infra.timing import Timing
from coordinator.runloop.sweeper import Sweeper
from coordinator.service.experiments import Service
from coordinator.state.records import Experiment
from tests.integration.invariants import assert_invariants
from tests.unit.conftest import make_spec

pytestmark = pytest.mark.timeout(60)

TIMING = Timing(lease_ttl=0.3, sweep_interval=0.05, claim_timeout=0.5)  # from_env bounds
LEASE_MS = 50
CLAIM_MS = 100


class Broker:
    """A stand-in for Celery: every message is delivered twice, to whoever asks first."""

    def __init__(self) -> None:
        self.messages: queue.Queue[str] = queue.Queue()

    def send(self, _experiment_id: str, sid: str) -> None:
        self.messages.put(sid)
        self.messages.put(sid)


def work(service: Service, experiment: Experiment, broker: Broker, done: threading.Event,
         outcomes: Counter[str], seed: int) -> None:
    """A worker that sometimes dies, sometimes hangs past its lease, sometimes hands back."""
    rng, store = random.Random(seed), service.store
    while not done.is_set():
        try:
            sid = broker.messages.get(timeout=0.01)
        except queue.Empty:
            continue
        claim = store.claim(experiment.id, sid, f"host:{seed}", LEASE_MS)
        outcomes[f"claim {claim.status}"] += 1
        fate = rng.random()
        if claim.status != "OK" or fate < 0.15:  # refused, or killed -9 after the claim
            continue
        if fate < 0.25:
            outcomes[f"release {store.release(experiment.id, sid, claim.epoch)}"] += 1
            continue
        time.sleep(rng.uniform(0, 0.08))  # no heartbeat: often longer than the lease
        suggestion = store.suggestion(experiment.id, sid)
        assert suggestion is not None
        observation = service.new_observation(experiment, suggestion, {"score": (fate, None)},
                                              metadata={"epoch": claim.epoch})
        outcomes[f"observe {service.observe(observation, epoch=claim.epoch)}"] += 1


def sweep(service: Service, experiment: Experiment, broker: Broker, done: threading.Event
          ) -> None:
    sweeper = Sweeper(service, broker.send, TIMING)
    while not done.is_set():
        sweeper.sweep(experiment)
        time.sleep(0.002)


def test_racing_sweepers_zombies_and_duplicate_messages_leave_one_observation_each(service):
    budget = 40
    experiment = service.create_experiment(make_spec(budget=budget, max_attempts=6))
    broker, done, outcomes = Broker(), threading.Event(), Counter[str]()  # rough tallies
    for _ in range(budget):
        suggestion = service.create_suggestion(experiment.id, claim_ms=CLAIM_MS)
        broker.send(experiment.id, suggestion.id)
    threads = [threading.Thread(target=work, args=(service, experiment, broker, done, outcomes,
                                                   seed)) for seed in range(6)]
    threads += [threading.Thread(target=sweep, args=(service, experiment, broker, done))
                for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 45
        while service.store.open_ids(experiment.id) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=5)
    assert_invariants(service, experiment.id, budget)
    assert outcomes["claim BUSY"] + outcomes["claim CLOSED"] > 0  # duplicates were refused
    for observation in service.store.observations(experiment.id):
        suggestion = service.store.suggestion(experiment.id, observation.suggestion or "")
        assert suggestion is not None
        if not observation.failed:  # the committed epoch is the last one ever claimed
            assert observation.metadata["epoch"] == suggestion.epoch


def test_eight_sweepers_on_one_expired_lease_requeue_it_exactly_once(service):
    experiment = service.create_experiment(make_spec())
    suggestion = service.create_suggestion(experiment.id, claim_ms=10_000)
    assert service.store.claim(experiment.id, suggestion.id, "host:1", 1).status == "OK"
    time.sleep(0.01)
    start, results = threading.Barrier(8), []

    def one_sweep() -> None:
        failure = service.new_observation(experiment, suggestion, {}, failed=True, reason="x")
        start.wait()
        results.append(service.store.sweep_one(experiment.id, suggestion.id, failure, 3,
                                               10_000))

    threads = [threading.Thread(target=one_sweep) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(results) == Counter({"REQUEUED": 1, "SKIP": 7})


def test_claimers_racing_for_one_suggestion_leave_exactly_one_lease_holder(service):
    experiment = service.create_experiment(make_spec())
    suggestion = service.create_suggestion(experiment.id, claim_ms=10_000)
    start, results = threading.Barrier(8), []

    def one_claim(n: int) -> None:
        start.wait()
        results.append(service.store.claim(experiment.id, suggestion.id, f"host:{n}",
                                           10_000).status)

    threads = [threading.Thread(target=one_claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(results) == Counter({"OK": 1, "BUSY": 7})
    assert service.store.suggestion(experiment.id, suggestion.id).epoch == 1
