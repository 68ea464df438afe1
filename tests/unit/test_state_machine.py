"""The state machines of scripts.TRANSITIONS checked against the Lua scripts in both directions:
every edge of the table is taken by its script, and no script changes anything except along an
edge of the table. The Lua text is parsed too: every state literal is a member of its enum, and
every reply enum is exactly what its script's header says it returns (and what its body does)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

import pytest

from coordinator.errors import RunStateRefused
from coordinator.service.experiments import Service
from coordinator.spec.experiment import ExperimentSpec
from coordinator.state import keys, scripts
from coordinator.state.records import Report
from coordinator.state.states import (
    CheckpointReply,
    ClaimReply,
    ExperimentState,
    HeartbeatReply,
    ObserveReply,
    ReleaseReply,
    ReportReply,
    RunState,
    SuggestionState,
    SweepReply,
    TakeReply,
    experiment_state,
)

# Each way a test calls a script on a suggestion: (service, experiment id, sid) -> its answer.
Call = Callable[[Service, str, str], object]


def _epoch(service: Service, experiment_id: str, sid: str) -> int:
    suggestion = service.store.suggestion(experiment_id, sid)
    assert suggestion is not None
    return suggestion.epoch


def _failure(service: Service, experiment_id: str, sid: str) -> Any:
    suggestion = service.store.suggestion(experiment_id, sid)
    assert suggestion is not None
    return service.new_observation(service.experiment(experiment_id), suggestion, {},
                                   failed=True, reason="lease expired")


def _observe(service: Service, experiment_id: str, sid: str) -> object:
    """With the current epoch when there is one (a worker), else without (the HTTP API)."""
    suggestion = service.store.suggestion(experiment_id, sid)
    assert suggestion is not None
    observation = service.new_observation(service.experiment(experiment_id), suggestion,
                                          {"score": (0.5, None)})
    return service.store.observe(observation, suggestion.epoch or None)


def _report(service: Service, experiment_id: str, sid: str) -> object:
    """As a worker with its epoch when the suggestion runs, else as the HTTP API."""
    suggestion = service.store.suggestion(experiment_id, sid)
    assert suggestion is not None
    epoch = suggestion.epoch if suggestion.state is SuggestionState.RUNNING else None
    return service.store.report(experiment_id, sid, epoch, Report(1.0, {"score": 0.5}),
                                None).status


def _checkpoint(service: Service, experiment_id: str, sid: str) -> object:
    reply, _ = service.store.record_checkpoint(experiment_id, sid, _epoch(service, experiment_id,
                                                                          sid), 1.0, "/c/1")
    return reply


CALLS: dict[str, list[Call]] = {
    "claim": [lambda sv, e, s: sv.store.claim(e, s, "host:2", 10_000).status],
    "heartbeat": [lambda sv, e, s: sv.store.heartbeat(e, s, _epoch(sv, e, s), 10_000)],
    "observe": [_observe],
    "sweep": [lambda sv, e, s: sv.store.sweep_one(e, s, _failure(sv, e, s), 1, 10_000),
              lambda sv, e, s: sv.store.sweep_one(e, s, _failure(sv, e, s), 3, 10_000)],
    "release": [lambda sv, e, s: sv.store.release(e, s, _epoch(sv, e, s))],
    "delete_suggestion": [lambda sv, e, s: sv.store.delete_suggestion(e, s),
                          lambda sv, e, s: sv.store.delete_suggestion(e, s, closed_too=True)],
    "report": [_report],
    "checkpoint": [_checkpoint],
}
MOVED: dict[str, set[object]] = {  # the answers that say "the suggestion changed"
    "claim": {ClaimReply.OK},
    "heartbeat": {HeartbeatReply.OK},
    "observe": {ObserveReply.OK},
    "sweep": {SweepReply.REQUEUED, SweepReply.REDISPATCH, SweepReply.FAILED},
    "release": {ReleaseReply.OK},
    "delete_suggestion": {True},
    "report": {ReportReply.CONTINUE},
    "checkpoint": {CheckpointReply.OK},
}
SUGGESTION_SCRIPTS = sorted(CALLS)


def put_suggestion_in(service: Service, experiment_id: str, state: SuggestionState) -> str:
    """A suggestion driven through real transitions into `state`, with an expired lease."""
    sid = service.create_suggestion(experiment_id, claim_ms=1).id
    if state in (SuggestionState.RUNNING, SuggestionState.CLOSED):
        assert service.store.claim(experiment_id, sid, "host:1", 1).status is ClaimReply.OK
    if state is SuggestionState.CLOSED:
        assert _observe(service, experiment_id, sid) is ObserveReply.OK
    if state is SuggestionState.DELETED:
        assert service.store.delete_suggestion(experiment_id, sid)
    time.sleep(0.005)  # leases of 1 ms are now expired
    return sid


def recorded(service: Service, experiment_id: str, sid: str) -> tuple[dict[str, str], Any]:
    """All the store keeps about one suggestion: its hash and its lease deadline."""
    k = keys.ExperimentKeys(experiment_id)
    return (service.store.redis.hgetall(k.suggestion(sid)),
            service.store.redis.zscore(k.leases, sid))


@contextmanager
def swapped(service: Service, name: str, lua: str | None) -> Iterator[None]:
    """Runs another body in place of script `name` (to show the checks catch a bad script)."""
    if lua is None:
        yield
        return
    store = service.store
    real = store._scripts[name]
    store._scripts[name] = store.redis.register_script(scripts.with_prelude(lua))
    try:
        yield
    finally:
        store._scripts[name] = real


def edges_taken(service: Service, spec: ExperimentSpec, script: str,
                replacement: str | None = None) -> set[object]:
    """Runs the script from every state (each way CALLS knows) and returns the edges it took;
    fails on a change that is not an edge of the table, or an answer that misreports it."""
    taken: set[object] = set()
    for start in SuggestionState:
        for call in CALLS[script]:
            experiment_id = service.create_experiment(spec).id
            sid = put_suggestion_in(service, experiment_id, start)
            before = recorded(service, experiment_id, sid)
            with swapped(service, script, replacement):
                answer = call(service, experiment_id, sid)
            after = recorded(service, experiment_id, sid)
            end = SuggestionState(after[0]["state"])
            changed = after != before
            assert not changed or (start, end) in scripts.TRANSITIONS[script], \
                (script, start, end)
            assert changed == (answer in MOVED[script]), (script, start, answer, changed)
            if changed:
                taken.add((start, end))
    return taken


@pytest.mark.parametrize("script", SUGGESTION_SCRIPTS)
def test_each_script_takes_every_edge_the_table_gives_it_and_no_other(service, spec, script):
    assert edges_taken(service, spec, script) == scripts.TRANSITIONS[script]


def test_a_script_that_changes_nothing_fails_the_check(service, spec):
    with pytest.raises(AssertionError):  # says it extended the lease, but did not
        edges_taken(service, spec, "heartbeat", replacement='return {"OK"}')
    assert edges_taken(service, spec, "heartbeat", replacement='return {"LOST"}') \
        != scripts.TRANSITIONS["heartbeat"]


def test_a_script_that_takes_an_edge_outside_the_table_fails_the_check(service, spec):
    closes = 'redis.call("HSET", KEYS[1], "state", "closed")\nreturn {"OK", 1, 1, "{}", "", ""}'
    with pytest.raises(AssertionError):
        edges_taken(service, spec, "claim", replacement=closes)


def test_take_suggestion_creates_a_queued_suggestion_and_a_refused_take_creates_nothing(
        service, spec):
    store = service.store
    experiment_id = service.create_experiment(spec).id
    k = keys.ExperimentKeys(experiment_id)
    entry = 'manual\t{"kind": "a", "n": 3, "x": 0.5}'
    taken = set()
    for fallback, expected in ((entry, TakeReply.OK), (entry, TakeReply.DUPLICATE),
                               ("", TakeReply.EMPTY)):
        sid = store.allocate_ids()[0]
        reply = store.take_suggestion(experiment_id, sid, fallback).status
        created = store.redis.hgetall(k.suggestion(sid))
        assert reply is expected and bool(created) == (reply is TakeReply.OK)
        if created:
            taken.add((None, SuggestionState(created["state"])))
    assert taken == scripts.TRANSITIONS["take_suggestion"]


# training runs -----------------------------------------------------------------------------


def put_run_in(service: Service, experiment_id: str, state: RunState) -> str:
    """A run created active, then moved into `state` by update_run itself."""
    run_id = service.store.allocate_ids()[0]
    service.store.add_run(experiment_id, run_id, json.dumps({"state": "active", "n": 0}))
    if state is not RunState.ACTIVE:
        service.store.update_run(experiment_id, run_id, moving_to(state))
    return run_id


def moving_to(state: RunState) -> Callable[[str], str]:
    """A change of the run to `state` that also changes something else (as a MERGE does)."""
    def change(text: str) -> str:
        run = json.loads(text)
        return json.dumps({**run, "state": state, "n": run["n"] + 1})
    return change


def test_update_run_takes_every_run_edge_the_table_gives_it_and_refuses_the_others(
        service, spec):
    experiment_id = service.create_experiment(spec).id
    taken = set()
    for start in RunState:
        for target in RunState:
            run_id = put_run_in(service, experiment_id, start)
            before = service.store.run(experiment_id, run_id)
            try:
                update = service.store.update_run(experiment_id, run_id, moving_to(target))
            except RunStateRefused:
                update = None
            after = service.store.run(experiment_id, run_id)
            assert after is not None
            end = RunState(json.loads(after)["state"])
            assert (update is not None) == (after != before), (start, target)
            if update is not None:
                assert (update.old_state, update.new_state) == (start, end) == (start, target)
                assert (start, end) in scripts.TRANSITIONS["update_run"]
                taken.add((start, end))
    assert taken == scripts.TRANSITIONS["update_run"]


# the Lua text ------------------------------------------------------------------------------

LUA = {path.stem: path.read_text() for path in sorted(scripts.LUA_DIR.glob("*.lua"))}
SCRIPTS = sorted(set(LUA) - {scripts.PRELUDE})
COMMENT = re.compile(r"--[^\n]*")
STATE_COMPARED = re.compile(r'(\w*state)\b(?:"\)|\([^()]*\))?\s*[~=]=\s*"([^"]*)"')
STATE_SET = re.compile(r'"state",\s*"([^"]*)"')
MACHINES: dict[str, type[StrEnum]] = {"state": SuggestionState,
                                      "experiment_state": ExperimentState,
                                      "run_state": RunState, "new_run_state": RunState}
REPLY = re.compile(r'"([A-Z][A-Z_]*)"')
RETURNED = re.compile(r'return\s*\{\s*"([A-Z][A-Z_]*)"')


def code(name: str) -> str:
    return COMMENT.sub("", LUA[name])


def state_literals(name: str) -> list[tuple[str, str]]:
    """(what it is the state of, literal) for each state literal of the script, following the
    naming convention prelude.lua describes."""
    text = code(name)
    return STATE_COMPARED.findall(text) + [("state", lit) for lit in STATE_SET.findall(text)]


def header(name: str) -> str:
    lines = LUA[name].splitlines()
    return "\n".join(line for line in lines[:next(i for i, line in enumerate(lines)
                                                   if not line.startswith("--"))])


def returns_line(name: str) -> set[str]:
    text = header(name)
    return set(REPLY.findall(text[text.index("Returns"):]))


@pytest.mark.parametrize("name", sorted(LUA))
def test_every_state_literal_in_the_lua_belongs_to_its_enum(name):
    for holder, literal in state_literals(name):
        assert holder in MACHINES, f"{name}.lua: {holder!r} is not a known state holder"
        assert literal in {s.value for s in MACHINES[holder]}, (name, holder, literal)
        if MACHINES[holder] is ExperimentState:  # FINISHED is derived, never stored
            assert ExperimentState(literal) is not ExperimentState.FINISHED, name


def test_the_lua_state_literals_cover_every_stored_state():
    found: dict[type[StrEnum], set[str]] = {}
    for name in LUA:
        for holder, literal in state_literals(name):
            found.setdefault(MACHINES[holder], set()).add(literal)
    assert found[SuggestionState] == {s.value for s in SuggestionState}
    assert found[RunState] == {s.value for s in RunState}
    assert found[ExperimentState] == {ExperimentState.ACTIVE.value}
    for name in scripts.TRANSITIONS:
        assert state_literals(name), f"{name}.lua: no state literal found"


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_reply_enum_is_exactly_the_returns_line_of_its_script(name):
    returned = set(RETURNED.findall(code(name)))
    if name not in scripts.REPLIES:  # rate_limit: a token bucket answers numbers
        assert not returned and not returns_line(name), name
        return
    members = {m.value for m in scripts.REPLIES[name]}
    assert returns_line(name) == members, name
    assert returned == members, name


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_file_documents_its_keys_argv_and_returns(name):
    text = header(name)
    assert "KEYS[1]" in text and "ARGV[1]" in text and "Returns" in text, name


def test_the_shared_lua_pieces_are_written_once_in_the_prelude():
    for name in SCRIPTS:
        assert "XADD" not in code(name) and "MAXLEN" not in code(name), name
        if name != "rate_limit":  # its bucket counts microseconds
            assert '"TIME"' not in code(name), name
    assert all(scripts.source(name).startswith(LUA[scripts.PRELUDE]) for name in SCRIPTS)
    assert set(scripts.TRANSITIONS) <= set(scripts.REPLIES) <= set(SCRIPTS)


def test_every_key_of_an_experiment_shares_one_cluster_hash_tag():
    k = keys.ExperimentKeys("42")
    for key in [*k.all_fixed(), k.suggestion("7")]:
        assert key.startswith("celeriac:{exp:42}:")


# experiments -------------------------------------------------------------------------------


def test_an_experiment_with_its_budget_spent_is_finished_yet_active_to_sigopt():
    active, deleted = ExperimentState.ACTIVE, ExperimentState.DELETED
    assert experiment_state(active, 9, 10) is active
    assert experiment_state(active, 10, 10) is ExperimentState.FINISHED
    assert experiment_state(active, 10**6, None) is active
    assert experiment_state(deleted, 10, 10) is deleted
    assert ExperimentState.FINISHED.is_finished and ExperimentState.FINISHED.sigopt == "active"
    assert deleted.sigopt == "deleted"


def test_open_and_finished_split_every_state_in_two():
    for enum in (SuggestionState, ExperimentState, RunState):
        for state in enum:
            assert state.is_open != state.is_finished
    assert {s for s in SuggestionState if s.is_open} == {SuggestionState.QUEUED,
                                                         SuggestionState.RUNNING}
    assert [s for s in RunState if s.is_open] == [RunState.ACTIVE]
