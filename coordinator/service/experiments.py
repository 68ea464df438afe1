"""The service layer: what the CLI, the HTTP API and the workers do to experiments.

Every method takes plain values and raises CeleriacError subclasses; nothing here knows about
click or HTTP.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from coordinator.engine.suggester import Suggester
from coordinator.errors import InvalidInput, NotFound, SuggestionClosed, SuggestionNotFound
from coordinator.infra.connection import connect
from coordinator.spec.experiment import ExperimentSpec
from coordinator.spec.tasks import task_of
from coordinator.spec.update import ExperimentUpdate
from coordinator.state.records import Experiment, MetricValue, ObservationRecord, Suggestion
from coordinator.state.states import ExperimentState, ObserveReply, SuggestionState, TakeReply
from coordinator.state.store import Counts, RunUpdate, Store
from coordinator.state.tokens import Tokens


class Service:
    """The one door the front ends (CLI, HTTP API, dashboard) use: they never hold the Store,
    so every read and write they make is named here. The run loop and the workers, which
    drive the state machine itself, use `store` and `suggester` directly."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.suggester = Suggester(store)
        self.tokens = Tokens(store.redis)  # API tokens: `coordinator token`, API, dashboard

    @classmethod
    def connect(cls, url: str, retries: int | None = None) -> Service:
        return cls(Store(connect(url) if retries is None else connect(url, retries=retries)))

    # experiments ---------------------------------------------------------------------------

    def create_experiment(self, spec: ExperimentSpec, owner: str = "") -> Experiment:
        experiment_id = self.store.create_experiment(spec, owner)
        return self.experiment(experiment_id)

    def experiment(self, experiment_id: str, *, include_deleted: bool = False) -> Experiment:
        experiment_id = str(experiment_id).strip()
        meta = self.store.experiment_meta(experiment_id) if experiment_id.isdigit() else {}
        if not meta or (meta.get("state") == ExperimentState.DELETED and not include_deleted):
            raise NotFound(f"experiment {experiment_id!r} not found; `coordinator list` shows "
                           f"the experiments")
        return Experiment.from_meta(meta)

    def experiments(self) -> list[Experiment]:
        found = []
        for experiment_id in self.store.experiment_ids():
            meta = self.store.experiment_meta(experiment_id)
            if meta and meta.get("state") != ExperimentState.DELETED:
                found.append(Experiment.from_meta(meta))
        return found

    def delete_experiment(self, experiment_id: str) -> None:
        experiment = self.experiment(experiment_id)
        self._delete_open(experiment.id)
        self.store.delete_experiment(experiment.id)

    def update_experiment(self, experiment_id: str, update: ExperimentUpdate) -> Experiment:
        """Changes budget, name, bandwidth or metadata, and archives (state deleted) or
        unarchives (active); a deleted experiment can be read and unarchived, and the
        changes of one update are all made or none (the spec is one field)."""
        experiment = self.experiment(experiment_id, include_deleted=True)
        if update.changes_spec:
            self.store.update_spec(experiment.id, update.apply(experiment.spec))
        if update.state == "deleted" and experiment.state is not ExperimentState.DELETED:
            self.delete_experiment(experiment.id)
        elif update.state == "active" and experiment.state is ExperimentState.DELETED:
            self.store.restore_experiment(experiment.id)
        return self.experiment(experiment.id, include_deleted=True)

    # The reads below take the id of an experiment the caller has already looked up with
    # experiment(): they do not look it up again (one Redis round trip each).

    def experiment_meta(self, experiment_id: str) -> dict[str, str]:
        """The stored fields, including the HTTP API's own (kind, client, project, updated)."""
        return self.store.experiment_meta(experiment_id)

    def update_meta(self, experiment_id: str, **fields: str | int) -> None:
        self.store.set_meta(experiment_id, **fields)

    def counts(self, experiment_id: str) -> Counts:
        return self.store.counts(experiment_id)

    def last_event_id(self, experiment_id: str) -> str:
        """Changes whenever anything happens to the experiment."""
        return self.store.last_event_id(experiment_id)

    def server_time_ms(self) -> int:
        """Redis's clock, the one leases run on."""
        return self.store.server_time_ms()

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
        ids = self.suggestion_ids(experiment.id, open_only=state == "open")
        found = self.suggestions_by_id(experiment.id, ids)
        if state == "closed":
            found = [s for s in found if s.state is SuggestionState.CLOSED]
        return found

    def suggestion_ids(self, experiment_id: str, *, open_only: bool = False,
                       state: str | None = None) -> list[str]:
        """Oldest first; ids are cheap to page through before reading the suggestions.
        `state`: "open", "closed" (every listed one that is not open) or None (all)."""
        if open_only or state == "open":
            return self.store.open_ids(experiment_id)
        listed = self.store.suggestion_ids(experiment_id)
        if state == "closed":
            still_open = set(self.store.open_ids(experiment_id))
            return [sid for sid in listed if sid not in still_open]
        return listed

    def update_suggestion_metadata(self, experiment_id: str, suggestion_id: str,
                                   metadata: dict[str, Any]) -> Suggestion:
        found = self.store.suggestion(experiment_id, suggestion_id)
        if found is None or found.state is SuggestionState.DELETED:
            raise SuggestionNotFound(f"suggestion {suggestion_id!r} not found")
        self.store.set_suggestion_metadata(experiment_id, suggestion_id, metadata)
        return dataclasses.replace(found, metadata=metadata)

    def delete_suggestions(self, experiment_id: str, state: str | None = None) -> int:
        """Open ones ("open"), closed ones ("closed") or every one (None, as SigOpt's DELETE
        without a state); observations stay."""
        if state == "open":
            return self._delete_open(experiment_id)
        ids = self.suggestion_ids(experiment_id, state=state)
        return sum(self.store.delete_suggestion(experiment_id, sid, closed_too=True)
                   for sid in ids)

    def suggestions_by_id(self, experiment_id: str, suggestion_ids: Iterable[str]
                          ) -> list[Suggestion]:
        return self.store.suggestions(experiment_id, suggestion_ids)

    def open_suggestions(self, experiment_id: str) -> list[Suggestion]:
        return self.suggestions_by_id(experiment_id, self.store.open_ids(experiment_id))

    def suggestion(self, experiment_id: str, suggestion_id: str) -> Suggestion | None:
        return self.store.suggestion(experiment_id, suggestion_id)

    def delete_suggestion(self, experiment_id: str, suggestion_id: str) -> bool:
        """False when it was not open (closed, deleted or unknown)."""
        return self.store.delete_suggestion(experiment_id, suggestion_id)

    def delete_open_suggestions(self, experiment_id: str) -> int:
        return self._delete_open(self.experiment(experiment_id).id)

    def _delete_open(self, experiment_id: str) -> int:
        return sum(self.store.delete_suggestion(experiment_id, sid)
                   for sid in self.store.open_ids(experiment_id))

    # observations --------------------------------------------------------------------------

    def new_observation(self, experiment: Experiment, suggestion: Suggestion,
                        values: Mapping[str, tuple[float, float | None]], *, failed: bool = False,
                        reason: str = "", metadata: dict[str, Any] | None = None,
                        duration: float | None = None, resource: float | None = None,
                        stopped: bool = False) -> ObservationRecord:
        """Builds (does not store) an observation; bad metric values make it a failed one. In a
        multitask experiment it is of the suggestion's task."""
        task = task_of(experiment.spec.tasks, suggestion.id)
        if not failed:
            problem = metric_problem(experiment.spec, values)
            if problem:
                failed, reason = True, problem
        return ObservationRecord(
            id=self.new_id(), experiment=experiment.id,
            suggestion=suggestion.id, assignments=suggestion.assignments,
            values=() if failed else tuple(MetricValue(n, float(v), None if s is None else
                                                       float(s)) for n, (v, s) in values.items()),
            failed=failed, reason=reason[:2000], metadata=dict(metadata or {}),
            created=round(time.time(), 3), duration=duration, resource=resource,
            stopped=stopped and not failed,
            task={"name": task.name, "cost": task.cost} if task else None)

    def observe(self, observation: ObservationRecord, epoch: int | None = None
                ) -> ObserveReply:
        """Stores it if the suggestion is still open (and the epoch current); returns the status."""
        status = self.store.observe(observation, epoch)
        if status is ObserveReply.CLOSED and epoch is None:
            raise SuggestionClosed(f"suggestion {observation.suggestion} already has an "
                                   f"observation")
        if status in (ObserveReply.UNKNOWN, ObserveReply.DELETED) and epoch is None:
            raise SuggestionNotFound(f"suggestion {observation.suggestion} not found or deleted")
        return status

    def try_observe(self, observation: ObservationRecord) -> ObserveReply:
        """observe() for callers that word their own refusal (the HTTP API checks the
        suggestion again): the script's status, never raised."""
        return self.store.observe(observation)

    def observations(self, experiment: str | Experiment) -> list[ObservationRecord]:
        """Oldest first. Given an id it looks the experiment up first (NotFound when deleted);
        given an Experiment it reads straight away."""
        if not isinstance(experiment, Experiment):
            experiment = self.experiment(experiment)
        return self.store.observations(experiment.id)

    def observation(self, experiment_id: str, observation_id: str) -> ObservationRecord | None:
        return self.store.observation(experiment_id, observation_id)

    def delete_observations(self, experiment_id: str, observation_id: str = "") -> int:
        """One observation, or every one given ""; its suggestion stays closed. The optimizer
        no longer sees it, and a run short of its budget again goes on."""
        return self.store.delete_observations(experiment_id, observation_id)

    def update_observation(self, experiment: Experiment, observation_id: str,
                           values: Mapping[str, tuple[float, float | None]] | None,
                           failed: bool | None, metadata: dict[str, Any] | None
                           ) -> ObservationRecord:
        """Replaces what is given: values (a successful observation), failed (true clears
        the values), metadata; the rest stays."""
        def change(old: ObservationRecord) -> ObservationRecord:
            new_failed = old.failed if failed is None else failed
            if values is not None:
                new_failed = bool(failed)
            new_values = old.values if values is None else tuple(
                MetricValue(n, float(v), None if sd is None else float(sd))
                for n, (v, sd) in values.items())
            if not new_failed and not new_values:
                raise InvalidInput("value: a failed observation marked successful needs its "
                                   "value (or values)")
            return dataclasses.replace(
                old, failed=new_failed, values=() if new_failed else new_values,
                reason=old.reason if new_failed else "",
                metadata=old.metadata if metadata is None else metadata)
        return self.store.update_observation(experiment.id, observation_id, change)

    def observation_chunks(self, experiment_id: str) -> Iterator[list[str]]:
        """The stored JSON of every observation, oldest first, unparsed, a chunk at a time
        (export streams them)."""
        return self.store.observation_chunks(experiment_id)

    # the HTTP API's own records: ids, projects, training runs, request rate --------------------

    def new_id(self) -> str:
        """Unique across every process sharing this Redis (experiments, runs, observations)."""
        return self.store.allocate_ids()[0]

    def projects(self, client: str) -> list[str]:
        return self.store.projects(client)

    def all_experiments(self) -> list[tuple[Experiment, dict[str, str]]]:
        """Deleted (archived) ones too, oldest first, each with its stored fields (kind,
        client, project: the HTTP API's listings filter by them)."""
        metas = [self.store.experiment_meta(i) for i in self.store.experiment_ids()]
        return [(Experiment.from_meta(meta), meta) for meta in metas if meta]

    def project(self, client: str, project_id: str) -> str | None:
        return self.store.project(client, project_id)

    def add_project(self, client: str, project_id: str, record: str) -> bool:
        """False when the project already exists."""
        return self.store.add_project(client, project_id, record)

    def add_run(self, experiment_id: str, run_id: str, record: str) -> None:
        self.store.add_run(experiment_id, run_id, record)

    def run_experiment(self, run_id: str) -> str | None:
        """The id of the experiment a training run belongs to."""
        return self.store.run_experiment(run_id)

    def run(self, experiment_id: str, run_id: str) -> str | None:
        return self.store.run(experiment_id, run_id)

    def runs(self, experiment_id: str) -> list[str]:
        return self.store.runs(experiment_id)

    def update_run(self, experiment_id: str, run_id: str,
                   change: Callable[[str], str]) -> RunUpdate:
        """One compare-and-set transition of the run (Store.update_run)."""
        return self.store.update_run(experiment_id, run_id, change)

    def spend_request(self, token_digest: str, rate: float, burst: int) -> float | None:
        """Takes one request from the token's bucket, shared by every server on this Redis:
        None when it may go on, else the seconds to wait."""
        return self.store.spend_request(token_digest, rate, burst)


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

def create_suggestion_now(service: Service, experiment: str | Experiment, *,
                          metadata: dict[str, Any] | None = None) -> Suggestion:
    """A suggestion without the optimizer on the request path (Suggester.take_now). Given an
    Experiment (a cached spec), it makes two Redis round trips: the id and the atomic take,
    which also refuses a deleted experiment."""
    if not isinstance(experiment, Experiment):
        experiment = service.experiment(experiment)
    return service.suggester.take_now(experiment, metadata)


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
    if taken.status is TakeReply.DUPLICATE:
        raise InvalidInput("assignments: equal to an open suggestion's; observe or delete it "
                           "first")
    assert taken.status is TakeReply.OK  # an entry is never EMPTY; NO_EXPERIMENT raised
    assert taken.suggestion_id is not None
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
    placeholder = Suggestion(id="", experiment=experiment.id, state=SuggestionState.CLOSED,
                             assignments=canonical)
    record = service.new_observation(experiment, placeholder, values, failed=failed,
                                     metadata=metadata)
    record = ObservationRecord(**{**record.__dict__, "suggestion": None})
    service.store.observe_assignments(record)  # ExperimentNotFound when deleted meanwhile
    return record
