"""Fault injection: real experiments with real worker processes, a fault in the middle, and at
the end nothing lost and nothing counted twice (tests/integration/invariants.py).

Timing comes from conftest.FAST_TIMING (3 s leases, 0.5 s sweeps); assertions are about the
final state, never about how fast recovery was (that is benchmarks/recovery.py's job).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import uuid
from collections import Counter
from pathlib import Path

import pytest

from coordinator.infra.timing import Timing
from coordinator.runloop.dispatch import TaskSender
from coordinator.runloop.runner import Runner
from coordinator.service.experiments import Service
from coordinator.spec.config import parse_config_text
from coordinator.state.records import Experiment, Suggestion
from tests.integration.invariants import assert_invariants
from tests.integration.processes import (
    Worker,
    coordinator,
    end_group,
    start_coordinator,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

CONFIG = """
name: faults
parameters: [{{name: x, type: double, bounds: {{min: -1, max: 1}}}}]
metrics: [{{name: value}}]
budget: {budget}
parallel_bandwidth: {bandwidth}
max_attempts: {max_attempts}
evaluate: tests.integration.metrics:{metric}
optimizer: {{type: {optimizer}, seed: 7}}
"""


def create(service: Service, budget: int, bandwidth: int = 2, metric: str = "slow",
           max_attempts: int = 3, optimizer: str = "random") -> Experiment:
    text = CONFIG.format(budget=budget, bandwidth=bandwidth, metric=metric,
                         max_attempts=max_attempts, optimizer=optimizer)
    return service.create_experiment(parse_config_text(text.encode()))


def run_in_background(experiment: Experiment, env: dict[str, str], tmp_path: Path,
                      name: str = "run") -> subprocess.Popen[bytes]:
    return start_coordinator(["run", experiment.id], env, tmp_path / f"{name}.log")


def finish(run: subprocess.Popen[bytes], tmp_path: Path, name: str = "run") -> None:
    try:
        code = run.wait(timeout=120)
    finally:
        end_group(run)
    assert code == 0, (tmp_path / f"{name}.log").read_text()


def running_on(service: Service, experiment: Experiment, worker: Worker) -> Suggestion | None:
    """A suggestion the worker's pool child holds the lease of (owner is host:pid)."""
    pids = {str(pid) for pid in worker.pool_children()}
    store = service.store
    for suggestion in store.suggestions(experiment.id, store.open_ids(experiment.id)):
        if suggestion.state == "running" and suggestion.owner.rsplit(":", 1)[-1] in pids:
            return suggestion
    return None


def wait_running_on(service: Service, experiment: Experiment, worker: Worker) -> Suggestion:
    return wait_until(lambda: running_on(service, experiment, worker), 60,
                      what=f"a suggestion running on {worker.name}")


def events_of(service: Service, experiment: Experiment, kind: str) -> Counter[str]:
    key = f"celeriac:{{exp:{experiment.id}}}:events"  # read-only look at the event stream
    return Counter(fields["sid"] for _, fields in service.store.redis.xrange(key)
                   if fields.get("type") == kind)


def observation_of(service: Service, experiment: Experiment, sid: str):
    suggestion = service.store.suggestion(experiment.id, sid)
    assert suggestion is not None and suggestion.observation
    return service.store.observation(experiment.id, suggestion.observation)


SLOW = {"CELERIAC_TEST_SLEEP": "1.5"}


def kill_a_worker_mid_evaluation(env, tmp_path, service, start_worker) -> None:
    """Two workers, one killed (its whole process group) mid-evaluation: its suggestion runs
    again elsewhere and counts once (any broker: test_rabbitmq_broker.py uses it too)."""
    experiment = create(service, budget=6)
    victim, survivor = start_worker(extra_env=SLOW), start_worker(extra_env=SLOW)
    run = run_in_background(experiment, env, tmp_path)
    lost = wait_running_on(service, experiment, victim)
    victim.signal_group(signal.SIGKILL)
    finish(run, tmp_path)
    assert_invariants(service, experiment.id, 6)
    rerun = observation_of(service, experiment, lost.id)
    assert not rerun.failed and rerun.metadata["attempt"] >= 2
    assert survivor.alive() and not victim.alive()


def restart_mid_run(env, tmp_path, service, start_worker, restart) -> None:
    """`restart()` (of Redis, the broker) after two of eight observations: nothing lost, the
    experiment finishes, the workers ride it out."""
    experiment = create(service, budget=8)
    workers = [start_worker(extra_env={"CELERIAC_TEST_SLEEP": "1"}) for _ in range(2)]
    run = run_in_background(experiment, env, tmp_path)
    wait_until(lambda: service.store.counts(experiment.id).observations >= 2, 90,
               what="two observations")
    before = {o.id for o in service.store.observations(experiment.id)}
    restart()
    assert before <= {o.id for o in service.store.observations(experiment.id)}
    finish(run, tmp_path)
    assert_invariants(service, experiment.id, 8)
    assert all(worker.alive() for worker in workers)


def test_killing_a_workers_whole_process_group_mid_evaluation_reruns_its_suggestion_elsewhere(
        env, tmp_path, service, start_worker):
    kill_a_worker_mid_evaluation(env, tmp_path, service, start_worker)


def test_killing_only_the_pool_child_reruns_its_suggestion_and_the_worker_carries_on(
        env, tmp_path, service, start_worker):
    experiment = create(service, budget=6)
    victim, _ = start_worker(extra_env=SLOW), start_worker(extra_env=SLOW)
    run = run_in_background(experiment, env, tmp_path)
    lost = wait_running_on(service, experiment, victim)
    os.kill(victim.pool_children()[0], signal.SIGKILL)
    finish(run, tmp_path)
    assert_invariants(service, experiment.id, 6)
    assert observation_of(service, experiment, lost.id).metadata["attempt"] >= 2
    assert victim.alive()


def test_a_paused_workers_late_result_is_rejected_after_its_suggestion_ran_elsewhere(
        env, tmp_path, service, start_worker):
    experiment = create(service, budget=4)
    paused, _ = start_worker(extra_env=SLOW), start_worker(extra_env=SLOW)
    run = run_in_background(experiment, env, tmp_path)
    stale = wait_running_on(service, experiment, paused)
    paused.signal_group(signal.SIGSTOP)
    try:
        wait_until(lambda: (s := service.store.suggestion(experiment.id, stale.id)) is not None
                   and s.state == "closed", 60, what="the suggestion to be re-run elsewhere")
    finally:
        paused.signal_group(signal.SIGCONT)
    finish(run, tmp_path)
    wait_until(lambda: f"late result for suggestion {stale.id} refused" in paused.log(), 30,
               what="the paused worker to report its refused late result")
    assert_invariants(service, experiment.id, 4)
    rerun = observation_of(service, experiment, stale.id)
    assert rerun.metadata["worker"] != stale.owner and rerun.metadata["attempt"] >= 2


def test_killing_the_coordinator_mid_run_and_starting_it_again_finishes_exactly_the_budget(
        env, tmp_path, service, start_worker):
    experiment = create(service, budget=8)
    start_worker(extra_env={"CELERIAC_TEST_SLEEP": "0.5"})
    start_worker(extra_env={"CELERIAC_TEST_SLEEP": "0.5"})
    run = run_in_background(experiment, env, tmp_path)
    wait_until(lambda: service.store.counts(experiment.id).observations >= 3, 60,
               what="three observations")
    end_group(run, signal.SIGKILL)
    assert service.store.counts(experiment.id).observations < 8
    coordinator(["run", experiment.id], env, timeout=120)
    assert_invariants(service, experiment.id, 8)


def test_restarting_redis_mid_run_loses_nothing_and_the_experiment_finishes(
        env, tmp_path, service, start_worker, redis_server):
    restart_mid_run(env, tmp_path, service, start_worker,
                    lambda: redis_server.restart(down_for=2.0))


class TwiceSender(TaskSender):
    """Publishes every task message twice with the same task id, as a redelivery would."""

    def send(self, experiment: Experiment, suggestion_id: str) -> None:
        task_id = str(uuid.uuid4())
        for _ in range(2):
            self.app.send_task("celeriac.evaluate", task_id=task_id, queue=self.queue,
                               kwargs={"experiment_id": experiment.id,
                                       "suggestion_id": suggestion_id})


def test_every_task_message_delivered_twice_is_evaluated_and_counted_once(
        env, tmp_path, service, start_worker, redis_server):
    experiment = create(service, budget=6)
    workers = [start_worker(extra_env={"CELERIAC_TEST_SLEEP": "0.5"}) for _ in range(2)]
    sender = TwiceSender(redis_server.url)
    try:
        Runner(service, sender, Timing.from_env()).run(experiment.id, threading.Event())
    finally:
        sender.close()
    assert_invariants(service, experiment.id, 6)
    assert all(n == 1 for n in events_of(service, experiment, "claimed").values())
    wait_until(lambda: sum(refused(w.log()) for w in workers) >= 6, 30,
               what="the duplicate messages to be refused at the claim")


def refused(log: str) -> int:
    return log.count("'status': 'BUSY'") + log.count("'status': 'CLOSED'")


def test_a_metric_that_kills_its_process_every_time_fails_after_max_attempts_and_the_run_ends(
        env, tmp_path, service, start_worker):
    experiment = create(service, budget=6, metric="poison_below_zero", max_attempts=2,
                        optimizer="sobol")
    workers = [start_worker() for _ in range(2)]
    run = run_in_background(experiment, env, tmp_path)
    finish(run, tmp_path)
    assert_invariants(service, experiment.id, 6)
    observations = service.store.observations(experiment.id)
    failed = [o for o in observations if o.failed]
    assert failed and len(failed) < len(observations)
    assert all(o.assignments["x"] < 0 and "max_attempts=2" in o.reason for o in failed)
    assert all(w.alive() for w in workers)


def test_three_sweepers_racing_on_one_experiment_requeue_each_expired_lease_once(
        env, tmp_path, service, start_worker):
    experiment = create(service, budget=8, bandwidth=3)
    victim = start_worker(extra_env=SLOW)
    start_worker(extra_env=SLOW)
    run = run_in_background(experiment, env, tmp_path)
    eager = {**env, "CELERIAC_SWEEP_INTERVAL": "0.05"}
    sweepers = [start_coordinator(["sweep", experiment.id, "--forever"], eager,
                                  tmp_path / f"sweep{i}.log") for i in range(2)]
    try:
        wait_running_on(service, experiment, victim)
        victim.signal_group(signal.SIGKILL)
        finish(run, tmp_path)
    finally:
        for sweeper in sweepers:
            end_group(sweeper, signal.SIGTERM)
    assert_invariants(service, experiment.id, 8)
    claimed = events_of(service, experiment, "claimed")
    requeued = events_of(service, experiment, "requeued")
    assert sum(requeued.values()) >= 1
    assert all(requeued[sid] == claimed[sid] - 1 for sid in claimed)


@pytest.mark.parametrize("how", ["sigterm to the main process", "ctrl-c to the process group"])
def test_a_worker_told_to_stop_hands_its_suggestion_back_at_once_and_another_finishes_it(
        env, tmp_path, service, start_worker, how):
    experiment = create(service, budget=4, bandwidth=1)
    stopping = start_worker(extra_env={"CELERIAC_TEST_SLEEP": "300"})
    run = run_in_background(experiment, env, tmp_path)
    handed = wait_running_on(service, experiment, stopping)
    start_worker(extra_env={"CELERIAC_TEST_SLEEP": "0.3"})
    if how.startswith("sigterm"):
        stopping.process.send_signal(signal.SIGTERM)
    else:
        stopping.signal_group(signal.SIGINT)
    stopping.process.wait(timeout=60)  # without hand-back it would wait out the 300 s metric
    assert events_of(service, experiment, "released")[handed.id] == 1
    finish(run, tmp_path)
    assert_invariants(service, experiment.id, 4)
    rerun = observation_of(service, experiment, handed.id)
    assert not rerun.failed and rerun.metadata["attempt"] == 1  # a hand-back is no attempt
