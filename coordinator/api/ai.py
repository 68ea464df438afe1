"""SigOpt's AI module: the token's client, projects, AI experiments and their runs.

An AI experiment is an ordinary Celeriac experiment (same state machine, listed by
`coordinator list`) whose meta says `kind: aiexperiment` and names its project.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from coordinator.api import runs, serialize
from coordinator.api.bodies import raise_problems
from coordinator.api.core import (
    best_records,
    create_experiment,
    experiment_of,
    update_experiment,
)
from coordinator.api.http import Call
from coordinator.api.paging import whole
from coordinator.errors import Conflict, InvalidInput, NotFound
from coordinator.service.access import visible
from coordinator.service.experiments import Service
from coordinator.spec import models
from coordinator.spec.validation import Problems, as_text, flat_metadata, present, unknown_keys
from coordinator.state.records import Experiment

PROJECT_ID = re.compile(r"^[a-z0-9_.-]{1,64}$")


def token_self(call: Call) -> dict[str, Any]:
    return {"object": "token", "token": call.token_text, "client": call.token.client,
            "user": call.token.user, "development": False, "permissions": "write",
            "all_experiments": True, "expires": None, "token_type": "client-api",
            "experiment": None, "training_run": None, "last_used": None}


def client_of(call: Call) -> str:
    """Another client's projects are "not found" (not 403): a token learns nothing about
    which other clients exist."""
    client = call.path["client_id"]
    if client != call.token.client:
        raise NotFound(f"client {client[:40]!r} not found (this token acts for client "
                       f"{call.token.client!r})")
    return client


def project_id_of(call: Call) -> str:
    return _project_id(call.path["project_id"])


def _project_id(raw: Any) -> str:
    if not isinstance(raw, str) or not PROJECT_ID.match(raw):
        raise InvalidInput(f"id: a project id is 1-64 characters from a-z 0-9 - _ ., got "
                           f"{str(raw)[:40]!r}")
    return raw


def _new_project(client: str, project_id: str, name: str) -> str:
    now = int(time.time())
    return json.dumps({"object": "project", "id": project_id, "name": name,
                       "client": client, "user": client, "created": now, "updated": now,
                       "metadata": None})


def ensure_project(service: Service, client: str, project_id: str) -> dict[str, Any]:
    """Projects are created on first use (sigopt_api.md section 5)."""
    text = service.project(client, project_id)
    if text is None:
        service.add_project(client, project_id, _new_project(client, project_id, project_id))
        text = service.project(client, project_id)
    assert text is not None
    project: dict[str, Any] = json.loads(text)
    return project


def get_project(call: Call) -> dict[str, Any]:
    client = client_of(call)
    return ensure_project(call.service, client, _project_id(call.path["project_id"]))


def post_project(call: Call) -> dict[str, Any]:
    client = client_of(call)
    body, problems = present(call.body), Problems()
    unknown_keys(body, models.keys(models.ProjectCreate), "", problems)
    if body.get("metadata") is not None:
        flat_metadata(body["metadata"], "metadata", problems)
    raise_problems(problems)
    project_id = _project_id(body.get("id"))
    name = as_text(body.get("name", project_id), "name", problems, max_len=100)
    models.check(models.ProjectCreate, body, problems)
    raise_problems(problems)
    assert name is not None
    if not call.service.add_project(client, project_id, _new_project(client, project_id, name)):
        raise Conflict(f"project {project_id!r} already exists")
    return ensure_project(call.service, client, project_id)


def render_aiexperiment(service: Service, experiment: Experiment) -> dict[str, Any]:
    progress = serialize.run_progress(runs.experiment_runs(service, experiment),
                                      experiment.spec.budget)
    meta = service.experiment_meta(experiment.id)
    return serialize.aiexperiment_json(experiment, meta, progress)


def post_aiexperiment(call: Call) -> dict[str, Any]:
    client = client_of(call)
    project_id = _project_id(call.path["project_id"])
    ensure_project(call.service, client, project_id)
    experiment = create_experiment(call, kind="aiexperiment", project=project_id)
    return render_aiexperiment(call.service, experiment)


def get_aiexperiment(call: Call) -> dict[str, Any]:
    """A deleted (archived) AI experiment still reads, with `state: deleted`."""
    return render_aiexperiment(call.service, experiment_of(call, include_deleted=True))


def put_aiexperiment(call: Call) -> dict[str, Any]:
    return render_aiexperiment(call.service, update_experiment(call))


def post_run(call: Call) -> dict[str, Any]:
    experiment = experiment_of(call)
    run = runs.new_run(call.service, experiment, call.body, call.token.client)
    return runs.render(run)


def best_runs(call: Call) -> dict[str, Any]:
    experiment = experiment_of(call)
    by_observation = {r.get("observation"): r
                      for r in runs.experiment_runs(call.service, experiment)
                      if r.get("observation")}
    best = [by_observation[o.id] for o in best_records(call.service, experiment)
            if o.id in by_observation]
    return whole([runs.render(r) for r in best])


def experiment_filter(raw: str | None) -> str | None:
    """`get_runs()` sends filters=[{"field": "experiment", "operator": "==", "value": ID}]."""
    if not raw:
        return None
    try:
        filters = json.loads(raw)
    except ValueError:
        raise InvalidInput("filters: not valid JSON") from None
    supported = isinstance(filters, list) and len(filters) <= 1 and all(
        isinstance(f, dict) and f.get("field") == "experiment" and f.get("operator") == "=="
        for f in filters)
    if not supported:
        raise InvalidInput("filters: only [{field: experiment, operator: '==', value: ID}] is "
                           "supported")
    return str(filters[0].get("value")) if filters else None


def experiments_runs(service: Service, client: str, project_id: str, wanted: str | None
                     ) -> list[dict[str, Any]]:
    """The runs of the project's experiments (only experiment `wanted`'s, when given)."""
    found: list[dict[str, Any]] = []
    for experiment in service.experiments():
        meta = service.experiment_meta(experiment.id)
        if meta.get("project") != project_id or meta.get("client") != client \
                or not visible(experiment, client):
            continue
        if wanted is None or wanted == experiment.id:
            found += runs.experiment_runs(service, experiment)
    return found
