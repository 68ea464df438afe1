"""Workers on "other hosts": each in its own network namespace, reaching Redis across a veth
link (with 2 ms of netem latency where the kernel offers netem). The experiment completes with
the same guarantees, even when one remote worker is killed mid-evaluation."""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

import pytest

from tests.integration.invariants import assert_invariants
from tests.integration.netns import RemoteHost, netns_available
from tests.integration.processes import RedisServer, Worker, coordinator, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

CONFIG = """
name: across-hosts
parameters: [{name: x, bounds: {min: -1, max: 1}}, {name: y, bounds: {min: -2, max: 0}}]
metrics: [{name: value}]
budget: 12
parallel_bandwidth: 2
evaluate: tests.integration.metrics:quadratic
"""


@pytest.fixture
def remote_hosts():
    if not netns_available():
        message = "network namespaces need root and iproute2"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    # Not the test run's seeded `random`: names and subnets must differ from any namespace
    # a killed earlier run left behind.
    rng = random.SystemRandom()
    tag, base = f"{os.getpid() % 10000}-{rng.randrange(1000)}", rng.randrange(10, 240)
    hosts: list[RemoteHost] = []
    try:
        for i in range(2):  # each one created is deleted, even if the next one fails
            hosts.append(RemoteHost(f"celeriac-{tag}-{i}", base + i, delay_ms=2).create())
        yield hosts
    finally:
        for host in hosts:
            host.delete()


def test_workers_in_other_network_namespaces_finish_the_experiment_with_every_guarantee(
        remote_hosts, tmp_path: Path, env):
    server = RedisServer(tmp_path / "shared-redis", [
        "--bind", "127.0.0.1", *(h.host_address for h in remote_hosts),
        "--requirepass", "across-the-wire"]).start()
    workers: list[Worker] = []
    try:
        for i, host in enumerate(remote_hosts):
            url = f"redis://:across-the-wire@{host.host_address}:{server.port}/0"
            worker_env = {**env, "CELERIAC_REDIS_URL": url, "CELERIAC_TEST_SLEEP": "0.3"}
            workers.append(Worker(worker_env, tmp_path / f"remote{i}.log", f"remote{i}",
                                  prefix=host.command([])))
        local = {**env, "CELERIAC_REDIS_URL": f"redis://:across-the-wire@127.0.0.1:"
                                              f"{server.port}/0"}
        config = tmp_path / "exp.yml"
        config.write_text(CONFIG)
        experiment_id = coordinator(["create", str(config)], local).stdout.split()[-1]
        from coordinator.infra.connection import connect
        from coordinator.service.experiments import Service
        from coordinator.state.store import Store
        from tests.integration.processes import start_coordinator

        service = Service(Store(connect(local["CELERIAC_REDIS_URL"])))
        run = start_coordinator(["run", experiment_id], local, tmp_path / "run.log")
        wait_until(lambda: any(s.state == "running" and s.owner for s in
                               service.suggestions(experiment_id, "open")), 60,
                   what="a remote worker to be evaluating")
        workers[0].signal_group(signal.SIGKILL)
        assert run.wait(timeout=180) == 0, (tmp_path / "run.log").read_text()
        assert_invariants(service, experiment_id, 12)
        hosts = {o.metadata.get("worker") for o in service.observations(experiment_id)}
        assert len(hosts) >= 1
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
