"""A thousand concurrent evaluations on one machine: Celeriac end to end against raw Celery on
the same broker, with the same worker pools.

The workers are honest Celery workers with the threads pool: W processes of S slots each
(default 4 x 250 = 1,000), the evaluation a metric that sleeps T seconds. First raw Celery:
N sleeping tasks published at once, timed until all have run. Then Celeriac: E experiments at
once (default 100, bandwidth 1,000 / E each, random search), each driven by its own Runner
(threads of this process, as `coordinator run` runs one), N observations in all. Reported:
observations/s against raw tasks/s, the dispatch rate, coordinator CPU per observation, Redis
commands and Redis CPU per observation, and each part's CPU share of the wall time, which
shows where it saturates.

    python -m benchmarks.thousand_workers [--processes 4] [--slots 250] [--sleep 10]
        [--experiments 100] [--tasks 3000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from benchmarks.harness import ROOT, private_redis, wait_for_workers
from coordinator.infra.connection import connect
from coordinator.infra.timing import Timing
from coordinator.runloop.dispatch import TaskSender
from coordinator.runloop.runner import Runner
from coordinator.service.experiments import Service
from coordinator.spec.config import validate_experiment
from coordinator.state.store import Store


@contextmanager
def pools(url: str, app: str, queue: str, processes: int, slots: int, env: dict[str, str]
          ) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`processes` Celery workers with the threads pool, `slots` threads each."""
    logs = Path(tempfile.mkdtemp(prefix="celeriac-thousand-"))
    started = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", app, "worker", "-P", "threads", "-c", str(slots),
         "-n", f"{queue}{i}@%h", "-Q", queue, "--without-mingle", "--without-gossip",
         "--loglevel", "WARNING"],
        cwd=ROOT, env={**os.environ, **env, "CELERIAC_REDIS_URL": url, "PYTHONPATH": str(ROOT)},
        stdout=open(logs / f"{queue}{i}.log", "ab"), stderr=subprocess.STDOUT,
        start_new_session=True) for i in range(processes)]
    try:
        wait_for_workers(url, processes, timeout=120)
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def cpu_seconds(processes: list[subprocess.Popen[bytes]]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = psutil.Process(process.pid).cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def redis_counters(client: Any) -> tuple[int, float]:
    """(commands processed, Redis CPU seconds) so far."""
    stats, cpu = client.info("stats"), client.info("cpu")
    return int(stats["total_commands_processed"]), float(cpu["used_cpu_sys"]) + \
        float(cpu["used_cpu_user"])


def raw_celery(url: str, args: argparse.Namespace) -> dict[str, float]:
    client = connect(url)
    with pools(url, "benchmarks.raw_celery", "raw-bench", args.processes, args.slots,
               {}) as workers:
        os.environ["CELERIAC_REDIS_URL"] = url  # benchmarks.raw_celery reads it on import
        from benchmarks.raw_celery import app  # noqa: PLC0415
        client.delete("bench:raw")
        commands, redis_cpu = redis_counters(client)
        worker_cpu = cpu_seconds(workers)
        began = time.perf_counter()
        with app.producer_or_acquire() as producer:
            for _ in range(args.tasks):
                app.send_task("bench.sleep", args=["bench:raw", args.sleep], producer=producer,
                              queue="raw-bench")
        while int(client.get("bench:raw") or 0) < args.tasks:
            time.sleep(0.05)
        wall = time.perf_counter() - began
        commands2, redis_cpu2 = redis_counters(client)
        return {"wall": wall, "rate": args.tasks / wall,
                "redis_commands": (commands2 - commands) / args.tasks,
                "redis_cpu": (redis_cpu2 - redis_cpu) / wall,
                "worker_cpu": (cpu_seconds(workers) - worker_cpu) / wall}


def celeriac(url: str, args: argparse.Namespace) -> dict[str, float]:
    service = Service(Store(connect(url)))
    bandwidth = max(1, args.processes * args.slots // args.experiments)
    budget = max(1, args.tasks // args.experiments)
    ids = [service.create_experiment(validate_experiment({
        "name": f"thousand-{i}", "budget": budget, "parallel_bandwidth": bandwidth,
        "max_attempts": 3,
        "parameters": [{"name": "x", "bounds": {"min": 0, "max": 1}},
                       {"name": "y", "bounds": {"min": 0, "max": 1}}],
        "metrics": [{"name": "zero"}], "evaluate": "benchmarks.metrics:noop_slow",
        "optimizer": {"type": "random", "seed": i}})).id for i in range(args.experiments)]
    total = budget * len(ids)
    env = {"CELERIAC_BENCH_SLEEP": str(args.sleep)}
    with pools(url, "worker", "celeriac", args.processes, args.slots, env) as workers:
        sender = TaskSender(url)
        commands, redis_cpu = redis_counters(service.store.redis)
        worker_cpu = cpu_seconds(workers)
        own = resource.getrusage(resource.RUSAGE_SELF)
        began = time.perf_counter()

        def run(experiment_id: str) -> None:
            Runner(service, sender, Timing.from_env()).run(experiment_id, threading.Event())

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in ids]
        for thread in threads:
            thread.start()
        ramp, samples = 0.0, 0  # until 95 % of the slots hold an open suggestion
        while any(t.is_alive() for t in threads):
            time.sleep(0.5 if not ramp else 2.0)
            samples += 1
            if not ramp and sum(service.store.counts(i).open for i in ids) >= 0.95 * min(
                    args.processes * args.slots, bandwidth * len(ids)):
                ramp = time.perf_counter() - began
        wall = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_SELF)
        commands2, redis_cpu2 = redis_counters(service.store.redis)
        coordinator_cpu = (after.ru_utime - own.ru_utime) + (after.ru_stime - own.ru_stime)
        observed = sum(service.store.counts(i).observations for i in ids)
        failed = sum(service.store.counts(i).failed for i in ids)
        sender.close()
        return {"wall": wall, "rate": observed / wall, "observed": observed, "total": total,
                "failed": failed,
                "coordinator_cpu_ms": coordinator_cpu / observed * 1000,
                "coordinator_cpu": coordinator_cpu / wall,
                "ramp": ramp, "dispatch_rate": 0.95 * bandwidth * len(ids) / ramp if ramp else 0,
                # less the sampler's own reads (3 commands per experiment per sample)
                "redis_commands": (commands2 - commands - 3 * len(ids) * samples) / observed,
                "redis_cpu": (redis_cpu2 - redis_cpu) / wall,
                "worker_cpu": (cpu_seconds(workers) - worker_cpu) / wall,
                "worker_cpu_ms": (cpu_seconds(workers) - worker_cpu) / observed * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--slots", type=int, default=250)
    parser.add_argument("--sleep", type=float, default=10.0)
    parser.add_argument("--experiments", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=3000)
    args = parser.parse_args()
    slots = args.processes * args.slots
    with private_redis() as url:
        raw = raw_celery(url, args)
        ours = celeriac(url, args)
    ideal = args.tasks / slots * args.sleep
    print(f"{slots} slots ({args.processes} x {args.slots} threads), evaluations of "
          f"{args.sleep:g} s, {args.tasks} in all (ideal {ideal:.0f} s); Celeriac in "
          f"{args.experiments} experiments at once\n")
    print("| measure | raw Celery | Celeriac |\n|---|---|---|")
    print(f"| wall time | {raw['wall']:.1f} s | {ours['wall']:.1f} s |")
    print(f"| evaluations/s | {raw['rate']:.1f} | {ours['rate']:.1f} |")
    print(f"| ratio Celeriac / raw Celery | | {ours['rate'] / raw['rate']:.2f} |")
    print(f"| observed / budget (failed) | | {ours['observed']:.0f} / {ours['total']:.0f} "
          f"({ours['failed']:.0f}) |")
    print(f"| time to fill 95 % of the slots (dispatch rate) | | {ours['ramp']:.1f} s "
          f"({ours['dispatch_rate']:.0f}/s) |")
    print(f"| Redis commands per evaluation | {raw['redis_commands']:.1f} | "
          f"{ours['redis_commands']:.1f} |")
    print(f"| Redis CPU (cores busy) | {raw['redis_cpu']:.2f} | {ours['redis_cpu']:.2f} |")
    print(f"| worker processes' CPU (cores busy) | {raw['worker_cpu']:.2f} | "
          f"{ours['worker_cpu']:.2f} |")
    print(f"| worker CPU per evaluation | | {ours['worker_cpu_ms']:.1f} ms |")
    print(f"| coordinator CPU (cores busy) | | {ours['coordinator_cpu']:.2f} |")
    print(f"| coordinator CPU per observation | | {ours['coordinator_cpu_ms']:.1f} ms |")


if __name__ == "__main__":
    main()
