"""The suite's verdict from optimizer_bench.py's raw rows (`--out` JSON lines).

For every problem at one q: each contender's median over seeds (log10 regret where the minimum
is known, the best cross-validated loss on the tuning tasks), whether Celeriac's median is at
or below the best peer's and not behind random search; for the tuning tasks, each contender's
mean rank per (task, seed) in the manner of Bayesmark (rank 1 is the lowest best loss, ties
share the mean rank; only seeds every contender finished are ranked). Example:

    python benchmarks/suite_report.py /tmp/q4.jsonl /tmp/q4-skopt.jsonl --q 4

A file given as `PATH=LABEL` has its Celeriac rows renamed LABEL (a settings variant, run
with optimizer_bench --settings); `--ours LABEL` judges that variant instead of the default,
and `--compare LABEL` adds which problems the variant helps and hurts against the default.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

OURS = "celeriac"
ANCHOR = "random"
TIE = 1e-9  # medians closer than this are equal (the same points, rounded differently)


def score(row: dict[str, Any]) -> float:
    """What a run is judged by: lower is better."""
    return float(row["best"] if row.get("tuning") else row["regret"])


def load(paths: Iterable[str], q: int) -> list[dict[str, Any]]:
    rows = []
    for given in paths:
        path, _, label = given.partition("=")
        with open(path) as handle:
            found = [row for line in handle if line.strip()
                     for row in [json.loads(line)] if row.get("q") == q and "contender" in row]
        rows += [{**row, "contender": label} if label and row["contender"] == OURS else row
                 for row in found]
    return rows


def scores(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[int, float]]]:
    """problem -> contender -> seed -> score (a repeated seed: the last row wins)."""
    table: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        table[row["problem"]][row["contender"]][int(row["seed"])] = score(row)
    return table


@dataclass(frozen=True)
class Verdict:
    problem: str
    tuning: bool
    medians: dict[str, float]  # contender -> median score
    seeds: int  # seeds Celeriac ran
    best_peer: str | None
    judged: str = OURS  # the Celeriac contender (or variant) judged

    @property
    def ours(self) -> float:
        return self.medians.get(self.judged, math.nan)

    @property
    def at_or_below_best_peer(self) -> bool:
        return self.best_peer is None or self.ours <= self.medians[self.best_peer] + TIE

    @property
    def behind_random(self) -> bool:
        return ANCHOR in self.medians and self.ours > self.medians[ANCHOR] + TIE


def verdicts(rows: list[dict[str, Any]], ours: str = OURS) -> list[Verdict]:
    tuning = {row["problem"] for row in rows if row.get("tuning")}
    found = []
    for problem, by_contender in scores(rows).items():
        if ours not in by_contender:
            continue
        medians = {name: statistics.median(seeds.values())
                   for name, seeds in by_contender.items() if seeds}
        peers = [name for name in medians if not name.startswith(OURS)]
        best = min(peers, key=lambda name: medians[name]) if peers else None
        found.append(Verdict(problem, problem in tuning, medians,
                             len(by_contender[ours]), best, ours))
    return found


def _ranks(values: dict[str, float]) -> dict[str, float]:
    """1 for the lowest; ties share the mean of the ranks they span."""
    ordered = sorted(values, key=lambda name: values[name])
    ranks: dict[str, float] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and values[ordered[j + 1]] - values[ordered[i]] <= TIE:
            j += 1
        for name in ordered[i:j + 1]:
            ranks[name] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def mean_ranks(rows: list[dict[str, Any]]) -> tuple[dict[str, float], int]:
    """Each contender's mean rank over the tuning (task, seed) pairs all contenders ran, and
    how many pairs that is."""
    table = scores([row for row in rows if row.get("tuning")])
    everyone = set.intersection(*(set(c) for c in table.values())) if table else set()
    totals: dict[str, list[float]] = defaultdict(list)
    pairs = 0
    for by_contender in table.values():
        common = set.intersection(*(set(by_contender[name]) for name in everyone)) \
            if everyone else set()
        for seed in sorted(common):
            pairs += 1
            for name, rank in _ranks({n: by_contender[n][seed] for n in everyone}).items():
                totals[name].append(rank)
    return {name: statistics.fmean(ranks) for name, ranks in totals.items()}, pairs


def render(rows: list[dict[str, Any]], q: int, ours: str = OURS) -> str:
    found = verdicts(rows, ours)
    contenders = sorted({name for v in found for name in v.medians},
                        key=lambda name: (not name.startswith(OURS), name))
    head = "| problem | seeds | " + " | ".join(contenders) + " | at/below best peer | " \
        "behind random |"
    lines = [f"### Suite at q={q}: median log10 regret (tuning tasks: median best CV loss)",
             "", head, "|" + "---|" * (len(contenders) + 4)]
    for v in sorted(found, key=lambda v: (v.tuning, v.problem)):
        cells = []
        for name in contenders:
            value = v.medians.get(name)
            text = "n/a" if value is None else f"{value:.4f}" if v.tuning else f"{value:.3f}"
            cells.append(f"**{text}**" if name == v.best_peer else text)
        lines.append(f"| {v.problem} | {v.seeds} | " + " | ".join(cells) +
                     f" | {'yes' if v.at_or_below_best_peer else 'no'} | "
                     f"{'BEHIND' if v.behind_random else 'no'} |")
    won = sum(v.at_or_below_best_peer for v in found)
    behind = [v.problem for v in found if v.behind_random]
    lines += ["", f"{ours} at or below the best peer (bold) on {won} of {len(found)} "
              f"problems ({100 * won / max(len(found), 1):.0f} %); behind random search on "
              f"{len(behind)}" + (f": {', '.join(sorted(behind))}" if behind else "") + "."]
    ranks, pairs = mean_ranks(rows)
    if ranks:
        ordered = sorted(ranks, key=lambda name: ranks[name])
        lines += ["", f"Mean rank on the tuning tasks over {pairs} (task, seed) pairs (1 is "
                  "best): " + ", ".join(f"{name} {ranks[name]:.2f}" for name in ordered) + "."]
    return "\n".join(lines)


def compare(rows: list[dict[str, Any]], variant: str, base: str = OURS) -> str:
    """The problems a variant's median helps and hurts against the default's."""
    helps, hurts = [], []
    for problem, by_contender in sorted(scores(rows).items()):
        if variant in by_contender and base in by_contender:
            new = statistics.median(by_contender[variant].values())
            old = statistics.median(by_contender[base].values())
            if new < old - TIE:
                helps.append(f"{problem} ({old:.3g} -> {new:.3g})")
            elif new > old + TIE:
                hurts.append(f"{problem} ({old:.3g} -> {new:.3g})")
    return (f"{variant} against {base}: helps {len(helps)}: {', '.join(helps) or 'none'}; "
            f"hurts {len(hurts)}: {', '.join(hurts) or 'none'}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="JSON lines written by optimizer_bench --out")
    parser.add_argument("--q", type=int, default=4)
    parser.add_argument("--ours", default=OURS, help="the Celeriac contender or variant judged")
    parser.add_argument("--compare", action="append", default=[],
                        help="a variant label: which problems it helps and hurts")
    args = parser.parse_args()
    rows = load(args.files, args.q)
    print(render(rows, args.q, args.ours))
    for variant in args.compare:
        print("\n" + compare(rows, variant))


if __name__ == "__main__":
    main()
