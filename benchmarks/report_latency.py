"""The report-and-decide path: what one intermediate report of a training run costs a worker.

    python -m benchmarks.report_latency [--reporters 1,8] [--runs 600] [--round-trips 2000]
        [--think-ms 0]

Starts its own redis-server on a free 127.0.0.1 port (ended on exit). Each experiment has ASHA
with 4 rungs (min_resource 1, max_resource 81, reduction_factor 3: rungs at 1, 3, 9, 27) and
`--runs` claimed runs. The reporters are separate processes (as workers are), started together,
each walking its share of the runs epoch by epoch as fast as it can, through
coordinator.service.progress.report (the worker's whole path: the check, the plan, the
fenced report.lua that stores and decides); a run leaves when it is stopped or done. With
think time 0 the reporters report flat out (on a small machine that measures CPU saturation as
much as the path); with think time t each reporter waits t ms between its reports, the way a
worker reports between epochs. "Lua us" is report.lua's own time on the Redis server (INFO
commandstats), which no client-side contention inflates.

The unit is a plain Redis round trip (HGET of the experiment's meta) by the same number of
processes in the same run, so the ratio says what the decision adds whatever the machine.
The issue's target: at most 2 ms per report at 8 reporters.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from coordinator.infra.connection import connect
from coordinator.infra.embedded import redis_server_binary
from coordinator.service.experiments import Service
from coordinator.service.progress import report
from coordinator.spec.config import validate_experiment
from coordinator.state import keys
from coordinator.state.records import Experiment
from coordinator.state.states import ClaimReply, ReportReply
from coordinator.state.store import Store

MAX_RESOURCE = 81
TARGET_MS = 2.0


def spec_for(scheduler: bool, runs: int) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "report latency",
        "parameters": [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}],
        "metrics": [{"name": "loss", "objective": "minimize"}],
        "budget": runs, "parallel_bandwidth": min(runs, 1000), "evaluate": "bench:none",
        "optimizer": {"type": "random", "seed": 1},
    }
    if scheduler:
        spec["early_stopping"] = {"scheduler": "asha", "resource": "epoch", "min_resource": 1,
                                  "max_resource": MAX_RESOURCE, "reduction_factor": 3}
    return spec


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """A private redis-server (AOF on, as deployed) in its own process group."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="celeriac-report-bench-"))
        self.port = free_port()
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "everysec",
             "--save", ""], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 15
        while True:
            try:
                if redis.Redis(port=self.port).ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.directory, ignore_errors=True)


def claimed_runs(service: Service, scheduler: bool, runs: int) -> tuple[Experiment, list[str]]:
    experiment = service.create_experiment(validate_experiment(spec_for(scheduler, runs),
                                                               require_evaluation=True))
    sids = []
    for i in range(runs):
        sid = service.create_suggestion(experiment.id, claim_ms=600_000).id
        claim = service.store.claim(experiment.id, sid, f"bench:{i}", 600_000)
        assert claim.status is ClaimReply.OK and claim.epoch == 1
        sids.append(sid)
    return experiment, sids


# the reporter processes -----------------------------------------------------------------------


def round_trips(url: str, experiment_id: str, count: int, think: float, start: Any,
                out: Any) -> None:
    client = connect(url)
    meta = keys.ExperimentKeys(experiment_id).meta
    client.ping()
    start.wait()
    found = []
    for _ in range(count):
        begin = time.perf_counter()
        client.hget(meta, "state")
        found.append(time.perf_counter() - begin)
        if think:
            time.sleep(think)
    out.put(found)


def reporter(url: str, experiment_id: str, sids: list[str], seed: int, think: float,
             start: Any, out: Any) -> None:
    """Reports every run of its share one epoch at a time, round-robin, until each is stopped
    or reaches max_resource; loss falls with the epoch towards the run's own quality."""
    service = Service(Store(connect(url)))
    experiment = service.experiment(experiment_id)
    rng = random.Random(seed)
    quality = {sid: rng.random() for sid in sids}
    service.store.redis.ping()
    start.wait()
    found = []
    active = list(sids)
    for step in range(1, MAX_RESOURCE + 1):
        still = []
        for sid in active:
            loss = quality[sid] + 1.0 / step + rng.gauss(0, 0.01)
            begin = time.perf_counter()
            decision = report(service.store, experiment.spec, experiment_id, sid, 1, step,
                              {"loss": loss})
            found.append(time.perf_counter() - begin)
            if think:
                time.sleep(think)
            if decision.status is ReportReply.CONTINUE:
                still.append(sid)
            elif decision.status not in (ReportReply.STOP, ReportReply.DONE):
                raise RuntimeError(f"report of {sid} at step {step}: {decision}")
        active = still
        if not active:
            break
    out.put(found)


@dataclass
class Row:
    path: str
    reporters: int
    think_ms: float
    calls: int
    median_ms: float
    p99_ms: float
    wall_s: float
    lua_us: float | None = None
    stopped: int = 0


def gather(target: Any, jobs: list[tuple[Any, ...]]) -> tuple[list[float], float]:
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(len(jobs) + 1), context.Queue()
    processes = [context.Process(target=target, args=(*job, start, out)) for job in jobs]
    for process in processes:
        process.start()
    try:
        start.wait(timeout=120)
        began = time.perf_counter()
        found: list[float] = []
        for _ in processes:
            found += out.get(timeout=600)
        wall = time.perf_counter() - began
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
    if any(process.exitcode for process in processes):
        raise RuntimeError("a reporter process failed")
    return found, wall


def row(path: str, reporters: int, think: float, found: list[float], wall: float,
        lua_us: float | None = None, stopped: int = 0) -> Row:
    ms = sorted(x * 1000 for x in found)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    return Row(path, reporters, think * 1000, len(ms), statistics.median(ms), p99, wall,
               lua_us, stopped)


def script_us_per_call(client: Any) -> float | None:
    """Server-side microseconds per EVALSHA since the last CONFIG RESETSTAT."""
    stats = client.info("commandstats").get("cmdstat_evalsha")
    return float(stats["usec_per_call"]) if stats else None


def measure(service: Service, url: str, reporters: int, think: float, runs: int, count: int
            ) -> list[Row]:
    rows = []
    client = service.store.redis
    experiment, _ = claimed_runs(service, False, 1)
    found, wall = gather(round_trips, [(url, experiment.id, count, think)] * reporters)
    rows.append(row("HGET round trip", reporters, think, found, wall))
    for scheduler, name in ((False, "report, no scheduler"), (True, "report + ASHA, 4 rungs")):
        experiment, sids = claimed_runs(service, scheduler, runs)
        shares = [sids[i::reporters] for i in range(reporters)]
        client.config_resetstat()
        found, wall = gather(reporter, [(url, experiment.id, share, i, think)
                                        for i, share in enumerate(shares)])
        lua = script_us_per_call(client)
        stopped = sum(s.stopped for s in service.store.suggestions(experiment.id, sids))
        rows.append(row(name, reporters, think, found, wall, lua, stopped))
    return rows


def print_table(rows: list[Row], runs: int) -> None:
    print(f"| path | reporters | think ms | reports | median ms | p99 ms | median / RTT | "
          f"p99 / RTT | Lua us | per s | runs stopped of {runs} |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    baseline: Row | None = None
    for r in rows:
        if r.path.startswith("HGET"):
            baseline = r
        assert baseline is not None
        stopped = str(r.stopped) if r.path.startswith("report + ASHA") else ""
        lua = "" if r.lua_us is None else f"{r.lua_us:.1f}"
        print(f"| {r.path} | {r.reporters} | {r.think_ms:g} | {r.calls} | {r.median_ms:.3f} | "
              f"{r.p99_ms:.3f} | {r.median_ms / baseline.median_ms:.2f} | "
              f"{r.p99_ms / baseline.p99_ms:.2f} | {lua} | {r.calls / r.wall_s:.0f} | "
              f"{stopped} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reporters", default="1,8", help="comma-separated process counts")
    parser.add_argument("--runs", type=int, default=600, help="claimed runs per experiment")
    parser.add_argument("--round-trips", type=int, default=2000,
                        help="HGETs per process for the baseline")
    parser.add_argument("--think-ms", default="0",
                        help="comma-separated pauses between one reporter's reports")
    args = parser.parse_args()
    server = RedisProcess()
    try:
        service = Service(Store(connect(server.url)))
        warm, sids = claimed_runs(service, True, 1)  # loads report.lua into the script cache
        report(service.store, warm.spec, warm.id, sids[0], 1, 1, {"loss": 1.0})
        rows: list[Row] = []
        for think in (float(t) / 1000 for t in args.think_ms.split(",")):
            for count in (int(n) for n in args.reporters.split(",")):
                rows += measure(service, server.url, count, think, args.runs, args.round_trips)
        print_table(rows, args.runs)
        print()
        for r in rows:
            if r.path.startswith("report + ASHA") and r.reporters == 8:
                verdict = "meets" if r.median_ms <= TARGET_MS else "misses"
                print(f"ASHA, 8 reporters, think {r.think_ms:g} ms: median {r.median_ms:.3f} ms, "
                      f"p99 {r.p99_ms:.3f} ms per report: {verdict} the {TARGET_MS:g} ms "
                      f"target (median)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
