"""What the dashboard and the report show, as plain JSON-ready dicts.

One set of read functions serves the live dashboard, `coordinator report` and its PNGs, so a
number on the screen, in the HTML report and in a figure always comes from the same code. Only
the Service's reads are used: the dashboard never writes to Redis.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from coordinator.dashboard.figures import Figure, catalogue, label
from coordinator.dashboard.snapshot import Snapshot, Window
from coordinator.service import views
from coordinator.service.access import visible
from coordinator.service.experiments import Service
from coordinator.state.records import Experiment, ObservationRecord, reason_headline
from coordinator.state.states import SuggestionState, experiment_state
from coordinator.state.summary import headline
from optimizer.metrics import constraints, is_feasible

ETA_WINDOW = 20  # recent observations whose pace estimates the time left
CURVE_RUNS = 200  # learning curves read for a figure: the most recent runs (and the best)
REASON_GROUPS = 50  # distinct failure reasons listed (with counts); the rest are summed
REASON_EXAMPLES = 20  # observations named under each reason
WINDOW_ABOVE = 5000  # with more observations, a page shows a window of them (snapshot)

BestOf = Callable[[Experiment, int], tuple[str | None, float | None]]


def version(service: Service, experiment: Experiment) -> str:
    """Changes whenever anything happens to the experiment: a cheap test for pollers, read
    before the data so that a change racing the read shows up at the next poll. A report
    that lets a run go on writes no event, so the resource spent is part of it too: the
    learning curves move as the runs report."""
    counts = service.counts(experiment.id)
    spent = service.store.resource_spent(experiment.id)
    return (f"{service.last_event_id(experiment.id)}-{experiment.state}-{counts.observations}"
            f"-{spent:g}")


def snapshot(service: Service, experiment_id: str, window_above: int = WINDOW_ABOVE
             ) -> Snapshot:
    """The experiment as read now. Beyond `window_above` observations only a window of them
    is read (Store.window_ids: the latest 2,000, every one that improved the best so far, the
    best), with the whole's counts and failure reasons from the running summary, so that a
    page of a million observations reads a few thousand."""
    experiment = service.experiment(experiment_id)
    window = None
    if service.counts(experiment.id).observations > window_above:
        store = service.store
        found = store.summary(experiment.id, experiment.spec)
        observations = store.observations_by_id(experiment.id, store.window_ids(experiment.id))
        window = Window(found.observations, found.failed, found.stopped,
                        store.failure_reasons(experiment.id, top=REASON_GROUPS))
    else:
        observations = service.observations(experiment)
    open_suggestions = service.open_suggestions(experiment.id)
    spent = service.store.resource_spent(experiment.id)
    reported = spent > 0 or any(o.resource is not None for o in observations) or \
        any(s.step is not None for s in open_suggestions)
    return Snapshot(experiment=experiment, observations=observations,
                    open_suggestions=open_suggestions, server_ms=service.server_time_ms(),
                    version=version(service, experiment), resource_spent=spent,
                    reported=reported, window=window)


def curve_runs(snap: Snapshot, best: list[ObservationRecord], limit: int = CURVE_RUNS
               ) -> list[str]:
    """Whose learning curves a figure draws, so that reading them stays bounded however long
    the experiment: the best runs, the `limit` most recent successful ones, and the running."""
    chosen = {o.suggestion: None for o in best if o.suggestion}
    recent = [o.suggestion for o in snap.observations if o.suggestion and not o.failed]
    chosen.update(dict.fromkeys(recent[max(len(recent) - limit, 0):]))
    running = [s.id for s in snap.open_suggestions if s.step is not None]
    chosen.update(dict.fromkeys(running[:limit]))
    return list(chosen)


def with_curves(service: Service, snap: Snapshot, best: list[ObservationRecord]) -> Snapshot:
    """The snapshot with the learning curves its figures draw (none when no run reported)."""
    if not snap.reported:
        return snap
    runs = curve_runs(snap, best)
    return replace(snap, curves=service.store.curves(snap.experiment.id, runs))


def best_value(service: Service, experiment: Experiment, _observations: int = 0
               ) -> tuple[str | None, float | None]:
    """The first optimized metric and its best feasible value (reads every observation:
    the dashboard keeps the answer per observation count, see app.BestCache)."""
    goals = experiment.spec.optimized_metrics
    top = views.best(service, experiment)
    if not goals:
        return None, None
    return goals[0].name, top[0].value_of(goals[0].name) if top else None


def experiment_list(service: Service, client: str | None = None,
                    best: BestOf | None = None) -> list[dict[str, Any]]:
    """The experiments (of `client` only, when given) with their progress and best value
    (`best`, given the experiment and its observation count), newest first."""
    rows = []
    for experiment in reversed(service.experiments()):
        if client is not None and not visible(experiment, client):
            continue
        counts = service.counts(experiment.id)
        budget = experiment.spec.budget
        metric, value = (best or (lambda e, n: best_value(service, e, n)))(
            experiment, counts.observations)
        rows.append({
            "id": experiment.id, "name": experiment.spec.name,
            "state": experiment_state(experiment.state, counts.observations,
                                      experiment.spec.reachable_budget),
            "created": experiment.created,
            "observations": counts.observations, "failed": counts.failed, "open": counts.open,
            "budget": budget, "progress": _fraction(counts.observations, budget),
            "best_metric": metric, "best_value": value,
            "objective": next((m.objective for m in experiment.spec.metrics
                               if m.name == metric), None),
        })
    return rows


def _fraction(done: int, budget: int | None) -> float | None:
    return None if not budget else min(1.0, done / budget)


def observation_row(snap: Snapshot, o: ObservationRecord, best_ids: set[str]) -> dict[str, Any]:
    metrics = snap.experiment.spec.metrics
    output = o.metadata.get("output")  # the tail of the evaluation's stdout/stderr, if kept
    return {
        "id": o.id, "number": getattr(o, "number", 0) or None, "label": label(o),
        "suggestion": o.suggestion, "created": o.created, "duration": o.duration,
        "failed": o.failed, "reason": o.reason, "headline": reason_headline(o.reason),
        "output": output if isinstance(output, str) else "",
        "hostname": o.metadata.get("hostname"),
        "assignments": o.assignments, "values": {v.name: v.value for v in o.values},
        "feasible": is_feasible(metrics, o.to_optimizer()), "best": o.id in best_ids,
        "metadata": o.metadata, "resource": o.resource, "stopped": o.stopped,
        "stop_reason": views.stop_reason(o.metadata),
    }


def open_rows(snap: Snapshot) -> list[dict[str, Any]]:
    """Open suggestions with who holds each lease and for how long (server clock)."""
    rows = []
    for s in snap.open_suggestions:
        rows.append({
            "id": s.id, "state": s.state, "owner": s.owner or None, "attempts": s.attempts,
            "lease_age": None if s.claimed is None or s.state is not SuggestionState.RUNNING
            else max(0.0, (snap.server_ms - s.claimed) / 1000),
            "age": max(0.0, (snap.server_ms - s.created) / 1000) if s.created else None,
            "assignments": s.assignments, "step": s.step,
        })
    return rows


def constraint_rows(snap: Snapshot) -> list[dict[str, Any]]:
    """For each thresholded metric: how many observations with a value meet it."""
    rows = []
    for m in constraints(snap.experiment.spec.metrics):
        values = [o.value_of(m.name) for o in snap.observations if not o.failed]
        present = [v for v in values if v is not None]
        rows.append({"metric": m.name, "objective": m.objective, "strategy": m.strategy,
                     "threshold": m.threshold, "total": len(present),
                     "satisfied": sum(m.meets_threshold(v) for v in present)})
    return rows


def eta_seconds(snap: Snapshot) -> float | None:
    """Time left at the recent pace of observations; None until there is a pace."""
    budget = snap.experiment.spec.budget
    times = sorted(o.created for o in snap.observations)[-ETA_WINDOW:]
    left = (budget or 0) - snap.observed
    if not budget or left <= 0:
        return 0.0 if budget else None
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    pace = (times[-1] - times[0]) / (len(times) - 1)
    return round(left * pace, 1)


def progress(snap: Snapshot, best: list[ObservationRecord]) -> dict[str, Any]:
    """`coordinator status`'s view of the snapshot, with the fraction done and a pace."""
    status = views.summarize(snap.experiment, snap.observations, snap.open_suggestions, best,
                             resource_spent=snap.resource_spent) if snap.window is None else \
        views.status_of(snap.experiment, snap.window.observations, snap.window.failed,
                        snap.window.stopped, snap.open_suggestions, best, snap.resource_spent)
    return {
        "observations": status.observations, "budget": status.budget,
        "fraction": _fraction(status.observations, status.budget),
        "failed": status.failed, "open": status.open, "running": status.running,
        "queued": status.queued, "workers": status.workers,
        "best_metric": status.best_metric, "best_value": status.best_value,
        "eta_seconds": eta_seconds(snap), "state": status.state,
        "stopped": status.stopped, "resource": status.resource,
        "resource_spent": status.resource_spent, "resource_budget": status.resource_budget,
        "reported": snap.reported,
    }


def failure_groups(snap: Snapshot) -> list[dict[str, Any]]:
    """Failed observations grouped by the headline of their reason, most frequent first:
    each with its count, the observations and hosts it hit, and one full reason (the
    traceback once, not once per failure)."""
    failed = [o for o in snap.observations if o.failed]
    counted = snap.window.reasons if snap.window else \
        views.failure_reasons(failed, top=REASON_GROUPS)
    total = snap.window.failed if snap.window else len(failed)
    groups: dict[str, dict[str, Any]] = {
        reason: {"reason": reason, "count": count, "observations": [], "hosts": [],
                 "example": ""} for reason, count in counted}
    for o in failed:
        group = groups.get(headline(o))
        if group is None:
            continue
        if len(group["observations"]) < REASON_EXAMPLES:
            group["observations"].append({"id": o.id, "label": label(o)})
        host = o.metadata.get("hostname")
        if isinstance(host, str) and host not in group["hosts"] and len(group["hosts"]) < 10:
            group["hosts"].append(host)
        if not group["example"]:
            output = o.metadata.get("output")
            group["example"] = o.reason
            group["output"] = output if isinstance(output, str) else ""
    listed = sum(count for _, count in counted)
    if listed < total:
        groups["…"] = {"reason": f"{total - listed} more failures with other reasons",
                       "count": total - listed, "observations": [], "hosts": [],
                       "example": "", "output": ""}
    return list(groups.values())


PAGE_SIZE = 500  # observations per page of the table's pager (a long experiment's window)


def observation_page(service: Service, experiment_id: str, page: int) -> dict[str, Any]:
    """One page of the observations table, newest first, past a long experiment's window:
    the rows as the page's own, and how many pages there are."""
    experiment = service.experiment(experiment_id)
    records, total = service.store.observation_page(experiment.id, page, PAGE_SIZE)
    snap = Snapshot(experiment=experiment, observations=records, open_suggestions=[],
                    server_ms=0, version="")
    best_ids = {o.id for o in views.best(service, experiment)}
    return {"observations": [observation_row(snap, o, best_ids) for o in records],
            "page": page, "pages": max(1, -(-total // PAGE_SIZE)), "total": total}


def experiment_config(experiment: Experiment) -> dict[str, Any]:
    """The stored config beyond the search space and the metrics (which have their own
    tables): how it is evaluated, the optimizer's settings, early stopping and the rest."""
    config = json.loads(experiment.spec.to_json())
    for shown in ("name", "parameters", "metrics"):
        config.pop(shown, None)
    return {key: value for key, value in config.items() if value not in (None, {}, [], "")}


def figure_data(figure: Figure) -> dict[str, Any]:
    """A figure as JSON for the browser, which draws it with Plotly."""
    return {**asdict(figure), "empty": figure.empty}


def experiment_info(experiment: Experiment) -> dict[str, Any]:
    spec = experiment.spec
    return {
        "id": experiment.id, "name": spec.name, "created": experiment.created,
        "budget": spec.budget, "parallel_bandwidth": spec.parallel_bandwidth,
        "optimizer": spec.optimizer.type,
        "parameters": [{"name": p.name, "type": p.type, "low": p.low, "high": p.high,
                        "categories": list(p.categories), "log": p.log, "grid": list(p.grid)}
                       for p in spec.parameters],
        "metrics": [{"name": m.name, "objective": m.objective, "strategy": m.strategy,
                     "threshold": m.threshold} for m in spec.metrics],
        "early_stopping": None if spec.early_stopping is None else {
            "scheduler": spec.early_stopping.scheduler, "metric": spec.early_stopping.metric,
            "resource": spec.early_stopping.resource,
            "max_resource": spec.early_stopping.max_resource,
            "milestones": spec.early_stopping.milestones(0)},
        "resource_budget": spec.resource_budget,
        "config": experiment_config(experiment),
    }


def experiment_view(service: Service, snap: Snapshot) -> dict[str, Any]:
    """The whole page's data in one JSON document (one poll, one consistent picture)."""
    best = views.best(service, snap.experiment, snap.observations)
    best_ids = {o.id for o in best}
    rows = [observation_row(snap, o, best_ids) for o in snap.observations]
    return {
        "experiment": experiment_info(snap.experiment),
        "progress": progress(snap, best),
        "best": [r for r in rows if r["best"]],
        "observations": rows,
        "failed": [r for r in rows if r["failed"]],
        "failure_reasons": failure_groups(snap),
        "open_suggestions": open_rows(snap),
        "constraints": constraint_rows(snap),
        "figures": [{"name": name, "title": title} for name, title in catalogue(snap)],
        # a long experiment's page holds a window of its observations: how many of how many
        "window": None if snap.window is None else {"shown": len(rows),
                                                    "total": snap.window.observations},
        "version": snap.version, "generated": round(time.time(), 3),
    }
