"""What an evaluation may use while it trains: report progress, learn whether to stop, and save
and load checkpoints that outlive this worker.

A Python evaluation that takes a second argument receives it (`def evaluate(params, run)`),
and any code below it reaches it with `worker.context.current()`; a command evaluation uses the
same through `worker.script`:

    for epoch in range(run.start_step + 1, 82):
        loss = train_one_epoch(model)
        run.save_checkpoint(epoch, model.state_dict())     # optional: resume here elsewhere
        if not run.report(epoch, loss):                    # the scheduler said stop
            break
    return loss

`report` answers False once the run should end: the early-stopping scheduler stopped it, or
it reached max_resource. The run then ends with whatever it returns; returning nothing ends it
with its last report.
"""

from __future__ import annotations

import contextvars
import logging
import pickle
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coordinator.service.progress import report as record_report
from coordinator.spec.tasks import task_of
from coordinator.state.records import Experiment
from coordinator.state.states import CheckpointReply, ReportReply
from coordinator.state.store import Store
from worker.checkpoints import CheckpointStore

log = logging.getLogger(__name__)
_CURRENT: contextvars.ContextVar[TrainingContext | None] = contextvars.ContextVar(
    "celeriac_training_context", default=None)


class LeaseLost(Exception):
    """This worker no longer holds the run (it went to another worker): stop training."""


class TrainingContext:
    def __init__(self, store: Store, experiment: Experiment, suggestion_id: str, epoch: int,
                 assignments: Mapping[str, Any], checkpoint: str = "",
                 checkpoint_step: float | None = None) -> None:
        self.store = store
        self.experiment = experiment
        self.suggestion_id = suggestion_id
        self.epoch = epoch
        self.assignments = dict(assignments)
        self.resume_from = checkpoint  # the checkpoint an earlier attempt left, if any
        self.start_step: float = checkpoint_step or 0  # the step to go on from
        self.stop_reason = ""
        self.stopped = False  # the scheduler stopped it (not merely reaching its end)
        self.lost = False
        self.step: float | None = None  # the last step reported, known after refresh()
        # SigOpt's multitask: which (cheaper) version of the evaluation to run
        self.task = task_of(experiment.spec.tasks, suggestion_id)
        self._checkpoints: CheckpointStore | None = None
        self._scratch: list[Path] = []  # local copies of checkpoints, removed by close()

    # progress ---------------------------------------------------------------------------------

    def report(self, step: float, value: float | None = None, **metrics: float) -> bool:
        """Records the metrics reached at `step` (epochs, batches, trees: rising); `value` is
        the one the scheduler ranks by. True while the run should go on."""
        values = dict(metrics)
        if value is not None:
            values[self._ranked_metric()] = value
        decision = record_report(self.store, self.experiment.spec, self.experiment.id,
                                 self.suggestion_id, self.epoch, step, values)
        if decision.status in (ReportReply.STOP, ReportReply.DONE):
            if not self.stop_reason:
                log.info("suggestion %s: %s", self.suggestion_id, decision.reason)
            self.stop_reason = decision.reason
            self.stopped = decision.status is ReportReply.STOP
            return False
        if decision.status is not ReportReply.CONTINUE:
            self.lost = True
            raise LeaseLost(f"suggestion {self.suggestion_id} is no longer this worker's "
                            f"({decision.status}): stop training")
        return True

    def should_stop(self) -> bool:
        return bool(self.stop_reason) or self.lost

    def last_reported(self) -> dict[str, float] | None:
        """The values of the run's last report (made here or by a command's child process)."""
        curve = self.store.curve(self.experiment.id, self.suggestion_id)
        return dict(curve[-1].values) if curve else None

    def refresh(self) -> None:
        """Reads back what the run reported (here or in a command's child process): the step
        it reached, and where it stopped and why."""
        suggestion = self.store.suggestion(self.experiment.id, self.suggestion_id)
        if suggestion is None:
            return
        self.step = suggestion.step
        if suggestion.stop:
            self.stop_reason, self.stopped = suggestion.stop, suggestion.stopped

    def _ranked_metric(self) -> str:
        spec = self.experiment.spec
        if spec.early_stopping is not None and spec.early_stopping.metric:
            return spec.early_stopping.metric
        optimized = spec.optimized_metrics
        return optimized[0].name if optimized else spec.metrics[0].name

    # checkpoints ------------------------------------------------------------------------------

    @property
    def checkpoints(self) -> CheckpointStore:
        if self._checkpoints is None:
            self._checkpoints = CheckpointStore(self.experiment.spec.checkpoints.store)
        return self._checkpoints

    def save_checkpoint(self, step: float, state: Any) -> None:
        """Pickles `state` as the run's checkpoint at `step`."""
        with self.checkpoint_file(step) as path:
            path.write_bytes(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))

    def load_checkpoint(self) -> Any | None:
        """The state the latest `save_checkpoint` of this run saved (on any worker), or None
        for a fresh run. Resume training at `start_step + 1`."""
        path = self.latest_checkpoint_file()
        return pickle.loads(path.read_bytes()) if path is not None else None

    @contextmanager
    def checkpoint_file(self, step: float) -> Iterator[Path]:
        """A local file to write the checkpoint at `step` into (torch.save(state, path));
        stored, and recorded as the one to resume from, when the block ends."""
        with tempfile.TemporaryDirectory(prefix="celeriac-ckpt-") as scratch:
            path = Path(scratch) / "checkpoint"
            yield path
            self._store_checkpoint(step, path)

    def latest_checkpoint_file(self) -> Path | None:
        """A local copy of the checkpoint to resume from, or None."""
        if not self.resume_from:
            return None
        scratch = Path(tempfile.mkdtemp(prefix="celeriac-resume-"))
        self._scratch.append(scratch)
        return self.checkpoints.get(self.resume_from, scratch / "checkpoint")

    def _store_checkpoint(self, step: float, path: Path) -> None:
        store = self.checkpoints
        location = store.location(self.experiment.id, self.suggestion_id, self.epoch, step)
        store.put(path, location)
        reply, previous = self.store.record_checkpoint(self.experiment.id, self.suggestion_id,
                                                       self.epoch, step, location)
        if reply is not CheckpointReply.OK:
            store.delete(location)  # a zombie's checkpoint: never the one to resume from
            self.lost = True
            raise LeaseLost(f"suggestion {self.suggestion_id} is no longer this worker's "
                            f"({reply}): its checkpoint was not kept")
        self.resume_from, self.start_step = location, step
        if self.experiment.spec.checkpoints.keep != "all" and previous and previous != location:
            store.delete(previous)

    def close(self) -> None:
        """The evaluation ended: remove the local copies of checkpoints it loaded."""
        for scratch in self._scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        self._scratch.clear()

    def finish(self) -> None:
        """The run's observation is recorded: prune its checkpoints as the experiment says."""
        if self.experiment.spec.checkpoints.keep == "none":
            self.checkpoints.delete_run(self.experiment.id, self.suggestion_id)

    # the current context ---------------------------------------------------------------------

    @contextmanager
    def active(self) -> Iterator[TrainingContext]:
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)


def current() -> TrainingContext:
    """The running evaluation's context (inside a worker's Python evaluation)."""
    found = _CURRENT.get()
    if found is None:
        raise RuntimeError("worker.context.current(): no evaluation is running in this thread; "
                           "command evaluations use worker.script.report instead")
    return found
