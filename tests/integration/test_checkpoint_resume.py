"""Training runs that outlive their worker: a run whose worker dies or is told to stop resumes on
the next claimant from its latest checkpoint, a zombie's reports and checkpoints are refused,
ASHA stops command evaluations early, and a user's bad report fails only that evaluation.

Real redis-server, real `celery -A worker worker` processes, the real `coordinator run`;
timing from conftest.FAST_TIMING (3 s leases, 0.5 s sweeps). Every process is started by the
fixtures or here and ended by pid or process group.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
from pathlib import Path
from typing import Any

import psutil
import pytest

from coordinator.service.experiments import Service
from coordinator.spec.config import parse_config_text
from coordinator.state import keys
from coordinator.state.records import Experiment, ObservationRecord, Report, Suggestion
from coordinator.state.states import CheckpointReply, ClaimReply, ReportReply, SweepReply
from tests.integration.invariants import assert_invariants
from tests.integration.processes import Worker, end_group, start_coordinator, wait_until
from worker.checkpoints import CheckpointStore
from worker.context import LeaseLost, TrainingContext

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

EPOCHS = 27
SLOW_EPOCHS = {"CELERIAC_TEST_EPOCH_SECONDS": "0.3"}

TRAINING = """
name: resume
parameters:
  - {{name: x, type: double, bounds: {{min: -1, max: 1}}}}
metrics: [{{name: loss, objective: minimize}}]
budget: {budget}
parallel_bandwidth: {bandwidth}
max_attempts: 3
{evaluation}
checkpoints: {{store: '{store}', keep: last}}
optimizer: {{type: random, seed: 7}}
{extra}
"""
PYTHON_TRAINING = "evaluate: tests.integration.metrics:training"
COMMAND_TRAINING = "command: python tests/integration/train_command.py"
ASHA = ("early_stopping: {scheduler: asha, resource: epoch, min_resource: 1, max_resource: 27, "
        "reduction_factor: 3}")


def create(service: Service, tmp_path: Path, budget: int, bandwidth: int = 1,
           evaluation: str = PYTHON_TRAINING, extra: str = "") -> Experiment:
    text = TRAINING.format(budget=budget, bandwidth=bandwidth, evaluation=evaluation,
                           store=tmp_path / "checkpoints", extra=extra)
    return service.create_experiment(parse_config_text(text.encode()))


def run_in_background(experiment: Experiment, env: dict[str, str], tmp_path: Path
                      ) -> subprocess.Popen[bytes]:
    return start_coordinator(["run", experiment.id], env, tmp_path / "run.log")


def finish(run: subprocess.Popen[bytes], tmp_path: Path, code: int = 0) -> None:
    """`coordinator run` ends with `code`: 0, or 1 when every observation failed."""
    try:
        ended = run.wait(timeout=150)
    finally:
        end_group(run)
    assert ended == code, (tmp_path / "run.log").read_text()


def training_on(service: Service, experiment: Experiment, workers: list[Worker],
                min_step: float) -> tuple[Suggestion, Worker] | None:
    """A suggestion a worker's pool child holds that has reported and checkpointed past
    `min_step`, with that worker."""
    store = service.store
    for suggestion in store.suggestions(experiment.id, store.open_ids(experiment.id)):
        if suggestion.state != "running" or (suggestion.step or 0) < min_step or \
                (suggestion.checkpoint_step or 0) < min_step - 1:
            continue
        pid = suggestion.owner.rsplit(":", 1)[-1]
        for worker in workers:
            if pid in {str(p) for p in worker.pool_children()}:
                return suggestion, worker
    return None


def step_of(service: Service, experiment: Experiment, sid: str) -> float:
    suggestion = service.store.suggestion(experiment.id, sid)
    assert suggestion is not None and suggestion.step is not None
    return suggestion.step


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def reached_by(service: Service, experiment: Experiment, sid: str, epoch: int) -> float:
    """The last step the claim with this epoch reported. The next claim re-reports only steps
    after the checkpoint, and the metric checkpoints each epoch before reporting it, so none of
    this claim's reports were overwritten."""
    return max(r.step for r in service.store.curve(experiment.id, sid) if r.epoch == epoch)


def observation_of(service: Service, experiment: Experiment, sid: str) -> ObservationRecord:
    suggestion = service.store.suggestion(experiment.id, sid)
    assert suggestion is not None and suggestion.observation
    found = service.store.observation(experiment.id, suggestion.observation)
    assert found is not None
    return found


def checkpoint_state(service: Service, experiment: Experiment, sid: str) -> dict[str, Any]:
    """The training state in the run's latest recorded checkpoint (keep: last keeps it)."""
    suggestion = service.store.suggestion(experiment.id, sid)
    assert suggestion is not None and suggestion.checkpoint
    return dict(pickle.loads(Path(suggestion.checkpoint).read_bytes()))


def events_of(service: Service, experiment: Experiment, kind: str, sid: str) -> int:
    stream = keys.ExperimentKeys(experiment.id).events
    return sum(1 for _, fields in service.store.redis.xrange(stream)
               if fields.get("type") == kind and fields.get("sid") == sid)


def assert_resumed_once(service: Service, experiment: Experiment, sid: str,
                        step_at_fault: float) -> ObservationRecord:
    """The run went on from its checkpoint (at most one epoch redone), two processes trained
    it, the state saw every epoch exactly once, and the curve holds each step once, the ones
    after the resume reported by the new claim."""
    observation = observation_of(service, experiment, sid)
    assert not observation.failed, observation.reason
    resumed = observation.metadata["resumed_from_step"]
    assert step_at_fault - 1 <= resumed <= step_at_fault
    state = checkpoint_state(service, experiment, sid)
    assert state["epochs_trained"] == EPOCHS  # lost work was redone, none trained twice
    assert len(state["pids"]) == 2 and len(set(state["pids"])) == 2, state["pids"]
    assert observation.resource == EPOCHS and not observation.stopped
    curve = service.store.curve(experiment.id, sid)
    assert [r.step for r in curve] == [float(s) for s in range(1, EPOCHS + 1)]
    final = service.store.suggestion(experiment.id, sid)
    assert final is not None
    assert all(r.epoch == final.epoch for r in curve if r.step > resumed)
    assert observation.value_of("loss") == pytest.approx(curve[-1].values["loss"])
    return observation


def test_a_run_whose_pool_child_is_killed_resumes_elsewhere_from_its_last_checkpoint(
        env, tmp_path, service, start_worker):
    experiment = create(service, tmp_path, budget=2)
    workers = [start_worker(extra_env=SLOW_EPOCHS) for _ in range(2)]
    run = run_in_background(experiment, env, tmp_path)
    try:
        suggestion, victim = wait_until(
            lambda: training_on(service, experiment, workers, min_step=4), 60,
            what="a run that has reported and checkpointed 4 epochs")
        child = int(suggestion.owner.rsplit(":", 1)[-1])
        os.kill(child, signal.SIGKILL)
        wait_until(lambda: gone(child), 5, interval=0.01, what="the pool child to die")
        step_at_kill = step_of(service, experiment, suggestion.id)  # the lease holds 3 s more
    finally:
        finish(run, tmp_path)
    assert_invariants(service, experiment.id, 2)
    assert reached_by(service, experiment, suggestion.id, suggestion.epoch) == step_at_kill
    observation = assert_resumed_once(service, experiment, suggestion.id, step_at_kill)
    assert observation.metadata["attempt"] == 2
    assert str(child) not in observation.metadata["worker"]
    assert all(worker.alive() for worker in workers)
    spent = service.store.resource_spent(experiment.id)
    assert 2 * EPOCHS <= spent <= 2 * EPOCHS + 1  # at most the one interrupted epoch again


def test_a_worker_told_to_stop_hands_its_run_back_and_the_next_claimant_resumes_it(
        env, tmp_path, service, start_worker):
    experiment = create(service, tmp_path, budget=2)
    workers = [start_worker(extra_env=SLOW_EPOCHS) for _ in range(2)]
    run = run_in_background(experiment, env, tmp_path)
    try:
        suggestion, stopping = wait_until(
            lambda: training_on(service, experiment, workers, min_step=4), 60,
            what="a run that has reported and checkpointed 4 epochs")
        stopping.process.send_signal(signal.SIGTERM)  # warm shutdown, to the main process
        stopping.process.wait(timeout=30)  # without hand-back: the rest of the 8 s run
    finally:
        finish(run, tmp_path)
    step_at_stop = reached_by(service, experiment, suggestion.id, suggestion.epoch)
    assert step_at_stop >= 4
    assert events_of(service, experiment, "released", suggestion.id) == 1
    assert_invariants(service, experiment.id, 2)
    observation = assert_resumed_once(service, experiment, suggestion.id, step_at_stop)
    assert observation.metadata["attempt"] == 1  # a hand-back is no attempt
    survivor = next(w for w in workers if w is not stopping)
    assert survivor.alive() and not stopping.alive()


# zombies ------------------------------------------------------------------------------------


def context_for(service: Service, experiment: Experiment, sid: str, claim) -> TrainingContext:
    assert claim.status is ClaimReply.OK
    return TrainingContext(service.store, experiment, sid, claim.epoch, claim.assignments,
                           claim.checkpoint, claim.checkpoint_step)


def sweep_away(service: Service, experiment: Experiment, sid: str) -> None:
    """The lease runs out (its deadline moved to the past) and the sweeper requeues."""
    store = service.store
    store.redis.zadd(keys.ExperimentKeys(experiment.id).leases, {sid: 0})
    suggestion = store.suggestion(experiment.id, sid)
    assert suggestion is not None
    failure = service.new_observation(experiment, suggestion, {}, failed=True, reason="swept")
    assert store.sweep_one(experiment.id, sid, failure, 3, 10_000) is SweepReply.REQUEUED


def test_a_zombies_reports_and_checkpoints_are_refused_and_its_checkpoint_file_deleted(
        tmp_path, service):
    experiment = create(service, tmp_path, budget=2)
    store = service.store
    sid = service.create_suggestion(experiment.id, claim_ms=10_000).id
    zombie = context_for(service, experiment, sid, store.claim(experiment.id, sid, "z:1", 10_000))
    zombie.save_checkpoint(1, {"epochs_trained": 1})
    assert zombie.report(1, 0.9)
    sweep_away(service, experiment, sid)
    files = CheckpointStore(str(tmp_path / "checkpoints"))
    kept = files.location(experiment.id, sid, zombie.epoch, 1)
    assert files.files(experiment.id, sid) == [kept]

    # swept (queued), then claimed again: the zombie is refused both times
    for reclaim in (False, True):
        if reclaim:
            current = context_for(service, experiment, sid,
                                  store.claim(experiment.id, sid, "w:2", 10_000))
            assert current.resume_from == kept and current.start_step == 1
        assert store.report(experiment.id, sid, zombie.epoch, Report(2.0, {"loss": 0.1}),
                            None).status is ReportReply.STALE
        assert store.record_checkpoint(experiment.id, sid, zombie.epoch, 2, "/elsewhere") \
            == (CheckpointReply.STALE, "")
        with pytest.raises(LeaseLost, match=f"suggestion {sid} is no longer this worker's"):
            zombie.report(2, 0.1)
        with pytest.raises(LeaseLost, match="its checkpoint was not kept"):
            zombie.save_checkpoint(2, {"epochs_trained": 2})
        assert zombie.should_stop()
        assert files.files(experiment.id, sid) == [kept]  # the zombie's 2nd file is gone
        assert [r.step for r in store.curve(experiment.id, sid)] == [1]
        suggestion = store.suggestion(experiment.id, sid)
        assert suggestion is not None
        assert (suggestion.checkpoint, suggestion.checkpoint_step) == (kept, 1)
        assert store.resource_spent(experiment.id) == 1

    assert current.load_checkpoint() == {"epochs_trained": 1}
    current.save_checkpoint(2, {"epochs_trained": 2})
    assert current.report(2, 0.5)
    assert files.files(experiment.id, sid) == [files.location(experiment.id, sid,
                                                              current.epoch, 2)]


# command evaluations with ASHA -----------------------------------------------------------


def test_asha_stops_poor_command_evaluations_early_and_the_budget_is_finished(
        env, tmp_path, service, start_worker):
    experiment = create(service, tmp_path, budget=9, bandwidth=3, evaluation=COMMAND_TRAINING,
                        extra=ASHA)
    workers = [start_worker(concurrency=2, extra_env={"CELERIAC_TEST_EPOCH_SECONDS": "0.02"})
               for _ in range(2)]
    run = run_in_background(experiment, env, tmp_path)
    finish(run, tmp_path)
    assert_invariants(service, experiment.id, 9)
    observations = service.store.observations(experiment.id)
    assert not [o.reason for o in observations if o.failed]
    stopped = [o for o in observations if o.stopped]
    complete = [o for o in observations if not o.stopped]
    assert stopped and complete
    for observation in stopped:
        assert observation.resource is not None and observation.resource < EPOCHS
        assert observation.resource in (1, 3, 9)  # stopped at a rung
        assert observation.metadata["stop_reason"].startswith(
            f"asha: at rung {[1, 3, 9].index(observation.resource) + 1} ")
        curve = service.store.curve(experiment.id, observation.suggestion or "")
        assert curve[-1].step == observation.resource
        assert observation.value_of("loss") == pytest.approx(curve[-1].values["loss"])
    for observation in complete:
        assert observation.resource == EPOCHS
        assert observation.metadata["stop_reason"] == "reached max_resource 27"
    assert sum(o.resource or 0 for o in observations) == \
        service.store.resource_spent(experiment.id)
    assert all(worker.alive() for worker in workers)


# bad reports ------------------------------------------------------------------------------


BAD_REPORTS = """
name: bad reports
parameters:
  - {{name: mistake, type: categorical, categorical_values: [backward, nan, unknown]}}
metrics: [{{name: loss, objective: minimize}}]
budget: 3
parallel_bandwidth: 3
{evaluation}
optimizer: {{type: grid, seed: 1}}
"""
PROBLEMS = {
    "backward": "report: step 1 is not above the last step reported, 2; steps must increase",
    "nan": "report: metric 'loss' is nan, not a finite number",
    "unknown": "report: 'accuracy' is not a metric of this experiment; report one of loss",
}


@pytest.mark.parametrize("evaluation", [
    "evaluate: tests.integration.metrics:bad_reports",
    "command: python tests/integration/train_command.py",
])
def test_a_bad_report_fails_only_that_evaluation_with_a_one_line_reason(
        env, tmp_path, service, start_worker, evaluation):
    spec = parse_config_text(BAD_REPORTS.format(evaluation=evaluation).encode())
    experiment = service.create_experiment(spec)
    worker = start_worker()
    run = run_in_background(experiment, env, tmp_path)
    finish(run, tmp_path, code=1)  # every observation failed, by design
    assert_invariants(service, experiment.id, 3)
    observations = service.store.observations(experiment.id)
    assert sorted(o.assignments["mistake"] for o in observations) == sorted(PROBLEMS)
    for observation in observations:
        assert observation.failed, observation
        assert "\n" not in observation.reason
        assert PROBLEMS[observation.assignments["mistake"]] in observation.reason, \
            observation.reason
        curve = service.store.curve(experiment.id, observation.suggestion or "")
        assert [r.step for r in curve] == [2.0]  # the good report, nothing of the bad one
    assert worker.alive()
    assert len(worker.pool_children()) == 1
