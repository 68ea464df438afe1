"""Benchmark Celeriac's optimizer against random search, scikit-optimize and Optuna TPE.

Every contender sees the same problems, budgets and seeds. Parallelism is simulated with q
workers whose evaluation times are drawn from one seeded exponential stream:

* celeriac: exactly like the coordinator: ask for q, then each time a worker finishes ask
  for 1 with the other q-1 open suggestions as pending points;
* optuna: TPESampler(multivariate=True, constant_liar=True), same asynchronous protocol
  (running trials are what the liar sees);
* skopt: Optimizer(base_estimator="GP", acq_func="gp_hedge", n_initial_points=10),
  synchronous batches ask(n_points=q, strategy="cl_min");
* random: uniform sampling.

Reports median and IQR of log10 simple regret and optimizer seconds per ask, plus the time
to produce a batch of 4 after 50/200/1000 observations. Example quick run:

    python benchmarks/optimizer_bench.py --problems branin --contenders celeriac --seeds 3
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

if "--jobs" in sys.argv:  # one BLAS thread per process when running jobs side by side
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from optimizer import Metric, Observation, Parameter, Settings, Space, suggest  # noqa: E402


@dataclass(frozen=True)
class Problem:
    name: str
    parameters: tuple[Parameter, ...]
    function: Callable[[dict[str, Any]], float]
    minimum: float
    budget: int


def branin(p: dict[str, Any]) -> float:
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
    return float((x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10)


HARTMANN_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
     [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
HARTMANN_P = 1e-4 * np.array(
    [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
)
HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(p: dict[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(6)])
    inner = np.sum(HARTMANN_A * (x - HARTMANN_P) ** 2, axis=1)
    return float(-np.sum(HARTMANN_ALPHA * np.exp(-inner)))


def rosenbrock4(p: dict[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(4)])
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


MIXED_OFFSETS = {"adam": 0.0, "sgd": 0.6, "rmsprop": 0.3}


def mixed(p: dict[str, Any]) -> float:
    """Two doubles with a wiggle, an int with a quadratic cost and a categorical offset."""
    x, y, n = p["x"], p["y"], p["n"]
    smooth = (x - 0.7) ** 2 + 2 * (y + 1.2) ** 2 + 0.3 * np.sin(5 * x) * np.cos(3 * y)
    return float(smooth + 0.02 * (n - 13) ** 2 + MIXED_OFFSETS[p["opt"]])


def _mixed_minimum() -> float:
    """Grid then Nelder-Mead on the doubles at the best int/categorical (which separate)."""
    from scipy.optimize import minimize

    def f(v: np.ndarray) -> float:
        return mixed({"x": v[0], "y": v[1], "n": 13, "opt": "adam"})

    grid = np.linspace(-3, 3, 301)
    xs, ys = np.meshgrid(grid, grid)
    values = np.vectorize(lambda a, b: f(np.array([a, b])))(xs, ys)
    i = np.unravel_index(np.argmin(values), values.shape)
    tight = {"xatol": 1e-10, "fatol": 1e-14}
    res = minimize(f, [xs[i], ys[i]], method="Nelder-Mead", options=tight)
    return float(res.fun)


def problems() -> dict[str, Problem]:
    dbl = lambda n, lo, hi: Parameter(n, "double", lo, hi)  # noqa: E731
    return {
        "branin": Problem("branin", (dbl("x1", -5, 10), dbl("x2", 0, 15)), branin, 0.397887, 40),
        "hartmann6": Problem(
            "hartmann6", tuple(dbl(f"x{i}", 0, 1) for i in range(6)), hartmann6, -3.32237, 60
        ),
        "rosenbrock4": Problem(
            "rosenbrock4", tuple(dbl(f"x{i}", -5, 10) for i in range(4)), rosenbrock4, 0.0, 60
        ),
        "mixed": Problem(
            "mixed",
            (
                dbl("x", -3, 3), dbl("y", -3, 3), Parameter("n", "int", 0, 30),
                Parameter("opt", "categorical", categories=tuple(MIXED_OFFSETS)),
            ),
            mixed, _mixed_minimum(), 60,
        ),
    }


class Contender:
    """ask(n, pending) -> points, tell(point, value); values are always minimized."""

    def __init__(self, problem: Problem, q: int, seed: int, options: dict[str, Any]) -> None:
        self.problem, self.q, self.seed, self.options = problem, q, seed, options
        self.space = Space(problem.parameters)

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def tell(self, point: dict[str, Any], value: float) -> None:
        pass


class RandomSearch(Contender):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.rng = np.random.default_rng(self.seed)

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.space.decode(self.rng.random((n, self.space.dimension)))


class Celeriac(Contender):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.observations: list[Observation] = []
        self.settings = Settings.from_dict({"seed": self.seed, **self.options})

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        metrics = [Metric("y", objective="minimize")]
        props = suggest(
            self.space, metrics, self.observations, pending, n, self.settings, self.q
        )
        return [p.assignments for p in props]

    def tell(self, point: dict[str, Any], value: float) -> None:
        self.observations.append(Observation(point, {"y": value}))


class Optuna(Contender):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=self.seed, multivariate=True, constant_liar=True)
        self.study = optuna.create_study(sampler=sampler, direction="minimize")
        self.distributions = {p.name: _optuna_distribution(p) for p in self.problem.parameters}
        self.trials: dict[str, Any] = {}

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        points = []
        for _ in range(n):
            trial = self.study.ask(self.distributions)
            point = self.space.canonical(trial.params)
            self.trials[self.space.key(point)] = trial
            points.append(point)
        return points

    def tell(self, point: dict[str, Any], value: float) -> None:
        self.study.tell(self.trials.pop(self.space.key(point)), value)


def _optuna_distribution(p: Parameter) -> Any:
    from optuna.distributions import CategoricalDistribution as Cat
    from optuna.distributions import FloatDistribution, IntDistribution

    if p.type == "categorical":
        return Cat(list(p.categories))
    if p.type == "int":
        return IntDistribution(int(p.low), int(p.high), log=p.log)  # type: ignore[arg-type]
    return FloatDistribution(float(p.low), float(p.high), log=p.log)  # type: ignore[arg-type]


class Skopt(Contender):
    """Synchronous batches: the driver tells a whole batch before asking again."""

    synchronous = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        from skopt import Optimizer
        from skopt.space import Categorical, Integer, Real

        dims = []
        for p in self.problem.parameters:
            if p.type == "double":
                dims.append(Real(p.low, p.high, prior="log-uniform" if p.log else "uniform"))
            elif p.type == "int":
                dims.append(Integer(int(p.low), int(p.high)))  # type: ignore[arg-type]
            else:
                dims.append(Categorical(list(p.categories)))
        self.opt = Optimizer(
            dims, base_estimator="GP", acq_func="gp_hedge", n_initial_points=10,
            random_state=self.seed,
        )
        self.names = [p.name for p in self.problem.parameters]
        self.told: list[tuple[list[Any], float]] = []

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.told:
            xs, ys = zip(*self.told, strict=True)
            self.opt.tell(list(xs), list(ys))
            self.told = []
        raw = self.opt.ask(n_points=n, strategy="cl_min") if n > 1 else [self.opt.ask()]
        return [self.space.canonical(dict(zip(self.names, _plain(x), strict=True))) for x in raw]

    def tell(self, point: dict[str, Any], value: float) -> None:
        self.told.append(([point[n] for n in self.names], value))


def _plain(x: list[Any]) -> list[Any]:
    return [v.item() if hasattr(v, "item") else v for v in x]


CONTENDERS: dict[str, type[Contender]] = {
    "random": RandomSearch, "skopt": Skopt, "optuna": Optuna, "celeriac": Celeriac,
}


def run(problem: Problem, name: str, q: int, seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """One optimization run; returns log10 simple regret and optimizer time per ask."""
    contender = CONTENDERS[name](problem, q, seed, options if name == "celeriac" else {})
    durations = np.random.default_rng(10_000 + seed)
    clock = {"asks": 0, "seconds": 0.0}

    def ask(n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        start = time.perf_counter()
        points = contender.ask(n, pending)
        clock["seconds"] += time.perf_counter() - start
        clock["asks"] += 1
        return points

    if getattr(contender, "synchronous", False):
        values = _run_synchronous(problem, contender, q, ask)
    else:
        values = _run_asynchronous(problem, contender, q, ask, durations)
    best = min(values)
    return {
        "problem": problem.name, "contender": name, "q": q, "seed": seed,
        "regret": float(np.log10(max(best - problem.minimum, 1e-12))),
        "seconds_per_ask": clock["seconds"] / max(clock["asks"], 1),
        "evaluations": len(values),
    }


def _run_synchronous(problem: Problem, contender: Contender, q: int, ask: Callable) -> list[float]:
    values: list[float] = []
    while len(values) < problem.budget:
        for point in ask(min(q, problem.budget - len(values)), []):
            values.append(problem.function(point))
            contender.tell(point, values[-1])
    return values


def _run_asynchronous(
    problem: Problem, contender: Contender, q: int, ask: Callable, durations: np.random.Generator
) -> list[float]:
    """q workers; when one finishes, its result is told and one new point is asked for."""
    running: list[tuple[float, int, dict[str, Any]]] = []
    issued = 0

    def launch(points: list[dict[str, Any]], now: float) -> None:
        nonlocal issued
        for point in points:
            heapq.heappush(running, (now + float(durations.exponential()), issued, point))
            issued += 1

    launch(ask(min(q, problem.budget), []), 0.0)
    values: list[float] = []
    while running:
        now, _, point = heapq.heappop(running)
        values.append(problem.function(point))
        contender.tell(point, values[-1])
        if issued < problem.budget:
            launch(ask(1, [p for _, _, p in running]), now)
    return values


def time_batches(sizes: list[int], repeats: int, options: dict[str, Any]) -> list[dict[str, Any]]:
    """Seconds to produce a batch of 4 (3 pending) after n Hartmann6 observations."""
    problem = problems()["hartmann6"]
    space = Space(problem.parameters)
    rows = []
    for n in sizes:
        times = []
        for rep in range(repeats):
            rng = np.random.default_rng(rep)
            points = space.decode(rng.random((n + 3, space.dimension)))
            obs = [Observation(p, {"y": problem.function(p)}) for p in points[:n]]
            settings = Settings.from_dict({"seed": rep, **options})
            start = time.perf_counter()
            suggest(space, [Metric("y", "minimize")], obs, points[n:], 4, settings, 4)
            times.append(time.perf_counter() - start)
        rows.append({"observations": n, "median_seconds": float(np.median(times)),
                     "max_seconds": float(np.max(times)), "repeats": repeats})
    return rows


def report(results: list[dict[str, Any]]) -> str:
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["problem"], r["contender"], r["q"]), []).append(r)
    lines = ["| problem | contender | q | seeds | median log10 regret | IQR | s per ask |"]
    lines.append("|---|---|---|---|---|---|---|")
    for (prob, name, q), rs in sorted(groups.items()):
        reg = np.array([r["regret"] for r in rs])
        lo, hi = np.percentile(reg, [25, 75])
        secs = np.mean([r["seconds_per_ask"] for r in rs])
        lines.append(
            f"| {prob} | {name} | {q} | {len(rs)} | {np.median(reg):.2f} | "
            f"[{lo:.2f}, {hi:.2f}] | {secs:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="branin,hartmann6,rosenbrock4,mixed")
    parser.add_argument("--contenders", default="random,skopt,optuna,celeriac")
    parser.add_argument("--q", default="1,4,8", help="parallel workers, comma separated")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--skopt-seeds", type=int, default=None, help="fewer seeds for skopt")
    parser.add_argument("--settings", default="{}", help="JSON optimizer settings for celeriac")
    parser.add_argument("--timing", default="50,200,1000", help="history sizes; '' to skip")
    parser.add_argument("--timing-repeats", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel processes")
    parser.add_argument("--out", default=None, help="append raw results as JSON lines")
    parser.add_argument("--report", nargs="*", default=None, help="only print tables from files")
    args = parser.parse_args()
    if args.report is not None:
        results = [json.loads(line) for path in args.report for line in open(path) if line.strip()]
        print(report([r for r in results if "regret" in r]))
        return
    options = json.loads(args.settings)
    tasks = _tasks(args)
    results = _execute(tasks, options, args.jobs, args.out)
    if results:
        print(report(results))
    if args.timing:
        sizes = [int(s) for s in args.timing.split(",")]
        print("\n| observations | median s for a batch of 4 | max s |\n|---|---|---|")
        for row in time_batches(sizes, args.timing_repeats, options):
            n, med, top = row["observations"], row["median_seconds"], row["max_seconds"]
            print(f"| {n} | {med:.3f} | {top:.3f} |")
            _save(args.out, row)


def _tasks(args: argparse.Namespace) -> list[tuple[str, str, int, int]]:
    tasks = []
    for prob in filter(None, args.problems.split(",")):
        for name in filter(None, args.contenders.split(",")):
            seeds = args.skopt_seeds if name == "skopt" and args.skopt_seeds else args.seeds
            for q in (int(v) for v in args.q.split(",")):
                for seed in range(args.first_seed, args.first_seed + seeds):
                    tasks.append((prob, name, q, seed))
    return tasks


def _one(task: tuple[str, str, int, int, dict[str, Any]]) -> dict[str, Any]:
    return run(problems()[task[0]], *task[1:])


def _execute(tasks: list, options: dict[str, Any], jobs: int, out: str | None) -> list[dict]:
    full = [(*t, options) for t in tasks]
    results = []
    if jobs > 1:
        from multiprocessing import Pool

        with Pool(jobs) as pool:
            for result in pool.imap_unordered(_one, full):
                results.append(result)
                _save(out, result)
    else:
        for task in full:
            results.append(_one(task))
            _save(out, results[-1])
    return results


def _save(out: str | None, row: dict[str, Any]) -> None:
    print(json.dumps(row), file=sys.stderr, flush=True)
    if out:
        with open(out, "a") as handle:
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
