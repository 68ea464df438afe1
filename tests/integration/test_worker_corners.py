"""Evaluations that misbehave, and workers started or left in awkward ways, with real worker
processes: each case ends as one observation with a reason a person can act on (or is handed
back and run again), never lost and never counted twice (invariants.py).

Several cases share one experiment run to keep the time down: a categorical `case` picks how
the evaluation misbehaves, and the grid optimizer visits each value once.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from celery import Celery

from coordinator.infra.celery_config import celery_settings
from coordinator.runloop.dispatch import TaskSender
from coordinator.service.experiments import Service, create_suggestion_now
from coordinator.spec.config import parse_config_text
from coordinator.state.records import ObservationRecord
from tests.integration.invariants import assert_invariants
from tests.integration.processes import (
    ROOT,
    RedisServer,
    Worker,
    end_group,
    start_coordinator,
    wait_until,
)
from worker.output import OUTPUT_LIMIT

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

CORNERS = """
name: corners
parameters: [{{name: case, type: categorical, categorical_values: [{cases}]}}]
metrics: [{{name: value}}]
budget: {budget}
parallel_bandwidth: {bandwidth}
max_attempts: 2
timeout: {timeout}
{evaluation}
optimizer: {{type: grid}}
"""
OUTAGE = """
name: outage
parameters: [{name: x, type: double, bounds: {min: 0, max: 1}},
             {name: y, type: double, bounds: {min: -2, max: 0}}]
metrics: [{name: value}]
budget: 1
parallel_bandwidth: 1
evaluate: tests.integration.metrics:quadratic
optimizer: {type: random, seed: 3}
"""
PYTHON = "evaluate: tests.integration.corner_metrics:corner"
COMMAND = "command: python tests/integration/corner_command.py"


def create(service: Service, cases: list[str], evaluation: str, timeout: float,
           bandwidth: int = 2, budget: int | None = None):
    text = CORNERS.format(cases=", ".join(cases), budget=budget or len(cases),
                          bandwidth=bandwidth, timeout=timeout, evaluation=evaluation)
    return service.create_experiment(parse_config_text(text.encode()))


def run(experiment, env: dict[str, str], tmp_path: Path, timeout: float = 100) -> None:
    process = start_coordinator(["run", experiment.id], env, tmp_path / "run.log")
    try:
        code = process.wait(timeout=timeout)
    finally:
        end_group(process)
    assert code in (0, 1), (tmp_path / "run.log").read_text()  # 1: some failed, by design


def by_case(service: Service, experiment) -> dict[str, ObservationRecord]:
    found = {o.assignments["case"]: o for o in service.store.observations(experiment.id)}
    assert len(found) == len(service.store.observations(experiment.id)), "a case ran twice"
    return found


def test_python_metrics_that_crash_print_50_mb_or_return_garbage_each_end_with_a_reason(
        env, tmp_path, service, start_worker):
    cases = ["print_50mb", "inf", "bool", "none", "huge_dict", "segfault", "stubborn"]
    experiment = create(service, cases, PYTHON, timeout=2)
    worker = start_worker(concurrency=2, extra_env={"CELERIAC_TEST_SLEEP": "300"})
    run(experiment, env, tmp_path)
    assert_invariants(service, experiment.id, len(cases))
    seen = by_case(service, experiment)
    printed = seen["print_50mb"]
    assert not printed.failed and printed.values[0].value == 2.0
    assert printed.metadata["output"].endswith("x\nprinted 50 MB\n")
    assert len(printed.metadata["output"]) < OUTPUT_LIMIT + 100
    assert "earlier characters of output not kept" in printed.metadata["output"]
    assert seen["inf"].reason == "metric 'value' is inf, not a finite number"
    assert seen["bool"].reason == "metric 'value' is True, not a finite number"
    assert seen["none"].reason.startswith("returned None, not a finite number: return a number")
    assert seen["huge_dict"].reason.startswith(
        "returned a dict of 10,000 key(s) with 10,000 that are not metrics of this experiment "
        "('k0', 'k1', 'k2' and 9,997 more); expected value")
    assert "max_attempts=2" in seen["segfault"].reason  # the child died on every attempt
    assert (f"suggestion {seen['segfault'].suggestion} of experiment {experiment.id}: the "
            f"process evaluating it died (Worker exited prematurely: signal 11 (SIGSEGV)"
            in worker.log())
    assert worker.alive()
    assert seen["stubborn"].reason == "evaluation ran past its timeout of 2 s"
    assert "stubborn evaluation in pid" in seen["stubborn"].metadata["output"]
    assert all("output" not in seen[case].metadata for case in ("inf", "bool", "none"))


def test_commands_that_segfault_print_50_mb_or_ignore_sigterm_end_with_a_reason_in_bounded_memory(
        env, tmp_path, service, start_worker):
    experiment = create(service, ["print_50mb", "segfault", "stubborn"], COMMAND, timeout=3)
    worker = start_worker(concurrency=1)
    child = wait_until(lambda: worker.pool_children(), 30, what="the pool child")[0]
    peak = [psutil.Process(child).memory_info().rss]
    process = start_coordinator(["run", experiment.id], env, tmp_path / "run.log")
    try:
        while process.poll() is None:  # the pool child's memory while the command prints
            peak.append(psutil.Process(child).memory_info().rss)
            time.sleep(0.05)
    finally:
        end_group(process)
    assert_invariants(service, experiment.id, 3)
    seen = by_case(service, experiment)
    printed = seen["print_50mb"]
    assert not printed.failed and printed.values[0].value == 3.0
    tail = printed.metadata["output"]  # stdout and stderr in about the order they came
    assert '{"value": 3.0}\n' in tail[-100:] and "some warnings\n" in tail[-100:]
    assert len(tail) < OUTPUT_LIMIT + 100
    assert max(peak) - peak[0] < 20 * 2**20, f"pool child grew by {max(peak) - peak[0]} bytes"
    print(f"pool child RSS {peak[0] / 2**20:.1f} MiB before, {max(peak) / 2**20:.1f} MiB peak")
    assert seen["segfault"].reason == "command was killed by SIGSEGV (segmentation fault)"
    assert seen["segfault"].metadata["output"] == "about to read address 0\n"
    assert seen["stubborn"].reason == "command ran past its timeout of 3 s and was stopped"
    assert seen["stubborn"].metadata["output"] == "ignoring SIGTERM\n"
    assert worker.alive() and worker.pool_children() == [child]


def test_a_python_metric_that_ignores_sigterm_is_still_handed_back_when_its_worker_stops(
        env, tmp_path, service, start_worker):
    experiment = create(service, ["stubborn", "stubborn_too"], PYTHON, timeout=600,
                        bandwidth=1, budget=1)
    stopping = start_worker(extra_env={"CELERIAC_TEST_SLEEP": "300"})
    process = start_coordinator(["run", experiment.id], env, tmp_path / "run.log")
    try:
        wait_until(lambda: "stubborn evaluation in pid" in stopping.log(), 60,
                   what="the stubborn evaluation to start")
        start_worker(extra_env={"CELERIAC_TEST_SLEEP": "0.2"})
        stopping.signal_group(signal.SIGTERM)  # as systemd stops a service
        stopping.process.wait(timeout=30)  # not the 300 s the metric wanted
        assert process.wait(timeout=60) == 0
    finally:
        end_group(process)
    assert_invariants(service, experiment.id, 1)
    (observation,) = service.store.observations(experiment.id)
    assert not observation.failed and observation.metadata["attempt"] == 1
    assert "handed suggestion" in stopping.log()


def test_a_result_that_ends_while_redis_is_down_is_kept_and_recorded_when_it_is_back(
        env, tmp_path, service, start_worker, redis_server):
    patient = {**env, "CELERIAC_LEASE_TTL": "30"}  # the lease outlives the outage
    experiment = service.create_experiment(parse_config_text(OUTAGE.encode()))
    worker = start_worker(extra_env={**patient, "CELERIAC_TEST_SLEEP": "3"})
    sender = TaskSender(redis_server.url)
    try:
        suggestion = create_suggestion_now(service, experiment)
        sender.send(experiment, suggestion.id)
        wait_until(lambda: service.store.suggestion(experiment.id, suggestion.id).state
                   == "running", 30, what="the evaluation to start")
    finally:
        sender.close()
    redis_server.stop()
    wait_until(lambda: "keeping the result and retrying" in worker.log(), 30,
               what="the worker to say it keeps its result")
    time.sleep(2)
    redis_server.start()
    wait_until(lambda: service.store.counts(experiment.id).observations == 1, 60,
               what="the kept result to be recorded")
    assert_invariants(service, experiment.id, 1)
    (observation,) = service.store.observations(experiment.id)
    assert not observation.failed and observation.metadata["attempt"] == 1
    log = worker.log()
    assert log.count("keeping the result and retrying") == 1
    assert "Redis is back: recorded the result of suggestion" in log


@pytest.mark.parametrize("credentials", ["wrong", None])
def test_a_worker_whose_redis_refuses_its_credentials_exits_with_one_line(tmp_path, env,
                                                                          credentials):
    server = RedisServer(tmp_path / "auth", extra=["--requirepass", "right-one"]).start()
    try:
        auth = f":{credentials}@" if credentials else ""
        url = f"redis://{auth}127.0.0.1:{server.port}/0"
        worker = Worker({**env, "CELERIAC_REDIS_URL": url}, tmp_path / "w.log", "auth")
        try:
            code = worker.process.wait(timeout=30)
        finally:
            worker.stop()
    finally:
        server.stop()
    lines = [line for line in worker.log().splitlines() if line.strip()]
    assert code == 3 and len(lines) == 1, worker.log()
    assert lines[0].startswith(f"celeriac worker: Redis at redis://{'***@' if auth else ''}"
                               f"127.0.0.1:{server.port}/0 ")
    assert ("refused the user name or password" if credentials else
            "wants a password and the URL gives none") in lines[0]
    assert "CELERIAC_REDIS_URL" in lines[0] and "wrong" not in lines[0]


def plain_worker(env: dict[str, str], log_path: Path, *extra: str) -> subprocess.Popen[bytes]:
    """`celery -A worker worker` as a user types it: no -n."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker", "worker", "-c", "1", "--loglevel",
         "INFO", "--without-mingle", "--without-gossip", *extra], cwd=ROOT, env=env,
        stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True)


def test_two_workers_started_without_a_name_on_one_machine_get_distinct_node_names(
        env, tmp_path, redis_server):
    processes = [plain_worker(env, tmp_path / "a.log"), plain_worker(env, tmp_path / "b.log"),
                 plain_worker(env, tmp_path / "c.log", "-n", "gpu0@%h")]
    app = Celery("ping", set_as_current=False)
    app.conf.update(celery_settings(redis_server.url))
    try:
        replies = wait_until(lambda: (r := app.control.ping(timeout=1)) and len(r) == 3 and r,
                             60, interval=0.5, what="three workers to answer a ping")
    finally:
        app.close()
        for process in processes:
            end_group(process, signal.SIGTERM)
    names = sorted(name for reply in replies for name in reply)
    host = socket.gethostname()
    assert names == sorted([f"celery-{processes[0].pid}@{host}",
                            f"celery-{processes[1].pid}@{host}", f"gpu0@{host}"])
    assert f"celery-{processes[0].pid}@{host} ready." in (tmp_path / "a.log").read_text()
