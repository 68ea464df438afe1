"""What the dashboard computes once and keeps: figures per experiment version, the parameter
importance per count of observations, and each listed experiment's best value.

A page polls every second or two and a list may hold many experiments; every entry here is
keyed by something that changes whenever the answer may (the version, the observation count),
so nothing is ever stale, and each cache keeps only its last few entries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from coordinator.dashboard import data
from coordinator.dashboard.figures import Figure, figures
from coordinator.dashboard.importance import parameter_importance
from coordinator.dashboard.snapshot import Snapshot
from coordinator.service import views
from coordinator.service.experiments import Service
from coordinator.state.records import Experiment

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The last `size` answers by key, safe to share between the thread pool's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[K, V] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        value = compute()  # outside the lock: a slow fit must not hold up other experiments
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return value


class FigureCache:
    """The figures of the last few (experiment, version) pairs: one page refresh asks for
    every plot of one version, and computing them once is enough."""

    def __init__(self, size: int = 16) -> None:
        self.figures: Recent[tuple[str, str], list[Figure]] = Recent(size)
        self.importance: Recent[tuple[str, int], dict[str, Any]] = Recent(size)

    def get(self, service: Service, snap: Snapshot) -> list[Figure]:
        def compute() -> list[Figure]:
            best = views.best(service, snap.experiment, snap.observations)
            return figures(data.with_curves(service, snap, best), best)
        return self.figures.get((snap.experiment.id, snap.version), compute)

    def importance_of(self, snap: Snapshot) -> dict[str, Any]:
        """Refit only when observations were added: a report or a claim changes the version
        but not what the forest is fit to."""
        key = (snap.experiment.id, len(snap.observations))
        return self.importance.get(
            key, lambda: parameter_importance(snap.experiment.spec, snap.observations))


class BestCache:
    """The best value of each listed experiment, read again only when its observation count
    changes (observations are only ever added)."""

    def __init__(self, service: Service, size: int = 512) -> None:
        self.service = service
        self.values: Recent[tuple[str, int], tuple[str | None, float | None]] = Recent(size)

    def __call__(self, experiment: Experiment, count: int) -> tuple[str | None, float | None]:
        return self.values.get((experiment.id, count),
                               lambda: data.best_value(self.service, experiment, count))
