"""What may change in an experiment after it is created, checked field by field (the API's
PUT /experiments/{id} and /aiexperiments/{id}, and `coordinator update`).

Budget (extend or shrink), name, metadata and parallel bandwidth change the stored spec; a
running `coordinator run` picks them up at once. `state` archives (deleted) or unarchives
(active). What defines the search or what was measured (parameters, metrics, conditionals,
constraints, the evaluation) cannot change under observations made for it: those fields are
refused by name, with what to do instead.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from coordinator.errors import ConfigError
from coordinator.spec import models
from coordinator.spec.experiment import ExperimentSpec
from coordinator.spec.models import MAX_BANDWIDTH, MAX_BUDGET
from coordinator.spec.validation import (
    Problems,
    as_choice,
    as_int,
    as_mapping,
    as_text,
    flat_metadata,
    unknown_keys,
)

UPDATABLE = models.keys(models.ExperimentUpdate)
FIXED = models.EXPERIMENT_FIXED
ECHOED = models.EXPERIMENT_ECHOES  # what the client sends back unchanged from a fetch


@dataclass(frozen=True)
class ExperimentUpdate:
    name: str | None = None
    budget: int | None = None
    parallel_bandwidth: int | None = None
    metadata: dict[str, Any] | None = None
    state: str | None = None  # "active" or "deleted"

    def apply(self, spec: ExperimentSpec) -> ExperimentSpec:
        changes: dict[str, Any] = {k: v for k, v in (
            ("name", self.name), ("budget", self.budget),
            ("parallel_bandwidth", self.parallel_bandwidth), ("metadata", self.metadata))
            if v is not None}
        return dataclasses.replace(spec, **changes) if changes else spec

    @property
    def changes_spec(self) -> bool:
        return any(v is not None for v in (self.name, self.budget, self.parallel_bandwidth,
                                           self.metadata))


def validate_update(raw: Any, source: str = "experiment") -> ExperimentUpdate:
    problems = Problems()
    body = as_mapping(raw, "", problems)
    if body is None:
        raise ConfigError(problems.lines, source)
    for key in FIXED:
        if key in body:
            problems.add(key, "cannot change after the experiment is created (its observations "
                         "were made for it); create a new experiment instead")
    unknown_keys({k: v for k, v in body.items() if k not in FIXED and k not in ECHOED},
                 UPDATABLE, "", problems)
    name = as_text(body["name"], "name", problems) if body.get("name") is not None else None
    key = "budget" if "budget" in body else "observation_budget"
    budget = as_int(body[key], key, problems, low=1, high=MAX_BUDGET) \
        if body.get(key) is not None else None
    bandwidth = as_int(body["parallel_bandwidth"], "parallel_bandwidth", problems, low=1,
                       high=MAX_BANDWIDTH) if body.get("parallel_bandwidth") is not None \
        else None
    metadata = flat_metadata(body["metadata"], "metadata", problems) \
        if body.get("metadata") is not None else None
    state = as_choice(body["state"], ("active", "deleted"), "state", problems) \
        if body.get("state") is not None else None
    models.check(models.ExperimentUpdate, {k: v for k, v in body.items() if v is not None and
                                           k not in FIXED and k not in ECHOED}, problems)
    if problems:
        raise ConfigError(problems.lines, source)
    return ExperimentUpdate(name=name, budget=budget, parallel_bandwidth=bandwidth,
                            metadata=metadata, state=state)
