"""Read-only views of an experiment: status, best observations, export."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from typing import Any

from coordinator.service.experiments import Service
from coordinator.state.records import Experiment, ObservationRecord
from optimizer import best_observations


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    state: str
    budget: int | None
    parallel_bandwidth: int
    observations: int
    failed: int
    open: int
    running: int
    queued: int
    workers: list[str]
    best_value: float | None
    best_assignments: dict[str, Any] | None

    @property
    def done(self) -> bool:
        return self.budget is not None and self.observations >= self.budget

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def best(service: Service, experiment: Experiment,
         observations: list[ObservationRecord] | None = None) -> list[ObservationRecord]:
    """Best observation (one optimized metric) or the Pareto front (two), thresholds honoured."""
    if observations is None:
        observations = service.store.observations(experiment.id)
    picks = best_observations(experiment.spec.metrics, [o.to_optimizer() for o in observations])
    return [observations[i] for i in picks]


def status(service: Service, experiment_id: str) -> Status:
    experiment = service.experiment(experiment_id)
    store = service.store
    counts = store.counts(experiment.id)
    open_suggestions = store.suggestions(experiment.id, store.open_ids(experiment.id))
    running = [s for s in open_suggestions if s.state == "running"]
    top = best(service, experiment)
    first_metric = experiment.spec.optimized_metrics[0].name
    return Status(
        id=experiment.id, name=experiment.spec.name, state=experiment.state,
        budget=experiment.spec.budget, parallel_bandwidth=experiment.spec.parallel_bandwidth,
        observations=counts.observations, failed=counts.failed, open=counts.open,
        running=len(running), queued=counts.open - len(running),
        workers=sorted({s.owner for s in running if s.owner}),
        best_value=top[0].value_of(first_metric) if top else None,
        best_assignments=top[0].assignments if top else None,
    )


def export_rows(experiment: Experiment, observations: list[ObservationRecord]
                ) -> list[dict[str, Any]]:
    rows = []
    for o in observations:
        row: dict[str, Any] = {"id": o.id, "suggestion": o.suggestion}
        row.update({f"param.{k}": v for k, v in o.assignments.items()})
        for metric in experiment.spec.metrics:
            row[f"metric.{metric.name}"] = o.value_of(metric.name)
        row.update({"failed": o.failed, "reason": o.reason, "created": o.created,
                    "duration": o.duration, "hostname": o.metadata.get("hostname")})
        row["metadata"] = json.dumps(o.metadata, sort_keys=True)
        rows.append(row)
    return rows


def export(service: Service, experiment_id: str, fmt: str) -> str:
    experiment = service.experiment(experiment_id)
    if fmt == "json":  # stored records are JSON already: one per line, no re-encoding
        texts = service.store.observation_texts(experiment.id)
        return "[\n" + ",\n".join(texts) + "\n]\n" if texts else "[]\n"
    observations = service.store.observations(experiment.id)
    rows = export_rows(experiment, observations)
    out = io.StringIO()
    fields = list(rows[0]) if rows else ["id", "suggestion"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
