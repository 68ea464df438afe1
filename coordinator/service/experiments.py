"""The service layer: what the CLI, the HTTP API and the workers do to experiments.

Every method takes plain values and raises CeleriacError subclasses; nothing here knows about
click or HTTP.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from coordinator.engine.suggester import Suggester
from coordinator.errors import Conflict, InvalidInput, NotFound
from coordinator.spec.experiment import ExperimentSpec
from coordinator.state.records import Experiment, MetricValue, ObservationRecord, Suggestion
from coordinator.state.store import Store


class Service:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.suggester = Suggester(store)

    # experiments ---------------------------------------------------------------------------

    def create_experiment(self, spec: ExperimentSpec, owner: str = "") -> Experiment:
        experiment_id = self.store.create_experiment(spec, owner)
        return self.experiment(experiment_id)

    def experiment(self, experiment_id: str, *, include_deleted: bool = False) -> Experiment:
        experiment_id = str(experiment_id).strip()
        meta = self.store.experiment_meta(experiment_id) if experiment_id.isdigit() else {}
        if not meta or (meta.get("state") == "deleted" and not include_deleted):
            raise NotFound(f"experiment {experiment_id!r} not found; `coordinator list` shows "
                           f"the experiments")
        return Experiment.from_meta(meta)

    def experiments(self) -> list[Experiment]:
        found = []
        for experiment_id in self.store.experiment_ids():
            meta = self.store.experiment_meta(experiment_id)
            if meta and meta.get("state") != "deleted":
                found.append(Experiment.from_meta(meta))
        return found

    def delete_experiment(self, experiment_id: str) -> None:
        experiment = self.experiment(experiment_id)
        for sid in self.store.open_ids(experiment.id):
            self.store.delete_suggestion(experiment.id, sid)
        self.store.delete_experiment(experiment.id)

    # suggestions ---------------------------------------------------------------------------

    def create_suggestion(self, experiment_id: str, *, claim_ms: int = 0,
                          metadata: dict[str, Any] | None = None) -> Suggestion:
        experiment = self.experiment(experiment_id)
        taken = self.suggester.take(experiment.id, experiment.spec, claim_ms=claim_ms,
                                    metadata=metadata)
        assert taken.suggestion_id is not None
        suggestion = self.store.suggestion(experiment.id, taken.suggestion_id)
        assert suggestion is not None
        return suggestion

    def suggestions(self, experiment_id: str, state: str | None = None) -> list[Suggestion]:
        experiment = self.experiment(experiment_id)
        if state not in (None, "open", "closed", "all"):
            raise InvalidInput(f"state: must be open, closed or all, got {state!r}")
        ids = (self.store.open_ids(experiment.id) if state == "open"
               else self.store.suggestion_ids(experiment.id))
        found = self.store.suggestions(experiment.id, ids)
        if state == "closed":
            found = [s for s in found if s.state == "closed"]
        return found

    def delete_open_suggestions(self, experiment_id: str) -> int:
        experiment = self.experiment(experiment_id)
        return sum(self.store.delete_suggestion(experiment.id, sid)
                   for sid in self.store.open_ids(experiment.id))

    # observations --------------------------------------------------------------------------

    def new_observation(self, experiment: Experiment, suggestion: Suggestion,
                        values: Mapping[str, tuple[float, float | None]], *, failed: bool = False,
                        reason: str = "", metadata: dict[str, Any] | None = None,
                        duration: float | None = None) -> ObservationRecord:
        """Builds (does not store) an observation; bad metric values make it a failed one."""
        if not failed:
            problem = metric_problem(experiment.spec, values)
            if problem:
                failed, reason = True, problem
        return ObservationRecord(
            id=self.store.allocate_ids()[0], experiment=experiment.id,
            suggestion=suggestion.id, assignments=suggestion.assignments,
            values=() if failed else tuple(MetricValue(n, float(v), None if s is None else
                                                       float(s)) for n, (v, s) in values.items()),
            failed=failed, reason=reason[:2000], metadata=dict(metadata or {}),
            created=round(time.time(), 3), duration=duration)

    def observe(self, observation: ObservationRecord, epoch: int | None = None) -> str:
        """Stores it if the suggestion is still open (and the epoch current); returns the status."""
        status = self.store.observe(observation, epoch)
        if status == "CLOSED" and epoch is None:
            raise Conflict(f"suggestion {observation.suggestion} already has an observation")
        if status in ("UNKNOWN", "DELETED") and epoch is None:
            raise NotFound(f"suggestion {observation.suggestion} not found or deleted")
        return status

    def observations(self, experiment_id: str) -> list[ObservationRecord]:
        return self.store.observations(self.experiment(experiment_id).id)


def metric_problem(spec: ExperimentSpec, values: Mapping[str, tuple[float, float | None]]
                   ) -> str | None:
    """Why a set of reported metric values cannot be recorded as a success, or None."""
    expected = [m.name for m in spec.metrics]
    missing = [n for n in expected if n not in values]
    if missing:
        return f"metric {missing[0]!r} missing from the result (expected {', '.join(expected)})"
    extra = sorted(set(values) - set(expected))
    if extra:
        return f"unknown metric {extra[0]!r} in the result (expected {', '.join(expected)})"
    for name, (value, stddev) in values.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or \
                not math.isfinite(value):
            return f"metric {name!r} is {value!r}, not a finite number"
        if stddev is not None and (not isinstance(stddev, int | float) or
                                   not math.isfinite(stddev) or stddev < 0):
            return f"metric {name!r} has value_stddev {stddev!r}; give a finite number >= 0"
    return None


# The HTTP API's paths. They live here so the API, the CLI and the dashboard share them. -------

QUICK_ATTEMPTS = 5


def create_suggestion_now(service: Service, experiment: str | Experiment, *,
                          metadata: dict[str, Any] | None = None) -> Suggestion:
    """A suggestion without the optimizer on the request path: from the backlog (which the
    server's refiller keeps fresh), else a random point. Only a finite space that random
    points keep colliding with falls back to computing one under the lock. Given an
    Experiment (a cached spec), it makes two Redis round trips: the id and the atomic take,
    which also refuses a deleted experiment."""
    from coordinator.state.store import Taken
    from optimizer import Settings, suggest

    if not isinstance(experiment, Experiment):
        experiment = service.experiment(experiment)
    spec, store = experiment.spec, service.store
    sid = store.allocate_ids()[0]
    taken = Taken("EMPTY")
    for _ in range(QUICK_ATTEMPTS):  # the script pops the backlog first, else uses `entry`
        proposals = suggest(spec.space, spec.metrics, [], [], 1, Settings(type="random"))
        entry = f"fallback\t{spec.space.key(proposals[0].assignments)}"
        taken = store.take_suggestion(experiment.id, sid, entry, metadata, 0)
        if taken.status != "DUPLICATE":
            break
    if taken.status in ("EMPTY", "DUPLICATE"):
        taken = service.suggester.take(experiment.id, spec, metadata=metadata)
    if taken.status == "NO_EXPERIMENT":
        raise NotFound(f"experiment {experiment.id} does not exist or was deleted")
    assert isinstance(taken, Taken) and taken.suggestion_id is not None
    return Suggestion(id=taken.suggestion_id, experiment=experiment.id, state="queued",
                      assignments=taken.assignments or {}, strategy=taken.strategy,
                      created=int(time.time() * 1000), metadata=dict(metadata or {}))


def create_manual_suggestion(service: Service, experiment_id: str, assignments: dict[str, Any],
                             metadata: dict[str, Any] | None = None) -> Suggestion:
    """A suggestion with the caller's assignments (SigOpt's queued/manual suggestions)."""
    experiment = service.experiment(experiment_id)
    try:
        key = experiment.spec.space.key(assignments)
    except ValueError as exc:
        raise InvalidInput(f"assignments.{exc}") from None
    store = service.store
    taken = store.take_manual_suggestion(experiment.id, store.allocate_ids()[0],
                                         f"manual\t{key}", metadata)
    if taken.status == "DUPLICATE":
        raise InvalidInput("assignments: equal to an open suggestion's; observe or delete it "
                           "first")
    if taken.status != "OK" or taken.suggestion_id is None:
        raise NotFound(f"experiment {experiment.id} does not exist or was deleted")
    suggestion = store.suggestion(experiment.id, taken.suggestion_id)
    assert suggestion is not None
    return suggestion


def observe_assignments(service: Service, experiment: Experiment, assignments: dict[str, Any],
                        values: Mapping[str, tuple[float, float | None]], *, failed: bool = False,
                        metadata: dict[str, Any] | None = None) -> ObservationRecord:
    """Records an observation of a point no suggestion asked for (the client's own point)."""
    try:
        canonical = experiment.spec.space.canonical(assignments)
    except ValueError as exc:
        raise InvalidInput(f"assignments.{exc}") from None
    placeholder = Suggestion(id="", experiment=experiment.id, state="closed",
                             assignments=canonical)
    record = service.new_observation(experiment, placeholder, values, failed=failed,
                                     metadata=metadata)
    record = ObservationRecord(**{**record.__dict__, "suggestion": None})
    if service.store.observe_assignments(record) != "OK":
        raise NotFound(f"experiment {experiment.id} does not exist or was deleted")
    return record
