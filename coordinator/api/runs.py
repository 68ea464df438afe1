"""Training runs of AI experiments: each one serves a suggestion and, when it ends, records the
observation for that suggestion (failed when a metric is missing or the run failed).

A run is stored as the TrainingRun JSON the client reads; MERGE is a compare-and-set in the
store (update_run.lua), so concurrent `log_metric` calls and the final state change never lose
each other, and the run's state only moves along the RunState edges (a finished run stays so).

A run with checkpoints (api/checkpoints.py) ends with its last checkpoint's values when it
logged no final ones, the number of checkpoints as its resource, and `stopped` when the
experiment's early stopping ended it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from coordinator.api.bodies import object_id, raise_problems
from coordinator.api.http import Call, Reply
from coordinator.errors import InvalidInput, NotFound
from coordinator.service.access import visible
from coordinator.service.experiments import Service, create_suggestion_now
from coordinator.spec import models
from coordinator.spec.validation import (
    Problems,
    as_choice,
    as_mapping,
    as_number,
    as_text,
    flat_metadata,
    present,
    unknown_keys,
)
from coordinator.state.records import Experiment
from coordinator.state.states import ObserveReply, RunState

MERGEABLE = models.keys(models.RunMerge)
STATES = tuple(RunState)
MAX_RUN_CHARS = 1_000_000
LOG = "checkpoint_log"  # the run's checkpoint bookkeeping, stored but never rendered


def new_run(service: Service, experiment: Experiment, body: Mapping[str, Any],
            client: str) -> dict[str, Any]:
    problems = Problems()
    raw = present(body)
    unknown_keys(raw, models.keys(models.RunCreate), "", problems)
    name = as_text(raw["name"], "name", problems, max_len=300) if "name" in raw else None
    metadata = flat_metadata(raw["metadata"], "metadata", problems) if "metadata" in raw else {}
    models.check(models.RunCreate, raw, problems)
    raise_problems(problems)
    suggestion = create_suggestion_now(service, experiment)
    run_id = service.new_id()
    now = int(time.time())
    project = service.experiment_meta(experiment.id).get("project") or None
    run: dict[str, Any] = {
        "object": "training_run", "id": run_id, "experiment": experiment.id,
        "project": project, "client": client, "user": client, "name": name or f"run {run_id}",
        "state": RunState.ACTIVE, "assignments": suggestion.assignments, "values": {},
        "suggestion": suggestion.id, "observation": None, "finished": False,
        "completed": None, "created": now, "updated": now, "deleted": False,
        "metadata": metadata or None, "source_code": None, "logs": {}, "datasets": {},
        "model": None, "files": [], "favorite": False, "tags": [], "checkpoint_count": 0,
        "best_checkpoint": None}
    service.add_run(experiment.id, run_id, json.dumps(run, allow_nan=False))
    return run


def _check_values(raw: Any, problems: Problems) -> None:
    values = as_mapping(raw, "values", problems)
    for name, item in (values or {}).items():
        if item is None:
            continue
        entry = as_mapping(item, f"values.{name}", problems)
        if entry is None:
            continue
        entry = present(entry)
        unknown_keys(entry, models.keys(models.RunValue), f"values.{name}", problems)
        if "value" in entry:
            as_number(entry["value"], f"values.{name}.value", problems)
        stddev = entry.get("value_stddev")
        if stddev is not None and (as_number(stddev, f"values.{name}.value_stddev", problems)
                                   or 0) < 0:
            problems.add(f"values.{name}.value_stddev", "must be >= 0")


def check_patch(patch: Mapping[str, Any], into: Problems | None = None) -> None:
    """Raises the problems found, unless `into` collects them (a batch checks many runs)."""
    problems = Problems() if into is None else into
    unknown_keys(patch, MERGEABLE, "", problems)
    if patch.get("state") is not None:
        as_choice(patch["state"], STATES, "state", problems)
    if patch.get("values") is not None:
        _check_values(patch["values"], problems)
    if patch.get("metadata") is not None:
        flat_metadata(patch["metadata"], "metadata", problems)
    if patch.get("name") is not None:
        as_text(patch["name"], "name", problems, max_len=300)
    if patch.get("deleted") is not None and not isinstance(patch["deleted"], bool):
        problems.add("deleted", "must be true (archive the run) or false (unarchive it)")
    if into is None:
        models.check(models.RunMerge, present(patch), problems)
        raise_problems(problems)


def deep_merge(old: Any, patch: Any) -> Any:
    """MERGE semantics: dicts merge recursively, a null removes the key, the rest replaces."""
    if not isinstance(old, dict) or not isinstance(patch, dict):
        return patch
    merged = dict(old)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = deep_merge(merged.get(key), value)
    return merged


def _apply(patch: dict[str, Any]) -> Callable[[str], str]:
    def change(text: str) -> str:
        run = json.loads(text)
        merged = deep_merge(run, patch)
        for key in ("values", "logs", "datasets"):
            merged.setdefault(key, {})
        merged["state"] = merged.get("state") or run["state"]
        merged["updated"] = int(time.time())
        if RunState(run["state"]).finishes_at(RunState(merged["state"])):
            merged["finished"], merged["completed"] = True, merged["updated"]
        return bounded(merged)
    return change


def bounded(run: dict[str, Any]) -> str:
    """Each MERGE is checked, but merges add up: the merged run must still meet the metadata
    rule, and stay small (it travels whole in SIGOPT_CONTEXT to `start-worker` children)."""
    problems = Problems()
    if run.get("metadata") is not None:
        flat_metadata(run["metadata"], "metadata", problems)
    raise_problems(problems)
    text = json.dumps(run, allow_nan=False)
    if len(text) > MAX_RUN_CHARS:
        raise InvalidInput(f"training run: would grow past {MAX_RUN_CHARS} characters; log "
                           f"less (large logs and files belong elsewhere)")
    return text


def locate(service: Service, raw_id: str, client: str) -> tuple[Experiment, str]:
    """Another client's run is "not found", exactly like a run that does not exist."""
    problems = Problems()
    run_id = object_id(raw_id, "training_run", problems)
    experiment_id = service.run_experiment(run_id) if run_id else None
    missing = NotFound(f"training run {raw_id[:40]!r} not found")
    if not run_id or not experiment_id:
        raise missing
    try:
        experiment = service.experiment(experiment_id, include_deleted=True)
    except NotFound:
        raise missing from None
    if not visible(experiment, client):
        raise missing
    return experiment, run_id


def stored(service: Service, experiment: Experiment, run_id: str) -> dict[str, Any]:
    text = service.run(experiment.id, run_id)
    if text is None:
        raise NotFound(f"training run {run_id} not found")
    run: dict[str, Any] = json.loads(text)
    return run


def load(service: Service, experiment: Experiment, run_id: str) -> dict[str, Any]:
    return render(stored(service, experiment, run_id))


def render(run: dict[str, Any]) -> dict[str, Any]:
    run.pop(LOG, None)
    values = run.get("values") or {}
    run["values"] = {name: {"object": "metric_evaluation", "name": name, "value_stddev": None,
                            **(item if isinstance(item, dict) else {})}
                     for name, item in values.items()}
    return run


def finish(service: Service, experiment: Experiment, run: dict[str, Any]) -> None:
    """The run ended: record its suggestion's observation once."""
    suggestion = service.suggestion(experiment.id, str(run["suggestion"]))
    if suggestion is None or not suggestion.is_open:
        return
    failed = RunState(run["state"]) is RunState.FAILED
    count = int(run.get("checkpoint_count") or 0)
    values = _final_values(service, experiment, run, count)
    record = service.new_observation(experiment, suggestion, values, failed=failed,
                                     reason="the training run failed" if failed else "",
                                     metadata={"training_run": run["id"]},
                                     resource=float(count) if count else None,
                                     stopped=suggestion.stopped)
    if service.try_observe(record) is ObserveReply.OK:
        service.update_run(experiment.id, run["id"], _apply({"observation": record.id}))


def _final_values(service: Service, experiment: Experiment, run: dict[str, Any], count: int
                  ) -> dict[str, tuple[float, float | None]]:
    """The values the run logged; when it logged none but has checkpoints, its last one's."""
    names = {m.name for m in experiment.spec.metrics}
    values = {name: (item["value"], item.get("value_stddev"))
              for name, item in (run.get("values") or {}).items()
              if name in names and isinstance(item, dict) and item.get("value") is not None}
    if values or not count:
        return values
    curve = service.store.curve(experiment.id, str(run["suggestion"]))
    last = curve[-1].values if curve else {}
    return {name: (value, None) for name, value in last.items() if name in names}


def merge_run(call: Call) -> Reply:
    experiment, run_id = locate(call.service, call.path["run_id"], call.token.client)
    patch = dict(call.body)
    check_patch(patch)
    changed = call.service.update_run(experiment.id, run_id, _apply(patch))
    if changed.finishes:
        finish(call.service, experiment, json.loads(changed.new))
    if call.headers.get("x-response-content") == "skip":
        return Reply(status=204)
    return Reply(load(call.service, experiment, run_id))


def delete_run(call: Call) -> Reply:
    """Archives the run (SigOpt's soft delete): it still reads, with `deleted: true`."""
    experiment, run_id = locate(call.service, call.path["run_id"], call.token.client)
    call.service.update_run(experiment.id, run_id, _apply({"deleted": True}))
    return Reply(status=204)


def archive_runs(service: Service, experiment: Experiment) -> None:
    """Every run of an experiment archived (DELETE of an AI experiment with include_runs)."""
    for run in experiment_runs(service, experiment):
        if not run.get("deleted"):
            service.update_run(experiment.id, str(run["id"]), _apply({"deleted": True}))


def get_run(call: Call) -> dict[str, Any]:
    experiment, run_id = locate(call.service, call.path["run_id"], call.token.client)
    return load(call.service, experiment, run_id)


def experiment_runs(service: Service, experiment: Experiment) -> list[dict[str, Any]]:
    return [json.loads(text) for text in service.runs(experiment.id)]
