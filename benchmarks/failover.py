"""What a Sentinel failover costs and what survives it (docs/scaling.md, high availability).

On a primary, a replica and three sentinels (tests/integration/sentinel.py, real
redis-server processes on loopback):

1. the cost of WAIT: the observe transition's median seconds with the store waiting for one
   replica and not waiting, in turn on one experiment (take and claim as a worker does);
2. a failover mid-stream, with and without WAIT: observations are recorded back to back,
   the primary is killed with SIGKILL after `--kill-after` of them, and the loop carries on
   through the promotion. Reported: the longest stall, and how many observations the loop was
   told were stored are missing on the promoted replica afterwards.

    python -m benchmarks.failover [--observations 2000] [--kill-after 500]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.redis_memory import CONFIG
from coordinator.infra.connection import connect
from coordinator.service.experiments import Service
from coordinator.spec.config import parse_config_text
from coordinator.state.store import Store
from tests.integration.sentinel import SentinelGroup


def observe_one(service: Service, experiment_id: str, number: int,
                clock: list[float] | None = None) -> str:
    """Take, claim and observe one suggestion as a worker does; `clock` gets the seconds of
    the observe transition alone."""
    experiment = service.experiment(experiment_id)
    suggestion = service.create_suggestion(experiment_id, claim_ms=60_000)
    claim = service.store.claim(experiment_id, suggestion.id, f"bench:{number}", 60_000)
    running = service.store.suggestion(experiment_id, suggestion.id)
    assert running is not None and claim.epoch is not None
    observation = service.new_observation(experiment, running, {"accuracy": (0.5, None),
                                                                "seconds": (1.0, None)})
    start = time.perf_counter()
    service.observe(observation, epoch=claim.epoch)
    if clock is not None:
        clock.append(time.perf_counter() - start)
    return observation.id


def cost_of_wait(group: SentinelGroup, count: int) -> dict[str, float]:
    """Median seconds of the observe transition, waiting and not waiting in turn."""
    service = Service(Store(connect(group.url)))
    experiment = service.create_experiment(parse_config_text(CONFIG.encode()))
    clocks: dict[int, list[float]] = {0: [], 1: []}
    for number in range(count):
        replicas = number % 2
        service.store.replication.replicas = replicas
        observe_one(service, experiment.id, number, clocks[replicas])
    return {"no wait": statistics.median(clocks[0]),
            "wait for 1 replica": statistics.median(clocks[1])}


def through_failover(directory: Path, count: int, kill_after: int, replicas: int
                     ) -> dict[str, float]:
    group = SentinelGroup(directory)
    try:
        group.start()
        service = Service(Store(connect(group.url)))
        service.store.replication.replicas = replicas
        experiment = service.create_experiment(parse_config_text(CONFIG.encode()))
        told: list[str] = []
        gaps: list[float] = []
        last = time.perf_counter()
        for number in range(count):
            if number == kill_after:
                group.primary.stop(signal.SIGKILL)
            told.append(observe_one(service, experiment.id, number))
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
        stored = {o.id for o in service.store.observations(experiment.id)}
        return {"stall_s": max(gaps), "median_ms": 1000 * statistics.median(gaps),
                "told": len(told), "missing": len(set(told) - stored),
                "promoted": float(group.current_primary() == group.replica.port)}
    finally:
        group.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=2000)
    parser.add_argument("--kill-after", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="celeriac-failover-") as root:
        group = SentinelGroup(Path(root) / "cost")
        try:
            group.start()
            costs = cost_of_wait(group, args.observations)
        finally:
            group.stop()
        base = costs["no wait"]
        print("| observe transition (median, in turn on one experiment) | ms | ratio to no "
              "wait |")
        print("|---|---|---|")
        for label, value in costs.items():
            print(f"| {label} | {1000 * value:.3f} | {value / base:.2f} |")
        print("\n| failover mid-stream | observations told stored | missing after "
              "failover | longest stall s | median ms | replica promoted |")
        print("|---|---|---|---|---|---|")
        for replicas in (1, 0):
            row = through_failover(Path(root) / f"failover{replicas}", args.observations,
                                   args.kill_after, replicas)
            label = "WAIT for 1 replica" if replicas else "no WAIT"
            print(f"| {label} | {row['told']:.0f} | {row['missing']:.0f} | "
                  f"{row['stall_s']:.2f} | {row['median_ms']:.2f} | "
                  f"{'yes' if row['promoted'] else 'no'} |")


if __name__ == "__main__":
    main()
