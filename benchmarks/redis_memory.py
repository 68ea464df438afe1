"""Redis memory per observation, for sizing `maxmemory` (docs/operations.md, "Sizing Redis").

Runs N suggestions of a typical experiment (5 parameters, 2 metrics) through the real path
(take, claim, observe, as a worker does) on a private redis-server, and prints INFO memory's
`used_memory` before and after, per observation, with and without the 4 KB output tail a
worker keeps in an observation's metadata. The events stream is capped (about 10,000 entries
per experiment), so it is shown apart: it stops growing after ~3,300 observations.

    python -m benchmarks.redis_memory [--observations 1000]
"""

from __future__ import annotations

import argparse
import random
import socket
from typing import Any

from benchmarks.harness import private_redis
from coordinator.infra.connection import connect
from coordinator.service.experiments import Service
from coordinator.spec.config import parse_config_text
from coordinator.state import keys
from coordinator.state.store import Store

CONFIG = """
name: sizing
parameters:
  - {name: learning_rate, type: double, bounds: {min: 0.00001, max: 1}, transformation: log}
  - {name: dropout, type: double, bounds: {min: 0, max: 0.8}}
  - {name: momentum, type: double, bounds: {min: 0.5, max: 0.99}}
  - {name: layers, type: int, bounds: {min: 1, max: 12}}
  - {name: optimizer, type: categorical, categorical_values: [sgd, adam, rmsprop]}
metrics:
  - {name: accuracy, objective: maximize}
  - {name: seconds, objective: minimize, strategy: store}
budget: 1000000
parallel_bandwidth: 8
evaluate: m:f
optimizer: {type: random, seed: 1}
"""
OUTPUT_TAIL = 4096  # worker/output.py OUTPUT_LIMIT: the most an observation keeps


def used_memory(service: Service) -> int:
    return int(service.store.redis.info("memory")["used_memory"])


def key_bytes(service: Service, key: str) -> int:
    return int(service.store.redis.memory_usage(key, samples=0) or 0)


def observe_many(service: Service, count: int, with_output: bool) -> str:
    """Creates an experiment and records `count` observations as workers do; returns its id."""
    experiment = service.create_experiment(parse_config_text(CONFIG.encode()))
    rng = random.Random(1)
    for number in range(count):
        suggestion = service.create_suggestion(experiment.id, claim_ms=60_000)
        claim = service.store.claim(experiment.id, suggestion.id, f"host:{number}", 60_000)
        running = service.store.suggestion(experiment.id, suggestion.id)
        assert running is not None and claim.epoch is not None
        metadata: dict[str, Any] = {"hostname": socket.gethostname(), "worker": "host:1234",
                                    "attempt": 1}
        if with_output:
            metadata["output"] = "".join(rng.choice("abcdefghij \n") for _ in range(OUTPUT_TAIL))
        values = {"accuracy": (rng.random(), None), "seconds": (rng.uniform(1, 100), None)}
        observation = service.new_observation(experiment, running, values, metadata=metadata,
                                              duration=rng.uniform(1, 100))
        service.observe(observation, epoch=claim.epoch)
    return experiment.id


def measure(url: str, count: int, with_output: bool) -> tuple[float, float]:
    """(bytes per observation in total, of which the events stream)."""
    service = Service(Store(connect(url)))
    service.store.redis.flushall()
    before = used_memory(service)
    experiment_id = observe_many(service, count, with_output)
    after = used_memory(service)
    events = key_bytes(service, keys.ExperimentKeys(experiment_id).events)
    return (after - before) / count, events / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--observations", type=int, default=1000)
    args = parser.parse_args()
    with private_redis() as url:
        print(f"{args.observations} observations of a 5-parameter, 2-metric experiment "
              f"(INFO memory used_memory, after - before):")
        for label, with_output in (("without output tail", False),
                                   (f"with a {OUTPUT_TAIL} B output tail", True)):
            total, events = measure(url, args.observations, with_output)
            print(f"  {label:28s} {total:8.0f} B per observation "
                  f"({total - events:.0f} B records + {events:.0f} B events stream), "
                  f"{total * 1_000_000 / 2**30:.2f} GiB per million")


if __name__ == "__main__":
    main()
