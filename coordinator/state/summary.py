"""The running summary of an experiment's observations: counts, the best (or the Pareto front),
the failures by reason, the first and the last observation.

Every script that records an observation keeps it up to date (prelude.lua's `summarize`), so
`status`, `best` and the API's progress read a few keys, not a million observations. Updating
or deleting an observation, or changing which metrics count (their thresholds), makes it stale;
the next read rebuilds it here from every observation, with `optimizer.best_observations` as
the one definition of the best, and stores it if nothing changed meanwhile (store_summary.lua).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from coordinator.spec.experiment import ExperimentSpec
from coordinator.state.records import ObservationRecord, reason_headline
from optimizer import best_observations
from optimizer.metrics import is_feasible

NO_REASON = "no reason recorded"  # the headline of a failure that gave none
RECENT = IMPROVEMENTS = 2000  # as prelude.lua's: how many ids the window's lists keep


def goals(spec: ExperimentSpec) -> str:
    """What decides the best, as prelude.lua's `standing` reads it: every metric that is not
    only stored (each must have a value, within its threshold if it has one), in order."""
    return json.dumps([{"name": m.name, "sign": 1 if m.objective == "maximize" else -1,
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


def rebuild(spec: ExperimentSpec, records: Sequence[ObservationRecord]) -> dict[str, Any]:
    """The summary of every observation, as store_summary.lua takes it."""
    metrics = spec.metrics
    optimized = spec.optimized_metrics
    picks = best_observations(metrics, [o.to_optimizer() for o in records])
    front = [[records[i].id, score_text([_score(records[i], m.name, m.objective)
                                         for m in optimized])] for i in picks]
    reasons = Counter(headline(o) for o in records if o.failed)
    ids = [int(o.id) for o in records]
    return {"stopped": sum(o.stopped for o in records),
            "first": str(min(ids)) if ids else "", "last": str(max(ids)) if ids else "",
            "front": front, "reasons": sorted(reasons.items()),
            **window(spec, records)}


def window(spec: ExperimentSpec, records: Sequence[ObservationRecord]) -> dict[str, list[str]]:
    """`recent` and `improvements` as prelude.lua keeps them, in the order observations were
    recorded (their numbers)."""
    ordered = sorted(records, key=lambda o: (o.number, int(o.id)))
    improvements: list[str] = []
    optimized = spec.optimized_metrics
    if len(optimized) == 1:
        best: float | None = None
        metrics = spec.metrics
        for o in ordered:
            seen = o.to_optimizer()
            if not seen.stopped and is_feasible(metrics, seen):
                score = _score(o, optimized[0].name, optimized[0].objective)
                if best is None or score > best:
                    best = score
                    improvements.append(o.id)
    return {"recent": [o.id for o in reversed(ordered[-RECENT:])],
            "improvements": improvements[-IMPROVEMENTS:]}


def of(records: Sequence[ObservationRecord], built: dict[str, Any]) -> Summary:
    """The Summary a rebuild (`rebuild`'s answer for these records) gives."""
    front = cast(list[list[str]], built["front"])
    return Summary(len(records), sum(o.failed for o in records), int(built["stopped"]),
                   tuple(sorted((entry[0] for entry in front), key=int)), str(built["first"]),
                   str(built["last"]))


def _score(record: ObservationRecord, metric: str, objective: str) -> float:
    value = record.value_of(metric)
    assert value is not None  # best_observations picks only observations with every value
    return value if objective == "maximize" else -value
