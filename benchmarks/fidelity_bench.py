"""How the optimizer should treat runs that ASHA stopped early: as if finished, through a
model over configuration and resource, or not at all.

A synthetic learning-curve family: the loss of configuration x after resource r is

    loss(x, r) = F(x) + g(x) * ((r / R) ** -a(x) - 1) + noise

so the final loss F(x) (Branin or Hartmann6, rescaled) is reached at r = R, and how far
above it a partial value lies depends on x through g and a: early rankings are informative
but imperfect. ASHA is simulated in-process, stop-based: rungs min_resource * 3^k below R, and
a run at a rung continues when its value is in the top third (at least the best one) of the
values recorded at that rung so far, else it stops there. q workers run asynchronously, as
the coordinator does: ask for q, then for one each time a run ends, with the other open runs
as pending points. Every variant spends the same total resource; the score is the best final
loss F among finished runs (noise-free), minus the minimum of F.

Variants: `as-finished` reports stopped runs as finished (the optimizer before fidelity
support: resource ignored); `fidelity` reports them stopped with their resource and passes
max_resource; `dropped` reports only finished runs.

    python -m benchmarks.fidelity_bench            # 10 seeds, both problems
    python -m benchmarks.fidelity_bench --quick    # 10 seeds, Branin only, smaller budget
"""

from __future__ import annotations

import argparse
import heapq
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import Pool
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from benchmarks.optimizer_problems import branin, hartmann6  # noqa: E402
from optimizer import Metric, Observation, Parameter, Settings, Space, suggest  # noqa: E402

VARIANTS = ("as-finished", "fidelity", "dropped")
ETA = 3.0
NOISE = 0.01
BRANIN_MIN = 0.397887
HARTMANN6_MIN = -3.32237


@dataclass(frozen=True)
class Curves:
    """A learning-curve problem: parameters in [0, 1], final loss F, curve shape g and a."""

    name: str
    dimension: int
    final: Callable[[np.ndarray], float]
    max_resource: float
    budget: float  # total resource every variant spends

    def space(self) -> Space:
        return Space([Parameter(f"u{i}", "double", 0.0, 1.0) for i in range(self.dimension)])

    def loss(self, u: np.ndarray, resource: float) -> float:
        gap = 0.05 + 0.25 * (0.5 + 0.5 * math.sin(2 * math.pi * float(u[0] + 0.6 * u[-1])))
        rate = 0.3 + 0.4 * float(np.mean(u[: max(1, self.dimension // 2)]))
        return self.final(u) + gap * (math.pow(resource / self.max_resource, -rate) - 1.0)

    def rungs(self) -> list[float]:
        levels, level = [], 1.0
        while level < self.max_resource * (1 - 1e-9):
            levels.append(level)
            level *= ETA
        return [*levels, self.max_resource]


def _branin(u: np.ndarray) -> float:
    return (branin({"x1": -5.0 + 15.0 * u[0], "x2": 15.0 * u[1]}) - BRANIN_MIN) / 30.0


def _hartmann6(u: np.ndarray) -> float:
    return hartmann6({f"x{i}": float(u[i]) for i in range(6)}) - HARTMANN6_MIN


def problems(quick: bool) -> list[Curves]:
    if quick:
        return [Curves("branin", 2, _branin, 27.0, 20 * 27.0)]
    return [
        Curves("branin", 2, _branin, 27.0, 40 * 27.0),
        Curves("hartmann6", 6, _hartmann6, 81.0, 25 * 81.0),
    ]


@dataclass
class Run:
    """One training run on a worker: its point and how far it got."""

    point: dict[str, Any]
    u: np.ndarray
    rung: int = 0
    resource: float = 0.0


class Asha:
    """Stop-based ASHA: a run continues at a rung when it is in the top 1/ETA so far."""

    def __init__(self, rungs: list[float]) -> None:
        self.rungs = rungs
        self.recorded: list[list[float]] = [[] for _ in rungs]

    def continues(self, rung: int, value: float) -> bool:
        values = self.recorded[rung]
        values.append(value)
        better = sum(v < value for v in values)
        return better < max(1, int(len(values) // ETA))


def run(problem: Curves, variant: str, seed: int, q: int) -> dict[str, Any]:
    """One ASHA experiment; the best final loss among finished runs once the budget is spent."""
    space = problem.space()
    settings = Settings(seed=seed)
    metrics = [Metric("loss", objective="minimize")]
    rungs = problem.rungs()
    asha = Asha(rungs[:-1])
    noise = np.random.default_rng(50_000 + seed)
    reported: list[Observation] = []
    finals: list[float] = []
    events: list[tuple[float, int, Run]] = []
    open_runs: dict[int, Run] = {}
    spent, counter, seconds, asks = 0.0, 0, 0.0, 0
    max_resource = problem.max_resource if variant == "fidelity" else None

    def start(clock: float, n: int) -> None:
        nonlocal counter, seconds, asks
        began = time.perf_counter()
        pending = [r.point for r in open_runs.values()]
        proposals = suggest(space, metrics, reported, pending, n, settings, q, max_resource)
        seconds += time.perf_counter() - began
        asks += 1
        for proposal in proposals:
            point = proposal.assignments
            job = Run(point, np.array([point[name] for name in space.names]))
            counter += 1
            open_runs[counter] = job
            heapq.heappush(events, (clock + rungs[0], counter, job))

    start(0.0, q)
    while events and spent < problem.budget:
        clock, key, job = heapq.heappop(events)
        reached = rungs[job.rung]
        spent += reached - job.resource
        job.resource = reached
        value = problem.loss(job.u, reached) + NOISE * float(noise.standard_normal())
        last = job.rung == len(rungs) - 1
        if not last and asha.continues(job.rung, value):
            job.rung += 1
            heapq.heappush(events, (clock + rungs[job.rung] - reached, key, job))
            continue
        del open_runs[key]
        if last:
            finals.append(problem.final(job.u))
        if last or variant != "dropped":
            stopped = not last and variant != "as-finished"
            reported.append(Observation(job.point, {"loss": value}, resource=reached,
                                        stopped=stopped))
        start(clock, 1)
    best = min(finals, default=math.inf)
    return {"problem": problem.name, "variant": variant, "seed": seed, "best": best,
            "runs": counter, "finished": len(finals), "seconds": seconds / max(asks, 1)}


def _job(args: tuple[Curves, str, int, int]) -> dict[str, Any]:
    return run(*args)


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| problem | variant | median best final loss | IQR | log10 median | runs | finished "
        "| s/ask |",
        "|---|---|---|---|---|---|---|---|",
    ]
    keys = sorted({(r["problem"], r["variant"]) for r in results},
                  key=lambda k: (k[0], VARIANTS.index(k[1])))
    for name, variant in keys:
        rows = [r for r in results if r["problem"] == name and r["variant"] == variant]
        best = np.array([r["best"] for r in rows])
        q1, median, q3 = np.percentile(best, [25, 50, 75])
        lines.append(
            f"| {name} | {variant} | {median:.4f} | {q1:.4f}-{q3:.4f} "
            f"| {math.log10(max(median, 1e-12)):.2f} "
            f"| {np.median([r['runs'] for r in rows]):.0f} "
            f"| {np.median([r['finished'] for r in rows]):.0f} "
            f"| {np.median([r['seconds'] for r in rows]):.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="Branin only, smaller budget")
    parser.add_argument("--q", type=int, default=4, help="parallel workers")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    args = parser.parse_args(argv)
    tasks = [(p, v, s, args.q) for p in problems(args.quick) for s in range(args.seeds)
             for v in args.variants]
    began = time.perf_counter()
    with Pool(args.jobs) as pool:
        results = pool.map(_job, tasks, chunksize=1)
    print(table(results))
    print(f"\n{len(tasks)} runs, q={args.q}, {args.seeds} seeds, "
          f"{time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
