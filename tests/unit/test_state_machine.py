"""Every Lua script moves a suggestion only along the edges the state machine allows."""

from __future__ import annotations

import time

import pytest

from coordinator.service.experiments import Service
from coordinator.state import keys, scripts

STATES = ["queued", "running", "closed", "deleted"]


def put_suggestion_in(service: Service, experiment_id: str, spec, state: str) -> str:
    """A suggestion driven through real transitions into `state`, with an expired lease."""
    suggestion = service.create_suggestion(experiment_id, claim_ms=1)
    sid = suggestion.id
    if state in ("running", "closed"):
        assert service.store.claim(experiment_id, sid, "host:1", 1).status == "OK"
    if state == "closed":
        experiment = service.experiment(experiment_id)
        observation = service.new_observation(experiment, suggestion,
                                              {"score": (1.0, None)})
        assert service.observe(observation) == "OK"
    if state == "deleted":
        assert service.store.delete_suggestion(experiment_id, sid)
    time.sleep(0.005)  # leases of 1 ms are now expired
    return sid


def run_script(service: Service, name: str, experiment_id: str, sid: str) -> None:
    store = service.store
    experiment = service.experiment(experiment_id)
    suggestion = store.suggestion(experiment_id, sid)
    epoch = suggestion.epoch
    observation = service.new_observation(experiment, suggestion, {"score": (0.5, None)})
    calls = {
        "claim": lambda: store.claim(experiment_id, sid, "host:2", 10_000),
        "heartbeat": lambda: store.heartbeat(experiment_id, sid, epoch, 10_000),
        "observe": lambda: store.observe(observation, epoch if epoch else None),
        "sweep": lambda: store.sweep_one(experiment_id, sid, observation, 1, 10_000),
        "release": lambda: store.release(experiment_id, sid, epoch),
        "delete_suggestion": lambda: store.delete_suggestion(experiment_id, sid),
    }
    calls[name]()


@pytest.mark.parametrize("script", sorted(set(scripts.TRANSITIONS) - {"take_suggestion"}))
@pytest.mark.parametrize("start", STATES)
def test_each_script_only_takes_the_transitions_the_table_allows(service, spec, script, start):
    experiment_id = service.create_experiment(spec).id
    sid = put_suggestion_in(service, experiment_id, spec, start)
    run_script(service, script, experiment_id, sid)
    end = service.store.suggestion(experiment_id, sid).state
    assert end == start or (start, end) in scripts.TRANSITIONS[script], (script, start, end)


def test_take_suggestion_creates_a_queued_suggestion_that_is_open(service, spec):
    experiment_id = service.create_experiment(spec).id
    suggestion = service.create_suggestion(experiment_id)
    assert (None, suggestion.state) in scripts.TRANSITIONS["take_suggestion"]
    assert service.store.open_ids(experiment_id) == [suggestion.id]


def test_every_script_file_documents_its_keys_argv_and_returns():
    for name in scripts.TRANSITIONS:
        text = scripts.source(name)
        assert "KEYS[1]" in text and "ARGV[1]" in text and "Returns" in text, name


def test_every_key_of_an_experiment_shares_one_cluster_hash_tag():
    k = keys.ExperimentKeys("42")
    for key in [*k.all_fixed(), k.suggestion("7")]:
        assert key.startswith("celeriac:{exp:42}:")
