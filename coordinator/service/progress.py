"""Intermediate results of training runs, checked before they reach the store.

Workers (through the evaluation's context), command evaluations (through worker.script) and the
HTTP API's checkpoints all report through `report`, so a bad report gets the same one-line
error everywhere and nothing of it is stored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from coordinator.errors import InvalidInput
from coordinator.spec.experiment import ExperimentSpec
from coordinator.spec.validation import as_float, describe
from coordinator.state.records import Report
from coordinator.state.states import ReportReply
from coordinator.state.store import Decision, Store


def check_report(spec: ExperimentSpec, step: Any, values: Mapping[str, Any],
                 epoch: int = 0) -> Report:
    if isinstance(step, bool) or not isinstance(step, int | float) or \
            not math.isfinite(float(step)) or step < 0:
        raise InvalidInput(f"report: step must be a finite number >= 0 (the {_resource(spec)} "
                           f"reached), got {describe(step)}")
    names = [m.name for m in spec.metrics]
    clean: dict[str, float] = {}
    for name, value in values.items():
        if name not in names:
            raise InvalidInput(f"report: {describe(name)} is not a metric of this experiment; "
                               f"report one of {', '.join(names)}")
        number = as_float(value)
        if number is None or not math.isfinite(number):
            raise InvalidInput(f"report: metric {name!r} is {describe(value)}, not a finite "
                               f"number")
        clean[name] = number
    ranked = spec.early_stopping.ranked if spec.early_stopping else []
    for name, _ in ranked:
        if name not in clean:
            raise InvalidInput(f"report: metric {name!r} is missing; the early-stopping "
                               f"scheduler ranks runs by it")
    if not clean:
        raise InvalidInput(f"report: no metric value given; report one of {', '.join(names)}")
    return Report(step=float(step), values=clean, epoch=epoch, at=round(time.time(), 3))


def report(store: Store, spec: ExperimentSpec, experiment_id: str, suggestion_id: str,
           epoch: int | None, step: Any, values: Mapping[str, Any]) -> Decision:
    """Checks the report, records it and returns the scheduler's decision; a step that does
    not rise is refused here with the last step named (BACKWARD never reaches the caller)."""
    checked = check_report(spec, step, values, epoch or 0)
    decision = store.report(experiment_id, suggestion_id, epoch, checked, spec.early_stopping,
                            spec.resource_budget)
    if decision.status is ReportReply.BACKWARD:
        raise InvalidInput(f"report: step {checked.step:g} is not above the last step "
                           f"reported, {decision.reason}; steps must increase")
    return decision


def _resource(spec: ExperimentSpec) -> str:
    return spec.early_stopping.resource if spec.early_stopping else "step"
