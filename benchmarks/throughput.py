"""End-to-end observations per second against raw Celery no-op task throughput.

Both run in the same process tree on the same private Redis with the same number of worker
processes (concurrency 1 each): first raw Celery (N no-op tasks queued at once, timed until
all have run), then a Celeriac experiment with a no-op metric and random search. Also reports
the coordinator's own time per observation, excluding the optimizer.

    python benchmarks/throughput.py [--workers 2] [--tasks 2000] [--budget 1000] [--rounds 3]
        [--latency-ms 2]    # workers reach Redis through a proxy adding 2 ms per round trip
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import ROOT, local_workers, private_redis, wait_for_workers  # noqa: E402
from benchmarks.latency_proxy import delayed  # noqa: E402
from coordinator.engine.backlog import refresh  # noqa: E402
from coordinator.engine.suggester import Suggester  # noqa: E402
from coordinator.infra.connection import ENV_URL, connect  # noqa: E402
from coordinator.infra.timing import Timing  # noqa: E402
from coordinator.runloop.dispatch import TaskSender  # noqa: E402
from coordinator.runloop.runner import Runner  # noqa: E402
from coordinator.service.experiments import Service  # noqa: E402
from coordinator.spec.config import validate_experiment  # noqa: E402
from coordinator.state.store import Store  # noqa: E402


def raw_celery(url: str, workers: int, tasks: int, worker_url: str) -> float:
    env = {**os.environ, ENV_URL: worker_url, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "celery", "-A", "benchmarks.raw_celery",
                               "worker", "-c", "1", "-n", f"raw{i}@%h", "-Q", "raw-bench",
                               "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
                              env=env, cwd=ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for i in range(workers)]
    try:
        wait_for_workers(url, workers)
        os.environ[ENV_URL] = url
        from benchmarks.raw_celery import app

        client = connect(url)
        client.delete("bench:raw")
        started = time.perf_counter()
        with app.producer_or_acquire() as producer:
            for _ in range(tasks):
                app.send_task("bench.noop", args=["bench:raw"], producer=producer)
        while int(client.get("bench:raw") or 0) < tasks:
            time.sleep(0.005)
        return tasks / (time.perf_counter() - started)
    finally:
        for proc in procs:
            os.killpg(proc.pid, 15)
        for proc in procs:
            proc.wait(timeout=30)


class TimedSuggester(Suggester):
    """Counts the optimizer's time so it can be taken out of the coordinator's."""

    spent = 0.0

    def compute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return super().compute(*args, **kwargs)
        finally:
            TimedSuggester.spent += time.perf_counter() - began


def celeriac(url: str, workers: int, budget: int, bandwidth: int) -> tuple[float, float]:
    service = Service(Store(connect(url)))
    service.suggester = TimedSuggester(service.store)
    spec = validate_experiment({
        "name": "throughput", "budget": budget, "parallel_bandwidth": bandwidth,
        "parameters": [{"name": "x", "bounds": {"min": 0, "max": 1}},
                       {"name": "y", "bounds": {"min": 0, "max": 1}}],
        "metrics": [{"name": "zero"}], "evaluate": "benchmarks.metrics:noop",
        "optimizer": {"type": "random", "seed": 1}})
    experiment_id = service.create_experiment(spec).id
    sender = TaskSender(url)
    runner = Runner(service, sender, Timing.from_env())
    loop_times: list[float] = []
    original_fill = runner.dispatcher.fill

    def timed_fill(experiment, counts):  # type: ignore[no-untyped-def]
        began, spent = time.perf_counter(), TimedSuggester.spent
        sent = original_fill(experiment, counts)
        if sent:
            own = time.perf_counter() - began - (TimedSuggester.spent - spent)
            loop_times.extend([own / len(sent)] * len(sent))
        return sent
    runner.dispatcher.fill = timed_fill  # type: ignore[method-assign]
    started = time.perf_counter()
    runner.run(experiment_id, threading.Event())
    elapsed = time.perf_counter() - started
    sender.close()
    assert service.store.counts(experiment_id).observations == budget
    return budget / elapsed, statistics.median(loop_times) * 1000


def dispatch_cost(url: str, count: int = 500) -> float:
    """Median ms to hand out and send one suggestion with nothing else running: id, atomic
    take from the backlog, Celery publish, and the loop's counts read."""
    service = Service(Store(connect(url)))
    spec = validate_experiment({
        "name": "dispatch-cost", "budget": count + 10, "evaluate": "benchmarks.metrics:noop",
        "parameters": [{"name": "x", "bounds": {"min": 0, "max": 1}}],
        "metrics": [{"name": "zero"}], "optimizer": {"type": "random", "seed": 2}})
    experiment = service.create_experiment(spec)
    refresh(service.suggester, experiment.id, spec, count)
    sender, costs = TaskSender(url, queue="dispatch-cost"), []
    for _ in range(count):
        began = time.perf_counter()
        taken = service.suggester.take(experiment.id, spec, claim_ms=30_000)
        assert taken.suggestion_id is not None
        sender.send(experiment, taken.suggestion_id)
        service.store.counts(experiment.id)
        costs.append(time.perf_counter() - began)
    sender.close()
    return statistics.median(costs) * 1000


@contextmanager
def worker_route(url: str, latency_ms: float) -> Iterator[str]:
    """The URL workers use: Redis itself, or a proxy adding latency (no netem needed)."""
    if not latency_ms:
        yield url
        return
    with delayed(url.removeprefix("unix://"), latency_ms) as port:
        yield f"redis://127.0.0.1:{port}/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--bandwidth", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="workers reach Redis through a proxy adding this per round trip")
    args = parser.parse_args()
    raws, rates, overheads = [], [], []
    with private_redis() as url, worker_route(url, args.latency_ms) as worker_url:
        for _ in range(args.rounds):  # alternate, so load from elsewhere hits both alike
            raws.append(raw_celery(url, args.workers, args.tasks, worker_url))
            with local_workers(args.workers, worker_url):
                rate, overhead_ms = celeriac(url, args.workers, args.budget, args.bandwidth)
            rates.append(rate)
            overheads.append(overhead_ms)
        isolated_ms = dispatch_cost(url)
    raw, rate = statistics.median(raws), statistics.median(rates)
    overhead_ms = statistics.median(overheads)
    print(f"rounds: raw {[round(r) for r in raws]}, celeriac {[round(r) for r in rates]}")
    print("| measure | value |\n|---|---|")
    if args.latency_ms:
        print(f"| added latency between workers and Redis | {args.latency_ms:g} ms |")
    print(f"| raw Celery no-op tasks/s ({args.workers} workers) | {raw:.0f} |")
    print(f"| Celeriac observations/s ({args.workers} workers, random, bandwidth "
          f"{args.bandwidth}) | {rate:.0f} |")
    print(f"| ratio Celeriac / raw Celery | {rate / raw:.2f} |")
    print(f"| coordinator time per observation, excluding the optimizer (median, during the "
          f"run) | {overhead_ms:.2f} ms |")
    print(f"| the same dispatch path alone: id + take + publish + counts (median) | "
          f"{isolated_ms:.2f} ms |")


if __name__ == "__main__":
    main()
