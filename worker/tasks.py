"""The one task: claim the suggestion, keep its lease alive, evaluate, record the observation.

Safety comes from the claim and the fenced observation (a duplicated or redelivered message is
refused at the claim; a late result from a worker that lost its lease is refused at observe);
liveness from the coordinator's sweeper. So the task can simply be acked whatever happens.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from functools import cache, lru_cache
from typing import Any

from billiard.common import terminate_handler_fired
from billiard.exceptions import WorkerLostError
from celery import signals
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from coordinator.errors import CeleriacError
from coordinator.infra.celery_config import TASK_NAME
from coordinator.infra.connection import connect, resolve_url
from coordinator.infra.timing import Timing
from coordinator.service.experiments import Service
from coordinator.state.records import (
    REASON_PARTS,
    Experiment,
    ObservationRecord,
    Suggestion,
    reason_headline,
)
from coordinator.state.states import ClaimReply, ObserveReply, SuggestionState
from coordinator.state.store import Claim, Store
from worker import recording, script, shutdown
from worker.celery import app
from worker.context import LeaseLost, TrainingContext
from worker.evaluation import EvaluationFailed, Values, evaluate
from worker.lease import HandedBack, Lease
from worker.output import OutputTail

log = logging.getLogger(__name__)


@cache
def _service() -> Service:
    return Service(Store(connect(_redis_url())))


@cache
def _recording_service() -> Service:
    """Fails fast, so that recording's own loop (worker/recording.py) waits out an outage and
    says so, instead of the client's retries waiting silently."""
    return Service(Store(connect(_redis_url(), retries=2)))


@cache
def _redis_url() -> str:
    return resolve_url()


@lru_cache(maxsize=128)
def _experiment(experiment_id: str) -> Experiment:
    """An experiment's spec never changes, so each worker process reads it once; a deleted
    experiment is still caught, by the claim (its open suggestions are deleted with it)."""
    return _service().experiment(experiment_id)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@app.task(name=TASK_NAME, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]  # Celery ships no type hints
def evaluate_suggestion(experiment_id: str, suggestion_id: str) -> dict[str, Any]:
    shutdown.ensure_child_handlers()
    with shutdown.task_running():  # a shutdown signal now hands back, never kills mid-task
        return _claim_and_evaluate(experiment_id, suggestion_id)


def _claim_and_evaluate(experiment_id: str, suggestion_id: str) -> dict[str, Any]:
    service, timing = _service(), Timing.from_env()
    try:
        experiment = _experiment(experiment_id)
    except CeleriacError as exc:
        log.warning("suggestion %s: %s", suggestion_id, exc)
        return {"status": "NO_EXPERIMENT"}
    claim = service.store.claim(experiment.id, suggestion_id, _owner(), timing.lease_ttl_ms)
    if claim.status is not ClaimReply.OK:
        log.info("suggestion %s of experiment %s not claimed: %s", suggestion_id,
                 experiment.id, claim.status)
        return {"status": claim.status}
    assert claim.assignments is not None
    suggestion = Suggestion(id=suggestion_id, experiment=experiment.id,
                            state=SuggestionState.RUNNING,
                            assignments=claim.assignments, epoch=claim.epoch,
                            attempts=claim.attempts)
    started = time.monotonic()
    lease = Lease(service.store, experiment.id, suggestion_id, claim.epoch, timing,
                  interruptible=not experiment.spec.evaluation.command)
    context = TrainingContext(service.store, experiment, suggestion_id, claim.epoch,
                              claim.assignments, claim.checkpoint, claim.checkpoint_step)
    output = OutputTail()
    try:
        values, reason = _evaluate_under(lease, experiment.spec, suggestion, context, output)
    finally:
        context.close()
    if lease.handing_back.is_set():  # the worker is shutting down: no result, hand it back
        lease.release()
        return {"status": "RELEASED"}
    return _record_result(experiment, suggestion, claim, context, output, values, reason,
                          duration=round(time.monotonic() - started, 3))


def _record_result(experiment: Experiment, suggestion: Suggestion, claim: Claim,
                   context: TrainingContext, output: OutputTail, values: Values, reason: str,
                   duration: float) -> dict[str, Any]:
    """Observes the result, waiting out a Redis outage (worker/recording.py)."""
    service = _recording_service()
    context.store = service.store  # the run is over: it only reads back where it ended

    def build() -> ObservationRecord:
        context.refresh()
        return service.new_observation(
            experiment, suggestion, values, failed=bool(reason), reason=reason,
            metadata=_metadata(claim, context, output), duration=duration,
            resource=context.step, stopped=context.stopped)

    observation, status = recording.record(service, build, claim.epoch, _redis_url())
    if observation is None or status is None:  # Redis stayed away: the sweeper re-runs it
        return {"status": "UNRECORDED"}
    if reason:  # one line a person reading the worker's log can act on
        log.warning("suggestion %s of experiment %s failed: %s", suggestion.id, experiment.id,
                    reason_headline(reason))
    if status is ObserveReply.OK:
        context.finish()
    else:
        log.warning("late result for suggestion %s refused (%s): it was re-run elsewhere or "
                    "deleted", suggestion.id, status)
    return {"status": status, "observation": observation.id}


def _metadata(claim: Claim, context: TrainingContext, output: OutputTail) -> dict[str, Any]:
    metadata: dict[str, Any] = {"hostname": socket.gethostname(), "worker": _owner(),
                                "attempt": claim.attempts}
    if context.stop_reason:
        metadata["stop_reason"] = context.stop_reason[:500]
    if claim.checkpoint:
        metadata["resumed_from_step"] = claim.checkpoint_step
    printed = output.text()
    if printed:  # the tail of stdout and stderr, bounded (worker/output.py)
        metadata["output"] = printed
    return metadata


def _evaluate_under(lease: Lease, spec: Any, suggestion: Suggestion,
                    context: TrainingContext, output: OutputTail) -> tuple[Values, str]:
    """Runs the metric while the lease is kept alive; HandedBack (raised into the metric by
    the shutdown handler) ends it early with no result."""
    try:
        with lease, context.active():
            return _run(spec, suggestion, lease, context, output)
    except HandedBack:
        return {}, "handed back"
    except SystemExit:  # billiard ends the child for another signal (SIGHUP, SIGQUIT)
        lease.release()
        raise


def _run(spec: Any, suggestion: Suggestion, lease: Lease, context: TrainingContext,
         output: OutputTail) -> tuple[Values, str]:
    """The user's metric; any failure of theirs becomes a reason, never a crashed worker."""
    env = script.child_env(_redis_url(), context)
    try:
        return evaluate(spec, suggestion.assignments, cancel=lease.lost, env=env,
                        context=context, output=output), ""
    except EvaluationFailed as exc:
        return {}, str(exc)
    except LeaseLost as exc:
        return {}, str(exc)
    except CeleriacError as exc:  # a bad report: the user's mistake, named by the error
        return {}, str(exc)
    except SoftTimeLimitExceeded:
        return {}, f"evaluation ran past its timeout of {spec.evaluation.timeout:g} s"
    except (Exception, SystemExit) as exc:
        if isinstance(exc, SystemExit) and terminate_handler_fired():
            raise  # billiard is ending the pool child: not the metric's failure
        frames = traceback.format_exception(exc)[-4:]
        return {}, (f"{type(exc).__name__}: {exc}{REASON_PARTS}"
                    + "".join(frames).strip()[-1500:])


def _on_process_lost(sender: Any = None, exception: BaseException | None = None,
                     kwargs: dict[str, Any] | None = None, **_: Any) -> None:
    """In the worker's main process: the pool child evaluating a suggestion died (a segfault,
    the OOM killer) or was killed at the hard time limit. Celery logs the signal; this line
    says which suggestion it was and what happens to it next."""
    if not isinstance(exception, WorkerLostError | TimeLimitExceeded):
        return
    task = kwargs or {}
    log.error("suggestion %s of experiment %s: the process evaluating it died (%s); it runs "
              "again once its lease runs out, and after the experiment's max_attempts it is "
              "recorded as failed", task.get("suggestion_id"), task.get("experiment_id"),
              exception)


signals.task_failure.connect(_on_process_lost, sender=evaluate_suggestion)
