"""Early-stopped observations: the resource a run reached, as one more input of the models.

A run that an early-stopping scheduler (ASHA, Hyperband, the median rule) ended reports the
last value it reached, at less than the full resource, which is not the value it would have
finished with. The models therefore take the resource as an extra input, the level
log(1 + resource) / log(1 + max_resource) in [0, 1] (1 for every finished run), and the
acquisition queries them at level 1, so that the Gaussian process learns how partial values
relate to full ones from configurations seen at several levels, as multi-fidelity Bayesian
optimization does. Constraint models take the level the same way; the success/failure model
does not (a stopped run did not fail). Only finished runs can be the incumbent.

Measured against feeding stopped values as if finished and against dropping them, and a
BOHB-style model on the highest level with enough observations, in
`benchmarks/fidelity_bench.py` (figures in docs/optimizer.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from optimizer.gp import GaussianProcess
from optimizer.metrics import Observation
from optimizer.models import Target, fit_model

FULL = 1.0
HELD = np.array([FULL])  # the level every query point takes: the full resource


def active(observations: Sequence[Observation], max_resource: float | None) -> bool:
    """Whether the models need a resource input: a full length is known and a run stopped."""
    return max_resource is not None and any(o.stopped for o in observations)


def level(observation: Observation, max_resource: float) -> float:
    """FULL for a finished run; for a stopped one its resource on a log scale (0 when the
    resource is unknown: the least a stopped run can have reached)."""
    if not observation.stopped:
        return FULL
    if observation.resource is None or not observation.resource > 0:
        return 0.0
    ratio = math.log1p(observation.resource) / math.log1p(max_resource)
    return min(max(ratio, 0.0), FULL)


def levels(observations: Sequence[Observation], max_resource: float) -> np.ndarray:
    return np.array([level(o, max_resource) for o in observations], dtype=float)


def with_levels(features: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Features with the level as a last column."""
    return np.hstack([features, np.asarray(values, dtype=float).reshape(-1, 1)])


def fit_at_full(features: np.ndarray, values: np.ndarray, target: Target,
                rng: np.random.Generator, ordered: np.ndarray) -> GaussianProcess:
    """A GP over features and level (a distance, so under the length-scale prior), queried
    at the full resource. `ordered`: the features' columns under that prior."""
    return fit_model(with_levels(features, values), target, rng,
                     prior=np.append(ordered, True), held=HELD)
