"""The plots of an experiment as plain data, drawn by svg.py (dashboard, report) and png.py.

A figure holds numbers and labels only, so that the SVG and PNG renderers stay dumb and draw
exactly the same thing: history of the best value, the learning curves of runs that reported
progress, one scatter per parameter, parallel coordinates, the Pareto front of two optimized
metrics and one chart per constraint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from coordinator.dashboard.snapshot import Snapshot
from coordinator.spec.experiment import ExperimentSpec
from coordinator.state.records import ObservationRecord, Report
from optimizer import Metric, Parameter
from optimizer.best import pareto_mask
from optimizer.metrics import constraints, is_feasible

# Colours: readable on white, distinguishable for the common forms of colour blindness.
BLUE, ORANGE, GREEN, RED, GREY, INK = "#2563eb", "#ea580c", "#16a34a", "#dc2626", "#9ca3af", \
    "#111827"


@dataclass(frozen=True)
class Axis:
    label: str
    log: bool = False
    categories: tuple[str, ...] = ()  # a categorical axis: values are category indexes
    low: float | None = None  # fixed range (parameter bounds); None: from the data
    high: float | None = None
    integer: bool = False  # ticks only at whole numbers (observation counts, int parameters)


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[float, float]]
    style: str = "dots"  # dots | line | step | curve (a thin line, one tooltip for all of it)
    color: str = BLUE
    tips: list[str] = field(default_factory=list)  # one tooltip per point (curve: one)
    ids: list[str] = field(default_factory=list)  # the observation of each point (curve: one)
    opacity: float = 1.0
    end: bool = False  # a cross on the last point: where the scheduler stopped the run
    width: float = 2.5


@dataclass(frozen=True)
class Figure:
    name: str  # a file-name-safe slug: plots/<name>.svg, <name>.png
    title: str
    kind: str = "xy"  # xy | parallel
    x: Axis = Axis("")
    y: Axis = Axis("")
    series: list[Series] = field(default_factory=list)
    hlines: list[tuple[float, str]] = field(default_factory=list)  # (y, label): thresholds
    vlines: list[tuple[float, str]] = field(default_factory=list)  # (x, label): rungs
    axes: list[Axis] = field(default_factory=list)  # parallel: one axis per column
    rows: list[list[float | None]] = field(default_factory=list)  # parallel: polylines
    shades: list[float] = field(default_factory=list)  # parallel: 0 (worst) .. 1 (best)
    ids: list[str] = field(default_factory=list)  # parallel: the observation of each row
    note: str = ""  # said instead of drawing when there is nothing to draw

    @property
    def empty(self) -> bool:
        return not (any(s.points for s in self.series) or self.rows)


def catalogue(snap: Snapshot) -> list[tuple[str, str]]:
    """(name, title) of every figure. Both depend on the experiment's spec only, so drawing
    the figures over no observations lists them without the cost of drawing 10,000 points
    (the browser then asks for each figure, computed once per version by FigureCache)."""
    return [(f.name, f.title) for f in figures(replace(snap, observations=[]), [])]


def figures(snap: Snapshot, best: list[ObservationRecord]) -> list[Figure]:
    """Every figure of the experiment, in the order the dashboard and the report show them."""
    spec = snap.experiment.spec
    goals = list(spec.optimized_metrics)
    done = [o for o in snap.observations if not o.failed]
    found: list[Figure] = [history(done, m, spec.metrics, i) for i, m in enumerate(goals)]
    if snap.reported:
        found.append(learning_curves(snap, {o.suggestion for o in best if o.suggestion}))
    if len(goals) == 2:
        found.append(pareto(done, goals, spec.metrics))
    for i, m in enumerate(constraints(spec.metrics)):
        found.append(constraint_chart(done, m, i))
    if goals:
        best_ids = {o.id for o in best}
        found += [parameter_scatter(done, p, goals[0], spec.metrics, best_ids, i)
                  for i, p in enumerate(spec.parameters)]
        found.append(parallel(done, list(spec.parameters), goals[0], spec.metrics))
    return found


def _value(o: ObservationRecord, metric: Metric) -> float | None:
    value = o.value_of(metric.name)
    return value if value is not None and math.isfinite(value) else None


def _tip(o: ObservationRecord) -> str:
    values = ", ".join(f"{v.name}={v.value:.6g}" for v in o.values)
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in o.assignments.items())
    return f"observation {label(o)}: {values} | {params}"


def label(o: ObservationRecord) -> str:
    """How people read an observation: its number within the experiment when it has one."""
    number = getattr(o, "number", 0)
    return f"#{number}" if number else o.id


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def history(done: list[ObservationRecord], metric: Metric, metrics: tuple[Metric, ...],
            index: int) -> Figure:
    """Every value by observation number, and the best feasible one so far as a step line.
    Observations that miss a threshold are drawn apart (orange): they never count as best."""
    dots: dict[bool, list[ObservationRecord]] = {True: [], False: []}
    points: dict[str, tuple[float, float]] = {}
    steps: list[tuple[float, float]] = []
    best: float | None = None
    for n, o in enumerate(sorted(done, key=_order), start=1):
        value = _value(o, metric)
        if value is None:
            continue
        feasible = is_feasible(metrics, o.to_optimizer())
        dots[feasible].append(o)
        points[o.id] = (position(o, n), value)
        if feasible and (best is None or metric.sign * value > metric.sign * best):
            best = value
        if best is not None:
            steps.append((position(o, n), best))
    series = [Series(name, [points[o.id] for o in group], "dots", color,
                     [_tip(o) for o in group], [o.id for o in group])
              for name, group, color in (("observation", dots[True], GREY),
                                          ("misses a threshold", dots[False], ORANGE))
              if group or color == GREY]
    return Figure(
        name=f"history-{index}", title=f"Best {metric.name} so far ({metric.objective})",
        x=Axis("observation", integer=True), y=Axis(metric.name),
        series=[*series, Series("best so far", steps, "step", BLUE)],
        note="no successful observation yet")


def position(o: ObservationRecord, n: int) -> float:
    """Where an observation sits on the x axis: its number within the experiment, so a long
    experiment's window (data.snapshot) is drawn where its observations belong; the n-th
    drawn when it has none."""
    return float(getattr(o, "number", 0) or n)


def _order(o: ObservationRecord) -> tuple[float, int, str]:
    """Observation order: by time, then by number within the experiment (ids may not be
    numbers in every store)."""
    number = getattr(o, "number", 0) or 0
    return (o.created, int(number) or (int(o.id) if o.id.isdigit() else 0), o.id)


def parameter_scatter(done: list[ObservationRecord], p: Parameter, metric: Metric,
                      metrics: tuple[Metric, ...], best_ids: set[str], index: int) -> Figure:
    """The metric against one parameter: feasible, infeasible and best points told apart."""
    groups: dict[str, tuple[list[tuple[float, float]], list[str], list[str]]] = {
        "feasible": ([], [], []), "infeasible": ([], [], []), "best": ([], [], [])}
    for o in done:
        x, y = _coordinate(p, o.assignments.get(p.name)), _value(o, metric)
        if x is None or y is None:
            continue
        group = "best" if o.id in best_ids else (
            "feasible" if is_feasible(metrics, o.to_optimizer()) else "infeasible")
        groups[group][0].append((x, y))
        groups[group][1].append(_tip(o))
        groups[group][2].append(o.id)
    colors = {"feasible": BLUE, "infeasible": ORANGE, "best": GREEN}
    return Figure(
        name=f"param-{index}", title=f"{metric.name} against {p.name}",
        x=_parameter_axis(p), y=Axis(metric.name),
        series=[Series(label, pts, "dots", colors[label], tips, ids)
                for label, (pts, tips, ids) in groups.items() if pts],
        note="no successful observation yet")


def _parameter_axis(p: Parameter) -> Axis:
    if p.type == "categorical":
        return Axis(p.name, categories=p.categories)
    return Axis(p.name, log=p.log, low=p.low, high=p.high, integer=p.type == "int")


def _coordinate(p: Parameter, value: Any) -> float | None:
    if value is None:
        return None
    if p.type == "categorical":
        return float(p.categories.index(value)) if value in p.categories else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and (number > 0 or not p.log) else None


def parallel(done: list[ObservationRecord], params: list[Parameter], metric: Metric,
             metrics: tuple[Metric, ...]) -> Figure:
    """One polyline per successful observation across every parameter and the metric,
    shaded from the worst value (light) to the best (dark)."""
    rows, values, ids = [], [], []
    for o in done:
        y = _value(o, metric)
        if y is None:
            continue
        rows.append([_coordinate(p, o.assignments.get(p.name)) for p in params] + [y])
        values.append(metric.sign * y)
        ids.append(o.id)
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    shades = [(v - low) / (high - low) if high > low else 1.0 for v in values]
    order = sorted(range(len(rows)), key=lambda i: shades[i])  # best drawn last, on top
    return Figure(
        name="parallel", title=f"Parallel coordinates, shaded by {metric.name}",
        kind="parallel", axes=[_parameter_axis(p) for p in params] + [Axis(metric.name)],
        rows=[rows[i] for i in order], shades=[shades[i] for i in order],
        ids=[ids[i] for i in order], note="no successful observation yet")


def pareto(done: list[ObservationRecord], goals: list[Metric], metrics: tuple[Metric, ...]
           ) -> Figure:
    """Both optimized metrics against each other; the non-dominated feasible points joined."""
    first, second = goals
    feasible = [o for o in done if is_feasible(metrics, o.to_optimizer())]
    points = [(float(o.value_of(first.name) or 0.0), float(o.value_of(second.name) or 0.0))
              for o in feasible]  # feasible: both values are there
    front: list[tuple[float, float]] = []
    tips: list[str] = []
    front_ids: list[str] = []
    if points:
        scores = [[first.sign * a, second.sign * b] for a, b in points]
        mask = pareto_mask(np.array(scores, dtype=float))
        kept = sorted((p, _tip(o), o.id) for p, o, keep
                      in zip(points, feasible, mask, strict=True) if keep)
        front, tips, front_ids = [k[0] for k in kept], [k[1] for k in kept], [k[2] for k in kept]
    others = list(points)
    rest = [_tip(o) for o in feasible]
    return Figure(
        name="pareto", title=f"Pareto front: {first.name} ({first.objective}) and "
                             f"{second.name} ({second.objective})",
        x=Axis(first.name), y=Axis(second.name),
        series=[Series("feasible observation", others, "dots", GREY, rest,
                       [o.id for o in feasible]),
                Series("Pareto front", [(float(a), float(b)) for a, b in front], "line",
                       GREEN, tips, front_ids)],
        note="no feasible observation yet")


def constraint_chart(done: list[ObservationRecord], metric: Metric, index: int) -> Figure:
    """A constraint metric per observation, with its threshold: met (green) or not (red)."""
    met: list[tuple[float, float]] = []
    missed: list[tuple[float, float]] = []
    tips: dict[bool, list[str]] = {True: [], False: []}
    ids: dict[bool, list[str]] = {True: [], False: []}
    for n, o in enumerate(sorted(done, key=_order), start=1):
        value = _value(o, metric)
        if value is None:
            continue
        ok = metric.meets_threshold(value)
        (met if ok else missed).append((position(o, n), value))
        tips[ok].append(_tip(o))
        ids[ok].append(o.id)
    assert metric.threshold is not None
    bound = "<=" if metric.objective == "minimize" else ">="
    return Figure(
        name=f"constraint-{index}", title=f"Constraint {metric.name} {bound} "
                                          f"{metric.threshold:g}",
        x=Axis("observation", integer=True), y=Axis(metric.name),
        series=[Series("meets the threshold", met, "dots", GREEN, tips[True], ids[True]),
                Series("misses the threshold", missed, "dots", RED, tips[False], ids[False])],
        hlines=[(float(metric.threshold), f"threshold {metric.threshold:g}")],
        note="no successful observation yet")


CURVE_POINTS = 200  # the most points one learning curve is drawn with
CURVES_POINTS = 20_000  # and all of them together (fewer per curve when there are many)


def ranked_metric(spec: ExperimentSpec) -> Metric:
    """What the learning curves show: the metric early stopping ranks runs by, else the first
    optimized metric (the one the history and the scatters show)."""
    by_name = {m.name: m for m in spec.metrics}
    if spec.early_stopping is not None and spec.early_stopping.metric in by_name:
        return by_name[spec.early_stopping.metric]
    return (spec.optimized_metrics or spec.metrics)[0]


def learning_curves(snap: Snapshot, best_runs: set[str]) -> Figure:
    """Every run's ranked metric by the resource it reached (snap.curves, a bounded choice of
    runs): completed runs in blue, stopped ones faded with a cross where they stopped, runs
    still going in orange, the best in green and on top; rungs as vertical lines."""
    spec = snap.experiment.spec
    stopping = spec.early_stopping
    metric, resource = ranked_metric(spec), stopping.resource if stopping else "step"
    ended = {o.suggestion: o for o in snap.observations if o.suggestion and not o.failed}
    open_ids = {s.id for s in snap.open_suggestions}
    limit = max(30, min(CURVE_POINTS, CURVES_POINTS // max(len(snap.curves), 1)))
    series: list[Series] = []
    for sid, reports in snap.curves.items():
        points = thin([(r.step, r.values[metric.name]) for r in reports
                       if metric.name in r.values and math.isfinite(r.values[metric.name])],
                      limit)
        run = ended.get(sid)
        if points and (run is not None or sid in open_ids):
            series.append(_curve(sid, run, points, sid in best_runs, resource, reports))
    series.sort(key=lambda c: ("stopped early", "completed", "running", "best").index(c.label))
    rungs = stopping.milestones(0) if stopping else []
    steps = [x for c in series for x, _ in c.points]
    log = bool(stopping and stopping.ranks_rungs and steps and min(steps) > 0)
    return Figure(
        name="curves", title=f"Learning curves: {metric.name} by {resource}",
        x=Axis(resource, log=log), y=Axis(metric.name), series=series,
        vlines=[(m, f"{resource} {m:g}") for m in rungs],
        note="no run has reported progress yet")


def _curve(sid: str, run: ObservationRecord | None, points: list[tuple[float, float]],
           best: bool, resource: str, reports: list[Report]) -> Series:
    last = f"{resource} {reports[-1].step:g}"
    if run is None:
        return Series("running", points, "curve", ORANGE, [f"run {sid}: running, at {last}"],
                      opacity=0.9, width=1.6)
    reason = str(run.metadata.get("stop_reason") or "")
    tip = f"run {sid} (observation {label(run)}): " + (
        f"stopped early at {last}" if run.stopped else f"completed at {last}") + (
        f"; {reason}" if reason else "")
    if best:
        return Series("best", points, "curve", GREEN, [tip], [run.id], width=3.0,
                      end=run.stopped)
    if run.stopped:
        return Series("stopped early", points, "curve", GREY, [tip], [run.id], opacity=0.55,
                      end=True, width=1.3)
    return Series("completed", points, "curve", BLUE, [tip], [run.id], opacity=0.85,
                  width=1.8)


def thin(points: list[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    """At most `limit` points, evenly spread over the curve, its first and last kept."""
    if len(points) <= limit:
        return points
    if limit < 2:
        return points[-1:]
    picks = sorted({round(i * (len(points) - 1) / (limit - 1)) for i in range(limit)})
    return [points[i] for i in picks]
