"""`coordinator status` and `best` at a million observations: the running summary against a
full read of every observation (the anchor, how both worked before), in the same run.

A private redis-server gets an experiment whose N observations are recorded through the real
observe_assignments script (pipelined, so that filling is quick), each keeping the running
summary as a worker's observe does. Then, at each size:
- `status` and `best` as the CLI computes them (views.status, views.best), in-process: wall
  milliseconds and Redis milliseconds (INFO commandstats, summed over the commands they sent);
- the same two answers from a full read (views.summarize over every observation, and
  best_observations): the anchor;
- one rebuild of a stale summary (after an observation is deleted or updated).

    python -m benchmarks.summary_reads [--sizes 10000,1000000] [--metrics 1,2]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from benchmarks.harness import private_redis
from coordinator.infra.connection import connect
from coordinator.service import views
from coordinator.service.experiments import Service
from coordinator.spec.config import parse_config_text
from coordinator.state import keys, scripts, summary
from coordinator.state.records import Experiment, MetricValue, ObservationRecord
from coordinator.state.store import Store

CONFIG = """
name: summary reads
parameters:
  - {{name: x, type: double, bounds: {{min: 0, max: 1}}}}
  - {{name: layers, type: int, bounds: {{min: 1, max: 12}}}}
metrics:
{metrics}
budget: 1000000
evaluate: m:f
optimizer: {{type: random, seed: 1}}
"""
METRICS = {
    1: "  - {name: accuracy, objective: maximize}\n"
       "  - {name: size, objective: minimize, strategy: constraint, threshold: 0.5}\n",
    2: "  - {name: accuracy, objective: maximize}\n"
       "  - {name: seconds, objective: minimize}\n",
}


def fill(service: Service, experiment_id: str, start: int, count: int, seed: int) -> None:
    """`count` more observations, through observe_assignments.lua as the API records them."""
    rng = random.Random(seed)
    k = keys.ExperimentKeys(experiment_id)
    script = service.store.redis.register_script(scripts.source("observe_assignments"))
    ids = service.store.allocate_ids(count)
    pipe = service.store.redis.pipeline(transaction=False)
    for number, oid in enumerate(ids, start=start):
        failed = rng.random() < 0.05
        record = ObservationRecord(
            id=oid, experiment=experiment_id, suggestion=None,
            assignments={"x": rng.random(), "layers": rng.randint(1, 12)},
            values=() if failed else (MetricValue("accuracy", rng.random()),
                                      MetricValue("size", rng.random()),
                                      MetricValue("seconds", rng.uniform(1, 100))),
            failed=failed, reason=f"worker lost (attempt {number % 3 + 1}) | details"
            if failed else "", metadata={"hostname": "bench"}, created=time.time())
        script(keys=[k.meta, k.observations, k.events, *k.summary_keys],
               args=[oid, record.to_json(), int(failed), summary.headline(record)],
               client=pipe)
        if number % 5000 == 0:
            pipe.execute()
    pipe.execute()


def redis_ms(client: Any, action: Callable[[], object]) -> tuple[float, float]:
    """(wall ms, Redis ms) of one call: commandstats' usec summed over what it sent."""
    client.config_resetstat()
    start = time.perf_counter()
    action()
    wall = (time.perf_counter() - start) * 1000
    stats = client.info("commandstats")
    used = sum(v["usec"] for name, v in stats.items() if name != "cmdstat_config")
    return wall, used / 1000


def best_of(times: list[tuple[float, float]]) -> tuple[float, float]:
    return min(t[0] for t in times), min(t[1] for t in times)


def measure(service: Service, experiment: Experiment, label: str, repeats: int) -> None:
    """One table row per read, then the rebuild of a stale summary."""
    client = service.store.redis

    def full_status() -> object:
        observations = service.observations(experiment)
        return views.summarize(experiment, observations, service.open_suggestions(experiment.id),
                               views.best(service, experiment, observations))

    reads = {"status": (lambda: views.status(service, experiment.id), full_status),
             "best": (lambda: views.best(service, experiment),
                      lambda: views.best(service, experiment, service.observations(experiment)))}
    assert views.best(service, experiment) == \
        views.best(service, experiment, service.observations(experiment))
    for name, (read, full) in reads.items():
        ours = best_of([redis_ms(client, read) for _ in range(repeats)])
        anchor = best_of([redis_ms(client, full) for _ in range(2)])
        print(f"| {label} | {name} | {ours[0]:.2f} | {ours[1]:.3f} | {anchor[0]:,.0f} | "
              f"{anchor[1]:,.0f} | {ours[1] / anchor[1]:.6f} |", flush=True)
    client.hset(keys.ExperimentKeys(experiment.id).meta, "summary", "0")
    wall, used = redis_ms(client, lambda: views.status(service, experiment.id))
    print(f"| {label} | rebuild (stale summary) | {wall:,.0f} | {used:,.0f} | | | |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--metrics", default="1,2", help="optimized metrics: 1, 2 (Pareto)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("| optimized metrics | observations | read | wall ms | Redis ms | full read wall ms "
          "| full read Redis ms | ratio (Redis) |\n|---|---|---|---|---|---|---|---|")
    with private_redis() as url:
        service = Service(Store(connect(url)))
        for metrics in (int(m) for m in args.metrics.split(",")):
            service.store.redis.flushall()
            spec = parse_config_text(CONFIG.format(metrics=METRICS[metrics]).encode())
            experiment = service.create_experiment(spec)
            filled = 0
            for size in (int(s) for s in args.sizes.split(",")):
                fill(service, experiment.id, filled, size - filled, seed=size)
                filled = size
                measure(service, experiment, f"{metrics} | {size:,}", args.repeats)


if __name__ == "__main__":
    main()
