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
to produce a batch of 4 after 50/200/1000 observations, judged as a ratio to skopt's batch of
4 after 50 (the issue's anchor) timed in the same run. `--report F --curves` adds the median
best-so-far curves, the delays table (each q against sequential runs with as much
information) and the pipeline table (each point's gain over the incumbent its optimizer
knew, against how fast the best so far moves). Example quick run:

    python benchmarks/optimizer_bench.py --problems branin --contenders celeriac --seeds 3
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

if "--jobs" in sys.argv:  # one BLAS thread per process when running jobs side by side
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.optimizer_contenders import CONTENDERS, Contender  # noqa: E402
from benchmarks.optimizer_problems import Problem, every_problem, hypervolume, problems  # noqa: E402
from optimizer import Metric, Observation, Parameter, Settings, Space, suggest  # noqa: E402

FLOOR = -12.0  # log10 regret: below this, rounding in the problems' minima dominates


def run(problem: Problem, name: str, q: int, seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """One optimization run; returns log10 simple regret and optimizer time per ask."""
    contender = CONTENDERS[name](problem, q, seed, options if name.startswith("celeriac") else {})
    durations = np.random.default_rng(10_000 + seed)
    clock = {"asks": 0, "seconds": 0.0}

    def ask(n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        start = time.perf_counter()
        points = contender.ask(n, pending)
        clock["seconds"] += time.perf_counter() - start
        clock["asks"] += 1
        return points

    noise = np.random.default_rng(20_000 + seed)
    truths: list[float] = []
    extras: list[dict[str, float]] = []
    known: list[int] = []  # per evaluation: results the optimizer had when it chose the point

    def observe(point: dict[str, Any], chosen_knowing: int) -> tuple[float, dict[str, float]]:
        """The value told to the optimizer, with the other metrics' values (further
        objectives, constraints); the noise-free value is kept for the regret."""
        truths.append(problem.function(point))
        extras.append(problem.extra(point))
        known.append(chosen_knowing)
        if not problem.noise:
            return truths[-1], extras[-1]
        return truths[-1] + problem.noise * float(noise.standard_normal()), extras[-1]

    if getattr(contender, "synchronous", False):
        observed = _run_synchronous(problem, contender, q, ask, observe)
    else:
        observed = _run_asynchronous(problem, contender, q, ask, durations, observe)
    seconds = clock["seconds"] / max(clock["asks"], 1)
    if problem.tuning:  # no known minimum: the true loss of the leader, not a regret
        ok = np.array([problem.feasible(extra) for extra in extras])
        leaders = _running_argmin(np.where(ok, np.asarray(observed), np.inf))
        best = [float(truths[i]) for i in leaders]
        return {
            "problem": problem.name, "contender": name, "q": q, "seed": seed, "tuning": True,
            "best": best[-1], "best_curve": [round(v, 6) for v in best],
            "losses": [round(float(v), 6) for v in truths], "known": known,
            "seconds_per_ask": seconds, "evaluations": len(observed),
        }
    if problem.objectives:
        own, best_so_far = _front_regrets(problem, truths, extras)
    else:
        own, best_so_far = _leader_regrets(problem, truths, observed, extras)
    return {
        "problem": problem.name, "contender": name, "q": q, "seed": seed,
        "regret": float(best_so_far[-1]),
        "curve": [round(float(v), 3) for v in best_so_far],
        "points": [round(float(v), 3) for v in own],
        "known": known,
        "seconds_per_ask": seconds,
        "evaluations": len(observed),
        "best": float(truths[int(np.argmin(np.asarray(observed)))]) if not problem.objectives
        and not problem.constraints else None,  # the leader's true value (no constraints)
    }


def _leader_regrets(problem: Problem, truths: list[float], observed: list[float],
                    extras: list[dict[str, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Each point's own log10 regret, and that of the leader after each evaluation: the
    best observed feasible point (while none is feasible, the objective's worst)."""
    ok = np.array([problem.feasible(extra) for extra in extras])
    regret = np.where(ok, np.asarray(truths), problem.worst) - problem.minimum
    own = np.log10(np.maximum(regret, 10.0**FLOOR))
    return own, own[_running_argmin(np.where(ok, np.asarray(observed), np.inf))]


def _front_regrets(problem: Problem, truths: list[float],
                   extras: list[dict[str, float]]) -> tuple[np.ndarray, np.ndarray]:
    """log10 of the hypervolume short of the true front's: each point's alone, and the
    front of all points after each evaluation (what `coordinator best` would return)."""
    values = np.column_stack([truths, *([e[o.name] for e in extras] for o in problem.objectives)])

    def regret(rows: np.ndarray) -> float:
        missing = problem.minimum - hypervolume(rows, problem.reference)
        return float(np.log10(max(missing, 10.0**FLOOR)))

    own = np.array([regret(values[i : i + 1]) for i in range(len(values))])
    return own, np.array([regret(values[: i + 1]) for i in range(len(values))])


def _running_argmin(values: np.ndarray) -> np.ndarray:
    """Index of the best observed value after each evaluation (the point a user would pick)."""
    leaders, best = [], 0
    for i, value in enumerate(values):
        best = i if value < values[best] else best
        leaders.append(best)
    return np.array(leaders, dtype=int)


def _run_synchronous(
    problem: Problem, contender: Contender, q: int, ask: Callable, observe: Callable
) -> list[float]:
    values: list[float] = []
    while len(values) < problem.budget:
        knowing = len(values)
        for point in ask(min(q, problem.budget - len(values)), []):
            value, extra = observe(point, knowing)
            values.append(value)
            contender.tell(point, value, extra)
    return values


def _run_asynchronous(
    problem: Problem, contender: Contender, q: int, ask: Callable, durations: np.random.Generator,
    observe: Callable,
) -> list[float]:
    """q workers; when one finishes, its result is told and one new point is asked for."""
    running: list[tuple[float, int, int, dict[str, Any]]] = []
    issued = 0
    values: list[float] = []

    def launch(points: list[dict[str, Any]], now: float) -> None:
        nonlocal issued
        for point in points:
            finish = now + float(durations.exponential())
            heapq.heappush(running, (finish, issued, len(values), point))
            issued += 1

    launch(ask(min(q, problem.budget), []), 0.0)
    while running:
        now, _, knowing, point = heapq.heappop(running)
        value, extra = observe(point, knowing)
        values.append(value)
        contender.tell(point, value, extra)
        if issued < problem.budget:
            launch(ask(1, [p for *_, p in running]), now)
    return values


def _timing_history(n: int, rep: int) -> tuple[Problem, Space, list[dict[str, Any]]]:
    """n + 3 uniform Hartmann6 points: n to observe, 3 to leave open."""
    problem = problems()["hartmann6"]
    space = Space(problem.parameters)
    rng = np.random.default_rng(rep)
    return problem, space, space.decode(rng.random((n + 3, space.dimension)))


def time_batches(sizes: list[int], repeats: int, options: dict[str, Any], batch: int = 4
                 ) -> list[dict[str, Any]]:
    """Seconds to produce a batch (of 4: the latency targets; of 32 or 64: large
    bandwidths, with the bandwidth the batch's size) after n Hartmann6 observations, 3 open."""
    rows = []
    for n in sizes:
        times = []
        for rep in range(repeats):
            problem, space, points = _timing_history(n, rep)
            obs = [Observation(p, {"y": problem.function(p)}) for p in points[:n]]
            settings = Settings.from_dict({"seed": rep, **options})
            start = time.perf_counter()
            suggest(space, [Metric("y", "minimize")], obs, points[n:], batch, settings, batch)
            times.append(time.perf_counter() - start)
        rows.append({"observations": n, **({"batch": batch} if batch != 4 else {}),
                     "median_seconds": float(np.median(times)),
                     "max_seconds": float(np.max(times)), "repeats": repeats})
    return rows


def time_anchor(sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    """The issue's latency anchor on this machine: scikit-optimize's
    `ask(n_points=4, strategy="cl_min")` after n Hartmann6 observations told at once (the
    first ask after the tell; a repeated ask would return skopt's cache), and that tell.
    The optimizer is the skopt contender's, so both measure the same configuration."""
    rows = []
    for n in sizes:
        asks, tells = [], []
        for rep in range(repeats):
            problem, _, points = _timing_history(n, rep)
            skopt = CONTENDERS["skopt"](problem, 4, rep, {})
            xs = [[p[name] for name in skopt.names] for p in points[:n]]  # type: ignore[attr-defined]
            start = time.perf_counter()
            skopt.opt.tell(xs, [problem.function(p) for p in points[:n]])  # type: ignore[attr-defined]
            tells.append(time.perf_counter() - start)
            start = time.perf_counter()
            skopt.opt.ask(n_points=4, strategy="cl_min")  # type: ignore[attr-defined]
            asks.append(time.perf_counter() - start)
        rows.append({"anchor": "skopt", "observations": n, "repeats": repeats,
                     "median_seconds": float(np.median(asks)),
                     "tell_seconds": float(np.median(tells))})
    return rows


# The latency targets and the anchor they were set against (skopt's batch of 4
# after 50 observations took 2.1 s on the machine): (observations, seconds).
LATENCY_TARGETS = ((200, 0.3), (1000, 1.5))
LARGE_BATCH_TARGETS = ((32, 1000, 2.0), (64, 1000, 2.0))  # (batch, observations, seconds)
ANCHOR = (50, 2.1)


def latency_ratios(timings: list[dict[str, Any]], anchors: list[dict[str, Any]]) -> str:
    """Celeriac's batch time as a ratio of the anchor measured in the same run, against each
    target restated as that ratio, so a slower or faster machine moves both sides."""
    anchor = next((a for a in anchors if a["observations"] == ANCHOR[0]), None)
    if anchor is None:
        return ""
    base = anchor["median_seconds"]
    lines = [f"\nanchor: skopt's batch of 4 after {ANCHOR[0]} observations "
             f"{base:.3f} s here ({ANCHOR[1]} s in the issue)",
             "| observations | Celeriac s | ratio to the anchor | target as a ratio | met |",
             "|---|---|---|---|---|"]
    for n, bound in LATENCY_TARGETS:
        row = next((t for t in timings if t["observations"] == n and "space" not in t
                    and "batch" not in t), None)
        if row is None:
            continue
        ratio, allowed = row["median_seconds"] / base, bound / ANCHOR[1]
        lines.append(f"| {n} | {row['median_seconds']:.3f} | {ratio:.3f} | "
                     f"{allowed:.3f} | {'yes' if ratio <= allowed else 'no'} |")
    for batch, n, bound in LARGE_BATCH_TARGETS:
        row = next((t for t in timings if t["observations"] == n and t.get("batch") == batch),
                   None)
        if row is None:
            continue
        ratio, allowed = row["median_seconds"] / base, bound / ANCHOR[1]
        lines.append(f"| {n}, batch of {batch} | {row['median_seconds']:.3f} | {ratio:.3f} | "
                     f"{allowed:.3f} | {'yes' if ratio <= allowed else 'no'} |")
    return "\n".join(lines)


def large_space() -> Space:
    """The shape of a typical training-job space: log double, double, int, categorical."""
    activations = ("relu", "tanh", "gelu")
    return Space([
        Parameter("lr", "double", 1e-5, 1, log=True), Parameter("m", "double", 0, 1),
        Parameter("l", "int", 1, 64), Parameter("a", "categorical", categories=activations),
    ])


def time_large(n: int, repeats: int, options: dict[str, Any]) -> dict[str, Any]:
    """Seconds for a batch of 4 after n observations with a constraint metric.

    Checks that nothing scales with the history beyond `max_history` (the model is fitted
    on a subsample; only decoding and keying the history stay linear).
    """
    space, rng = large_space(), np.random.default_rng(0)
    metrics = [Metric("acc"), Metric("lat", "minimize", "constraint", 40)]
    points = space.decode(rng.random((n, space.dimension)))
    obs = [
        Observation(p, {"acc": 1 - abs(p["m"] - 0.9) - p["lr"], "lat": float(p["l"])})
        for p in points
    ]
    times = []
    for rep in range(repeats):
        settings = Settings.from_dict({"seed": rep + 1, **options})
        start = time.perf_counter()
        suggest(space, metrics, obs, [], 4, settings, 4)
        times.append(time.perf_counter() - start)
    return {"observations": n, "space": "mixed+constraint", "repeats": repeats,
            "median_seconds": float(np.median(times)), "max_seconds": float(np.max(times))}


Group = tuple[str, str, int]  # (problem, contender, q)


def _grouped(results: list[dict[str, Any]]) -> dict[Group, list[dict[str, Any]]]:
    groups: dict[Group, list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["problem"], r["contender"], r["q"]), []).append(r)
    return groups


def _curves(results: list[dict[str, Any]]) -> dict[Group, list[list[float]]]:
    """Best-so-far curves per group (rows from before curves were recorded have none)."""
    with_curves = [r for r in results if "curve" in r]
    return {group: [r["curve"] for r in rs] for group, rs in _grouped(with_curves).items()}


def report(results: list[dict[str, Any]]) -> str:
    lines = ["| problem | contender | q | seeds | median log10 regret | IQR | s per ask |"]
    lines.append("|---|---|---|---|---|---|---|")
    for (prob, name, q), rs in sorted(_grouped(results).items()):
        reg = np.array([r["regret"] for r in rs])
        lo, hi = np.percentile(reg, [25, 75])
        secs = np.mean([r["seconds_per_ask"] for r in rs])
        lines.append(
            f"| {prob} | {name} | {q} | {len(rs)} | {np.median(reg):.2f} | "
            f"[{lo:.2f}, {hi:.2f}] | {secs:.3f} |"
        )
    return "\n".join(lines)


def curves(results: list[dict[str, Any]]) -> str:
    """Median log10 regret of the best so far after each evaluation, per problem and q."""
    lines = []
    for (prob, name, q), runs in sorted(_curves(results).items()):
        medians = np.median(np.array(runs), axis=0)
        lines.append(f"{prob} {name} q={q} ({len(runs)} runs): "
                     + " ".join(f"{v:.1f}" for v in medians))
    return "\n".join(lines)


def delays(results: list[dict[str, Any]]) -> str:
    """Each q against the same contender's sequential runs with the information it had.

    The last of q asynchronous workers' points is chosen knowing budget - q results; the
    sequential point chosen knowing as much is number budget - q + 1, so that is where its
    median best-so-far is read off. Beating that needs the pending points' evaluations to
    be worth more than sequential ones, not only to be chosen well.
    """
    curves_by = _curves(results)
    lines = ["| problem | contender | q | median at the budget | q=1 at the budget | "
             "q=1 after budget - q + 1 (same information) |", "|---|---|---|---|---|---|"]
    for (prob, name, q), runs in sorted(curves_by.items()):
        sequential = curves_by.get((prob, name, 1))
        if q == 1 or not sequential:
            continue
        seq = np.median(np.array(sequential), axis=0)
        final = np.median([run[-1] for run in runs])
        lines.append(f"| {prob} | {name} | {q} | {final:.2f} | {seq[-1]:.2f} | "
                     f"{seq[len(seq) - q]:.2f} |")
    return "\n".join(lines)


def speedup(results: list[dict[str, Any]], base: int = 1, budget_of: dict[str, int] | None = None
            ) -> str:
    """How many evaluations each q needs to reach the median regret q=`base` has at budget B,
    as a multiple of B (runs with a larger budget, `--budget-scale`, show it beyond 1): read
    off the median best-so-far curve over seeds. With q workers the wall-clock speed-up is
    q divided by that multiple."""
    budgets = budget_of or {name: p.budget for name, p in every_problem().items()}
    curves_by = _curves(results)
    lines = ["| problem | contender | q | seeds | q=1 median at B | evaluations to reach it "
             "| multiple of B | wall-clock speed-up |", "|---|---|---|---|---|---|---|---|"]
    for (prob, name, q), runs in sorted(curves_by.items()):
        sequential = [run for run in curves_by.get((prob, name, base), [])
                      if len(run) >= budgets[prob]]
        if q == base or not sequential:
            continue
        budget = budgets[prob]
        target = float(np.median([run[budget - 1] for run in sequential]))
        length = min(len(run) for run in runs)
        median = np.median(np.array([run[:length] for run in runs]), axis=0)
        reached = np.flatnonzero(median <= target + 1e-9)
        if reached.size:
            n = int(reached[0]) + 1
            lines.append(f"| {prob} | {name} | {q} | {len(runs)} | {target:.2f} | {n} | "
                         f"{n / budget:.2f} | {q * budget / n:.1f}x |")
        else:
            lines.append(f"| {prob} | {name} | {q} | {len(runs)} | {target:.2f} | "
                         f"> {length} | > {length / budget:.2f} | < {q * budget / length:.1f}x |")
    return "\n".join(lines)


def pipeline(results: list[dict[str, Any]]) -> str:
    """How much each point chosen in the second half of the budget gains over what its
    optimizer knew, against how fast the best so far moves.

    A point's gain is its own log10 regret minus that of the best result known when it was
    chosen (negative: it is better). With q workers that knowledge is q - 1 results behind,
    so even proposals as good as sequential ones move the best so far more slowly per
    evaluation where each gain builds on the last (a basin's endgame).
    """
    lines = ["| problem | contender | q | points | median gain over the incumbent it knew | "
             "share better than it | results between choice and report | best so far, "
             "decades per evaluation |", "|---|---|---|---|---|---|---|---|"]
    for (prob, name, q), runs in sorted(_grouped(results).items()):
        runs = [r for r in runs if "known" in r and "curve" in r]
        if not runs:
            continue
        gains, between, rates = [], [], []
        for r in runs:
            curve, half = r["curve"], len(r["curve"]) // 2
            for i, (own, knew) in enumerate(zip(r["points"], r["known"], strict=True)):
                if knew >= half and curve[knew - 1] > FLOOR + 1:  # a floored one gains nothing
                    gains.append(own - curve[knew - 1])
                    between.append(i - knew)
            rates.append((curve[half - 1] - curve[-1]) / (len(curve) - half))
        gain = np.array(gains)
        cells = (f"{np.median(gain):.2f} | {np.mean(gain < 0):.2f} | {np.median(between):.1f}"
                 if len(gain) else "- | - | -")  # every incumbent already at the floor
        lines.append(f"| {prob} | {name} | {q} | {len(gain)} | {cells} | "
                     f"{np.median(rates):.3f} |")
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
    parser.add_argument("--timing-batches", default="",
                        help="large batch sizes timed after 1000 observations, e.g. 32,64")
    parser.add_argument("--timing-large", default="10000", help="mixed+constraint sizes; ''")
    parser.add_argument("--timing-anchor", default="50",
                        help="history sizes for skopt's batch of 4, the latency anchor; ''")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel processes")
    parser.add_argument("--out", default=None, help="append raw results as JSON lines")
    parser.add_argument("--report", nargs="*", default=None, help="only print tables from files")
    parser.add_argument("--plot", default=None, help="write the timing figure (svg or png)")
    parser.add_argument("--budget-scale", type=float, default=1.0,
                        help="run every problem with this multiple of its budget")
    parser.add_argument("--curves", action="store_true",
                        help="with --report: median best-so-far after each evaluation")
    args = parser.parse_args()
    if args.report is not None:
        results = [json.loads(line) for path in args.report for line in open(path) if line.strip()]
        print(report([r for r in results if "regret" in r and not r.get("tuning")]))
        if args.curves:
            print(curves(results))
            print(delays(results))
            print(speedup(results))
            print(pipeline(results))
        return
    options = json.loads(args.settings)
    tasks = _tasks(args)
    results = _execute(tasks, options, args.jobs, args.out, args.budget_scale)
    if results:
        print(report([r for r in results if not r.get("tuning")]))
    timings = []
    if args.timing:
        sizes = [int(s) for s in args.timing.split(",")]
        print("\n| observations | median s for a batch of 4 | max s |\n|---|---|---|")
        for row in time_batches(sizes, args.timing_repeats, options):
            n, med, top = row["observations"], row["median_seconds"], row["max_seconds"]
            print(f"| {n} | {med:.3f} | {top:.3f} |")
            _save(args.out, row)
            timings.append(row)
    for batch in (int(b) for b in filter(None, args.timing_batches.split(","))):
        row = time_batches([1000], args.timing_repeats, options, batch)[0]
        print(f"| 1000, batch of {batch} | {row['median_seconds']:.3f} | "
              f"{row['max_seconds']:.3f} |")
        _save(args.out, row)
        timings.append(row)
    for size in filter(None, args.timing_large.split(",")):
        row = time_large(int(size), args.timing_repeats, options)
        print(f"| {size} (mixed space, constraint) | {row['median_seconds']:.3f} | "
              f"{row['max_seconds']:.3f} |")
        _save(args.out, row)
        timings.append(row)
    if args.plot and timings:
        plot_timings(timings, args.plot)
    if args.timing and args.timing_anchor:
        sizes = [int(s) for s in args.timing_anchor.split(",")]
        anchors = time_anchor(sizes, min(args.timing_repeats, 3))
        for row in anchors:
            print(f"| {row['observations']} (skopt ask, tell {row['tell_seconds']:.3f} s) | "
                  f"{row['median_seconds']:.3f} | |")
            _save(args.out, row)
        print(latency_ratios(timings, anchors))


def plot_timings(rows: list[dict[str, Any]], path: str) -> None:
    """Seconds per batch of 4 against the number of observations, log-log, with the targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, space in (("Hartmann6", None), ("mixed space + constraint", "mixed+constraint")):
        series = sorted((r["observations"], r["median_seconds"], r["max_seconds"])
                        for r in rows if r.get("space") == space and "batch" not in r)
        if series:
            n, med, top = (np.array(v) for v in zip(*series, strict=True))
            ax.plot(n, med, marker="o", label=f"{label} (median)")
            ax.fill_between(n, med, top, alpha=0.2)
    ax.scatter([200, 1000], [0.3, 1.5], marker="_", s=400, color="red", label="target")
    ax.set(xscale="log", yscale="log", xlabel="observations in the history",
           ylabel="seconds for a batch of 4")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    print(f"plot written to {path}")


def _tasks(args: argparse.Namespace) -> list[tuple[str, str, int, int]]:
    """(problem, contender, q, seed), skipping contenders that do not apply to a problem
    (CMA-ES on categoricals, say): the suite report shows those as n/a."""
    tasks = []
    table = every_problem()
    for prob in filter(None, args.problems.split(",")):
        for name in filter(None, args.contenders.split(",")):
            if prob in table and not CONTENDERS[name].applies(table[prob]):
                print(f"skipping {name} on {prob}: not applicable", file=sys.stderr)
                continue
            seeds = args.skopt_seeds if name == "skopt" and args.skopt_seeds else args.seeds
            for q in (int(v) for v in args.q.split(",")):
                for seed in range(args.first_seed, args.first_seed + seeds):
                    tasks.append((prob, name, q, seed))
    return tasks


def _one(task: tuple[str, str, int, int, dict[str, Any], float]) -> dict[str, Any]:
    problem = _problems()[task[0]]
    scale = task[5]
    if scale != 1.0:
        problem = dataclasses.replace(problem, budget=max(1, round(problem.budget * scale)))
    return run(problem, *task[1:5])


_PROBLEMS: dict[str, Problem] = {}


def _problems() -> dict[str, Problem]:
    """every_problem(), built once per process (the tuning tasks keep their loaded datasets)."""
    if not _PROBLEMS:
        _PROBLEMS.update(every_problem())
    return _PROBLEMS


def _execute(tasks: list, options: dict[str, Any], jobs: int, out: str | None,
             scale: float = 1.0) -> list[dict]:
    full = [(*t, options, scale) for t in tasks]
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
