"""The running summary of an experiment's observations: counts, the best (or the Pareto front),
the failures by reason, the first and the last observation.

Every script that records an observation keeps it up to date (prelude.lua's `summarize`), so
`status`, `best` and the API's progress read a few keys, not a million observations. Updating
or deleting an observation, or changing which metrics count (their thresholds), makes it stale;
the next read rebuilds it here from every observation, with `optimizer.best_observations` as
the one definition of the best, and stores it if nothing changed meanwhile (store_summary.lua).
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from coordinator.spec.experiment import ExperimentSpec
from coordinator.state.records import ObservationRecord, reason_headline
from optimizer import best_observations
from optimizer.metrics import Metric, is_feasible

NO_REASON = "no reason recorded"  # the headline of a failure that gave none
RECENT = IMPROVEMENTS = 2000  # as prelude.lua's: how many ids the window's lists keep


def goals(spec: ExperimentSpec) -> str:
    """What decides the best, as prelude.lua's `standing` reads it: every metric that is not
    only stored (each must have a value, within its threshold if it has one), in order."""
    return json.dumps([{"name": m.name, "sign": m.sign,
                        "threshold": m.threshold, "optimize": m.strategy == "optimize"}
                       for m in spec.metrics if m.strategy != "store"], sort_keys=True)


def headline(observation: ObservationRecord) -> str:
    """How the summary counts a failure: its reason without the details ("" when it did not
    fail)."""
    if not observation.failed:
        return ""
    return reason_headline(observation.reason) or NO_REASON


def score_text(scores: Sequence[float]) -> str:
    """Scores as the front stores them: exact doubles, so ties compare as in Python."""
    return ",".join(f"{x:.17g}" for x in scores)


@dataclass(frozen=True)
class Summary:
    observations: int
    failed: int
    stopped: int  # observations of runs an early-stopping scheduler ended
    best: tuple[str, ...]  # observation ids: the best feasible one, or the Pareto front
    first: str  # the smallest observation id ("" with none)
    last: str  # the largest


def rebuild(spec: ExperimentSpec, chunks: Iterable[Sequence[ObservationRecord]]
            ) -> dict[str, Any]:
    """The summary of every observation, as store_summary.lua takes it, from the
    observations a chunk at a time in id order (Store.observation_chunks), so a rebuild of a
    million holds the running answer only. The best is best_observations' over every
    observation: the front of a union is the front of its parts' fronts, and keeping the
    candidates in id order keeps its tie rule (the earliest)."""
    metrics, optimized = spec.metrics, spec.optimized_metrics
    candidates: list[ObservationRecord] = []
    reasons: Counter[str] = Counter()
    counts = {"observations": 0, "failed": 0, "stopped": 0}
    ids: list[int] = []  # the smallest and the largest so far
    recent: list[tuple[int, int, str]] = []  # a heap of the RECENT latest (number, id)
    eligible: list[tuple[int, int, str, float]] = []  # one optimized metric: the scores
    for chunk in chunks:
        for o in chunk:
            counts["observations"] += 1
            counts["failed"] += o.failed
            counts["stopped"] += o.stopped
            if o.failed:
                reasons[headline(o)] += 1
            number = int(o.id)
            ids = [min(ids[0], number), max(ids[1], number)] if ids else [number, number]
            heapq.heappush(recent, (o.number, number, o.id))
            if len(recent) > RECENT:
                heapq.heappop(recent)
            seen = o.to_optimizer()
            if len(optimized) == 1 and not seen.stopped and is_feasible(metrics, seen):
                eligible.append((o.number, number, o.id,
                                 _score(o, optimized[0])))
        pool = [*candidates, *chunk]
        picks = best_observations(metrics, [o.to_optimizer() for o in pool])
        candidates = sorted((pool[i] for i in picks), key=lambda o: int(o.id))
    front = [[o.id, score_text([_score(o, m) for m in optimized])]
             for o in candidates]
    best: float | None = None
    improvements: list[str] = []
    for _, _, oid, score in sorted(eligible):  # in the order they were recorded
        if best is None or score > best:
            best = score
            improvements.append(oid)
    return {**counts, "first": str(ids[0]) if ids else "", "last": str(ids[1]) if ids else "",
            "front": front, "reasons": sorted(reasons.items()),
            "recent": [oid for _, _, oid in sorted(recent, reverse=True)],
            "improvements": improvements[-IMPROVEMENTS:]}


def of(built: dict[str, Any]) -> Summary:
    """The Summary a rebuild gives."""
    front = cast(list[list[str]], built["front"])
    return Summary(int(built["observations"]), int(built["failed"]), int(built["stopped"]),
                   tuple(sorted((entry[0] for entry in front), key=int)), str(built["first"]),
                   str(built["last"]))


def _score(record: ObservationRecord, metric: Metric) -> float:
    """The metric's value, larger is better (its sign, as the optimizer's models see it)."""
    value = record.value_of(metric.name)
    assert value is not None  # best_observations picks only observations with every value
    return metric.sign * value
