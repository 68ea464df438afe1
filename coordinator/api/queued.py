"""SigOpt's queued suggestions: POST, list, fetch and delete points to evaluate first."""

from __future__ import annotations

from typing import Any

from coordinator.api.bodies import object_id, raise_problems
from coordinator.api.core import experiment_of
from coordinator.api.http import Call, Reply
from coordinator.api.paging import pagination
from coordinator.service.queued import dequeue, dequeue_all, enqueue, queued, queued_one
from coordinator.spec import models
from coordinator.spec.validation import Problems, as_mapping, flat_metadata, unknown_keys
from coordinator.state.queue import QueuedSuggestion

BODY_KEYS = models.keys(models.QueuedSuggestionCreate)


def queued_json(q: QueuedSuggestion) -> dict[str, Any]:
    return {"object": "queued_suggestion", "id": q.id, "experiment": q.experiment,
            "assignments": q.assignments, "created": q.created // 1000,
            "metadata": q.metadata or None, "task": None}


def post_queued(call: Call) -> dict[str, Any]:
    experiment = experiment_of(call)
    body = {k: v for k, v in call.body.items() if v is not None}
    problems = Problems()
    unknown_keys(body, BODY_KEYS, "", problems)
    assignments = None
    if "assignments" not in body:
        problems.add("assignments", "required: the point to evaluate, {parameter: value}")
    else:
        assignments = as_mapping(body["assignments"], "assignments", problems)
    metadata = flat_metadata(body["metadata"], "metadata", problems) \
        if "metadata" in body else {}
    models.check(models.QueuedSuggestionCreate, body, problems)
    raise_problems(problems)
    assert assignments is not None
    return queued_json(enqueue(call.service, experiment, dict(assignments), metadata))


def list_queued(call: Call) -> dict[str, Any]:
    experiment = experiment_of(call)
    items = queued(call.service, experiment.id)
    return pagination(items, [q.id for q in items], call.query, queued_json, lambda q: q.id)


def _queued_id(call: Call) -> str:
    raw = call.path["queued_suggestion_id"]
    qid = object_id(raw, "queued_suggestion", Problems())
    return qid if qid is not None else raw[:40]


def get_queued(call: Call) -> dict[str, Any]:
    experiment = experiment_of(call)
    return queued_json(queued_one(call.service, experiment.id, _queued_id(call)))


def delete_queued(call: Call) -> Reply:
    dequeue(call.service, experiment_of(call).id, _queued_id(call))
    return Reply(status=204)


def delete_all_queued(call: Call) -> Reply:
    dequeue_all(call.service, experiment_of(call).id)
    return Reply(status=204)
