"""What handing out backlog suggestions costs in quality, against computing each one fresh.

`coordinator run` hands a freed worker a suggestion from the backlog at once; that suggestion
was computed before the observation that freed the worker arrived (the finished point was
still pending then). This simulates q asynchronous workers with random evaluation times and
compares both policies on the optimizer benchmark's problems, same seeds:

- fresh: compute the next suggestion after each observation, with the other open ones pending
  (the worker waits for the optimizer);
- backlog: hand out the suggestion computed at the previous event, then recompute (the worker
  never waits; what Celeriac does).

    python benchmarks/backlog_staleness.py [--problems branin,hartmann6] [--q 4] [--seeds 10]
"""

from __future__ import annotations

import argparse
import heapq
import math
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.optimizer_problems import Problem, problems  # noqa: E402
from optimizer import Metric, Observation, Settings, Space, suggest  # noqa: E402

METRICS = [Metric("y", objective="minimize")]


def run(problem: Problem, q: int, seed: int, policy: str) -> float:
    space, rng = Space(problem.parameters), np.random.default_rng(seed)
    settings = Settings(type="bayes", seed=seed)
    observations: list[Observation] = []
    running: list[tuple[float, int, dict]] = []
    first = suggest(space, METRICS, [], [], q + 1, settings, parallel_bandwidth=q)
    backlog = first[q].assignments
    for i, proposal in enumerate(first[:q]):
        heapq.heappush(running, (rng.uniform(0.5, 1.5), i, proposal.assignments))
    started = q
    while observations.__len__() < problem.budget:
        now, _, point = heapq.heappop(running)
        observations.append(Observation(point, {"y": problem.function(point)}))
        if started >= problem.budget:
            continue
        pending = [p for _, _, p in running]
        if policy == "fresh":
            nxt = suggest(space, METRICS, observations, pending, 1, settings, q)[0].assignments
        else:
            nxt = backlog
        heapq.heappush(running, (now + rng.uniform(0.5, 1.5), started, nxt))
        started += 1
        if policy == "backlog":
            pending = [p for _, _, p in running]
            backlog = suggest(space, METRICS, observations, pending, 1, settings, q)[0].assignments
    best = min(o.values["y"] for o in observations)
    return math.log10(max(best - problem.minimum, 1e-12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="branin,hartmann6")
    parser.add_argument("--q", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    print("| problem | q | fresh median log10 regret | backlog median log10 regret |")
    print("|---|---|---|---|")
    for name in args.problems.split(","):
        problem = problems()[name]
        result = {policy: [run(problem, args.q, s, policy) for s in range(args.seeds)]
                  for policy in ("fresh", "backlog")}
        print(f"| {name} | {args.q} | {statistics.median(result['fresh']):.2f} | "
              f"{statistics.median(result['backlog']):.2f} |", flush=True)


if __name__ == "__main__":
    main()
