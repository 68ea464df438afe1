"""Read-only views of an experiment: status, best observations, export."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from coordinator.service.experiments import Service
from coordinator.state.records import (
    Experiment,
    ObservationRecord,
    Suggestion,
)
from coordinator.state.states import ExperimentState, SuggestionState, experiment_state
from coordinator.state.summary import Summary, headline
from optimizer import best_observations


@dataclass(frozen=True)
class Status:
    """How far an experiment is: `coordinator status` and `run`, and the dashboard's progress
    (which adds a pace estimate) all show this one view."""

    id: str
    name: str
    state: ExperimentState  # active, finished (budget spent) or deleted
    budget: int | None
    parallel_bandwidth: int
    observations: int
    failed: int
    open: int
    running: int
    queued: int
    workers: list[str]
    best_metric: str | None  # the first optimized metric, the one best_value is of
    best_value: float | None
    best_assignments: dict[str, Any] | None
    stopped: int = 0  # observations of runs an early-stopping scheduler ended
    resource: str | None = None  # what reports count (epoch, ...), with early stopping
    resource_spent: float = 0.0  # every run's reported resource, resumed work counted again
    resource_budget: float | None = None
    paused: str = ""  # why `run` stopped dispatching before the budget (failures in a row)

    @property
    def resource_exhausted(self) -> bool:
        return self.resource_budget is not None and self.resource_spent >= self.resource_budget

    @property
    def done(self) -> bool:
        """Finished (budget spent) or deleted: states.experiment_state's one rule."""
        return self.state.is_finished

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def best(service: Service, experiment: Experiment,
         observations: list[ObservationRecord] | None = None) -> list[ObservationRecord]:
    """Best observation (one optimized metric) or the Pareto front (two), thresholds honoured:
    of `observations` when given, else from the running summary (a few reads, at any size)."""
    if observations is None:
        return summary_best(service, experiment,
                            service.store.summary(experiment.id, experiment.spec))
    picks = best_observations(experiment.spec.metrics, [o.to_optimizer() for o in observations])
    return [observations[i] for i in picks]


def summary_best(service: Service, experiment: Experiment, found: Summary
                 ) -> list[ObservationRecord]:
    """The summary's best observations, in best_observations' order (the Pareto front by the
    first optimized metric, best first, then by id): best_observations of the front is the
    front itself, so it orders it."""
    return best(service, experiment,
                service.store.observations_by_id(experiment.id, found.best))


def status(service: Service, experiment_id: str) -> Status:
    """From the running summary: its reads do not grow with the history."""
    experiment = service.experiment(experiment_id)
    found = service.store.summary(experiment.id, experiment.spec)
    return status_of(experiment, found.observations, found.failed, found.stopped,
                     service.open_suggestions(experiment.id),
                     summary_best(service, experiment, found),
                     service.store.resource_spent(experiment.id))


def summarize(experiment: Experiment, observations: list[ObservationRecord],
              open_suggestions: list[Suggestion], top: list[ObservationRecord],
              resource_spent: float = 0.0) -> Status:
    """The Status of data already read (the dashboard's snapshot reads it once for all)."""
    return status_of(experiment, len(observations), sum(o.failed for o in observations),
                     sum(o.stopped for o in observations), open_suggestions, top,
                     resource_spent)


def status_of(experiment: Experiment, observed: int, failed: int, stopped: int,
              open_suggestions: list[Suggestion], top: list[ObservationRecord],
              resource_spent: float) -> Status:
    """The Status from counts (the running summary's, or of data already read)."""
    spec = experiment.spec
    running = [s for s in open_suggestions if s.state is SuggestionState.RUNNING]
    first = spec.optimized_metrics[0].name if spec.optimized_metrics else None
    return Status(
        id=experiment.id, name=spec.name,
        state=experiment_state(experiment.state, observed, spec.reachable_budget),
        budget=spec.budget, parallel_bandwidth=spec.parallel_bandwidth,
        observations=observed, failed=failed,
        open=len(open_suggestions), running=len(running),
        queued=len(open_suggestions) - len(running),
        workers=sorted({s.owner for s in running if s.owner}), best_metric=first,
        best_value=top[0].value_of(first) if top and first else None,
        best_assignments=top[0].assignments if top else None,
        stopped=stopped,
        resource=spec.early_stopping.resource if spec.early_stopping else None,
        resource_spent=resource_spent, resource_budget=spec.resource_budget,
    )


def csv_header(experiment: Experiment) -> list[str]:
    """Every parameter of the space (a conditional one too, empty where it does not apply)
    and every metric, then the observation's own fields; early stopping's come last, so that
    every earlier column keeps its place."""
    spec = experiment.spec
    return ["id", "suggestion", *[f"param.{p.name}" for p in spec.parameters],
            *[f"metric.{m.name}" for m in spec.metrics], "failed", "reason", "created",
            "duration", "hostname", "metadata", "resource", "stopped", "stop_reason", "output"]


def csv_row(parameters: list[str], metrics: list[str], text: str) -> list[Any]:
    """One stored observation as a CSV row, read straight from its JSON (no record object:
    the export of a million is bound by this)."""
    data = json.loads(text)
    assignments = data.get("assignments") or {}
    values = {v["name"]: v["value"] for v in data.get("values") or ()}
    metadata = data.get("metadata") or {}
    output = metadata.get("output")  # the evaluation's stdout/stderr tail, bounded
    return [data["id"], data.get("suggestion"), *[assignments.get(p) for p in parameters],
            *[values.get(m) for m in metrics], data.get("failed", False),
            data.get("reason", ""), data.get("created", 0.0), data.get("duration"),
            metadata.get("hostname"), json.dumps(metadata, sort_keys=True),
            data.get("resource"), data.get("stopped", False), stop_reason(metadata),
            output if isinstance(output, str) else ""]


def stop_reason(metadata: dict[str, Any]) -> str:
    """Why the run ended at the step it reached (the scheduler's words), kept in metadata."""
    reason = metadata.get("stop_reason")
    return reason if isinstance(reason, str) else ""


def export_record(text: str) -> str:
    """A stored observation as `export --format json` gives it: with `resource`, `stopped`
    and a top-level `stop_reason`. The stored JSON is passed through untouched but for a
    prefix unless it needs more (a reason to lift, or a record older than the two fields), so
    the export of an experiment without early stopping still re-encodes nothing."""
    if '"stop_reason"' not in text and '"stopped": ' in text and '"resource": ' in text:
        return '{"stop_reason": "", ' + text[1:]
    data = json.loads(text)
    data.setdefault("resource", None)
    data.setdefault("stopped", False)
    return json.dumps({"stop_reason": stop_reason(data.get("metadata") or {}),
                       **dict(sorted(data.items()))}, allow_nan=False)


def export(service: Service, experiment_id: str, fmt: str) -> str:
    return "".join(export_stream(service, experiment_id, fmt))


def export_stream(service: Service, experiment_id: str, fmt: str) -> Iterator[str]:
    """The export in pieces, one per chunk of observations, oldest first: memory stays flat
    however many there are. The experiment is looked up first (NotFound before any output)."""
    experiment = service.experiment(experiment_id)
    return _json_pieces(service, experiment) if fmt == "json" else \
        _csv_pieces(service, experiment)


def _json_pieces(service: Service, experiment: Experiment) -> Iterator[str]:
    """Stored records are JSON already: one per line, hardly re-encoded."""
    first = True
    for chunk in service.observation_chunks(experiment.id):
        if not chunk:
            continue
        yield ("[\n" if first else ",\n") + ",\n".join(export_record(t) for t in chunk)
        first = False
    yield "[]\n" if first else "\n]\n"


def _csv_pieces(service: Service, experiment: Experiment) -> Iterator[str]:
    """One header (csv_header), then a piece of rows per chunk of observations."""
    parameters = [p.name for p in experiment.spec.parameters]
    metrics = [m.name for m in experiment.spec.metrics]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = False
    for chunk in service.observation_chunks(experiment.id):
        if not chunk:
            continue
        if not header:
            writer.writerow(csv_header(experiment))
            header = True
        writer.writerows(csv_row(parameters, metrics, text) for text in chunk)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if not header:
        yield "id,suggestion\n"


def failure_reasons(observations: list[ObservationRecord], top: int = 3
                    ) -> list[tuple[str, int]]:
    """The most frequent distinct reasons failed observations give, with their counts: the
    reason's first part (before the traceback frames), so one bug counts once. Equal counts
    go alphabetically, as the running summary's (Store.failure_reasons) do."""
    counts = Counter(headline(o) for o in observations if o.failed)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
