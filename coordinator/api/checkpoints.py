"""Checkpoints of training runs (`sigopt.log_checkpoint`, the Core client's
`training_runs(id).checkpoints()`): each one is a report on the run's suggestion through
`progress.report`, at step = its number in the run, so the experiment's early stopping
(`training_monitor` or `early_stopping`) decides on it exactly as on a Celery worker's report.

The values live in the run's learning curve in Redis; the run's JSON keeps only each checkpoint's
id and metadata, the first stop and the best one, under a key that `runs.render` leaves out, so
the run the client reads (and that travels in SIGOPT_CONTEXT) stays small.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from coordinator.api import runs, serialize
from coordinator.api.bodies import object_id, raise_problems
from coordinator.api.http import Call, Reply
from coordinator.api.paging import pagination
from coordinator.errors import Conflict, InvalidInput, NotFound
from coordinator.service import progress
from coordinator.service.experiments import Service
from coordinator.spec import models
from coordinator.spec.early_stopping import Criterion
from coordinator.spec.experiment import ExperimentSpec
from coordinator.spec.validation import (
    Problems,
    as_mapping,
    as_number,
    child,
    describe,
    flat_metadata,
    present,
    unknown_keys,
)
from coordinator.state.records import Experiment, Report
from coordinator.state.states import ReportReply, RunState
from coordinator.state.store import step_text

LOG = runs.LOG
ENDS = (ReportReply.STOP, ReportReply.DONE)


def post_checkpoint(call: Call) -> Reply:
    """A checkpoint is a report (progress.report) at step = its number in the run, so the
    experiment's early stopping decides on it exactly as on a Celery worker's report."""
    experiment, run_id = runs.locate(call.service, call.path["run_id"], call.token.client)
    body, problems = present(call.body), Problems()
    unknown_keys(body, models.keys(models.CheckpointCreate), "", problems)
    values = checkpoint_values(body.get("values"), experiment.spec, problems)
    metadata = flat_metadata(body["metadata"], "metadata", problems) \
        if "metadata" in body else {}
    models.check(models.CheckpointCreate, body, problems)
    raise_problems(problems)
    run = runs.stored(call.service, experiment, run_id)
    _check_takes_checkpoints(run, experiment.spec)
    checkpoint = _log_checkpoint(call.service, experiment, run, values, metadata)
    if call.headers.get("x-response-content") == "skip":
        return Reply(status=204)
    return Reply(checkpoint)


def list_checkpoints(call: Call) -> dict[str, Any]:
    experiment, run_id = runs.locate(call.service, call.path["run_id"], call.token.client)
    found = checkpoints_of(call.service, experiment, runs.stored(call.service, experiment, run_id))
    return pagination(found, [c["id"] for c in found], call.query, lambda c: c,
                      lambda c: str(c["id"]))


def get_checkpoint(call: Call) -> dict[str, Any]:
    experiment, run_id = runs.locate(call.service, call.path["run_id"], call.token.client)
    wanted = object_id(call.path["checkpoint_id"], "checkpoint", Problems())
    for checkpoint in checkpoints_of(call.service, experiment,
                                     runs.stored(call.service, experiment, run_id)):
        if checkpoint["id"] == wanted:
            return checkpoint
    raise NotFound(f"checkpoint {call.path['checkpoint_id'][:40]!r} of training run {run_id} "
                   f"not found")


def checkpoint_values(raw: Any, spec: ExperimentSpec, problems: Problems) -> dict[str, float]:
    """The client's list of {name, value}, or a mapping name -> value (or -> {value})."""
    names = [m.name for m in spec.metrics]
    values: dict[str, float] = {}
    for path, name_path, name, item in _value_entries(raw, problems):
        if isinstance(item, Mapping):
            entry = present(item)
            unknown_keys(entry, models.keys(models.RunValue), path, problems)
            if "value_stddev" in entry:
                problems.add(f"{path}.value_stddev", "checkpoints keep values only; give "
                             "value_stddev with the run's final values")
            item, where = entry.get("value"), f"{path}.value"
        else:
            where = path
        if not isinstance(name, str) or name not in names:
            problems.add(name_path, f"{describe(name)} is not a metric of this experiment; "
                         f"use one of {', '.join(names)}")
        elif name in values:
            problems.add(name_path, f"duplicate metric {name!r}")
        number = as_number(item, where, problems)
        if isinstance(name, str) and name in names and number is not None:
            values.setdefault(name, number)
    stopping = spec.early_stopping
    needed = ([c.metric for c in stopping.criteria] if stopping.scheduler == "convergence"
              else [stopping.metric]) if stopping else []
    for name in needed:
        if values and not problems and name not in values:
            problems.add("values", f"metric {name!r} is missing; the experiment's early "
                         f"stopping ranks runs by it")
    return values


def _value_entries(raw: Any, problems: Problems) -> list[tuple[str, str, Any, Any]]:
    """(path, path of the name, metric name, value or {value, ...}) for each entry."""
    if isinstance(raw, Mapping) and raw:
        return [(child("values", name), child("values", name), name, item)
                for name, item in raw.items()]
    if isinstance(raw, list) and raw:
        entries = []
        for i, item in enumerate(raw):
            entry = as_mapping(item, f"values[{i}]", problems)
            if entry is not None:
                entries.append((f"values[{i}]", f"values[{i}].name", entry.get("name"),
                                entry))
        return entries
    problems.add("values", f"required: the checkpoint's metric values, a list of {{name, "
                 f"value}} (or a mapping name -> value), got {describe(raw)}")
    return []


def _check_takes_checkpoints(run: dict[str, Any], spec: ExperimentSpec) -> None:
    if run.get("state") != RunState.ACTIVE:
        raise Conflict(f"training run {run['id']} is {run.get('state')}: a finished run takes "
                       f"no more checkpoints")
    most = spec.early_stopping.max_checkpoints if spec.early_stopping else None
    if most is not None and int(run.get("checkpoint_count") or 0) >= most:
        raise Conflict(f"training run {run['id']} has its max_checkpoints ({most}) "
                       f"checkpoints; end the run (state: completed)")


def _log_checkpoint(service: Service, experiment: Experiment, run: dict[str, Any],
                    values: dict[str, float], metadata: dict[str, Any]) -> dict[str, Any]:
    sid = str(run["suggestion"])
    suggestion = service.suggestion(experiment.id, sid)
    last = max(int(run.get("checkpoint_count") or 0),
               math.floor(suggestion.step or 0) if suggestion else 0)
    step, checkpoint_id = last + 1, service.new_id()
    try:
        decision = progress.report(service.store, experiment.spec, experiment.id, sid, None,
                                   step, values)
    except InvalidInput as exc:  # every field was checked: only a concurrent checkpoint
        raise Conflict(f"training run {run['id']}: another checkpoint was logged at the same "
                       f"time ({exc.message}); log a run's checkpoints one after another"
                       ) from None
    if not decision.status.goes_on and decision.status not in ENDS:
        raise Conflict(f"training run {run['id']}: its suggestion {sid} is "
                       f"{str(decision.status).lower()} (it has its observation, or was "
                       f"deleted); the run takes no more checkpoints")
    reason = decision.reason if decision.status in ENDS else ""
    service.update_run(experiment.id, run["id"],
                       _add_checkpoint(experiment.spec, step, checkpoint_id, values, metadata,
                                       reason))
    report = Report(step=float(step), values=values, at=time.time())
    return serialize.checkpoint_json(checkpoint_id, run["id"], report, experiment.spec,
                                     metadata, stopping_reasons(experiment.spec, reason))


def _add_checkpoint(spec: ExperimentSpec, step: int, checkpoint_id: str,
                    values: dict[str, float], metadata: dict[str, Any], reason: str
                    ) -> Callable[[str], str]:
    """The run keeps step -> checkpoint id, each checkpoint's metadata, the first stop, and
    its best checkpoint (by the first optimized metric); the values stay in the curve."""
    def change(text: str) -> str:
        run = json.loads(text)
        log = run.get(LOG) or {}
        log.setdefault("ids", {})[step_text(step)] = checkpoint_id
        if metadata:
            log.setdefault("metadata", {})[checkpoint_id] = metadata
        if reason and (log.get("stop_step") is None or step < log["stop_step"]):
            log["stop_step"], log["stop_reason"] = step, reason
        first = spec.optimized_metrics[0]
        if first.name in values and (log.get("best") is None or
                                     first.sign * values[first.name] > log["best"]):
            log["best"], run["best_checkpoint"] = first.sign * values[first.name], checkpoint_id
        run[LOG], run["checkpoint_count"] = log, len(log["ids"])
        run["updated"] = int(time.time())
        return runs.bounded(run)
    return change


def checkpoints_of(service: Service, experiment: Experiment, run: dict[str, Any]
                   ) -> list[dict[str, Any]]:
    """The run's checkpoints, from its curve in Redis and the ids its JSON keeps."""
    log = run.get(LOG) or {}
    ids, metadata = log.get("ids") or {}, log.get("metadata") or {}
    stop_step, reason = log.get("stop_step"), log.get("stop_reason") or ""
    found = []
    for report in service.store.curve(experiment.id, str(run["suggestion"])):
        checkpoint_id = ids.get(step_text(report.step))
        if checkpoint_id is None:
            continue
        stopped = stop_step is not None and report.step >= stop_step
        found.append(serialize.checkpoint_json(
            checkpoint_id, run["id"], report, experiment.spec, metadata.get(checkpoint_id),
            stopping_reasons(experiment.spec, reason if stopped else "")))
    return found


def stopping_reasons(spec: ExperimentSpec, reason: str) -> dict[str, bool]:
    """SigOpt's {criterion name: bool}: every way this experiment stops a run, the one that
    stopped it true. Celeriac's schedulers and limits are named by their config key."""
    stopping = spec.early_stopping
    keys: list[str] = []
    if stopping is not None:
        keys += [_criterion_key(c) for c in stopping.criteria] \
            if stopping.scheduler == "convergence" else [stopping.scheduler]
        keys += [k for k in ("max_resource", "max_checkpoints")
                 if getattr(stopping, k) is not None]
    if spec.resource_budget is not None:
        keys.append("resource_budget")
    reasons = dict.fromkeys(keys, False)
    if reason:
        reasons[_reason_key(spec, reason)] = True
    return reasons


def _criterion_key(criterion: Criterion) -> str:
    return criterion.name or f"convergence of {criterion.metric}"


def _reason_key(spec: ExperimentSpec, reason: str) -> str:
    """Which key of stopping_reasons report.lua's reason stands for (its wording is fixed
    there: 'convergence: M has not improved in the last N checkpoints', 'asha: ...')."""
    stopping = spec.early_stopping
    for criterion in stopping.criteria if stopping else ():
        if reason == (f"convergence: {criterion.metric} has not improved in the last "
                      f"{criterion.lookback_checkpoints} checkpoints"):
            return _criterion_key(criterion)
    for key, opening in (("max_resource", "reached max_resource"),
                         ("max_checkpoints", "reached max_checkpoints"),
                         ("resource_budget", "the resource budget")):
        if reason.startswith(opening):
            return key
    if stopping is not None and reason.split(":")[0] in ("asha", "median"):
        return stopping.scheduler
    return reason[:100]
