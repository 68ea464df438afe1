"""Scale: one experiment with 10,000 observations, and 20 experiments sharing one worker pool.

Part 1 stores 10,000 observations (through the same Lua scripts the API uses) and times what a
user reads: status, best, CSV/JSON export, the dashboard's first page, and a batch of 4
Bayesian suggestions at that size; it reports Redis memory per observation.
Part 2 runs 20 experiments at once on one Redis with 4 shared workers and checks each one
finishes its budget with only its own parameters (no cross-talk), reporting the spread of
finish times (fairness).

    python benchmarks/scale.py [--observations 10000] [--experiments 20] [--workers 4]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import ROOT, local_workers, private_redis  # noqa: E402
from coordinator.engine.backlog import refresh  # noqa: E402
from coordinator.infra.connection import ENV_URL, connect  # noqa: E402
from coordinator.infra.timing import Timing  # noqa: E402
from coordinator.runloop.dispatch import TaskSender  # noqa: E402
from coordinator.runloop.runner import Runner  # noqa: E402
from coordinator.service import views  # noqa: E402
from coordinator.service.experiments import Service  # noqa: E402
from coordinator.spec.config import validate_experiment  # noqa: E402
from coordinator.state.store import Store  # noqa: E402

BIG = {"name": "ten thousand", "budget": 20000, "parallel_bandwidth": 8,
       "parameters": [{"name": "lr", "bounds": {"min": 1e-5, "max": 1}, "transformation": "log"},
                      {"name": "momentum", "bounds": {"min": 0, "max": 1}},
                      {"name": "layers", "type": "int", "bounds": {"min": 1, "max": 64}},
                      {"name": "act", "type": "categorical",
                       "categorical_values": ["relu", "tanh", "gelu"]}],
       "metrics": [{"name": "accuracy"},
                   {"name": "latency", "strategy": "constraint", "objective": "minimize",
                    "threshold": 40}],
       "optimizer": {"type": "random", "seed": 5}}


def timed(label: str, function, rows: list[str]) -> None:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    function()
    rows.append(f"| {label} | {(time.perf_counter() - began) * 1000:.0f} ms |")


def fill(service: Service, experiment_id: str, count: int) -> float:
    experiment = service.experiment(experiment_id)
    began = time.perf_counter()
    done = 0
    while done < count:
        batch = min(500, count - done)
        refresh(service.suggester, experiment_id, experiment.spec, batch)
        for _ in range(batch):
            suggestion = service.create_suggestion(experiment_id)
            a = suggestion.assignments
            values = {"accuracy": (1 - abs(a["momentum"] - 0.9) - a["lr"], 0.01),
                      "latency": (a["layers"] * 1.0, None)}
            service.observe(service.new_observation(experiment, suggestion, values))
        done += batch
    return count / (time.perf_counter() - began)


def big_experiment(url: str, count: int) -> list[str]:
    service = Service(Store(connect(url)))
    before = int(service.store.redis.info("memory")["used_memory"])
    experiment_id = service.create_experiment(validate_experiment(BIG)).id
    rate = fill(service, experiment_id, count)
    used = int(service.store.redis.info("memory")["used_memory"]) - before
    rows = ["| measure | value |", "|---|---|",
            f"| store {count} observations (take + observe) | {rate:.0f} observations/s |",
            f"| Redis memory per observation (suggestion + observation) | "
            f"{used / count:.0f} bytes |"]
    fresh = Service(Store(connect(url)))  # a new process would read everything anew
    timed("status (service call)", lambda: views.status(fresh, experiment_id), rows)
    timed("best (service call)", lambda: views.best(fresh, fresh.experiment(experiment_id)),
          rows)
    timed("export csv (service call)", lambda: views.export(fresh, experiment_id, "csv"),
          rows)
    timed("export json (service call)", lambda: views.export(fresh, experiment_id, "json"),
          rows)
    rows += cli_timings(url, experiment_id) + dashboard_timing(url, experiment_id)
    rows += bayes_timing(fresh, experiment_id)
    return rows


def cli_timings(url: str, experiment_id: str) -> list[str]:
    rows = []
    env = {"PATH": "/usr/bin:/bin", ENV_URL: url, "PYTHONPATH": str(ROOT)}
    for args in (["status", experiment_id], ["best", experiment_id],
                 ["export", experiment_id, "--format", "csv", "-o", "/dev/null"]):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "coordinator", *args], env=env, check=True,
                       capture_output=True, cwd=ROOT)
        rows.append(f"| `coordinator {args[0]}` wall time, whole process | "
                    f"{(time.perf_counter() - began) * 1000:.0f} ms |")
    return rows


def dashboard_timing(url: str, experiment_id: str) -> list[str]:
    try:
        from starlette.testclient import TestClient

        from coordinator.dashboard.app import dashboard_app
    except ImportError:
        return ["| dashboard first page | not available |"]
    from coordinator.state.tokens import Tokens

    service = Service(Store(connect(url)))
    token, _ = Tokens(service.store.redis).create("default")  # owns CLI-made experiments
    with TestClient(dashboard_app(service)) as client:
        began = time.perf_counter()
        response = client.get(f"/api/experiments/{experiment_id}", auth=(token, ""))
        elapsed = (time.perf_counter() - began) * 1000
    return [f"| dashboard data for the experiment page (HTTP {response.status_code}) | "
            f"{elapsed:.0f} ms |"]


def bayes_timing(service: Service, experiment_id: str) -> list[str]:
    spec = service.experiment(experiment_id).spec
    from dataclasses import replace

    from optimizer import Settings

    bayes = replace(spec, optimizer=Settings(type="bayes", seed=1))
    rows, count = [], len(service.observations(experiment_id))
    for label in ("first, reading every observation", "next, observations already read"):
        began = time.perf_counter()
        service.suggester.compute(experiment_id, bayes, 4)
        rows.append(f"| batch of 4 Bayesian suggestions with {count} observations ({label}) | "
                    f"{(time.perf_counter() - began) * 1000:.0f} ms |")
    return rows


def many_experiments(url: str, count: int, workers: int) -> list[str]:
    service = Service(Store(connect(url)))
    ids = []
    for i in range(count):
        ids.append(service.create_experiment(validate_experiment({
            "name": f"shared-{i}", "budget": 12, "parallel_bandwidth": 2,
            "parameters": [{"name": f"x{i}", "bounds": {"min": 0, "max": 1}},
                           {"name": f"y{i}", "bounds": {"min": 0, "max": 1}}],
            "metrics": [{"name": "zero"}], "evaluate": "benchmarks.metrics:noop_slow",
            "optimizer": {"type": "random", "seed": i}})).id)
    finished: dict[str, float] = {}
    sender = TaskSender(url)
    began = time.perf_counter()

    def run(experiment_id: str) -> None:
        Runner(service, sender, Timing.from_env()).run(experiment_id, threading.Event())
        finished[experiment_id] = time.perf_counter() - began
    with local_workers(workers, url):
        threads = [threading.Thread(target=run, args=(i,)) for i in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    sender.close()
    crosstalk = 0
    for i, experiment_id in enumerate(ids):
        observations = service.observations(experiment_id)
        assert len(observations) == 12, (experiment_id, len(observations))
        crosstalk += sum(set(o.assignments) != {f"x{i}", f"y{i}"} for o in observations)
    times = sorted(finished.values())
    return ["| measure | value |", "|---|---|",
            f"| experiments finished with exactly their budget | {len(ids)} of {count} |",
            f"| observations with another experiment's parameters | {crosstalk} |",
            f"| finish time min / median / max | {times[0]:.1f} / "
            f"{statistics.median(times):.1f} / {times[-1]:.1f} s |",
            f"| spread (max - min) / median | "
            f"{(times[-1] - times[0]) / statistics.median(times):.2f} |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=10_000)
    parser.add_argument("--experiments", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--part", choices=["big", "many", "both"], default="both")
    args = parser.parse_args()
    with private_redis() as url:
        if args.part in ("big", "both"):
            print("\n".join(big_experiment(url, args.observations)), flush=True)
        if args.part in ("many", "both"):
            print()
            print("\n".join(many_experiments(url, args.experiments, args.workers)))


if __name__ == "__main__":
    main()
