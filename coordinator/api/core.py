"""SigOpt's Core module: experiments, suggestions, observations, best assignments.

Everything goes through the Service and its Lua transitions, so suggestions handed out here and
by the Celery dispatcher come from the same backlog and state machine.
"""

from __future__ import annotations

import time
from typing import Any

from coordinator.api import serialize
from coordinator.api.bodies import (
    object_id,
    observation_body,
    observation_update_body,
    raise_problems,
    suggestion_body,
)
from coordinator.api.http import Call, Reply
from coordinator.api.paging import page_ids, pagination, whole, wrap
from coordinator.api.runs import archive_runs
from coordinator.errors import InvalidInput, NotFound
from coordinator.service import views
from coordinator.service.access import not_found, visible
from coordinator.service.experiments import (
    Service,
    create_manual_suggestion,
    create_suggestion_now,
    observe_assignments,
)
from coordinator.spec.config import validate_experiment
from coordinator.spec.update import validate_update
from coordinator.spec.validation import Problems, flat_metadata, unknown_keys
from coordinator.state.records import Experiment, Suggestion
from coordinator.state.states import ExperimentState, ObserveReply, SuggestionState

SPEC_CACHE_LIMIT = 10_000


def experiment_of(call: Call, *, include_deleted: bool = False) -> Experiment:
    raw = call.path["experiment_id"]
    experiment_id = object_id(raw, "experiment", Problems())
    if experiment_id is None:
        raise not_found(raw)
    try:
        experiment = call.service.experiment(experiment_id, include_deleted=include_deleted)
    except NotFound:
        raise not_found(raw) from None
    if not visible(experiment, call.token.client):
        raise not_found(raw)
    return experiment


def cached_experiment(call: Call) -> Experiment:
    """For the hot paths (creating suggestions and observations): specs never change, so they
    are read once per server; the Lua scripts still refuse a deleted experiment atomically."""
    raw = call.path["experiment_id"]
    found = call.specs.get(raw)
    if found is None:
        found = experiment_of(call)
        if len(call.specs) > SPEC_CACHE_LIMIT:
            call.specs.clear()
        call.specs[raw] = found
    if not visible(found, call.token.client):
        raise not_found(raw)
    return found


def create_experiment(call: Call, kind: str = "experiment", project: str = "") -> Experiment:
    spec = validate_experiment(call.body, source="experiment", require_evaluation=False)
    experiment = call.service.create_experiment(spec, owner=call.token.client)
    call.service.update_meta(experiment.id, kind=kind, client=call.token.client,
                             project=project or str(call.body.get("project") or ""),
                             updated=int(time.time()))
    return experiment


def render_experiment(service: Service, experiment: Experiment) -> dict[str, Any]:
    found = service.store.summary(experiment.id, experiment.spec)  # a few reads, at any size
    best = views.summary_best(service, experiment, found)
    first, last = (service.store.observation(experiment.id, oid) if oid else None
                   for oid in (found.first, found.last))
    progress = serialize.core_progress(found.observations, first, last, best, experiment.spec)
    meta = service.experiment_meta(experiment.id)
    return serialize.experiment_json(experiment, meta, progress)


def post_experiment(call: Call) -> dict[str, Any]:
    return render_experiment(call.service, create_experiment(call))


def get_experiment(call: Call) -> dict[str, Any]:
    """A deleted (archived) experiment still reads, with `state: deleted`, as SigOpt's."""
    return render_experiment(call.service, experiment_of(call, include_deleted=True))


def update_experiment(call: Call) -> Experiment:
    """PUT: budget, name, metadata, parallel bandwidth, state (archive / unarchive)."""
    experiment = experiment_of(call, include_deleted=True)
    update = validate_update(call.body)
    updated = call.service.update_experiment(experiment.id, update)
    call.specs.pop(experiment.id, None)  # this server's cached spec is stale now
    return updated


def put_experiment(call: Call) -> dict[str, Any]:
    return render_experiment(call.service, update_experiment(call))


def delete_experiment(call: Call) -> Reply:
    """Archives it: no more suggestions; it still reads (state deleted) and can be
    unarchived with PUT state=active. `include_runs=true` archives its runs too."""
    experiment = experiment_of(call, include_deleted=True)
    if experiment.state is not ExperimentState.DELETED:
        call.service.delete_experiment(experiment.id)
    if str(call.query.get("include_runs", "")).lower() == "true":
        archive_runs(call.service, experiment)
    call.specs.pop(experiment.id, None)
    return Reply(status=204)


def post_suggestion(call: Call) -> dict[str, Any]:
    experiment = cached_experiment(call)
    assignments, metadata = suggestion_body(call.body)
    if assignments is not None:
        suggestion = create_manual_suggestion(call.service, experiment.id, assignments, metadata)
    else:
        suggestion = create_suggestion_now(call.service, experiment, metadata=metadata)
    return serialize.suggestion_json(suggestion, experiment.spec)


def _state_filter(call: Call) -> str | None:
    state = call.query.get("state")
    if state not in (None, "", "open", "closed"):
        raise InvalidInput(f"state: must be open or closed, got {state[:40]!r}")
    return state or None


def list_suggestions(call: Call) -> dict[str, Any]:
    experiment = experiment_of(call)
    ids = call.service.suggestion_ids(experiment.id, state=_state_filter(call))
    chosen, meta = page_ids(ids, call.query)
    found = {s.id: s for s in call.service.suggestions_by_id(experiment.id, chosen)}
    return wrap([serialize.suggestion_json(found[i], experiment.spec) for i in chosen
                 if i in found], meta)


def get_suggestion(call: Call) -> dict[str, Any]:
    experiment = experiment_of(call)
    problems = Problems()
    sid = object_id(call.path["suggestion_id"], "suggestion", problems)
    found = call.service.suggestion(experiment.id, sid) if sid else None
    if found is None or found.state is SuggestionState.DELETED:
        raise NotFound(f"suggestion {call.path['suggestion_id'][:40]!r} not found")
    return serialize.suggestion_json(found, experiment.spec)


def delete_suggestions(call: Call) -> Reply:
    """`state=open`: the open ones; `state=closed`: the closed ones; no state: every one, as
    SigOpt's. Observations stay."""
    experiment = experiment_of(call)
    call.service.delete_suggestions(experiment.id, _state_filter(call))
    return Reply(status=204)


def put_suggestion(call: Call) -> dict[str, Any]:
    """Only metadata changes: the assignments are what was evaluated."""
    experiment = experiment_of(call)
    problems = Problems()
    sid = object_id(call.path["suggestion_id"], "suggestion", problems)
    body = {k: v for k, v in call.body.items()
            if k not in ("id", "object", "experiment", "state", "created", "deleted", "task")}
    if "assignments" in body:
        problems.add("assignments", "cannot change: they are what is (or was) evaluated; "
                     "create a suggestion with the new assignments instead")
    unknown_keys({k: v for k, v in body.items() if k != "assignments"}, ("metadata",), "",
                 problems)
    metadata = flat_metadata(body.get("metadata") or {}, "metadata", problems)
    raise_problems(problems)
    assert sid is not None
    updated = call.service.update_suggestion_metadata(experiment.id, sid, metadata)
    return serialize.suggestion_json(updated, experiment.spec)


def delete_suggestion(call: Call) -> Reply:
    experiment = experiment_of(call)
    get_suggestion(call)
    call.service.delete_suggestion(experiment.id, str(int(call.path["suggestion_id"])))
    return Reply(status=204)


def _open_suggestion(service: Service, experiment: Experiment, sid: str) -> Suggestion:
    found = service.suggestion(experiment.id, sid)
    if found is None or found.state is SuggestionState.DELETED:
        raise InvalidInput(f"suggestion: {sid} is not a suggestion of experiment "
                           f"{experiment.id} (or it was deleted)")
    if not found.is_open:
        raise InvalidInput(f"suggestion: {sid} already has an observation")
    return found


def post_observation(call: Call) -> dict[str, Any]:
    experiment = cached_experiment(call)
    body = observation_body(call.body, experiment.spec)
    service = call.service
    if body.assignments is not None:
        record = observe_assignments(service, experiment, body.assignments, body.values,
                                     failed=body.failed, metadata=body.metadata)
        return serialize.observation_json(record, experiment.spec)
    assert body.suggestion is not None
    suggestion = _open_suggestion(service, experiment, body.suggestion)
    record = service.new_observation(experiment, suggestion, body.values, failed=body.failed,
                                     metadata=body.metadata)
    status = service.try_observe(record)
    if status is not ObserveReply.OK:  # lost a race with another observation or a delete
        _open_suggestion(service, experiment, body.suggestion)
        raise InvalidInput(f"suggestion: {body.suggestion} cannot be observed ({status})")
    return serialize.observation_json(record, experiment.spec)


def list_observations(call: Call) -> dict[str, Any]:
    experiment = experiment_of(call)
    records = call.service.observations(experiment)
    return pagination(records, [o.id for o in records], call.query,
                      lambda o: serialize.observation_json(o, experiment.spec), lambda o: o.id)


def get_observation(call: Call) -> dict[str, Any]:
    experiment = experiment_of(call)
    problems = Problems()
    oid = object_id(call.path["observation_id"], "observation", problems)
    found = call.service.observation(experiment.id, oid) if oid else None
    if found is None:
        raise NotFound(f"observation {call.path['observation_id'][:40]!r} not found")
    return serialize.observation_json(found, experiment.spec)


def _observation_id(call: Call) -> str:
    problems = Problems()
    oid = object_id(call.path["observation_id"], "observation", problems)
    raise_problems(problems)
    assert oid is not None
    return oid


def put_observation(call: Call) -> dict[str, Any]:
    """Values, failed and metadata replace what was stored; the suggestion and assignments
    stay (they are what was evaluated)."""
    experiment = experiment_of(call)
    oid = _observation_id(call)
    update = observation_update_body(call.body, experiment.spec)
    record = call.service.update_observation(experiment, oid, update.values, update.failed,
                                             update.metadata)
    return serialize.observation_json(record, experiment.spec)


def delete_observation(call: Call) -> Reply:
    experiment = experiment_of(call)
    call.service.delete_observations(experiment.id, _observation_id(call))
    return Reply(status=204)


def delete_observations(call: Call) -> Reply:
    """Every observation of the experiment; its suggestions stay closed."""
    experiment = experiment_of(call)
    call.service.delete_observations(experiment.id)
    return Reply(status=204)


def best_records(service: Service, experiment: Experiment) -> list[Any]:
    """Best observation, or the Pareto front sorted by the first optimized metric."""
    found = views.best(service, experiment)
    first = experiment.spec.optimized_metrics[0]
    found.sort(key=lambda o: (o.value_of(first.name) or 0.0) * -first.sign)
    return found


def best_assignments(call: Call) -> dict[str, Any]:
    experiment = experiment_of(call)
    found = best_records(call.service, experiment)
    return whole([serialize.best_assignments_json(o, experiment.spec) for o in found])


def post_observation_batch(call: Call) -> dict[str, Any]:
    """Observations are recorded one by one; a bad entry stops the batch with a 400 naming
    its index, and the entries before it stay recorded."""
    experiment_of(call)
    items = call.body.get("observations")
    problems = Problems()
    if set(call.body) - {"observations"} or not isinstance(items, list) or not items:
        problems.add("observations", "must be a non-empty list of observations")
    raise_problems(problems)
    assert isinstance(items, list)
    created = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput(f"observations[{i}]: must be an object")
        sub = Call(call.service, call.path, call.query, item, call.token, call.token_text,
                   specs=call.specs)
        try:
            created.append(post_observation(sub))
        except InvalidInput as exc:
            raise InvalidInput(f"observations[{i}].{exc.message}") from None
    return whole(created)
