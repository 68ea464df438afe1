"""Numbers read from environment variables, checked the same way by every setting.

An unset or empty variable gives the default; anything else must parse and lie in range,
or the error names the variable, says what it must be and shows what was given.
"""

from __future__ import annotations

import os

from coordinator.errors import InvalidInput


def env_int(name: str, default: int, low: int, high: int, unit: str = "") -> int:
    """A whole number from `low` to `high` (`unit`, such as "bytes", only for the message)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise InvalidInput(f"{name}: must be a whole number of {unit or 'units'} from {low} to "
                           f"{high}, got {raw[:40]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidInput(f"{name}: must be from {low} to {high}{' ' + unit if unit else ''}, "
                           f"got {value}")
    return value


def env_seconds(name: str, default: float, low: float, high: float) -> float:
    """A number of seconds from `low` to `high`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name}: must be a number of seconds, got {raw[:40]!r}") from None
    if not low <= value <= high:  # also refuses nan
        raise InvalidInput(f"{name}: must be between {low:g} and {high:g} seconds, got {value:g}")
    return value
