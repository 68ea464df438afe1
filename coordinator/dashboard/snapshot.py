"""One experiment as read at one moment: what data.py tabulates and figures.py plots."""

from __future__ import annotations

from dataclasses import dataclass

from coordinator.state.records import Experiment, ObservationRecord, Suggestion


@dataclass(frozen=True)
class Snapshot:
    """Everything read from Redis for one experiment at one moment."""

    experiment: Experiment
    observations: list[ObservationRecord]
    open_suggestions: list[Suggestion]
    server_ms: int
    version: str
