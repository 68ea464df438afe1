"""One experiment as read at one moment: what data.py tabulates and figures.py plots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from coordinator.state.records import Experiment, ObservationRecord, Report, Suggestion


@dataclass(frozen=True)
class Window:
    """A long experiment's snapshot holds only part of its observations (data.snapshot): the
    latest, every one that improved the best so far, and the best. These are the whole's
    numbers, from the running summary."""

    observations: int
    failed: int
    stopped: int
    reasons: list[tuple[str, int]]  # the most frequent failure headlines, with their counts


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
    window: Window | None = None  # set when `observations` is a window of a long experiment

    @property
    def observed(self) -> int:
        """How many observations the experiment has (more than the snapshot's in a window)."""
        return self.window.observations if self.window else len(self.observations)
