"""Request bodies checked against SigOpt's rules; every problem is a 400 naming the field.

A `null` counts as an absent key (the client sends `"value": null` with `failed: true`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coordinator.errors import InvalidInput
from coordinator.spec import models
from coordinator.spec.experiment import ExperimentSpec
from coordinator.spec.validation import (
    Problems,
    as_mapping,
    as_number,
    flat_metadata,
    present,
    unknown_keys,
)

OBSERVATION_KEYS = models.keys(models.ObservationCreate)
VALUE_KEYS = models.keys(models.Value)
SUGGESTION_KEYS = models.keys(models.SuggestionCreate)

Values = dict[str, tuple[float, float | None]]


@dataclass(frozen=True)
class ObservationBody:
    suggestion: str | None
    assignments: dict[str, Any] | None
    values: Values
    failed: bool
    metadata: dict[str, Any]


def raise_problems(problems: Problems) -> None:
    if problems:
        raise InvalidInput("; ".join(problems.lines))


def object_id(value: Any, path: str, problems: Problems) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isdigit() and len(value) <= 30:
        return str(int(value))
    problems.add(path, f"must be an id (digits), got {str(value)[:40]!r}")
    return None


def _stddev(raw: Any, path: str, problems: Problems) -> float | None:
    if raw is None:
        return None
    value = as_number(raw, path, problems)
    if value is not None and value < 0:
        problems.add(path, f"must be >= 0, got {value:g}")
    return value


def _values_list(raw: Any, spec: ExperimentSpec, problems: Problems) -> Values:
    if not isinstance(raw, list) or not raw:
        problems.add("values", "must be a non-empty list of {name, value, value_stddev}")
        return {}
    names = [m.name for m in spec.metrics]
    found: Values = {}
    for i, item in enumerate(raw):
        entry = as_mapping(item, f"values[{i}]", problems)
        if entry is None:
            continue
        entry = present(entry)
        unknown_keys(entry, VALUE_KEYS, f"values[{i}]", problems)
        name = entry.get("name", names[0] if len(names) == 1 and len(raw) == 1 else None)
        if name not in names:
            problems.add(f"values[{i}].name", f"must be one of the metrics {names}, got "
                         f"{str(name)[:40]!r}")
        elif name in found:
            problems.add(f"values[{i}].name", f"duplicate metric {name!r}")
        if "value" not in entry:
            problems.add(f"values[{i}].value", "required")
        value = as_number(entry.get("value"), f"values[{i}].value", problems) \
            if "value" in entry else None
        stddev = _stddev(entry.get("value_stddev"), f"values[{i}].value_stddev", problems)
        if isinstance(name, str) and name in names and value is not None:
            found[name] = (value, stddev)
    missing = [n for n in names if n not in found]
    if missing and not problems:
        problems.add("values", f"missing metric(s) {missing}; report every metric")
    return found


def _metric_values(body: dict[str, Any], spec: ExperimentSpec, failed: bool,
                   problems: Problems) -> Values:
    has_value, has_values = "value" in body, "values" in body
    if failed:
        if has_value or has_values:
            problems.add("failed", "a failed observation cannot have value or values")
        return {}
    if has_value and has_values:
        problems.add("value", "give either value or values, not both")
        return {}
    if has_values:
        if "value_stddev" in body:
            problems.add("value_stddev", "goes inside each values entry when values is used")
        return _values_list(body["values"], spec, problems)
    if not has_value:
        problems.add("value", "required unless failed is true (or give values)")
        return {}
    if len(spec.metrics) != 1:
        problems.add("value", f"this experiment has {len(spec.metrics)} metrics; give values: "
                     f"[{{name, value}}, ...]")
        return {}
    value = as_number(body["value"], "value", problems)
    stddev = _stddev(body.get("value_stddev"), "value_stddev", problems)
    return {spec.metrics[0].name: (value, stddev)} if value is not None else {}


def observation_body(raw: Mapping[str, Any], spec: ExperimentSpec) -> ObservationBody:
    body, problems = present(raw), Problems()
    unknown_keys(body, OBSERVATION_KEYS, "", problems)
    if ("suggestion" in body) == ("assignments" in body):
        problems.add("suggestion", "give exactly one of suggestion or assignments")
    suggestion = object_id(body["suggestion"], "suggestion", problems) \
        if "suggestion" in body else None
    assignments = body.get("assignments")
    if assignments is not None and as_mapping(assignments, "assignments", problems) is None:
        assignments = None
    failed = body.get("failed", False)
    if not isinstance(failed, bool):
        problems.add("failed", f"must be true or false, got {str(failed)[:40]!r}")
        failed = False
    if "no_optimize" in body and not isinstance(body["no_optimize"], bool):
        problems.add("no_optimize", "must be true or false")
    values = _metric_values(body, spec, failed, problems)
    metadata = flat_metadata(body["metadata"], "metadata", problems) if "metadata" in body \
        else {}
    models.check(models.ObservationCreate, body, problems)
    raise_problems(problems)
    return ObservationBody(suggestion, dict(assignments) if assignments is not None else None,
                           values,
                           failed, metadata)


# what the official client sends back unchanged when it updates an object it fetched
ECHOED_KEYS = models.echoed(models.ObservationUpdate)
OBSERVATION_UPDATE_KEYS = tuple(k for k in models.keys(models.ObservationUpdate)
                                if k not in ECHOED_KEYS)


@dataclass(frozen=True)
class ObservationUpdate:
    values: Values | None
    failed: bool | None
    metadata: dict[str, Any] | None


def observation_update_body(raw: Mapping[str, Any], spec: ExperimentSpec) -> ObservationUpdate:
    """PUT of an observation: what is given replaces what was stored."""
    body, problems = present(raw), Problems()
    unknown_keys({k: v for k, v in body.items() if k not in ECHOED_KEYS},
                 OBSERVATION_UPDATE_KEYS, "", problems)
    failed = body.get("failed")
    if failed is not None and not isinstance(failed, bool):
        problems.add("failed", f"must be true or false, got {str(failed)[:40]!r}")
        failed = None
    values = None
    if "value" in body or "values" in body or failed is True:
        values = _metric_values(body, spec, bool(failed), problems) if failed is not True \
            else {}
        if failed is True and ("value" in body or "values" in body):
            problems.add("failed", "a failed observation cannot have value or values")
    elif "value_stddev" in body:
        problems.add("value_stddev", "give it with the value it belongs to")
    metadata = flat_metadata(body["metadata"], "metadata", problems) if "metadata" in body \
        else None
    models.check(models.ObservationUpdate, body, problems)
    raise_problems(problems)
    return ObservationUpdate(None if failed is True else values, failed, metadata)


def suggestion_body(raw: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(manual assignments or None, metadata)."""
    body, problems = present(raw), Problems()
    unknown_keys(body, SUGGESTION_KEYS, "", problems)
    assignments = body.get("assignments")
    if assignments is not None and as_mapping(assignments, "assignments", problems) is None:
        assignments = None
    metadata = flat_metadata(body["metadata"], "metadata", problems) if "metadata" in body \
        else {}
    models.check(models.SuggestionCreate, body, problems)
    raise_problems(problems)
    return (dict(assignments) if assignments is not None else None), metadata
