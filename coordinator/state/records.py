"""Suggestions and observations as stored in Redis, and their conversion for the optimizer."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from coordinator.spec.experiment import ExperimentSpec
from coordinator.state.states import ExperimentState, SuggestionState
from optimizer import Observation


@dataclass(frozen=True)
class Suggestion:
    id: str
    experiment: str
    state: SuggestionState
    assignments: dict[str, Any]
    strategy: str = ""
    created: int = 0  # ms, Redis server clock
    epoch: int = 0
    attempts: int = 0
    owner: str = ""
    observation: str | None = None
    claimed: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    step: float | None = None  # the last step reported (the resource reached)
    stop: str = ""  # why the scheduler ended it, or that it is complete
    stopped: bool = False  # the scheduler stopped it early
    checkpoint: str = ""  # where its latest checkpoint lies
    checkpoint_step: float | None = None
    number: int = 0  # 1, 2, ... within its experiment (the API's id stays `id`)

    @property
    def is_open(self) -> bool:
        return self.state.is_open

    @classmethod
    def from_hash(cls, experiment: str, data: dict[str, str]) -> Suggestion:
        return cls(
            id=data["id"], experiment=experiment, state=SuggestionState(data["state"]),
            assignments=json.loads(data["assignments"]), strategy=data.get("strategy", ""),
            created=int(data.get("created", 0)), epoch=int(data.get("epoch", 0)),
            attempts=int(data.get("attempts", 0)), owner=data.get("owner", ""),
            observation=data.get("observation") or None,
            claimed=int(data["claimed"]) if data.get("claimed") else None,
            metadata=json.loads(data.get("metadata") or "{}"),
            step=float(data["step"]) if data.get("step") else None,
            stop=data.get("stop", ""), stopped=data.get("stopped") == "1",
            checkpoint=data.get("checkpoint", ""),
            checkpoint_step=float(data["checkpoint_step"]) if data.get("checkpoint_step")
            else None,
            number=int(data.get("number") or 0),
        )


REASON_PARTS = " | "  # a failure reason is its headline, then its details (frames, stderr)


def reason_headline(reason: str) -> str:
    """A failure reason without its details, so one bug reads (and counts) as one line."""
    return reason.split(REASON_PARTS)[0].strip()[:300]


@dataclass(frozen=True)
class MetricValue:
    name: str
    value: float
    value_stddev: float | None = None


@dataclass(frozen=True)
class ObservationRecord:
    id: str
    experiment: str
    suggestion: str | None
    assignments: dict[str, Any]
    values: tuple[MetricValue, ...] = ()
    failed: bool = False
    reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0  # epoch seconds
    duration: float | None = None  # seconds the evaluation took, when a worker made it
    resource: float | None = None  # the step its run reached, when it reported progress
    stopped: bool = False  # an early-stopping scheduler ended the run before its end
    task: dict[str, Any] | None = None  # {name, cost} in a multitask experiment
    number: int = 0  # 1, 2, ... within its experiment, given when it is stored (0 before)

    @property
    def partial(self) -> bool:
        """Its values are not a full evaluation's: stopped early, or of a task of cost < 1."""
        return self.stopped or (self.task is not None and float(self.task["cost"]) < 1)

    def to_json(self) -> str:
        """`number` first, so that recording it (prelude.lua) replaces a leading 0 in place."""
        data = asdict(self)
        number = data.pop("number")
        return (f'{{"number": {int(number)}, '
                + json.dumps(data, sort_keys=True, allow_nan=False)[1:])

    @property
    def label(self) -> str:
        """How people read it: its number within the experiment (its id before it is stored)."""
        return f"#{self.number}" if self.number else self.id

    @classmethod
    def from_json(cls, text: str) -> ObservationRecord:
        data = json.loads(text)
        data["values"] = tuple(MetricValue(**v) for v in data.get("values", ()))
        return cls(**data)

    def value_of(self, metric: str) -> float | None:
        for item in self.values:
            if item.name == metric:
                return item.value
        return None

    def to_optimizer(self) -> Observation:
        return Observation(
            assignments=self.assignments,
            values={v.name: v.value for v in self.values if math.isfinite(v.value)},
            stddevs={v.name: v.value_stddev for v in self.values if v.value_stddev is not None},
            failed=self.failed,
            resource=float(self.task["cost"]) if self.task is not None else self.resource,
            stopped=self.partial,
        )


@dataclass(frozen=True)
class Report:
    """One intermediate result of a training run, as its learning curve keeps it."""

    step: float
    values: dict[str, float]
    epoch: int = 0
    at: float = 0.0  # epoch seconds

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Report:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Experiment:
    id: str
    spec: ExperimentSpec
    state: ExperimentState  # as stored: active or deleted (see states.experiment_state)
    created: int
    owner: str

    @classmethod
    def from_meta(cls, meta: Mapping[str, str]) -> Experiment:
        return cls(id=meta["id"], spec=ExperimentSpec.from_json(meta["spec"]),
                   state=ExperimentState(meta.get("state", ExperimentState.ACTIVE)),
                   created=int(meta.get("created", 0)),
                   owner=meta.get("owner", ""))
