"""Early stopping end to end: Celeriac's schedulers against full-length runs, Optuna's pruners
and Ray Tune's ASHA, on tasks that train for real epoch by epoch.

Tasks (benchmarks/early_stopping_tasks.py): `synthetic` (a learning-curve family, 10 ms per
epoch), `sgd` (SGDClassifier on make_classification) and `mlp` (MLPClassifier on digits),
27 epochs each, validation log-loss minimized, 40 trials per contender and seed, 4 workers:

* celeriac-full (no early stopping), -asha, -hyperband (3 brackets), -median, -convergence:
  experiments through the run loop (coordinator/runloop/runner.py) on 4 real
  `celery -A worker worker` processes and a private redis-server, Bayesian optimizer;
* optuna-sha / optuna-hb: TPESampler(multivariate, constant_liar) with SuccessiveHalvingPruner
  / HyperbandPruner, 4 processes sharing a JournalStorage on the same redis-server;
* ray-asha: Ray Tune's ASHAScheduler, default (random) searcher, 4 concurrent trials.

Every epoch's report is kept as (time, trial, epoch, loss); a trial's result is its last
report. Per task: epochs and seconds until some ended trial is at or below the target (the
upper quartile over seeds of celeriac-full's best final loss, a loss most full-length seeds
reach), and the best ended trial's loss once each contender has spent C epochs, C per seed
the least any contender spent in all (equal total resource). Median and IQR over seeds.

    python -m benchmarks.early_stopping [--seeds 10] [--quick] [--tasks synthetic,sgd,mlp]

--quick runs only the contenders the issue's targets compare (full, ASHA, Optuna's two
pruners, Ray's ASHA) with 5 seeds on the real tasks (10 on the synthetic one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from benchmarks.early_stopping_peers import (  # noqa: E402
    Event,
    optuna_pool,
    ray_available,
    ray_session,
    run_optuna,
    run_ray,
)
from benchmarks.early_stopping_tasks import TASKS, Task  # noqa: E402
from benchmarks.harness import local_workers, private_redis  # noqa: E402
from coordinator.infra.connection import connect  # noqa: E402
from coordinator.infra.timing import Timing  # noqa: E402
from coordinator.runloop.dispatch import TaskSender  # noqa: E402
from coordinator.runloop.runner import Runner  # noqa: E402
from coordinator.service.experiments import Service  # noqa: E402
from coordinator.spec.config import validate_experiment  # noqa: E402
from coordinator.state.store import Store  # noqa: E402

WORKERS = 4
SCHEDULERS: dict[str, dict[str, Any] | None] = {
    "full": None,
    "asha": {"scheduler": "asha", "min_resource": 1, "reduction_factor": 3},
    "hyperband": {"scheduler": "hyperband", "min_resource": 1, "reduction_factor": 3,
                  "brackets": 3},
    "median": {"scheduler": "median", "min_resource": 3, "min_samples": 3},
    "convergence": {"scheduler": "convergence", "lookback_checkpoints": 3,
                    "min_checkpoints": 5},
}
CONTENDERS = [*(f"celeriac-{s}" for s in SCHEDULERS), "optuna-sha", "optuna-hb", "ray-asha"]
QUICK = ["celeriac-full", "celeriac-asha", "optuna-sha", "optuna-hb", "ray-asha"]  # the targets'
Run = dict[str, Any]
NEVER = 1e18


def celeriac_spec(task: Task, scheduler: str, seed: int, store: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": f"es-{task.name}-{scheduler}-{seed}", "parameters": task.parameters,
        "metrics": [{"name": "loss", "objective": "minimize"}], "budget": task.budget,
        "parallel_bandwidth": WORKERS, "evaluate": task.evaluate,
        "checkpoints": {"store": store, "keep": "none"},
        "optimizer": {"type": "bayes", "seed": seed}}
    stopping = SCHEDULERS[scheduler]
    if stopping is not None:
        spec["early_stopping"] = {**stopping, "resource": "epoch",
                                  "max_resource": task.max_epochs}
    return spec


def run_celeriac(url: str, task: Task, scheduler: str, seed: int) -> tuple[list[Event], float]:
    """One experiment through the run loop on the real workers; its reports from the curves."""
    service = Service(Store(connect(url)))
    spec = validate_experiment(celeriac_spec(task, scheduler, seed,
                                             tempfile.mkdtemp(prefix="celeriac-es-ckpt-")))
    experiment_id = service.create_experiment(spec).id
    sender = TaskSender(url)
    start = time.time()
    try:
        Runner(service, sender, Timing.from_env()).run(experiment_id, threading.Event())
    finally:
        sender.close()
    observations = service.observations(experiment_id)
    sids = [o.suggestion for o in observations if o.suggestion and not o.failed]
    if len(sids) != len(observations):
        raise RuntimeError(f"{spec.name}: {len(observations) - len(sids)} failed observations")
    curves = service.store.curves(experiment_id, sids)
    events = [(r.at, sid, int(r.step), r.values["loss"]) for sid, reports in curves.items()
              for r in reports]
    spent = service.store.resource_spent(experiment_id)
    if scheduler != "full" and abs(spent - len(events)) > 0.5:
        print(f"note: {spec.name}: Store.resource_spent {spent:g} != {len(events)} reports",
              file=sys.stderr)
    return events, start


def summarize(task: str, contender: str, seed: int, events: list[Event], start: float
              ) -> Run:
    events = sorted(events)
    return {"task": task, "contender": contender, "seed": seed,
            "trials": len({e[1] for e in events}), "epochs": len(events),
            "wall": max(e[0] for e in events) - start,
            "reports": [[round(e[0] - start, 3), e[1], e[2], round(e[3], 6)] for e in events]}


def ends(run: Run) -> list[tuple[int, float, float]]:
    """Per trial (ordered by when it ended): epochs spent by everyone until then, the time,
    and its last loss."""
    last: dict[str, tuple[int, float, float]] = {}
    for rank, (at, trial, _, loss) in enumerate(run["reports"], start=1):
        last[trial] = (rank, at, loss)
    return sorted(last.values())


def to_target(run: Run, target: float) -> tuple[float, float]:
    """(epochs, seconds) until an ended trial's loss is at or below target; inf if never."""
    for rank, at, loss in ends(run):
        if loss <= target:
            return float(rank), at
    return float("inf"), float("inf")


def best_within(run: Run, epochs: float) -> float:
    """The best last loss of the trials that ended within the first `epochs` epochs spent."""
    losses = [loss for rank, _, loss in ends(run) if rank <= epochs]
    return min(losses) if losses else float("inf")


def best_final(run: Run) -> float:
    return min(loss for _, _, loss in ends(run))


def cell(values: Iterable[float], digits: int = 3) -> str:
    """Median [IQR]; a seed that never got there counts as infinite (shown as "never")."""
    data = np.minimum(np.array(list(values), dtype=float), NEVER)
    if not len(data):
        return "-"
    parts = [("never" if v >= NEVER / 10 else f"{v:.{digits}f}")
             for v in np.percentile(data, [50, 25, 75])]
    return f"{parts[0]} [{parts[1]}, {parts[2]}]"


def target_of(runs: list[Run], task: str) -> float:
    full = [best_final(r) for r in runs if r["task"] == task and r["contender"] == "celeriac-full"]
    return float(np.percentile(full, 75)) if full else float("nan")


def equal_resource(runs: list[Run], task: str) -> dict[int, float]:
    """Per seed, the least total epochs any contender spent: the equal resource C."""
    spent: dict[int, float] = {}
    for r in runs:
        if r["task"] == task:
            spent[r["seed"]] = min(spent.get(r["seed"], float("inf")), r["epochs"])
    return spent


def report(runs: list[Run]) -> str:
    lines = ["| task | contender | seeds | epochs spent | wall s | epochs to target | "
             "s to target | reached | best loss at equal epochs C | best loss, whole budget |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for task in [t for t in TASKS if any(r["task"] == t for r in runs)]:
        target, budget_c = target_of(runs, task), equal_resource(runs, task)
        notes.append(f"{task}: target loss {target:.4f}; equal resource C median "
                     f"{np.median(list(budget_c.values())):.0f} epochs")
        for name in CONTENDERS:
            rs = [r for r in runs if r["task"] == task and r["contender"] == name]
            if not rs:
                continue
            hits = [to_target(r, target) for r in rs]
            lines.append(
                f"| {task} | {name} | {len(rs)} | {cell([r['epochs'] for r in rs], 0)} | "
                f"{cell([r['wall'] for r in rs], 1)} | {cell([h[0] for h in hits], 0)} | "
                f"{cell([h[1] for h in hits], 1)} | "
                f"{sum(np.isfinite(h[0]) for h in hits)}/{len(rs)} | "
                f"{cell(best_within(r, budget_c[r['seed']]) for r in rs)} | "
                f"{cell(best_final(r) for r in rs)} |")
    return "\n".join(lines + [""] + notes)


def verdicts(runs: list[Run]) -> str:
    """The issue's two targets per task, from the medians above."""
    lines = ["| task | ASHA / full epochs to target | <= 1/3 | ASHA at C | best Optuna at C | "
             "Ray ASHA at C | <= both |", "|---|---|---|---|---|---|---|"]
    for task in [t for t in TASKS if any(r["task"] == t for r in runs)]:
        target, budget_c = target_of(runs, task), equal_resource(runs, task)

        def median(name: str, what: str, task: str = task, target: float = target,
                   budget_c: dict[int, float] = budget_c) -> float:
            rs = [r for r in runs if r["task"] == task and r["contender"] == name]
            if not rs:
                return float("nan")
            if what == "target":
                return float(np.median([to_target(r, target)[0] for r in rs]))
            return float(np.median([best_within(r, budget_c[r["seed"]]) for r in rs]))

        ratio = median("celeriac-asha", "target") / median("celeriac-full", "target")
        asha = median("celeriac-asha", "c")
        optuna = np.nanmin([median("optuna-sha", "c"), median("optuna-hb", "c")])
        ray = median("ray-asha", "c")
        peers = [v for v in (optuna, ray) if np.isfinite(v)]
        lines.append(f"| {task} | {ratio:.3f} | {'met' if ratio <= 1 / 3 else 'not met'} | "
                     f"{asha:.4f} | {optuna:.4f} | {ray:.4f} | "
                     f"{'met' if all(asha <= v for v in peers) else 'not met'} |")
    return "\n".join(lines)


def execute(tasks: list[str], seeds: dict[str, int], contenders: list[str], out: Path
            ) -> list[Run]:
    runs: list[Run] = []

    def keep(task: str, name: str, seed: int, events: list[Event], start: float) -> None:
        runs.append(summarize(task, name, seed, events, start))
        with out.open("a") as handle:
            handle.write(json.dumps(runs[-1]) + "\n")
        r = runs[-1]
        print(f"{task} {name} seed {seed}: {r['trials']} trials, {r['epochs']} epochs, "
              f"{r['wall']:.1f} s, best {best_final(r):.4f}", file=sys.stderr, flush=True)

    pool = optuna_pool()
    try:
        with private_redis() as url, local_workers(WORKERS, url):
            for task in tasks:
                for seed in range(seeds[task]):
                    for name in contenders:
                        if name.startswith("celeriac-"):
                            keep(task, name, seed, *run_celeriac(url, TASKS[task],
                                                                 name[9:], seed))
                        elif name.startswith("optuna-"):
                            keep(task, name, seed, *run_optuna(pool, url, TASKS[task],
                                                               name[7:], seed))
    finally:
        pool.terminate()
    if "ray-asha" in contenders:
        why = ray_available()
        if why:
            print(f"ray-asha left out: {why}", file=sys.stderr)
            return runs
        with ray_session():
            for task in tasks:
                for seed in range(seeds[task]):
                    keep(task, "ray-asha", seed, *run_ray(TASKS[task], seed))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", default="synthetic,sgd,mlp")
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds per task (default 10; --quick: 10 synthetic, 5 real)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--contenders", default=None,
                        help=f"default all ({','.join(CONTENDERS)}); --quick: {','.join(QUICK)}")
    parser.add_argument("--out", default=None, help="raw runs as JSON lines (appended)")
    parser.add_argument("--report", nargs="*", default=None, help="only print tables from files")
    args = parser.parse_args()
    if args.report is not None:
        runs = [json.loads(line) for path in args.report for line in open(path) if line.strip()]
    else:
        tasks = args.tasks.split(",")
        seeds = {t: args.seeds or (5 if args.quick and t != "synthetic" else 10) for t in tasks}
        out = Path(args.out or tempfile.mkstemp(prefix="early-stopping-", suffix=".jsonl")[1])
        began = time.monotonic()
        contenders = args.contenders or ",".join(QUICK if args.quick else CONTENDERS)
        runs = execute(tasks, seeds, contenders.split(","), out)
        print(f"raw runs: {out}; {time.monotonic() - began:.0f} s", file=sys.stderr)
    print(report(runs))
    print()
    print(verdicts(runs))


if __name__ == "__main__":
    main()
