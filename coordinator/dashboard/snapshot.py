"""One experiment as read at one moment: what data.py tabulates and figures.py plots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from coordinator.state.records import Experiment, ObservationRecord, Report, Suggestion


@dataclass(frozen=True)
class Snapshot:
    """Everything read from Redis for one experiment at one moment."""

    experiment: Experiment
    observations: list[ObservationRecord]
    open_suggestions: list[Suggestion]
    server_ms: int
    version: str
    resource_spent: float = 0.0  # every run's reported resource (Store.resource_spent)
    reported: bool = False  # some run reported progress: the learning curves are worth a figure
    # The learning curves of some runs (data.with_curves): read only to draw the figures,
    # never for the page's JSON, which polls far more often.
    curves: Mapping[str, list[Report]] = field(default_factory=dict)
