"""A tiny helper for command-style evaluations (`command: python run-model.py`).

    from worker.script import params, log_metric
    p = params()                     # {"C": 1.5, "kernel": "rbf", ...}, exact types
    log_metric("accuracy", 0.93)     # or log_metric("accuracy", 0.93, stddev=0.01)

Training runs report progress, stop early and resume from checkpoints with the same calls as
a Python evaluation's context (worker/context.py):

    from worker import script
    state = script.load_checkpoint()          # None for a fresh run
    for epoch in range(script.start_step() + 1, 82):
        loss = train_one_epoch()
        script.save_checkpoint(epoch, state)
        if not script.report(epoch, loss):    # the scheduler said stop
            break
    script.log_metric("loss", loss)           # optional: else the last report counts

The worker hands the assignments over in CELERIAC_ASSIGNMENTS (JSON) and as `--name value`
arguments, and reads metrics from the file named by CELERIAC_METRICS_FILE (one JSON object a
line). Run outside a worker, params() parses `--name value` arguments and log_metric prints.
"""

from __future__ import annotations

import json
import os
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

ASSIGNMENTS_ENV = "CELERIAC_ASSIGNMENTS"
METRICS_FILE_ENV = "CELERIAC_METRICS_FILE"
REDIS_ENV = "CELERIAC_REDIS_URL"
EXPERIMENT_ENV = "CELERIAC_EXPERIMENT_ID"
SUGGESTION_ENV = "CELERIAC_SUGGESTION_ID"
EPOCH_ENV = "CELERIAC_EPOCH"
CHECKPOINT_ENV = "CELERIAC_CHECKPOINT"
CHECKPOINT_STEP_ENV = "CELERIAC_CHECKPOINT_STEP"
TASK_ENV = "CELERIAC_TASK"  # multitask experiments: the task's name
TASK_COST_ENV = "CELERIAC_TASK_COST"

if TYPE_CHECKING:
    from worker.context import TrainingContext


def child_env(redis_url: str, context: TrainingContext) -> dict[str, str]:
    """What a command's process needs to report and checkpoint as its worker would."""
    task = {TASK_ENV: context.task.name, TASK_COST_ENV: repr(context.task.cost)} \
        if context.task else {}
    return {REDIS_ENV: redis_url, EXPERIMENT_ENV: context.experiment.id,
            SUGGESTION_ENV: context.suggestion_id, EPOCH_ENV: str(context.epoch),
            CHECKPOINT_ENV: context.resume_from,
            CHECKPOINT_STEP_ENV: repr(context.start_step), **task}


def task() -> tuple[str, float] | None:
    """In a multitask experiment, the (name, cost) of the task to evaluate; else None."""
    name = os.environ.get(TASK_ENV)
    return (name, float(os.environ[TASK_COST_ENV])) if name else None


@cache
def _context() -> TrainingContext | None:
    """The training context of the worker that started this process, rebuilt from its
    environment; None when run by hand."""
    if not os.environ.get(EPOCH_ENV) or not os.environ.get(REDIS_ENV):
        return None
    from coordinator.infra.connection import connect  # noqa: PLC0415  # only inside a worker
    from coordinator.state.store import Store  # noqa: PLC0415
    from worker.context import TrainingContext  # noqa: PLC0415
    store = Store(connect(os.environ[REDIS_ENV]))
    experiment_id = os.environ[EXPERIMENT_ENV]
    from coordinator.state.records import Experiment  # noqa: PLC0415
    experiment = Experiment.from_meta(store.experiment_meta(experiment_id))
    step = os.environ.get(CHECKPOINT_STEP_ENV) or "0"
    return TrainingContext(store, experiment, os.environ[SUGGESTION_ENV],
                           int(os.environ[EPOCH_ENV]), params(),
                           os.environ.get(CHECKPOINT_ENV, ""), float(step) or None)


def report(step: float, value: float | None = None, **metrics: float) -> bool:
    """Records the metrics reached at `step`; False once the run should stop (by hand: prints
    the report and goes on)."""
    context = _context()
    if context is None:
        print(json.dumps({"step": step, "value": value, **metrics}), flush=True)
        return True
    return context.report(step, value, **metrics)


def should_stop() -> bool:
    context = _context()
    return context.should_stop() if context is not None else False


def start_step() -> int:
    """The step the latest checkpoint holds (0 for a fresh run): go on from the next one."""
    context = _context()
    return int(context.start_step) if context is not None else 0


def save_checkpoint(step: float, state: Any) -> None:
    context = _context()
    if context is not None:
        context.save_checkpoint(step, state)


def load_checkpoint() -> Any | None:
    context = _context()
    return context.load_checkpoint() if context is not None else None


def params() -> dict[str, Any]:
    raw = os.environ.get(ASSIGNMENTS_ENV)
    if raw:
        return dict(json.loads(raw))
    return _from_argv(sys.argv[1:])


def _from_argv(argv: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for flag, value in zip(argv[::2], argv[1::2], strict=False):
        if flag.startswith("--"):
            found[flag[2:]] = _number_or_text(value)
    return found


def _number_or_text(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def log_metric(name: str, value: float, stddev: float | None = None) -> None:
    line = json.dumps({"name": name, "value": value, "value_stddev": stddev})
    path = os.environ.get(METRICS_FILE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
    else:
        print(line, flush=True)
