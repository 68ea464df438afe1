"""Celeriac records as the SigOpt v1 objects the official client parses.

Ids are strings, timestamps whole epoch seconds, assignment values typed by parameter
(double -> float, int -> int, categorical -> str).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coordinator.spec.early_stopping import EarlyStopping
from coordinator.spec.experiment import ExperimentSpec
from coordinator.spec.tasks import task_of
from coordinator.state.records import Experiment, ObservationRecord, Report, Suggestion
from coordinator.state.states import RunState, SuggestionState
from optimizer import Metric, Parameter


def parameter_json(p: Parameter) -> dict[str, Any]:
    body: dict[str, Any] = {"object": "parameter", "name": p.name, "type": p.type,
                            "bounds": None, "categorical_values": None,
                            "conditions": {name: list(values) for name, values in p.conditions},
                            "default_value": None, "grid": list(p.grid), "precision": None,
                            "prior": None if p.prior is None else
                            {"object": "prior", **p.prior.to_dict()}, "tunable": True,
                            "transformation": "log" if p.log else None}
    if p.type == "categorical":
        body["categorical_values"] = [{"object": "categorical_value", "name": name,
                                       "enum_index": i + 1}
                                      for i, name in enumerate(p.categories)]
    else:
        low, high = float(p.low or 0.0), float(p.high or 0.0)
        bounds = (int(low), int(high)) if p.type == "int" else (low, high)
        body["bounds"] = {"object": "bounds", "min": bounds[0], "max": bounds[1]}
    return body


def metric_json(m: Metric) -> dict[str, Any]:
    return {"object": "metric", "name": m.name, "objective": m.objective,
            "strategy": m.strategy, "threshold": m.threshold}


def _spec_fields(spec: ExperimentSpec) -> dict[str, Any]:
    return {"name": spec.name,
            "parameters": [parameter_json(p) for p in spec.parameters if not p.conditional],
            "metrics": [metric_json(m) for m in spec.metrics],
            "parallel_bandwidth": spec.parallel_bandwidth, "metadata": spec.metadata or None,
            "conditionals": [{"object": "conditional", "name": p.name,
                              "values": list(p.categories)}
                             for p in spec.parameters if p.conditional],
            "linear_constraints": [c.to_dict() for c in spec.linear_constraints],
            "num_solutions": 1,
            "development": False,
            "type": {"random": "random", "grid": "grid"}.get(spec.optimizer.type, "offline"),
            "tasks": [t.to_json() for t in spec.tasks] or None,
            "training_monitor": training_monitor_json(spec.early_stopping),
            "early_stopping": early_stopping_json(spec.early_stopping)}


def is_training_monitor(stopping: EarlyStopping) -> bool:
    """What `training_monitor` parses to (config.py): convergence counted in checkpoints with
    no max_resource. An `early_stopping` block saying exactly that is echoed the same way."""
    return stopping.scheduler == "convergence" and stopping.resource == "checkpoint" \
        and stopping.max_resource is None


def training_monitor_json(stopping: EarlyStopping | None) -> dict[str, Any] | None:
    """SigOpt's TrainingMonitor; min_relative_improvement (Celeriac's) only when given."""
    if stopping is None or not is_training_monitor(stopping):
        return None
    criteria = [{"object": "training_early_stopping_criteria", "type": "convergence",
                 "name": c.name or None, "metric": c.metric,
                 "lookback_checkpoints": c.lookback_checkpoints,
                 "min_checkpoints": c.min_checkpoints,
                 **({"min_relative_improvement": c.min_relative_improvement}
                    if c.min_relative_improvement else {})}
                for c in stopping.criteria]
    return {"object": "training_monitor", "max_checkpoints": stopping.max_checkpoints,
            "early_stopping_criteria": criteria}


def early_stopping_json(stopping: EarlyStopping | None) -> dict[str, Any] | None:
    """Celeriac's `early_stopping` block as a config would give it (it validates back to the
    same settings); null when there is none or it is a training_monitor."""
    if stopping is None or is_training_monitor(stopping):
        return None
    block: dict[str, Any] = {"scheduler": stopping.scheduler, "metric": stopping.metric,
                             "resource": stopping.resource,
                             "max_resource": stopping.max_resource,
                             "max_checkpoints": stopping.max_checkpoints}
    if stopping.scheduler == "convergence":
        first = stopping.criteria[0]
        block.update(lookback_checkpoints=first.lookback_checkpoints,
                     min_checkpoints=first.min_checkpoints,
                     min_relative_improvement=first.min_relative_improvement)
        return block
    block["min_resource"] = stopping.min_resource
    if stopping.scheduler == "median":
        block["min_samples"] = stopping.min_samples
    else:
        block["reduction_factor"] = stopping.reduction_factor
    if stopping.scheduler == "hyperband":
        block["brackets"] = stopping.brackets
    return block


def checkpoint_json(checkpoint_id: str, run_id: str, report: Report, spec: ExperimentSpec,
                    metadata: Mapping[str, Any] | None, reasons: dict[str, bool]
                    ) -> dict[str, Any]:
    """SigOpt's Checkpoint: should_stop is true once any stopping reason holds; values in the
    experiment's metric order."""
    names = [m.name for m in spec.metrics]
    return {"object": "checkpoint", "id": checkpoint_id, "created": int(report.at),
            "metadata": dict(metadata) if metadata else None,
            "should_stop": any(reasons.values()), "stopping_reasons": reasons,
            "training_run": run_id,
            "values": [{"object": "metric_evaluation", "name": name, "value": value,
                        "value_stddev": None} for name, value in
                       sorted(report.values.items(), key=lambda item: names.index(item[0]))]}


def experiment_json(experiment: Experiment, meta: Mapping[str, str],
                    progress: dict[str, Any]) -> dict[str, Any]:
    return {"object": "experiment", "id": experiment.id, **_spec_fields(experiment.spec),
            "observation_budget": experiment.spec.budget, "client": meta.get("client") or None,
            "user": meta.get("client") or None, "project": meta.get("project") or None,
            "created": experiment.created, "updated": int(meta.get("updated") or
                                                          experiment.created),
            "state": experiment.state.sigopt, "progress": progress}


def aiexperiment_json(experiment: Experiment, meta: Mapping[str, str],
                      progress: dict[str, Any]) -> dict[str, Any]:
    body = experiment_json(experiment, meta, progress)
    body.pop("observation_budget")
    return {**body, "object": "aiexperiment", "budget": experiment.spec.budget}


def suggestion_json(s: Suggestion, spec: ExperimentSpec) -> dict[str, Any]:
    task = task_of(spec.tasks, s.id)
    return {"object": "suggestion", "id": s.id, "experiment": s.experiment,
            "assignments": s.assignments, "state": "open" if s.is_open else "closed",
            "created": s.created // 1000, "deleted": s.state is SuggestionState.DELETED,
            "metadata": s.metadata or None, "task": task.to_json() if task else None}


def task_json(o: ObservationRecord) -> dict[str, Any] | None:
    return {"object": "task", **o.task} if o.task else None


def values_json(o: ObservationRecord) -> list[dict[str, Any]]:
    return [{"object": "metric_evaluation", "name": v.name, "value": v.value,
             "value_stddev": v.value_stddev} for v in o.values]


def _single_value(o: ObservationRecord, spec: ExperimentSpec) -> dict[str, Any]:
    """SigOpt's client model reads top-level value/value_stddev; filled for one metric."""
    if len(spec.metrics) != 1 or not o.values:
        return {"value": None, "value_stddev": None}
    return {"value": o.values[0].value, "value_stddev": o.values[0].value_stddev}


def observation_json(o: ObservationRecord, spec: ExperimentSpec) -> dict[str, Any]:
    return {"object": "observation", "id": o.id, "experiment": o.experiment,
            "suggestion": o.suggestion, "assignments": o.assignments, "created": int(o.created),
            "failed": o.failed, "metadata": o.metadata or None, "values": values_json(o),
            **_single_value(o, spec), "task": task_json(o)}


def best_assignments_json(o: ObservationRecord, spec: ExperimentSpec) -> dict[str, Any]:
    return {"object": "best_assignments", "id": o.id, "assignments": o.assignments,
            "metadata": o.metadata or None, "values": values_json(o),
            **_single_value(o, spec), "task": task_json(o)}


def core_progress(count: int, first: ObservationRecord | None, last: ObservationRecord | None,
                  best: list[ObservationRecord], spec: ExperimentSpec) -> dict[str, Any]:
    """SigOpt's progress: the count, the first, last and best observations."""
    return {"object": "progress", "observation_count": count,
            "observation_budget_consumed": float(count),
            "first_observation": observation_json(first, spec) if first else None,
            "last_observation": observation_json(last, spec) if last else None,
            "best_observation": observation_json(best[0], spec) if best else None}


def run_progress(runs: list[dict[str, Any]], budget: int | None) -> dict[str, Any]:
    """remaining_budget counts active runs as spent: that is the client loop's stop rule."""
    live = [r for r in runs if not r.get("deleted")]
    active = sum(r.get("state") == RunState.ACTIVE for r in live)
    finished = len(live) - active
    return {"object": "progress", "finished_run_count": finished, "active_run_count": active,
            "total_run_count": len(live),
            "remaining_budget": None if budget is None else max(0, budget - len(live))}
