"""Redis away, Redis full, and several front ends on one experiment: real redis-server, real
workers, real `coordinator run` / `coordinator serve` processes; at the end nothing lost and
nothing counted twice (tests/integration/invariants.py).

Timing comes from conftest.FAST_TIMING (3 s leases, 0.5 s sweeps, 10 s claim timeout).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest
import redis

from coordinator.service.experiments import Service
from coordinator.state.records import Experiment, Suggestion
from tests.integration.api_fixtures import ApiServer
from tests.integration.conftest import FAST_TIMING
from tests.integration.invariants import assert_invariants
from tests.integration.processes import coordinator, end_group, wait_until
from tests.integration.test_faults import create, events_of, finish, run_in_background

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

LEASE_TTL = float(FAST_TIMING["CELERIAC_LEASE_TTL"])
QUICK = {"CELERIAC_TEST_SLEEP": "0.5"}


def observations(service: Service, experiment: Experiment) -> int:
    return service.store.counts(experiment.id).observations


def wait_observations(service: Service, experiment: Experiment, count: int) -> None:
    wait_until(lambda: observations(service, experiment) >= count, 60,
               what=f"{count} observations")


def one_line_error(output: str) -> str:
    """The error a person sees: one `error:` line and no traceback."""
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    return errors[0]


def test_redis_away_for_three_lease_ttls_mid_run_is_waited_out_and_the_budget_is_met_exactly(
        env, tmp_path, service, start_worker, redis_server):
    experiment = create(service, budget=8)
    for _ in range(2):
        start_worker(extra_env={"CELERIAC_TEST_SLEEP": "1"})
    run = run_in_background(experiment, env, tmp_path)
    wait_observations(service, experiment, 2)
    redis_server.restart(down_for=3 * LEASE_TTL)
    finish(run, tmp_path)
    assert_invariants(service, experiment.id, 8)
    log = (tmp_path / "run.log").read_text()
    assert f"waiting for Redis at {redis_server.url} (down for" in log, log
    assert "is back after" in log and "Traceback" not in log, log


def test_a_run_started_while_redis_is_away_waits_for_it_then_runs_to_the_budget(
        env, tmp_path, service, start_worker, redis_server):
    """A restart of `coordinator run` during an outage (a crashed host coming back first)."""
    experiment = create(service, budget=4)
    start_worker(extra_env=QUICK)
    redis_server.stop()
    try:
        run = run_in_background(experiment, env, tmp_path)
        wait_until(lambda: "waiting for Redis" in (tmp_path / "run.log").read_text(), 30,
                   what="the waiting line")
        assert run.poll() is None  # it waits instead of failing fast
    finally:
        redis_server.start()
    finish(run, tmp_path)
    assert_invariants(service, experiment.id, 4)
    log = (tmp_path / "run.log").read_text()
    assert "Ctrl-C stops" in log and "Traceback" not in log, log


def test_a_run_whose_redis_stays_away_past_its_patience_ends_with_one_line(
        env, tmp_path, service, start_worker, redis_server):
    experiment = create(service, budget=20)
    start_worker(extra_env=QUICK)
    run = run_in_background(experiment, {**env, "CELERIAC_REDIS_PATIENCE": "3"}, tmp_path)
    wait_observations(service, experiment, 1)
    redis_server.stop()
    try:
        code = run.wait(timeout=60)
    finally:
        end_group(run)
        redis_server.start()
    output = (tmp_path / "run.log").read_text()
    assert code == 1
    line = one_line_error(output)
    assert line.startswith(f"error: lost the connection to Redis at {redis_server.url}: ")
    assert "CELERIAC_REDIS_PATIENCE" in line


def snapshot(client: redis.Redis) -> dict[bytes, bytes | None]:
    """Every key's serialized value: equal snapshots mean nothing was written."""
    raw = redis.Redis(connection_pool=redis.ConnectionPool(
        **{**client.connection_pool.connection_kwargs, "decode_responses": False}))
    return {key: raw.dump(key) for key in sorted(raw.keys("*"))}


def test_an_observation_refused_at_maxmemory_leaves_no_partial_state_and_counts_once_later(
        service, redis_server):
    """Lua scripts carry no flags, so Redis refuses one only at its first write: observe.lua
    and sweep.lua must then have written nothing at all (checked key by key)."""
    experiment = create(service, budget=3)
    held, expired = (open_suggestion(service, experiment, ttl_ms) for ttl_ms in (60_000, 1))
    observation = service.new_observation(experiment, held[0], {"value": (0.5, None)},
                                          metadata={"output_tail": "x" * 4096})
    failure = service.new_observation(experiment, expired[0], {}, failed=True, reason="gone")
    time.sleep(0.05)  # the second lease has run out: sweeping it would write
    admin = redis_server.client()
    before = snapshot(admin)
    admin.config_set("maxmemory", 1)
    try:
        with pytest.raises(redis.ResponseError, match="OOM command not allowed"):
            service.store.observe(observation, epoch=held[1])
        with pytest.raises(redis.ResponseError, match="OOM command not allowed"):
            service.store.sweep_one(experiment.id, expired[0].id, failure, 1, 10_000)
        assert snapshot(admin) == before
    finally:
        admin.config_set("maxmemory", 0)
    assert service.store.observe(observation, epoch=held[1]) == "OK"
    assert service.store.sweep_one(experiment.id, expired[0].id, failure, 1, 10_000) == "FAILED"
    assert service.store.counts(experiment.id).observations == 2
    assert {o.id for o in service.store.observations(experiment.id)} == {observation.id,
                                                                          failure.id}


def open_suggestion(service: Service, experiment: Experiment, ttl_ms: int
                    ) -> tuple[Suggestion, int]:
    """A suggestion claimed by a made-up worker, and the claim's epoch."""
    taken = service.suggester.take(experiment.id, experiment.spec, claim_ms=10_000)
    assert taken.suggestion_id is not None
    claim = service.store.claim(experiment.id, taken.suggestion_id, "host:1", ttl_ms)
    suggestion = service.store.suggestion(experiment.id, taken.suggestion_id)
    assert suggestion is not None and claim.epoch is not None
    return suggestion, claim.epoch


def test_redis_at_maxmemory_mid_run_ends_it_with_one_line_and_a_rerun_after_freeing_finishes(
        env, tmp_path, service, start_worker, workers, redis_server):
    experiment = create(service, budget=8)
    for _ in range(2):
        start_worker(extra_env=QUICK)
    run = run_in_background(experiment, env, tmp_path)
    wait_observations(service, experiment, 2)
    admin = redis_server.client()
    admin.config_set("maxmemory", 1)
    try:
        code = run.wait(timeout=60)
    finally:
        end_group(run)
        admin.config_set("maxmemory", 0)
    assert code == 1
    line = one_line_error((tmp_path / "run.log").read_text())
    assert "is out of memory" in line and "maxmemory" in line, line
    assert "archive old experiments" in line and "coordinator run" in line, line
    # Celery's own worker process stops on an OOM reply from the broker ("Unrecoverable
    # error"), after restoring its unacknowledged messages, which takes a moment and may end
    # after the run did; a process manager restarts it, as here once memory is freed.
    settle = time.monotonic() + 20
    while time.monotonic() < settle and any(worker.alive() for worker in workers):
        time.sleep(0.2)
    for index, worker in enumerate(list(workers)):
        if not worker.alive():
            start_worker(name=f"again{index}", extra_env=QUICK)
    coordinator(["run", experiment.id], env, timeout=120)
    assert_invariants(service, experiment.id, 8)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    body = response.json()
    assert body["status"] == 503 and "Redis is unavailable" in body["message"], body


def test_serve_answers_503_with_retry_after_while_redis_is_away_and_507_when_it_is_full(
        redis_server, tmp_path):
    api = ApiServer(redis_server.url, tmp_path / "server")
    experiment = {"name": "outage", "parameters": [{"name": "x", "type": "double",
                                                    "bounds": {"min": 0, "max": 1}}],
                  "metrics": [{"name": "value"}], "observation_budget": 5}
    try:
        with api.http() as http:
            eid = http.post("/v1/experiments", json=experiment).json()["id"]
            redis_server.stop()
            started = time.monotonic()
            assert_unavailable(http.get(f"/v1/experiments/{eid}"))
            assert_unavailable(http.post(f"/v1/experiments/{eid}/suggestions", json={}))
            assert_unavailable(http.get("/dashboard/api/experiments"))
            assert time.monotonic() - started < 10  # each fails fast, none waits half a minute
            redis_server.start()
            assert http.get(f"/v1/experiments/{eid}").status_code == 200
            admin = redis_server.client()
            admin.config_set("maxmemory", 1)
            try:
                full = http.post(f"/v1/experiments/{eid}/suggestions", json={})
            finally:
                admin.config_set("maxmemory", 0)
            assert full.status_code == 507, full.text
            assert full.json()["status"] == 507 and "out of memory" in full.json()["message"]
            assert http.post(f"/v1/experiments/{eid}/suggestions", json={}).status_code == 200
        assert "Traceback" not in api.log_path.read_text()
    finally:
        api.stop()


def test_create_at_maxmemory_says_so_in_one_line_and_stores_nothing(env, tmp_path, service,
                                                                    redis_server):
    config = tmp_path / "exp.yml"
    config.write_text("name: full\nparameters: [{name: x, type: double, bounds: {min: 0, max: "
                      "1}}]\nmetrics: [{name: value}]\nbudget: 3\n"
                      "evaluate: tests.integration.metrics:quadratic\n")
    admin = redis_server.client()
    admin.config_set("maxmemory", 1)
    try:
        result = coordinator(["create", str(config)], env, check=False)
    finally:
        admin.config_set("maxmemory", 0)
    assert result.returncode == 1
    assert "is out of memory" in one_line_error(result.stderr)
    assert service.experiments() == []


class OpenSampler:
    """Samples the experiment's open suggestions every few milliseconds, in a thread."""

    def __init__(self, service: Service, experiment: Experiment) -> None:
        self.service, self.experiment = service, experiment
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            try:
                self.most = max(self.most, self.service.store.counts(self.experiment.id).open)
            except redis.RedisError:
                pass

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(5)
        return self.most


@pytest.mark.parametrize("runs", [2, 3])
def test_several_runs_on_one_experiment_keep_to_its_bandwidth_and_budget(
        env, tmp_path, service, start_worker, runs):
    experiment = create(service, budget=12, bandwidth=3)
    for _ in range(3):
        start_worker(extra_env={"CELERIAC_TEST_SLEEP": "0.3"})
    sampler = OpenSampler(service, experiment)
    started = [run_in_background(experiment, env, tmp_path, f"run{i}") for i in range(runs)]
    for index, run in enumerate(started):
        finish(run, tmp_path, f"run{index}")
    assert sampler.stop() <= 3
    assert_invariants(service, experiment.id, 12)


def api_client(http: httpx.Client, eid: str, budget: int, mine: list[str]) -> None:
    """A SigOpt-style worker over plain HTTP: suggestion, observation, until the budget."""
    while http.get(f"/v1/experiments/{eid}").json()["progress"]["observation_count"] < budget:
        suggestion = http.post(f"/v1/experiments/{eid}/suggestions", json={}).json()
        mine.append(suggestion["id"])
        reply = http.post(f"/v1/experiments/{eid}/observations",
                          json={"suggestion": suggestion["id"], "value": 1.0,
                                "metadata": {"via": "api"}})
        assert reply.status_code == 200, reply.text


def test_a_run_and_serve_handing_out_suggestions_for_one_experiment_count_each_once(
        env, tmp_path, service, start_worker, redis_server):
    budget, clients = 16, 2
    experiment = create(service, budget=budget, bandwidth=2)
    api = ApiServer(redis_server.url, tmp_path / "server")
    start_worker(extra_env={"CELERIAC_TEST_SLEEP": "0.3"})
    run = run_in_background(experiment, env, tmp_path)
    mine: list[str] = []
    try:
        wait_observations(service, experiment, 1)
        with api.http() as http:
            threads = [threading.Thread(target=api_client, args=(http, experiment.id, budget,
                                                                 mine)) for _ in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(100)
        finish(run, tmp_path)
    finally:
        end_group(run)
        api.stop()
    # the run ends once the budget is observed; what its workers still hold lands after it
    wait_until(lambda: not service.store.open_ids(experiment.id), 30,
               what="the evaluations in flight to land")
    recorded = service.store.observations(experiment.id)
    via_api = {o.suggestion for o in recorded if o.metadata.get("via") == "api"}
    assert via_api == set(mine) and len(via_api) == len(mine)
    assert len(via_api) < len(recorded), "the run's workers observed nothing"
    # SigOpt's budget is advisory for API clients: each may start one more as it ends, and
    # the run's own evaluations in flight then land too
    assert budget <= len(recorded) <= budget + clients + 2
    assert_invariants(service, experiment.id, len(recorded))


def running_in(service: Service, experiment: Experiment, pids: set[int]) -> int:
    store = service.store
    return sum(1 for s in store.suggestions(experiment.id, store.open_ids(experiment.id))
               if s.state == "running" and s.owner.rsplit(":", 1)[-1] in {str(p) for p in pids})


def test_sigkill_to_a_prefork_workers_main_process_requeues_its_evaluations_and_meets_the_budget(
        env, tmp_path, service, start_worker):
    experiment = create(service, budget=10, bandwidth=4)
    victim = start_worker(concurrency=4, extra_env={"CELERIAC_TEST_SLEEP": "3"})
    wait_until(lambda: len(victim.pool_children()) == 4, 30, what="four pool children")
    run = run_in_background(experiment, env, tmp_path)
    children = set(victim.pool_children())
    wait_until(lambda: running_in(service, experiment, children) >= 2, 60,
               what="evaluations running in the victim's pool")
    os.kill(victim.pid, signal.SIGKILL)  # the main process only: its children are orphaned
    victim.process.wait(timeout=10)
    start_worker(concurrency=2, extra_env={"CELERIAC_TEST_SLEEP": "0.3"})
    finish(run, tmp_path)
    assert_invariants(service, experiment.id, 10)
    assert sum(events_of(service, experiment, "requeued").values()) >= 2  # by the sweeper
