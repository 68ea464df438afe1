"""How often Celeriac's optimizer puts two near-identical points in flight, and what keeping open
points apart (the `min_open_distance` setting, optimizer/proposals.py) costs in regret.

A near-duplicate: every int and categorical equal, the doubles closer than 0.01 in the design
cube (1 % of one parameter's range). Each problem and seed runs the benchmark's asynchronous
protocol (q workers, exponential evaluation times) once per minimum distance given. Reported
per problem and distance: near-duplicate proposals per 100 (always counted at 0.01), and the
median log10 regret (lower is better), judged as the difference to the first distance given
(0: the optimizer as it was).

    python -m benchmarks.open_distance --seeds 5 --q 4,8
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import optimizer_contenders  # noqa: E402
from benchmarks.optimizer_bench import run  # noqa: E402
from benchmarks.optimizer_problems import problems  # noqa: E402
from optimizer.proposals import Batch  # noqa: E402
from optimizer.space import Space  # noqa: E402


class Counting(optimizer_contenders.Celeriac):
    """The benchmark's Celeriac contender, counting proposals near a point still open."""

    near = 0
    asked = 0

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        points = super().ask(n, pending)
        Counting.asked += len(points)
        Counting.near += count_near(self.space, pending, points)
        return points


def count_near(space: Space, pending: list[dict[str, Any]], points: list[dict[str, Any]]
               ) -> int:
    """Proposals within the minimum distance of a pending point or an earlier proposal."""
    probe = Batch(space, set(), len(points) + 1, pending, min_distance=0.01)
    found = 0
    for point in points:
        row = space.encode([point])[0]
        found += probe.near_open(row)
        probe._open = np.vstack([probe._open, row])
    return found


def arm(problem: str, q: int, seed: int, distance: float) -> tuple[float, int, int]:
    Counting.near = Counting.asked = 0
    result = run(problems()[problem], "celeriac", q, seed, {"min_open_distance": distance})
    return float(result["regret"]), Counting.near, Counting.asked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="branin,hartmann6,rosenbrock4,mixed")
    parser.add_argument("--q", default="4,8")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--distances", default="0,0.01",
                        help="minimum distances to compare; the first is the anchor")
    args = parser.parse_args()
    optimizer_contenders.CONTENDERS["celeriac"] = Counting
    distances = [float(d) for d in args.distances.split(",")]
    print("| problem | q | minimum distance | near-duplicates per 100 proposals | median log10 "
          "regret | against the first |\n|---|---|---|---|---|---|")
    for problem in args.problems.split(","):
        for q in (int(v) for v in args.q.split(",")):
            anchor = None
            for d in distances:
                rows = [arm(problem, q, s, d) for s in range(args.seeds)]
                near = 100 * sum(r[1] for r in rows) / max(1, sum(r[2] for r in rows))
                med = float(np.median([r[0] for r in rows]))
                anchor = med if anchor is None else anchor
                print(f"| {problem} | {q} | {d:g} | {near:.1f} | {med:.2f} | "
                      f"{med - anchor:+.2f} |", flush=True)


if __name__ == "__main__":
    main()
