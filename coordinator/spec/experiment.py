"""The validated description of an experiment, as stored in Redis and shared by every process."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import asdict, dataclass, field
from dataclasses import replace as dataclasses_replace
from typing import Any

from coordinator.spec.early_stopping import Checkpoints, EarlyStopping
from coordinator.spec.tasks import Task
from coordinator.spec.warm_start import WarmStart
from optimizer import LinearConstraint, Metric, Parameter, Settings, Space
from optimizer.priors import Prior


@dataclass(frozen=True)
class Evaluation:
    """How a worker evaluates a suggestion: a Python callable or a command line."""

    evaluate: str | None = None  # "package.module:function" or "path/to/file.py:function"
    command: str | None = None  # e.g. "python run-model.py", split with shlex, never a shell
    workdir: str = "."  # relative to the worker's current directory
    timeout: float = 3600.0  # seconds per evaluation

    @property
    def configured(self) -> bool:
        return bool(self.evaluate or self.command)


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    parameters: tuple[Parameter, ...]
    metrics: tuple[Metric, ...]
    budget: int | None = None
    parallel_bandwidth: int = 1
    max_attempts: int = 3
    pause_after_failures: int = 5  # `run` pauses after this many failures in a row for one
    # reason (0: never), instead of spending the budget on a broken evaluation
    evaluation: Evaluation = field(default_factory=Evaluation)
    optimizer: Settings = field(default_factory=Settings)
    metadata: dict[str, Any] = field(default_factory=dict)
    early_stopping: EarlyStopping | None = None
    checkpoints: Checkpoints = field(default_factory=Checkpoints)
    resource_budget: float | None = None  # total resource of every run, stopped ones too
    tasks: tuple[Task, ...] = ()  # SigOpt's multitask: cheaper tasks of cost < 1
    linear_constraints: tuple[LinearConstraint, ...] = ()  # every suggestion meets them
    # applied when the experiment is created (queued, imported), never stored with the spec
    warm_start: WarmStart | None = field(default=None, compare=False)

    @property
    def max_resource(self) -> float | None:
        """The full resource the optimizer's fidelity model predicts at: max_resource, or a
        cost of 1 in a multitask experiment."""
        if self.tasks:
            return 1.0
        return self.early_stopping.max_resource if self.early_stopping else None

    @functools.cached_property
    def space(self) -> Space:
        return Space(self.parameters, self.linear_constraints)

    @functools.cached_property
    def reachable_budget(self) -> int | None:
        """The budget, or the number of distinct points when the space has fewer (a grid of
        int and categorical parameters): no point is evaluated twice, so the experiment is
        complete once every point is observed."""
        if self.budget is None:
            return None
        size = self.space.size()
        return int(min(self.budget, size)) if math.isfinite(size) else self.budget

    @property
    def space_smaller_than_budget(self) -> bool:
        return self.budget is not None and (self.reachable_budget or 0) < self.budget

    @property
    def optimized_metrics(self) -> tuple[Metric, ...]:
        return tuple(m for m in self.metrics if m.strategy == "optimize")

    def to_json(self) -> str:
        data = asdict(dataclasses_replace(self, warm_start=None))
        del data["warm_start"]
        data["optimizer"] = self.optimizer.to_dict()
        data["early_stopping"] = self.early_stopping.to_dict() if self.early_stopping else None
        data["linear_constraints"] = [c.to_dict() for c in self.linear_constraints]
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> ExperimentSpec:
        data = json.loads(text)
        return cls(
            name=data["name"],
            parameters=tuple(
                Parameter(**{**p, "categories": tuple(p.get("categories") or ()),
                             "grid": tuple(p.get("grid") or ()),
                             "prior": Prior.from_dict(p["prior"]) if p.get("prior") else None})
                for p in data["parameters"]
            ),
            metrics=tuple(Metric(**m) for m in data["metrics"]),
            budget=data.get("budget"),
            parallel_bandwidth=data.get("parallel_bandwidth", 1),
            max_attempts=data.get("max_attempts", 3),
            pause_after_failures=data.get("pause_after_failures", 5),
            evaluation=Evaluation(**data.get("evaluation", {})),
            optimizer=Settings.from_dict(data.get("optimizer") or {}),
            metadata=data.get("metadata") or {},
            early_stopping=EarlyStopping.from_dict(data["early_stopping"])
            if data.get("early_stopping") else None,
            checkpoints=Checkpoints.from_dict(data.get("checkpoints")),
            resource_budget=data.get("resource_budget"),
            tasks=tuple(Task(**t) for t in data.get("tasks") or ()),
            linear_constraints=tuple(LinearConstraint.from_dict(c)
                                     for c in data.get("linear_constraints") or ()),
        )
