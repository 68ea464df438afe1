"""Small checks that collect every problem with its field path instead of stopping at the first."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any


class Problems:
    """Accumulates `path: what is wrong and what to do` lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.paths: list[str] = []  # the field each line names ("" for the whole body)

    def add(self, path: str, message: str) -> None:
        self.lines.append(f"{path}: {message}" if path else message)
        self.paths.append(path)

    def __bool__(self) -> bool:
        return bool(self.lines)


def present(body: Mapping[str, Any], skip: str = "") -> dict[str, Any]:
    """The keys that hold a value (a `null` counts as an absent key), less `skip`."""
    return {k: v for k, v in body.items() if v is not None and k != skip}


def describe(value: Any) -> str:
    """A short picture of a value; never a full repr, which for a YAML alias bomb would be
    exponential in size."""
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item(s)" if value else "[]"
    if isinstance(value, Mapping):
        return f"a mapping of {len(value)} key(s)" if value else "{}"
    if isinstance(value, str):
        text = repr(value[:60])
        return text if len(value) <= 60 else text[:-1] + "...'"
    text = repr(value) if isinstance(value, int | float | bool | None) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def child(path: str, key: Any) -> str:
    """`path.key`, with odd keys (newlines, huge, not strings) shown by repr."""
    shown = key if isinstance(key, str) and key.isprintable() and len(key) <= 60 \
        else describe(key)
    return f"{path}.{shown}" if path else str(shown)


def unknown_keys(raw: Mapping[str, Any], allowed: Iterable[str], path: str, problems: Problems
                 ) -> None:
    allowed = list(allowed)
    for key in raw:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
        problems.add(child(path, key), f"unknown key{hint}")


def as_mapping(value: Any, path: str, problems: Problems) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    problems.add(path, f"must be a mapping of keys to values, got {describe(value)}")
    return None


def as_text(value: Any, path: str, problems: Problems, *, max_len: int = 100) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.add(path, f"must be a non-empty string, got {describe(value)}")
        return None
    if len(value) > max_len:
        problems.add(path, f"must be at most {max_len} characters, got {len(value)}")
        return None
    if any(ord(c) < 32 for c in value):
        problems.add(path, "must not contain control characters")
        return None
    return value


def as_float(value: Any) -> float | None:
    """The number a value stands for, or None (a bool is not a number here)."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def as_number(value: Any, path: str, problems: Problems) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(path, f"must be a number, got {describe(value)}")
        return None
    try:
        number = float(value)
    except OverflowError:  # an int with hundreds of digits
        number = math.inf
    if not math.isfinite(number):
        problems.add(path, f"must be a finite number, got {describe(value)}")
        return None
    return number


def as_int(value: Any, path: str, problems: Problems, *, low: int, high: int) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(path, f"must be a whole number, got {describe(value)}")
        return None
    if not low <= value <= high:
        problems.add(path, f"must be between {low} and {high}, got {value}")
        return None
    return value


def as_choice(value: Any, choices: tuple[str, ...], path: str, problems: Problems) -> str | None:
    if value in choices:
        return str(value)
    close = difflib.get_close_matches(str(value), choices, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    problems.add(path, f"must be one of {', '.join(choices)}, got {describe(value)}{hint}")
    return None


def flat_metadata(value: Any, path: str, problems: Problems) -> dict[str, Any]:
    """SigOpt's metadata rule: a flat object, 100 keys, short keys, short strings or numbers."""
    raw = as_mapping(value, path, problems)
    if raw is None:
        return {}
    if len(raw) > 100:
        problems.add(path, f"at most 100 keys allowed, got {len(raw)}")
        return {}
    clean: dict[str, Any] = {}
    for key, item in raw.items():
        if not isinstance(key, str) or not 0 < len(key) <= 100:
            problems.add(path, f"key {describe(key)} must be a string of 1 to 100 characters")
        elif isinstance(item, str) and len(item) > 500:
            problems.add(child(path, key), "strings are limited to 500 characters")
        elif isinstance(item, bool) or not (item is None or isinstance(item, str | int | float)):
            problems.add(child(path, key), f"must be a string, a number or null, got "
                         f"{describe(item)}")
        elif isinstance(item, float) and not math.isfinite(item):
            problems.add(child(path, key), "must be a finite number")
        else:
            clean[key] = item
    return clean
