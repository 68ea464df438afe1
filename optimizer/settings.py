"""The `optimizer:` block of an experiment config, validated with field names in errors."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

STRATEGY_TYPES = ("bayes", "random", "grid", "sobol")
ACQUISITIONS = ("auto", "ei", "lcb")
PENDING_MODES = ("believer", "liar", "penalize")

Rule = Callable[[str, Any], None]  # raises SettingsError for a bad value of the named field


class SettingsError(ValueError):
    """A bad optimizer setting; `field` names it so config errors can point at the key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Settings:
    """How suggestions are made. Defaults are the tuned ones; most users set only type/seed."""

    type: str = "bayes"
    seed: int | None = None
    initial_points: int | None = None
    acquisition: str = "auto"
    xi: float = 0.0
    kappa: float = 1.0
    pending: str = "believer"
    candidates: int = 2000
    max_history: int = 250
    trust_region: bool = True
    global_every: int = 2  # chosen on the broad suite (benchmarks/RESULTS.md, "The broad suite")
    trust_patience: int = 0
    local_every: int = 3
    # Keep each new point at least this far (design-cube units: 0.01 is 1 % of a double's
    # range) from every open point with the same ints and categoricals. Off by default: near
    # the optimum, close points in flight are how a noise-free metric converges (measured in
    # benchmarks/RESULTS.md, "Near-duplicate open points"); noisy metrics may prefer it on.
    min_open_distance: float = 0.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check(f.name, getattr(self, f.name))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Settings:
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise SettingsError("optimizer", f"must be a mapping, got {type(raw).__name__}")
        known = [f.name for f in dataclasses.fields(cls)]
        for key in raw:
            if key not in known:
                raise SettingsError(str(key), "unknown setting" + _did_you_mean(str(key), known))
        return cls(**dict(raw))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; expected one of {list(choices)}"


def _check(name: str, value: Any) -> None:
    """One rule per field; kept as data so adding a setting is one line."""
    rule = _RULES[name]
    rule(name, value)


def _choice(options: tuple[str, ...]) -> Rule:
    def check(name: str, value: Any) -> None:
        if not isinstance(value, str):
            raise SettingsError(name, f"must be a string, got {value!r}")
        if value not in options:
            raise SettingsError(name, f"unknown value {value!r}" + _did_you_mean(value, options))

    return check


def _integer(minimum: int, optional: bool = False) -> Rule:
    def check(name: str, value: Any) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(name, f"must be an integer, got {value!r}")
        if value < minimum:
            raise SettingsError(name, f"must be at least {minimum}, got {value}")

    return check


def _boolean(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise SettingsError(name, f"must be true or false, got {value!r}")


def _number(minimum: float, maximum: float = float("inf")) -> Rule:
    def check(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(name, f"must be a number, got {value!r}")
        if not value >= minimum:
            raise SettingsError(name, f"must be at least {minimum:g}, got {value!r}")
        if not value <= maximum:
            raise SettingsError(name, f"must be at most {maximum:g}, got {value!r}")

    return check


_RULES: dict[str, Rule] = {
    "type": _choice(STRATEGY_TYPES),
    "seed": _integer(0, optional=True),
    "initial_points": _integer(1, optional=True),
    "acquisition": _choice(ACQUISITIONS),
    "xi": _number(0.0),
    "kappa": _number(0.0),
    "pending": _choice(PENDING_MODES),
    "candidates": _integer(16),
    "max_history": _integer(20),
    "trust_region": _boolean,
    "global_every": _integer(0),
    "trust_patience": _integer(0),
    "local_every": _integer(0),
    "min_open_distance": _number(0.0, 0.2),
}
