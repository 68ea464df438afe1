"""A config's warm start, applied once its experiment is stored: points queued, observations
imported (both checked already by coordinator/spec/warm_start.py, so nothing here can fail on
the user's input)."""

from __future__ import annotations

from dataclasses import dataclass

from coordinator.service.experiments import Service, observe_assignments
from coordinator.service.queued import enqueue
from coordinator.spec.warm_start import WarmStart
from coordinator.state.records import Experiment


@dataclass(frozen=True)
class Applied:
    queued: int = 0
    imported: int = 0


def apply_warm_start(service: Service, experiment: Experiment, start: WarmStart | None
                     ) -> Applied:
    if start is None:
        return Applied()
    for point in start.points:
        enqueue(service, experiment, point)
    metadata = {"warm_start": start.source} if start.source else None
    for o in start.observations:
        observe_assignments(service, experiment, o.assignments, o.values, failed=o.failed,
                            metadata=metadata)
    return Applied(len(start.points), len(start.observations))
