"""Soak: a long experiment on 8 workers with a fault every 20 s; nothing lost, nothing doubled.

Faults come in random order (a shuffled deck, so each kind comes once in every five): kill -9
a worker's process group (a replacement starts), kill -9 one pool child, stop Redis for 5-30
s, SIGSTOP a worker for 5-40 s (past its lease, so its work is re-run and its late result
refused), kill and restart `coordinator run`. Default timing (10 s leases, 2 s sweeps, 30 s
claim timeout). At the end it prints the observations, lost ones (acknowledged and later
missing, or short of the budget), doubled ones (a suggestion observed twice), the longest
stall (no new observation), and Redis and coordinator memory. After --minutes the faults stop
and the run gets --drain seconds to finish the budget.

    python -m benchmarks.soak --minutes 20            # budget 2000, 8 workers
    python -m benchmarks.soak --minutes 2 --budget 300
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psutil
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coordinator.infra.connection import connect  # noqa: E402
from coordinator.service.experiments import Service  # noqa: E402
from coordinator.spec.config import parse_config_text  # noqa: E402
from coordinator.state.records import Experiment  # noqa: E402
from coordinator.state.store import Store  # noqa: E402
from tests.integration.processes import (  # noqa: E402
    RedisServer,
    Worker,
    end_group,
    start_coordinator,
)

TIMING_VARS = ("CELERIAC_LEASE_TTL", "CELERIAC_SWEEP_INTERVAL", "CELERIAC_CLAIM_TIMEOUT")
CONFIG = """
name: soak
parameters:
  - {{name: x, type: double, bounds: {{min: -2, max: 2}}}}
  - {{name: y, type: double, bounds: {{min: -3, max: 1}}}}
metrics: [{{name: value, objective: maximize}}]
budget: {budget}
parallel_bandwidth: {bandwidth}
evaluate: tests.integration.metrics:quadratic
optimizer: {{type: random, seed: 11}}
"""
SAMPLE_EVERY = 0.5  # seconds between looks at the experiment


class Soak:
    """The redis-server, the workers and the coordinator of one soak, all ended by close()."""

    def __init__(self, home: Path, workers: int, sleep: float, rng: random.Random) -> None:
        self.home, self.rng = home, rng
        self.redis = RedisServer(home / "redis").start()
        self.env = {k: v for k, v in os.environ.items() if k not in TIMING_VARS}
        self.env.update({"CELERIAC_REDIS_URL": self.redis.url, "CELERIAC_HOME": str(home),
                         "CELERIAC_TEST_SLEEP": str(sleep), "PYTHONUNBUFFERED": "1"})
        # one try per command: the soak's own looks must not stall while Redis is away
        self.service = Service(Store(connect(self.redis.url, retries=0)))
        self.workers: list[Worker] = []
        for _ in range(workers):
            self.add_worker()
        self.run: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.later: list[tuple[float, Callable[[], None]]] = []  # (when, undo a fault)
        self.faults: Counter[str] = Counter()

    def add_worker(self) -> Worker:
        name = f"s{len(self.workers) + 1}"
        worker = Worker(self.env, self.home / f"{name}.log", name)
        self.workers.append(worker)
        return worker

    def start_run(self, experiment: Experiment) -> None:
        self.runs += 1
        self.run = start_coordinator(["run", experiment.id], self.env,
                                     self.home / f"run{self.runs}.log")

    def alive_workers(self) -> list[Worker]:
        return [w for w in self.workers if w.alive()]

    def due(self) -> None:
        """Undoes the faults whose time has come (Redis back, a stopped worker resumed)."""
        now = time.monotonic()
        for item in [item for item in self.later if item[0] <= now]:
            self.later.remove(item)
            item[1]()

    def close(self) -> None:
        for _, undo in self.later:
            undo()
        if self.run is not None:
            end_group(self.run)
        for worker in self.workers:
            worker.stop()
        self.redis.stop()


def kill_worker(soak: Soak, experiment: Experiment) -> str:
    soak.rng.choice(soak.alive_workers()).signal_group(signal.SIGKILL)
    soak.add_worker()
    return "kill -9 a worker (a new one starts)"


def kill_child(soak: Soak, experiment: Experiment) -> str:
    children = [pid for w in soak.alive_workers() for pid in w.pool_children()]
    if children:
        try:
            os.kill(soak.rng.choice(children), signal.SIGKILL)
        except ProcessLookupError:
            pass
    return "kill -9 a pool child"


def stop_redis(soak: Soak, experiment: Experiment) -> str:
    if soak.redis.process is None:
        return "Redis already stopped"
    down = soak.rng.uniform(5, 30)
    soak.redis.stop()

    def back() -> None:
        soak.redis.start()
    soak.later.append((time.monotonic() + down, back))
    return f"stop Redis for {down:.0f} s"


def pause_worker(soak: Soak, experiment: Experiment) -> str:
    worker = soak.rng.choice(soak.alive_workers())
    paused = soak.rng.uniform(5, 40)
    worker.signal_group(signal.SIGSTOP)
    soak.later.append((time.monotonic() + paused, lambda: worker.signal_group(signal.SIGCONT)))
    return f"SIGSTOP worker {worker.name} for {paused:.0f} s"


def restart_run(soak: Soak, experiment: Experiment) -> str:
    if soak.run is not None:
        end_group(soak.run, soak.rng.choice([signal.SIGKILL, signal.SIGTERM]))
    soak.start_run(experiment)
    return "restart coordinator run"


FAULTS: dict[str, Callable[[Soak, Experiment], str]] = {
    "kill_worker": kill_worker, "kill_child": kill_child, "stop_redis": stop_redis,
    "pause_worker": pause_worker, "restart_run": restart_run,
}


class Watch:
    """What the soak reports, sampled while it runs."""

    def __init__(self) -> None:
        self.seen: set[str] = set()  # observation ids ever read back: acknowledged
        self.count = 0
        self.last_rise = time.monotonic()
        self.longest_stall = 0.0
        self.coordinator_rss = 0

    def sample(self, soak: Soak, experiment: Experiment) -> None:
        now = time.monotonic()
        try:
            ids = soak.service.store.observation_ids(experiment.id)
        except (redis.RedisError, OSError):
            ids = None  # Redis is away: the stall clock keeps running
        if ids is not None:
            self.seen.update(ids)
            if len(ids) > self.count:
                self.count, self.last_rise = len(ids), now
        self.longest_stall = max(self.longest_stall, now - self.last_rise)
        if soak.run is not None and soak.run.poll() is None:
            try:
                self.coordinator_rss = max(self.coordinator_rss,
                                           psutil.Process(soak.run.pid).memory_info().rss)
            except psutil.NoSuchProcess:
                pass


def soak_once(soak: Soak, experiment: Experiment, budget: int, minutes: float,
              fault_every: float, drain: float) -> dict[str, object]:
    watch = Watch()
    started = time.monotonic()
    next_fault = started + fault_every
    deck: list[str] = []
    soak.start_run(experiment)
    assert soak.run is not None
    while time.monotonic() - started < minutes * 60:
        time.sleep(SAMPLE_EVERY)
        soak.due()
        watch.sample(soak, experiment)
        if soak.run.poll() is not None:
            if soak.run.returncode == 0:
                break  # the budget is observed
            soak.faults["run_exited_and_restarted"] += 1
            log = (soak.home / f"run{soak.runs}.log").read_text(errors="replace").strip()
            last = log.splitlines()[-1] if log else "(no output)"
            print(f"[{time.monotonic() - started:7.1f}s] coordinator run exited "
                  f"{soak.run.returncode}: {last[:300]}", flush=True)
            soak.start_run(experiment)
        if time.monotonic() >= next_fault:
            if not deck:  # a shuffled deck: random order, every kind within five faults
                deck = soak.rng.sample(sorted(FAULTS), len(FAULTS))
            kind = deck.pop()
            what = FAULTS[kind](soak, experiment)
            soak.faults[kind] += 1
            print(f"[{time.monotonic() - started:7.1f}s] {what}", flush=True)
            next_fault = max(next_fault + fault_every, time.monotonic() + 1)
    for _, undo in soak.later:  # time is up: no more faults, and the last ones undone
        undo()
    soak.later.clear()
    drain_until = time.monotonic() + drain
    while soak.run.poll() is None and time.monotonic() < drain_until:
        time.sleep(SAMPLE_EVERY)
        watch.sample(soak, experiment)
    wall = time.monotonic() - started
    finished = soak.run.poll() == 0
    time.sleep(1.0)
    return report(soak, experiment, watch, budget, wall, finished)


def report(soak: Soak, experiment: Experiment, watch: Watch, budget: int, wall: float,
           finished: bool) -> dict[str, object]:
    store = Store(connect(soak.redis.url))
    observations = store.observations(experiment.id)
    ids = {o.id for o in observations}
    per_suggestion = Counter(o.suggestion for o in observations if o.suggestion)
    memory = store.redis.info("memory")
    return {
        "minutes": round(wall / 60, 1), "finished": finished, "budget": budget,
        "observations": len(observations),
        "lost": len(watch.seen - ids) + (max(0, budget - len(observations)) if finished else 0),
        "doubled": sum(n - 1 for n in per_suggestion.values() if n > 1),
        "over_budget": max(0, len(observations) - budget),
        "open_left": len(store.open_ids(experiment.id)) if finished else None,
        "failed": sum(o.failed for o in observations),
        "longest_stall_s": round(watch.longest_stall, 1),
        "redis_used_memory_mb": round(int(memory["used_memory"]) / 2**20, 1),
        "redis_peak_memory_mb": round(int(memory["used_memory_peak"]) / 2**20, 1),
        "coordinator_peak_rss_mb": round(watch.coordinator_rss / 2**20, 1),
        "coordinator_runs": soak.runs, "faults": dict(soak.faults),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--fault-every", type=float, default=20.0, metavar="SECONDS")
    parser.add_argument("--sleep", type=float, default=None,
                        help="seconds per evaluation (default: the budget takes about 60 %% "
                             "of --minutes without faults)")
    parser.add_argument("--drain", type=float, default=120.0, metavar="SECONDS",
                        help="after --minutes, how long the run may take to finish, faults off")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sleep = args.sleep if args.sleep is not None else \
        max(0.05, 0.6 * args.minutes * 60 * args.workers / args.budget)
    with tempfile.TemporaryDirectory(prefix="celeriac-soak-") as home:
        soak = Soak(Path(home), args.workers, sleep, random.Random(args.seed))
        try:
            text = CONFIG.format(budget=args.budget, bandwidth=args.workers)
            experiment = soak.service.create_experiment(parse_config_text(text.encode()))
            result = soak_once(soak, experiment, args.budget, args.minutes, args.fault_every,
                               args.drain)
        finally:
            soak.close()
    print(json.dumps({"evaluation_s": round(sleep, 2), **result}, indent=2))


if __name__ == "__main__":
    main()
