"""Reliability figures, measured with real redis-server, Celery workers and the coordinator CLI.

1. recovery: from a worker's `kill -9` (whole process group) to its suggestion being claimed
   again by another worker, with the default timing (lease TTL 10 s, sweep every 2 s).
2. heartbeat cost: Redis commands per second that one running suggestion's heartbeat costs.
3. chaos: 8 workers, budget 200, a random worker killed -9 and replaced every few seconds, the
   coordinator killed -9 once and Redis restarted once; observations lost and duplicated, and
   wall time against the same run without faults.

    python benchmarks/recovery.py              # everything, about 5 minutes on 2 cores
    python benchmarks/recovery.py --only recovery --trials 5

Every process is started here in its own process group and ended by process group.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coordinator.infra.connection import connect  # noqa: E402
from coordinator.infra.timing import Timing  # noqa: E402
from coordinator.runloop.dispatch import TaskSender  # noqa: E402
from coordinator.service.experiments import Service  # noqa: E402
from coordinator.spec.config import parse_config_text  # noqa: E402
from coordinator.state import scripts  # noqa: E402
from coordinator.state.records import Experiment  # noqa: E402
from coordinator.state.store import Store  # noqa: E402
from tests.integration.processes import (  # noqa: E402
    RedisServer,
    Worker,
    end_group,
    start_coordinator,
    wait_until,
)

TIMING_VARS = ("CELERIAC_LEASE_TTL", "CELERIAC_SWEEP_INTERVAL", "CELERIAC_CLAIM_TIMEOUT")
CONFIG = """
name: {name}
parameters:
  - {{name: x, type: double, bounds: {{min: -2, max: 2}}}}
  - {{name: y, type: double, bounds: {{min: -3, max: 1}}}}
metrics: [{{name: value, objective: maximize}}]
budget: {budget}
parallel_bandwidth: {bandwidth}
evaluate: tests.integration.metrics:{metric}
optimizer: {{type: random, seed: 5}}
"""


class Lab:
    """One redis-server and the workers of one measurement, all ended by `close`."""

    def __init__(self, home: Path, sleep: float) -> None:
        self.home = home
        self.redis = RedisServer(home / "redis").start()
        self.env = {k: v for k, v in os.environ.items() if k not in TIMING_VARS}
        self.env.update({"CELERIAC_REDIS_URL": self.redis.url, "CELERIAC_HOME": str(home),
                         "CELERIAC_TEST_SLEEP": str(sleep), "PYTHONUNBUFFERED": "1"})
        self.service = Service(Store(connect(self.redis.url)))
        self.workers: list[Worker] = []

    def worker(self) -> Worker:
        name = f"b{len(self.workers) + 1}"
        started = Worker(self.env, self.home / f"{name}.log", name)
        self.workers.append(started)
        return started

    def experiment(self, budget: int, bandwidth: int, metric: str) -> Experiment:
        text = CONFIG.format(name=metric, budget=budget, bandwidth=bandwidth, metric=metric)
        return self.service.create_experiment(parse_config_text(text.encode()))

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.redis.stop()


def holder(lab: Lab, experiment: Experiment, sid: str) -> Worker | None:
    suggestion = lab.service.store.suggestion(experiment.id, sid)
    if suggestion is None or suggestion.state != "running":
        return None
    pid = suggestion.owner.rsplit(":", 1)[-1]
    return next((w for w in lab.workers if w.alive() and pid in map(str, w.pool_children())),
                None)


def claims_after(lab: Lab, experiment: Experiment, sid: str, after_ms: int) -> int | None:
    """Redis server time (ms) of the first claim of sid after after_ms, from the event ids."""
    key = f"celeriac:{{exp:{experiment.id}}}:events"
    for entry_id, fields in lab.service.store.redis.xrange(key, min=f"{after_ms}-0"):
        if fields.get("type") == "claimed" and fields.get("sid") == sid:
            return int(entry_id.split("-")[0])
    return None


def recovery_trial(lab: Lab, rng: random.Random) -> float:
    """One kill -9 at a random point of the heartbeat cycle; seconds until re-claimed."""
    experiment = lab.experiment(1, 1, "slow")
    run = start_coordinator(["run", experiment.id], lab.env, lab.home / "run.log")
    try:
        sid = wait_until(lambda: lab.service.store.open_ids(experiment.id), 60,
                         what="a suggestion")[0]
        victim = wait_until(lambda: holder(lab, experiment, sid), 60, what="a claim")
        time.sleep(rng.uniform(0, Timing().heartbeat_interval) + 1)
        killed_ms = lab.service.store.server_time_ms()
        victim.signal_group(signal.SIGKILL)
        reclaimed = wait_until(lambda: claims_after(lab, experiment, sid, killed_ms), 60,
                               interval=0.02, what="the suggestion to be claimed again")
    finally:
        end_group(run)
        for worker in lab.workers:  # the re-run holds a worker for minutes: start afresh
            worker.signal_group(signal.SIGKILL)
        lab.worker(), lab.worker()
    return (reclaimed - killed_ms) / 1000


def measure_recovery(trials: int) -> dict[str, object]:
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="celeriac-recovery-") as home:
        lab = Lab(Path(home), sleep=120)
        try:
            lab.worker(), lab.worker()
            seconds = [recovery_trial(lab, rng) for _ in range(trials)]
        finally:
            lab.close()
    timing = Timing()
    return {"lease_ttl_s": timing.lease_ttl, "sweep_interval_s": timing.sweep_interval,
            "bound_s": timing.lease_ttl + timing.sweep_interval,
            "recovery_s": [round(s, 2) for s in seconds], "max_s": round(max(seconds), 2)}


def monitor_counts(lab: Lab, window: float) -> Counter[str]:
    """Commands Redis runs in the window, by name; heartbeats apart (EVALSHA of its sha)."""
    heartbeat_sha = hashlib.sha1(scripts.source("heartbeat").encode()).hexdigest()
    counts: Counter[str] = Counter()
    deadline = time.monotonic() + window
    with lab.redis.client().monitor() as monitor:
        while time.monotonic() < deadline:
            words = monitor.next_command()["command"].split()
            name = words[0].upper() if words else "?"
            is_heartbeat = name == "EVALSHA" and words[1:2] == [heartbeat_sha]
            counts["heartbeat" if is_heartbeat else name] += 1
    return counts


def measure_heartbeat(window: float) -> dict[str, object]:
    """One running suggestion and no coordinator: what its heartbeat costs Redis."""
    with tempfile.TemporaryDirectory(prefix="celeriac-heartbeat-") as home:
        lab = Lab(Path(home), sleep=window + 30)
        try:
            lab.worker()
            experiment = lab.experiment(1, 1, "slow")
            sid = lab.service.create_suggestion(experiment.id, claim_ms=Timing().claim_ms).id
            sender = TaskSender(lab.redis.url)
            sender.send(experiment, sid)
            sender.close()
            wait_until(lambda: holder(lab, experiment, sid), 60, what="a claim")
            counts = monitor_counts(lab, window)
        finally:
            lab.close()
    others = sum(counts.values()) - counts["heartbeat"]
    return {"window_s": window, "heartbeat_calls_per_s": round(counts["heartbeat"] / window, 3),
            "expected_per_s": round(1 / Timing().heartbeat_interval, 3),
            "other_worker_commands_per_s": round(others / window, 2),
            "other_commands": dict(counts.most_common(6))}


def count_faults(lab: Lab, experiment: Experiment, budget: int) -> dict[str, int]:
    store = lab.service.store
    observations = store.observations(experiment.id)
    per_suggestion = Counter(o.suggestion for o in observations)
    return {"observations": len(observations), "lost": max(0, budget - len(observations)),
            "duplicated": sum(n - 1 for n in per_suggestion.values() if n > 1),
            "failed": sum(o.failed for o in observations),
            "open_left": len(store.open_ids(experiment.id))}


def run_experiment(lab: Lab, budget: int, chaos: bool, rng: random.Random) -> dict[str, object]:
    experiment = lab.experiment(budget, 8, "quadratic")
    for _ in range(8):
        lab.worker()
    started = time.monotonic()
    run = start_coordinator(["run", experiment.id], lab.env, lab.home / "run.log")
    plan = {"coordinator_killed": False, "redis_restarted": False, "workers_killed": 0}
    seen: set[str] = set()
    while run.poll() is None:
        time.sleep(rng.uniform(2, 4) if chaos else 0.2)
        if not chaos or run.poll() is not None:
            continue
        done = lab.service.store.counts(experiment.id).observations
        seen |= {o.id for o in lab.service.store.observations(experiment.id)}
        run = chaos_step(lab, experiment, run, done / budget, plan, rng)
    wall = time.monotonic() - started
    plan["last_run_exit_code"] = run.returncode
    end_group(run)
    final_ids = {o.id for o in lab.service.store.observations(experiment.id)}
    return {"wall_s": round(wall, 1), **count_faults(lab, experiment, budget),
            "acknowledged_then_missing": len(seen - final_ids), **plan}


def chaos_step(lab: Lab, experiment: Experiment, run, progress: float, plan: dict,
               rng: random.Random):
    """One fault: the coordinator at 30 %, Redis at 60 %, else a random worker."""
    if not plan["coordinator_killed"] and progress >= 0.3:
        end_group(run, signal.SIGKILL)
        plan["coordinator_killed"] = True
        return start_coordinator(["run", experiment.id], lab.env, lab.home / "run2.log")
    if not plan["redis_restarted"] and progress >= 0.6:
        lab.redis.restart(down_for=1.0)
        plan["redis_restarted"] = True
        return run
    victim = rng.choice([w for w in lab.workers if w.alive()])
    victim.signal_group(signal.SIGKILL)
    plan["workers_killed"] += 1
    lab.worker()
    return run


def measure_chaos(budget: int) -> dict[str, object]:
    results = {}
    for label, chaos in (("no_faults", False), ("chaos", True)):
        with tempfile.TemporaryDirectory(prefix=f"celeriac-{label}-") as home:
            lab = Lab(Path(home), sleep=0.3)
            try:
                results[label] = run_experiment(lab, budget, chaos, random.Random(3))
            finally:
                lab.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["recovery", "heartbeat", "chaos"])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--budget", type=int, default=200)
    args = parser.parse_args()
    report: dict[str, object] = {}
    if args.only in (None, "recovery"):
        report["recovery"] = measure_recovery(args.trials)
    if args.only in (None, "heartbeat"):
        report["heartbeat"] = measure_heartbeat(30.0)
    if args.only in (None, "chaos"):
        report["chaos"] = measure_chaos(args.budget)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
