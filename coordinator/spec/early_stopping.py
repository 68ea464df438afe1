"""Early stopping as an experiment declares it: which scheduler decides, on which metric, over
which resource, and where checkpoints are kept.

The decision itself is one Lua transition (`state/lua/report.lua`); this module only holds the
validated settings and computes what that script needs that does not depend on Redis: a
suggestion's Hyperband bracket, the rungs (milestones) of a bracket, and the scores to rank
(larger is better, whatever the metric's objective).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

SCHEDULERS = ("asha", "hyperband", "median", "convergence")
KEEP = ("last", "all", "none")
DEFAULT_CHECKPOINT_STORE = ""  # each worker's data directory (CELERIAC_HOME)/checkpoints


@dataclass(frozen=True)
class Criterion:
    """SigOpt's convergence criterion: stop once `metric` has not improved (by more than
    `min_relative_improvement` of its best) in the last `lookback_checkpoints` reports, after
    at least `min_checkpoints`."""

    metric: str
    sign: float  # +1 when larger is better
    lookback_checkpoints: int
    min_checkpoints: int = 1
    min_relative_improvement: float = 0.0
    name: str = ""


@dataclass(frozen=True)
class EarlyStopping:
    scheduler: str  # one of SCHEDULERS
    metric: str  # what the rungs rank (convergence: the first criterion's metric)
    sign: float  # +1 when larger is better
    resource: str = "step"  # what a report's step counts, for people (epoch, batch, tree)
    min_resource: float = 1.0  # asha/hyperband: the first rung; median: the warm-up
    max_resource: float | None = None  # a run that reaches it is complete, not stopped
    reduction_factor: float = 3.0
    brackets: int = 1  # hyperband: how many brackets (asha is hyperband with one)
    min_samples: int = 3  # median: other runs needed at a step before it may stop one
    criteria: tuple[Criterion, ...] = ()  # convergence
    max_checkpoints: int | None = None  # a run that reports this often is complete

    @property
    def ranks_rungs(self) -> bool:
        return self.scheduler in ("asha", "hyperband")

    def bracket_of(self, suggestion_id: str) -> int:
        """Hyperband's allocation: bracket b (first rung min_resource * eta^b) is drawn with
        weight n_s = ceil((s_max + 1) / (s + 1)) * eta^s, s = s_max - b, from a hash of the
        suggestion id, so every worker places a suggestion in the same bracket."""
        if self.brackets <= 1:
            return 0
        s_max = self.brackets - 1
        weights = [math.ceil((s_max + 1) / (s + 1)) * self.reduction_factor ** s
                   for s in (s_max - b for b in range(self.brackets))]
        digest = hashlib.sha256(str(suggestion_id).encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64 * sum(weights)
        for bracket, weight in enumerate(weights):
            draw -= weight
            if draw < 0:
                return bracket
        return self.brackets - 1

    def milestones(self, bracket: int = 0) -> list[float]:
        """The rungs of a bracket: min_resource * eta^(bracket + k), below max_resource."""
        if not self.ranks_rungs or self.max_resource is None:
            return []
        rungs: list[float] = []
        level = self.min_resource * self.reduction_factor ** bracket
        while level < self.max_resource * (1 - 1e-9) and len(rungs) < 64:
            rungs.append(level)
            level *= self.reduction_factor
        return rungs

    @property
    def ranked(self) -> list[tuple[str, float]]:
        """The metrics report.lua ranks, with their signs: each criterion's, or the metric."""
        if self.scheduler == "convergence":
            return [(c.metric, c.sign) for c in self.criteria]
        return [(self.metric, self.sign)]

    def scores(self, values: Mapping[str, float]) -> list[float]:
        """What report.lua ranks, larger is better."""
        return [sign * float(values[name]) for name, sign in self.ranked]

    def plan(self, bracket: int, values: Mapping[str, float]) -> dict[str, Any]:
        """The part of report.lua's `plan` argument that comes from these settings, for a
        suggestion in `bracket` (bracket_of)."""
        return {
            "kind": "asha" if self.ranks_rungs else self.scheduler,
            "scores": self.scores(values),
            "milestones": self.milestones(bracket),
            "eta": self.reduction_factor, "warmup": self.min_resource,
            "min_samples": self.min_samples,
            "criteria": [{"lookback": c.lookback_checkpoints, "min": c.min_checkpoints,
                          "rel": c.min_relative_improvement, "metric": c.metric}
                         for c in self.criteria],
            "max_resource": self.max_resource, "max_checkpoints": self.max_checkpoints,
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["criteria"] = [asdict(c) for c in self.criteria]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EarlyStopping:
        fields = dict(data)
        fields["criteria"] = tuple(Criterion(**c) for c in fields.get("criteria") or ())
        return cls(**fields)


@dataclass(frozen=True)
class Checkpoints:
    """Where an evaluation's checkpoints go (a directory every worker reaches, or an fsspec
    URL such as s3://bucket/prefix; by default each worker's data directory, which only the
    workers of one machine share) and which survive the run's end."""

    store: str = DEFAULT_CHECKPOINT_STORE
    keep: str = "last"  # last: the latest of each run; all; none: deleted once observed

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Checkpoints:
        return cls(**(data or {}))

