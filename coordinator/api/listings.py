"""Listings the official client pages through: a client's experiments, its projects, and a
project's experiments and AI experiments, newest first with SigOpt's paging markers.

`state` filters: `active` (the default), `deleted` (archived ones) or `all`. Only the page
asked for is rendered, so a long list costs one read of its ids plus one render per item
shown. Experiments made with the CLI belong to client `default` and to no project.
"""

from __future__ import annotations

import json
from typing import Any

from coordinator.api.ai import client_of, project_id_of, render_aiexperiment
from coordinator.api.core import render_experiment
from coordinator.api.http import Call
from coordinator.api.paging import page_ids, whole, wrap
from coordinator.errors import InvalidInput
from coordinator.service.access import visible
from coordinator.state.records import Experiment
from coordinator.state.states import ExperimentState

STATES = ("active", "deleted", "all")


def _state(call: Call) -> str:
    state = call.query.get("state") or "active"
    if state not in STATES:
        raise InvalidInput(f"state: must be one of {', '.join(STATES)}, got {state[:40]!r}")
    return state


def _experiments(call: Call, kind: str | None, project: str | None) -> list[Experiment]:
    """The token's client's experiments of one kind (and project), by the state filter."""
    state, client = _state(call), call.token.client
    found = []
    for experiment, meta in call.service.all_experiments():
        deleted = experiment.state is ExperimentState.DELETED
        if (state == "active" and deleted) or (state == "deleted" and not deleted):
            continue
        if not visible(experiment, client):
            continue
        if kind is not None and (meta.get("kind") or "experiment") != kind:
            continue
        if project is not None and meta.get("project") != project:
            continue
        found.append(experiment)
    return found


def _page(call: Call, experiments: list[Experiment], ai: bool) -> dict[str, Any]:
    by_id = {e.id: e for e in experiments}
    chosen, meta = page_ids(list(by_id), call.query)
    render = render_aiexperiment if ai else render_experiment
    return wrap([render(call.service, by_id[i]) for i in chosen], meta)


def list_experiments(call: Call) -> dict[str, Any]:
    """GET /v1/experiments and /v1/clients/{client}/experiments: core experiments."""
    if "client_id" in call.path:
        client_of(call)
    return _page(call, _experiments(call, "experiment", None), ai=False)


def list_aiexperiments(call: Call) -> dict[str, Any]:
    """GET /v1/aiexperiments: the client's AI experiments, of every project."""
    return _page(call, _experiments(call, "aiexperiment", None), ai=True)


def project_experiments(call: Call) -> dict[str, Any]:
    client_of(call)
    return _page(call, _experiments(call, "experiment", project_id_of(call)), ai=False)


def project_aiexperiments(call: Call) -> dict[str, Any]:
    client_of(call)
    return _page(call, _experiments(call, "aiexperiment", project_id_of(call)), ai=True)


def list_projects(call: Call) -> dict[str, Any]:
    """A client's projects, newest first (all on one page: project ids are names, and a
    client has few)."""
    client = client_of(call)
    projects = [json.loads(text) for text in call.service.projects(client)]
    projects.sort(key=lambda p: (-int(p.get("created") or 0), p["id"]))
    return whole(projects)
