"""Parallel efficiency: N local workers, a metric that sleeps S seconds, budget B.

Ideal wall time is B*S/N. Reported: wall time from the first dispatch to the last observation
(both on the Redis server clock), and its ratio to the ideal. Target: ratio <= 1.25 with
4 workers, budget 40, 1 s metric.

    python benchmarks/parallel_efficiency.py [--workers 4] [--budget 40] [--sleep 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import local_workers, private_redis  # noqa: E402
from coordinator.infra.connection import connect  # noqa: E402
from coordinator.infra.timing import Timing  # noqa: E402
from coordinator.runloop.dispatch import TaskSender  # noqa: E402
from coordinator.runloop.runner import Runner  # noqa: E402
from coordinator.service.experiments import Service  # noqa: E402
from coordinator.spec.config import validate_experiment  # noqa: E402
from coordinator.state.store import Store  # noqa: E402


def experiment(budget: int, workers: int, optimizer: str) -> dict:
    return {"name": f"efficiency-{optimizer}",
            "parameters": [{"name": "x", "bounds": {"min": -5, "max": 10}},
                           {"name": "y", "bounds": {"min": 0, "max": 15}}],
            "metrics": [{"name": "branin", "objective": "minimize"}],
            "budget": budget, "parallel_bandwidth": workers,
            "evaluate": "benchmarks.metrics:sleep_branin",
            "optimizer": {"type": optimizer, "seed": 1}}


def measure(url: str, args: argparse.Namespace, optimizer: str) -> tuple[float, float]:
    service = Service(Store(connect(url)))
    spec = validate_experiment(experiment(args.budget, args.workers, optimizer))
    experiment_id = service.create_experiment(spec).id
    sender = TaskSender(url)
    Runner(service, sender, Timing.from_env()).run(experiment_id, threading.Event())
    sender.close()
    first = min(s.created for s in service.suggestions(experiment_id)) / 1000
    observations = service.observations(experiment_id)
    last = max(o.created for o in observations)
    assert len(observations) == args.budget
    ideal = args.budget * args.sleep / args.workers
    return last - first, ideal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--sleep", type=float, default=1.0)
    parser.add_argument("--optimizers", default="random,bayes")
    args = parser.parse_args()
    os.environ["CELERIAC_BENCH_SLEEP"] = str(args.sleep)
    print("| optimizer | workers | budget | metric s | wall s | ideal s | ratio |")
    print("|---|---|---|---|---|---|---|")
    with private_redis() as url, local_workers(args.workers, url,
                                               {"CELERIAC_BENCH_SLEEP": str(args.sleep)}):
        for optimizer in args.optimizers.split(","):
            wall, ideal = measure(url, args, optimizer)
            print(f"| {optimizer} | {args.workers} | {args.budget} | {args.sleep:g} | "
                  f"{wall:.2f} | {ideal:.2f} | {wall / ideal:.3f} |", flush=True)


if __name__ == "__main__":
    main()
