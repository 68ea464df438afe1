"""Training runs outside an experiment: `sigopt.create_run(...)`, `sigopt run script.py` and
`sigopt.upload_runs([...])` create them under a project (state/project_runs.py holds them).

The `/v1/training_runs/{id}` endpoints are routed here first: a project run is read, merged
(runs.py's MERGE rules), archived and unarchived here; any other id goes on to runs.py. A
project run records no observation (there is no experiment), and takes no checkpoints (they
feed an experiment's early stopping; SigOpt's own server refuses them outside one too).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coordinator.api import ai, checkpoints, runs
from coordinator.api.bodies import object_id, raise_problems
from coordinator.api.http import Call, Reply
from coordinator.api.paging import pagination, whole
from coordinator.errors import InvalidInput, NotFound
from coordinator.service.experiments import Service
from coordinator.spec import models
from coordinator.spec.validation import Problems, as_mapping, child, describe, present
from coordinator.state.project_runs import ProjectRuns
from coordinator.state.states import RunState

MAX_BATCH = 10_000  # the client's own batch size (factory.upload_runs)


class Within(Problems):
    """Problems of one item of a list, their paths under its own (`runs[3].values...`)."""

    def __init__(self, prefix: str, into: Problems) -> None:
        super().__init__()
        self.prefix, self.into = prefix, into

    def add(self, path: str, message: str) -> None:
        super().add(path, message)
        self.into.add(f"{self.prefix}.{path}" if path else self.prefix, message)


@dataclass(frozen=True)
class Located:
    """A project run this token may see."""

    store: ProjectRuns
    client: str
    project: str
    run_id: str

    def stored(self) -> dict[str, Any]:
        text = self.store.run(self.client, self.project, self.run_id)
        if text is None:
            raise NotFound(f"training run {self.run_id} not found")
        run: dict[str, Any] = json.loads(text)
        return run


def locate(service: Service, raw_id: str, client: str) -> Located | None:
    """None when the id is not a project run's (runs.locate then answers for it); another
    client's run is "not found", like one that does not exist."""
    run_id = object_id(raw_id, "training_run", Problems())
    if run_id is None:
        return None
    store = ProjectRuns(service.store)
    home = store.home(run_id)
    if home is None:
        return None
    if home[0] != client:
        raise NotFound(f"training run {raw_id[:40]!r} not found")
    return Located(store, home[0], home[1], run_id)


def _check_assignments(raw: Any, problems: Problems) -> None:
    """A project run's parameters are whatever it logs: flat names -> numbers or strings."""
    assignments = as_mapping(raw, "assignments", problems)
    for name, value in (assignments or {}).items():
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, int | float | str)):
            problems.add(child("assignments", name), f"must be a number or a string, got "
                         f"{describe(value)}")


def check_run(raw: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    """A new run's fields (those of a MERGE but files and deleted), null as absent."""
    body = present(raw)
    runs.check_patch({k: v for k, v in body.items() if k != "assignments"}, problems)
    for key in ("files", "deleted"):
        if key in body:
            problems.add(key, "cannot be given when the run is created")
    if "assignments" in body:
        _check_assignments(body["assignments"], problems)
    return body


def new_record(run_id: str, client: str, project_id: str, body: dict[str, Any],
               default_state: RunState) -> dict[str, Any]:
    now = int(time.time())
    state = RunState(body.get("state") or default_state)
    finished = state is not RunState.ACTIVE
    run: dict[str, Any] = {
        "object": "training_run", "id": run_id, "experiment": None, "project": project_id,
        "client": client, "user": client, "name": f"run {run_id}", "state": state,
        "assignments": {}, "values": {}, "suggestion": None, "observation": None,
        "finished": finished, "completed": now if finished else None, "created": now,
        "updated": now, "deleted": False, "metadata": None, "source_code": None, "logs": {},
        "datasets": {}, "model": None, "files": [], "favorite": False, "tags": [],
        "checkpoint_count": 0, "best_checkpoint": None}
    run.update({k: v for k, v in body.items() if k != "state"})
    runs.bounded(run)
    return run


def _project(call: Call) -> tuple[str, str]:
    client = ai.client_of(call)
    project_id = ai.project_id_of(call)
    ai.ensure_project(call.service, client, project_id)
    return client, project_id


def post_run(call: Call) -> dict[str, Any]:
    """`sigopt.create_run`: an active run of the project, ended by the client's MERGE."""
    client, project_id = _project(call)
    problems = Problems()
    body = check_run(call.body, problems)
    models.check(models.ProjectRunCreate, body, problems)
    raise_problems(problems)
    run_id = call.service.store.allocate_ids(1)[0]
    run = new_record(run_id, client, project_id, body, RunState.ACTIVE)
    ProjectRuns(call.service.store).add(client, project_id,
                                        [(run_id, json.dumps(run, allow_nan=False))])
    return runs.render(run)


def post_batch(call: Call) -> dict[str, Any]:
    """`sigopt.upload_runs`: finished runs (state completed unless given), all or none; each
    problem named by its path (`runs[3].values.accuracy.value: must be a number`)."""
    client, project_id = _project(call)
    problems = Problems()
    body = present(call.body)
    unknown = sorted(set(body) - {"runs", "fields"})
    if unknown:
        problems.add("", f"unknown key(s) {unknown}; give runs: [...]")
    items = body.get("runs")
    if not isinstance(items, list) or not items or len(items) > MAX_BATCH:
        raise InvalidInput(f"runs: must be a list of 1 to {MAX_BATCH} training runs, got "
                           f"{describe(items)}")
    checked = []
    for i, item in enumerate(items):
        if as_mapping(item, f"runs[{i}]", problems) is not None:
            checked.append(check_run(item, Within(f"runs[{i}]", problems)))
    models.check(models.RunBatch, {**body, "runs": checked}, problems)
    raise_problems(problems)
    ids = call.service.store.allocate_ids(len(checked))
    made = [new_record(run_id, client, project_id, item, RunState.COMPLETED)
            for run_id, item in zip(ids, checked, strict=True)]
    ProjectRuns(call.service.store).add(
        client, project_id, [(r["id"], json.dumps(r, allow_nan=False)) for r in made])
    shown = [{"object": "training_run", "id": r["id"]} if body.get("fields") == "id"
             else runs.render(r) for r in made]
    return whole(shown)


def list_runs(call: Call) -> dict[str, Any]:
    """The project's runs: its experiments' and its own (a filter on an experiment leaves the
    project's own runs out: they belong to none)."""
    client = ai.client_of(call)
    project_id = ai.project_id_of(call)
    wanted = ai.experiment_filter(call.query.get("filters"))
    found = ai.experiments_runs(call.service, client, project_id, wanted)
    if wanted is None:
        found += [json.loads(t) for t in ProjectRuns(call.service.store).runs(client, project_id)]
    found.sort(key=lambda r: int(r["id"]))
    return pagination(found, [str(r["id"]) for r in found], call.query, runs.render,
                      lambda r: str(r["id"]))


def get_run(call: Call) -> dict[str, Any]:
    located = locate(call.service, call.path["run_id"], call.token.client)
    if located is None:
        return runs.get_run(call)
    return runs.render(located.stored())


def merge_run(call: Call) -> Reply:
    """MERGE and PUT: runs.py's rules (values, metadata, logs, state, deleted ...)."""
    located = locate(call.service, call.path["run_id"], call.token.client)
    if located is None:
        return runs.merge_run(call)
    patch = dict(call.body)
    runs.check_patch(patch)
    located.store.update(located.client, located.project, located.run_id, runs._apply(patch))
    if call.headers.get("x-response-content") == "skip":
        return Reply(status=204)
    return Reply(runs.render(located.stored()))


def delete_run(call: Call) -> Reply:
    located = locate(call.service, call.path["run_id"], call.token.client)
    if located is None:
        return runs.delete_run(call)
    located.store.update(located.client, located.project, located.run_id,
                         runs._apply({"deleted": True}))
    return Reply(status=204)


NO_CHECKPOINTS = ("belongs to no experiment: checkpoints feed an experiment's early stopping; "
                  "log the run's values with log_metric instead")


def post_checkpoint(call: Call) -> Reply:
    located = locate(call.service, call.path["run_id"], call.token.client)
    if located is None:
        return checkpoints.post_checkpoint(call)
    raise InvalidInput(f"training run {located.run_id} {NO_CHECKPOINTS}")


def list_checkpoints(call: Call) -> dict[str, Any]:
    located = locate(call.service, call.path["run_id"], call.token.client)
    if located is None:
        return checkpoints.list_checkpoints(call)
    return whole([])


def get_checkpoint(call: Call) -> dict[str, Any]:
    located = locate(call.service, call.path["run_id"], call.token.client)
    if located is None:
        return checkpoints.get_checkpoint(call)
    raise NotFound(f"checkpoint {call.path['checkpoint_id'][:40]!r} of training run "
                   f"{located.run_id} not found ({NO_CHECKPOINTS})")
