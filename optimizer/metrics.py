"""Metrics and observations as the optimizer sees them (plain values, no storage concerns)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

OBJECTIVES = ("maximize", "minimize")
STRATEGIES = ("optimize", "constraint", "store")


@dataclass(frozen=True)
class Metric:
    """A reported metric; its strategy decides whether it is optimized, a constraint or kept."""

    name: str
    objective: str = "maximize"
    strategy: str = "optimize"
    threshold: float | None = None

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"{self.name}: objective must be one of {OBJECTIVES}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"{self.name}: strategy must be one of {STRATEGIES}")
        if self.strategy == "constraint" and self.threshold is None:
            raise ValueError(f"{self.name}: a constraint metric needs a threshold")

    @property
    def sign(self) -> float:
        """+1 when larger is better: the models all maximize sign * value."""
        return 1.0 if self.objective == "maximize" else -1.0

    def meets_threshold(self, value: float) -> bool:
        if self.threshold is None:
            return True
        return value >= self.threshold if self.objective == "maximize" else value <= self.threshold


@dataclass(frozen=True)
class Observation:
    """One evaluated point; failed observations carry no usable values.

    `resource` is how far the run got (None: unknown, or the full length); `stopped` marks a
    run an early-stopping scheduler ended before the full length, whose values are therefore
    partial: the last ones reported, at `resource`.
    """

    assignments: Mapping[str, Any]
    values: Mapping[str, float] = field(default_factory=dict)
    stddevs: Mapping[str, float] = field(default_factory=dict)
    failed: bool = False
    resource: float | None = None
    stopped: bool = False


def optimized(metrics: Sequence[Metric]) -> list[Metric]:
    return [m for m in metrics if m.strategy == "optimize"]


def constraints(metrics: Sequence[Metric]) -> list[Metric]:
    """Every metric whose threshold decides feasibility (constraint or thresholded optimize)."""
    return [m for m in metrics if m.strategy != "store" and m.threshold is not None]


def has_values(metrics: Sequence[Metric], observation: Observation) -> bool:
    """Not failed and every optimized/constraint metric present and finite."""
    if observation.failed:
        return False
    for m in metrics:
        if m.strategy == "store":
            continue
        value = observation.values.get(m.name)
        if value is None or not _finite(value):
            return False
    return True


def is_feasible(metrics: Sequence[Metric], observation: Observation) -> bool:
    """Counts towards the best: has its values and meets every threshold."""
    if not has_values(metrics, observation):
        return False
    return all(m.meets_threshold(float(observation.values[m.name])) for m in constraints(metrics))


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
