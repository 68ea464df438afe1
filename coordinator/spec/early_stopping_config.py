"""The config's `early_stopping:` and `checkpoints:` blocks (and SigOpt's `training_monitor`)
checked up front, every problem named by its path, like the rest of the config."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from coordinator.spec import models
from coordinator.spec.early_stopping import KEEP, SCHEDULERS, Checkpoints, Criterion, EarlyStopping
from coordinator.spec.validation import (
    Problems,
    as_choice,
    as_int,
    as_mapping,
    as_number,
    as_text,
    describe,
    unknown_keys,
)
from optimizer import Metric

COMMON = ("scheduler", "metric", "resource", "max_checkpoints")
KEYS = {
    "asha": (*COMMON, "min_resource", "max_resource", "reduction_factor"),
    "hyperband": (*COMMON, "min_resource", "max_resource", "reduction_factor", "brackets"),
    "median": (*COMMON, "min_resource", "max_resource", "min_samples"),
    "convergence": (*COMMON, "max_resource", "lookback_checkpoints", "min_checkpoints",
                    "min_relative_improvement"),
}
MONITOR_KEYS = models.keys(models.TrainingMonitor)
CRITERION_KEYS = models.keys(models.Criterion)
MAX_RUNGS = 64


def early_stopping(raw: Any, metrics: Sequence[Metric], problems: Problems,
                   path: str = "early_stopping") -> EarlyStopping | None:
    block = as_mapping(raw, path, problems)
    if block is None:
        return None
    scheduler = as_choice(block.get("scheduler"), SCHEDULERS, f"{path}.scheduler", problems)
    if scheduler is None:
        return None
    unknown_keys(block, KEYS[scheduler], path, problems)
    metric = _metric(block.get("metric"), metrics, f"{path}.metric", problems)
    resource = as_text(block.get("resource", "step"), f"{path}.resource", problems) or "step"
    max_checkpoints = _count(block, "max_checkpoints", path, problems)
    max_resource = _positive(block, "max_resource", path, problems)
    if scheduler == "convergence":
        lookback = _count(block, "lookback_checkpoints", path, problems, required=True)
        least = _count(block, "min_checkpoints", path, problems) or 1
        rel = _fraction(block, "min_relative_improvement", path, problems)
        if metric is None or lookback is None or rel is None:
            return None
        return EarlyStopping(scheduler, metric.name, metric.sign, resource,
                             max_resource=max_resource, max_checkpoints=max_checkpoints,
                             criteria=(Criterion(metric.name, metric.sign, lookback, least,
                                                 rel),))
    min_resource = _positive(block, "min_resource", path, problems) or 1.0
    if metric is None:
        return None
    if scheduler == "median":
        samples = _count(block, "min_samples", path, problems) or 3
        return EarlyStopping(scheduler, metric.name, metric.sign, resource, min_resource,
                             max_resource, min_samples=samples, max_checkpoints=max_checkpoints)
    return _rungs(block, scheduler, metric, resource, min_resource, max_resource,
                  max_checkpoints, path, problems)


def _rungs(block: Mapping[str, Any], scheduler: str, metric: Metric, resource: str,
           min_resource: float, max_resource: float | None, max_checkpoints: int | None,
           path: str, problems: Problems) -> EarlyStopping | None:
    if max_resource is None:
        problems.add(f"{path}.max_resource", f"required for scheduler: {scheduler} (the full "
                     f"training length in {resource}s, e.g. max_resource: 81)")
        return None
    eta = 3.0
    if block.get("reduction_factor") is not None:
        eta = as_number(block["reduction_factor"], f"{path}.reduction_factor", problems) or 0
        if eta and eta < 2:
            problems.add(f"{path}.reduction_factor", f"must be at least 2 (how many runs "
                         f"share one promotion), got {eta:g}")
            return None
        if not eta:
            return None
    if min_resource >= max_resource:
        problems.add(f"{path}.min_resource", f"{min_resource:g} must be below max_resource "
                     f"{max_resource:g}: no run could be stopped")
        return None
    levels = math.floor(math.log(max_resource / min_resource) / math.log(eta) + 1e-9)
    if levels > MAX_RUNGS:
        problems.add(path, f"max_resource / min_resource gives {levels} rungs; at most "
                     f"{MAX_RUNGS}: raise min_resource or reduction_factor")
        return None
    brackets = 1
    if scheduler == "hyperband":
        brackets = max(1, levels)
        if block.get("brackets") is not None:
            given = as_int(block["brackets"], f"{path}.brackets", problems, low=1,
                           high=max(1, levels))
            if given is None:  # the range is what min/max_resource and the factor allow
                return None
            brackets = given
    return EarlyStopping(scheduler, metric.name, metric.sign, resource, min_resource,
                         max_resource, eta, brackets, max_checkpoints=max_checkpoints)


def _metric(raw: Any, metrics: Sequence[Metric], path: str, problems: Problems
            ) -> Metric | None:
    ranked = [m for m in metrics if m.strategy != "store"]
    if raw is None:
        optimized = [m for m in metrics if m.strategy == "optimize"]
        if len(optimized) == 1:
            return optimized[0]
        problems.add(path, "required with more than one optimized metric: which one the "
                     "scheduler ranks runs by")
        return None
    for metric in metrics:
        if metric.name == raw:
            return metric
    names = ", ".join(m.name for m in ranked or metrics)
    problems.add(path, f"{describe(raw)} is not a metric of this experiment; use one of {names}")
    return None


def _count(block: Mapping[str, Any], key: str, path: str, problems: Problems,
           required: bool = False) -> int | None:
    if block.get(key) is None:
        if required:
            problems.add(f"{path}.{key}", "required for scheduler: convergence (how many "
                         "reports without improvement stop a run)")
        return None
    return as_int(block[key], f"{path}.{key}", problems, low=1, high=1_000_000)


def _positive(block: Mapping[str, Any], key: str, path: str, problems: Problems
              ) -> float | None:
    if block.get(key) is None:
        return None
    value = as_number(block[key], f"{path}.{key}", problems)
    if value is not None and value <= 0:
        problems.add(f"{path}.{key}", f"must be above 0, got {value:g}")
        return None
    return value


def _fraction(block: Mapping[str, Any], key: str, path: str, problems: Problems
              ) -> float | None:
    if block.get(key) is None:
        return 0.0
    value = as_number(block[key], f"{path}.{key}", problems)
    if value is not None and not 0 <= value < 1:
        problems.add(f"{path}.{key}", f"must be at least 0 and below 1, got {value:g}")
        return None
    return value


def training_monitor(raw: Any, metrics: Sequence[Metric], problems: Problems,
                     path: str = "training_monitor") -> EarlyStopping | None:
    """SigOpt's `training_monitor`: max_checkpoints and convergence criteria. Its checkpoints
    are the reports, so the resource is the checkpoint number."""
    block = as_mapping(raw, path, problems)
    if block is None:
        return None
    unknown_keys(block, MONITOR_KEYS, path, problems)
    max_checkpoints = _count(block, "max_checkpoints", path, problems)
    raw_criteria = block.get("early_stopping_criteria") or []
    if not isinstance(raw_criteria, list):
        problems.add(f"{path}.early_stopping_criteria", f"must be a list, got "
                     f"{describe(raw_criteria)}")
        return None
    criteria: list[Criterion] = []
    for i, item in enumerate(raw_criteria):
        where = f"{path}.early_stopping_criteria[{i}]"
        entry = as_mapping(item, where, problems)
        if entry is None:
            continue
        unknown_keys(entry, CRITERION_KEYS, where, problems)
        as_choice(entry.get("type", "convergence"), ("convergence",), f"{where}.type", problems)
        metric = _metric(entry.get("metric"), metrics, f"{where}.metric", problems)
        lookback = _count(entry, "lookback_checkpoints", where, problems, required=True)
        least = _count(entry, "min_checkpoints", where, problems) or 1
        rel = _fraction(entry, "min_relative_improvement", where, problems)
        name = as_text(entry.get("name", ""), f"{where}.name", problems,
                       max_len=100) if entry.get("name") else ""
        if metric is not None and lookback is not None and rel is not None:
            criteria.append(Criterion(metric.name, metric.sign, lookback, least, rel,
                                      name or ""))
    if not criteria and max_checkpoints is None:
        return None
    first = criteria[0] if criteria else None
    return EarlyStopping("convergence", first.metric if first else "",
                         first.sign if first else 1.0, "checkpoint",
                         max_checkpoints=max_checkpoints, criteria=tuple(criteria))


def checkpoints(raw: Any, problems: Problems, path: str = "checkpoints") -> Checkpoints:
    if raw is None:
        return Checkpoints()
    block = as_mapping(raw, path, problems)
    if block is None:
        return Checkpoints()
    unknown_keys(block, models.keys(models.Checkpoints), path, problems)
    store = as_text(block["store"], f"{path}.store", problems, max_len=2000) \
        if block.get("store") else ""
    keep = as_choice(block.get("keep", "last"), KEEP, f"{path}.keep", problems)
    return Checkpoints(store or Checkpoints.store, keep or "last")


def resource_budget(top: Mapping[str, Any], problems: Problems) -> float | None:
    if top.get("resource_budget") is None:
        return None
    value = as_number(top["resource_budget"], "resource_budget", problems)
    if value is not None and value <= 0:
        problems.add("resource_budget", f"must be above 0, got {value:g}")
        return None
    return value
