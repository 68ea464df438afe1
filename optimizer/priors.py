"""SigOpt's `prior` on a double: where the user believes good values lie.

`normal` (mean, scale) or `beta` (shape_a, shape_b, over the parameter's bounds), truncated
to the bounds. A prior warps the parameter's design-cube coordinate: the coordinate is the
cumulative probability of the prior mixed with a uniform share, so uniform designs (Sobol,
random, the acquisition search's global candidates) sample mostly from the prior, the dense
region near the mean gets most of the early points, and the model and the local steps work
in the warped coordinate. The uniform share keeps every value within reach, so a wrong prior
costs evaluations but does not trap the search.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("normal", "beta")
MIN_MASS = 1e-6  # of a normal prior inside the bounds: less means a mean far outside
UNIFORM_SHARE = 0.25  # of the coordinate spread evenly over the bounds: a wrong prior slows
# the search down but never hides the optimum (measured in docs/optimizer.md)


@dataclass(frozen=True)
class Prior:
    name: str  # normal | beta
    mean: float | None = None  # normal
    scale: float | None = None  # normal: the standard deviation
    shape_a: float | None = None  # beta
    shape_b: float | None = None  # beta

    def __post_init__(self) -> None:
        if self.name not in KINDS:
            raise ValueError(f"prior.name: must be one of {list(KINDS)}, got {self.name!r}")
        needed = ("mean", "scale") if self.name == "normal" else ("shape_a", "shape_b")
        unused = [f for f in ("mean", "scale", "shape_a", "shape_b")
                  if f not in needed and getattr(self, f) is not None]
        if unused:
            raise ValueError(f"prior.{unused[0]}: not a field of a {self.name} prior "
                             f"(it takes {' and '.join(needed)})")
        for field in needed:
            value = getattr(self, field)
            if value is None or not math.isfinite(value):
                raise ValueError(f"prior.{field}: a {self.name} prior needs a finite {field}")
            object.__setattr__(self, field, float(value))
        for field in needed[1:] if self.name == "normal" else needed:
            if not getattr(self, field) > 0:
                raise ValueError(f"prior.{field}: must be positive")

    def check_bounds(self, low: float, high: float) -> None:
        if self.name == "normal":
            from scipy import special  # noqa: PLC0415  (lazy, as in _prior_cdf)

            if special.ndtr(self._standard(high)) - special.ndtr(self._standard(low)) \
                    < MIN_MASS:
                raise ValueError("prior: almost none of this normal prior lies within the "
                                 "bounds; move its mean inside them or widen its scale")

    def _standard(self, x: Any) -> Any:
        assert self.mean is not None and self.scale is not None
        return (x - self.mean) / self.scale

    def cdf(self, x: np.ndarray, low: float, high: float) -> np.ndarray:
        """The design-cube coordinate of values in [low, high]: the CDF of the truncated prior
        mixed with a uniform share (UNIFORM_SHARE), so that no value is out of reach."""
        x = np.clip(np.asarray(x, dtype=float), low, high)
        uniform = (x - low) / (high - low)
        mixed = (1 - UNIFORM_SHARE) * self._prior_cdf(x, low, high) + UNIFORM_SHARE * uniform
        out: np.ndarray = np.clip(mixed, 0.0, 1.0)
        return out

    def _prior_cdf(self, x: np.ndarray, low: float, high: float) -> np.ndarray:
        from scipy import special  # noqa: PLC0415  (lazy: only spaces with priors need it)

        if self.name == "normal":
            a, b = special.ndtr(self._standard(low)), special.ndtr(self._standard(high))
            u = (special.ndtr(self._standard(x)) - a) / (b - a)
        else:
            u = special.betainc(self.shape_a, self.shape_b, (x - low) / (high - low))
        out: np.ndarray = np.clip(u, 0.0, 1.0)
        return out

    def ppf(self, u: np.ndarray, low: float, high: float) -> np.ndarray:
        """The value at design-cube coordinate u (cdf's inverse, by bisection: the CDF is
        increasing, and 60 halvings reach a double's precision on any bounds)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        below, above = np.full(u.shape, float(low)), np.full(u.shape, float(high))
        for _ in range(60):
            middle = 0.5 * (below + above)
            low_side = self.cdf(middle, low, high) < u
            below = np.where(low_side, middle, below)
            above = np.where(low_side, above, middle)
        out: np.ndarray = np.clip(0.5 * (below + above), low, high)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("name", self.name), ("mean", self.mean),
                                  ("scale", self.scale), ("shape_a", self.shape_a),
                                  ("shape_b", self.shape_b)) if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Prior:
        return cls(name=str(data["name"]), mean=data.get("mean"), scale=data.get("scale"),
                   shape_a=data.get("shape_a"), shape_b=data.get("shape_b"))

