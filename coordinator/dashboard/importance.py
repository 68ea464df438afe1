"""How much each parameter matters to the optimized metric, for the dashboard and the report.

The method is stated wherever the numbers are shown (METHOD): a random forest (scikit-learn)
is fit to the successful, complete observations, with log-scaled parameters as their
logarithm and categories as their index; a parameter's importance is how much the forest's R²
drops when that parameter's column is shuffled (permutation importance), as a share of the
drops of all parameters. It asks nothing of the optimizer (random and grid experiments get it
too), needs no extra package, and unlike the forest's impurity importance it does not favour
parameters with many distinct values. It is a fit to what was observed, not a causal claim:
with few observations or a flat metric it says little, and the page shows the count it used.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from coordinator.spec.experiment import ExperimentSpec
from coordinator.state.records import ObservationRecord
from optimizer import Parameter

METHOD = ("permutation importance of a random forest (scikit-learn, 64 trees) fit to the "
          "successful observations: the drop in the forest's R² when one parameter's values "
          "are shuffled, as a share of all drops")
MIN_OBSERVATIONS = 8  # fewer say nothing a reader should trust
MAX_OBSERVATIONS = 1000  # the most recent ones: fitting stays well under a second


def parameter_importance(spec: ExperimentSpec, observations: list[ObservationRecord]
                         ) -> dict[str, Any]:
    """{metric, method, observations, importances: [{parameter, importance}], note}."""
    goals = spec.optimized_metrics
    out: dict[str, Any] = {"metric": goals[0].name if goals else None, "method": METHOD,
                           "observations": 0, "importances": [], "note": ""}
    if not goals or not spec.parameters:
        out["note"] = "no optimized metric" if not goals else "no parameter"
        return out
    rows, values = _table(spec.parameters, observations, goals[0].name)
    out["observations"] = len(values)
    if len(values) < MIN_OBSERVATIONS:
        out["note"] = (f"needs {MIN_OBSERVATIONS} successful observations "
                       f"({len(values)} so far)")
        return out
    if np.ptp(values) == 0:
        out["note"] = f"every observation has the same {goals[0].name}"
        return out
    shares = _permutation_shares(np.array(rows, dtype=float), np.array(values, dtype=float))
    out["importances"] = sorted(
        ({"parameter": p.name, "importance": round(float(v), 4)}
         for p, v in zip(spec.parameters, shares, strict=True)),
        key=lambda item: -float(item["importance"]))
    return out


def _table(params: tuple[Parameter, ...], observations: list[ObservationRecord], metric: str
           ) -> tuple[list[list[float]], list[float]]:
    rows, values = [], []
    for o in observations[-MAX_OBSERVATIONS:]:
        value = o.value_of(metric)
        if o.failed or o.partial or value is None or not math.isfinite(value):
            continue
        row = [_encode(p, o.assignments.get(p.name)) for p in params]
        if any(v is None for v in row):
            continue
        rows.append([float(v) for v in row if v is not None])
        values.append(value)
    return rows, values


def _encode(p: Parameter, value: Any) -> float | None:
    if p.type == "categorical":
        return float(p.categories.index(value)) if value in p.categories else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or (p.log and number <= 0):
        return None
    return math.log10(number) if p.log else number


def _permutation_shares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # lazy: scikit-learn's ensemble and inspection modules take a second to import, and only
    # the importance figure needs them
    from sklearn.ensemble import RandomForestRegressor  # noqa: PLC0415
    from sklearn.inspection import permutation_importance  # noqa: PLC0415

    forest = RandomForestRegressor(n_estimators=64, min_samples_leaf=2, random_state=0,
                                   n_jobs=1).fit(x, y)
    result = permutation_importance(forest, x, y, n_repeats=5, random_state=0, n_jobs=1)
    drops = np.clip(np.asarray(result.importances_mean, dtype=float), 0.0, None)
    total = float(drops.sum())
    return drops / total if total > 0 else np.zeros_like(drops)
