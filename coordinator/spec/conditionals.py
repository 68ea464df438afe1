"""SigOpt's conditionals in a config or an API body, checked field by field:

    conditionals:
      - {name: model, values: [svm, forest]}
    parameters:
      - {name: C, type: double, bounds: {min: 0.01, max: 100}, conditions: {model: svm}}
      - {name: depth, type: int, bounds: {min: 1, max: 30}, conditions: {model: [forest]}}

A conditional is a list of values the optimizer chooses among like a categorical; its value
is part of every suggestion's assignments. A parameter with `conditions` exists only in
points where each named conditional takes one of the listed values: it is absent from the
assignments otherwise, and the optimizer models it as absent (see `optimizer.space`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from coordinator.spec.models import MAX_CONDITIONAL_VALUES as MAX_VALUES
from coordinator.spec.models import MAX_CONDITIONALS, Conditional, keys
from coordinator.spec.validation import (
    Problems,
    as_mapping,
    as_text,
    describe,
    unknown_keys,
)
from optimizer import Parameter, Space

CONDITIONAL_KEYS = keys(Conditional)


def conditionals(raw: Any, problems: Problems) -> list[Parameter]:
    """The conditionals, as categorical parameters flagged `conditional`."""
    if raw is None or raw == []:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_CONDITIONALS:
        problems.add("conditionals", f"must be a list of at most {MAX_CONDITIONALS} "
                     f"conditionals {{name, values}}, got {describe(raw)}")
        return []
    found: list[Parameter] = []
    for i, item in enumerate(raw):
        path = f"conditionals[{i}]"
        entry = as_mapping(item, path, problems)
        if entry is None:
            continue
        unknown_keys(entry, CONDITIONAL_KEYS, path, problems)
        name = as_text(entry.get("name"), f"{path}.name", problems)
        values = _values(entry.get("values"), f"{path}.values", problems)
        if name is None or values is None:
            continue
        if any(c.name == name for c in found):
            problems.add(f"{path}.name", f"duplicate conditional '{name}'")
            continue
        found.append(Parameter(name=name, type="categorical", categories=values,
                               conditional=True))
    return found


def _values(raw: Any, path: str, problems: Problems) -> tuple[str, ...] | None:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_VALUES:
        problems.add(path, f"must list 1 to {MAX_VALUES} values, got {describe(raw)}")
        return None
    values = [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
              for v in raw]  # SigOpt's values are strings; numbers are taken as their text
    if not all(isinstance(v, str) and v for v in values):
        problems.add(path, "values must be non-empty strings")
        return None
    if len(set(values)) != len(values):
        problems.add(path, "values must be unique")
        return None
    return tuple(values)


def conditions(raw: Any, path: str, switches: Mapping[str, Parameter], problems: Problems
               ) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """A parameter's {conditional: value or [values]}; None when invalid."""
    item = as_mapping(raw, path, problems)
    if item is None:
        return None
    out = []
    for name, wanted in item.items():
        where = f"{path}.{name}"
        switch = switches.get(name)
        if switch is None:
            known = ", ".join(switches) or "none are declared (add conditionals: [...])"
            problems.add(where, f"not a conditional; conditionals: {known}")
            return None
        listed = wanted if isinstance(wanted, list) else [wanted]
        values = tuple(str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                       for v in listed)
        bad = [v for v in values if v not in switch.categories]
        if bad or not values:
            problems.add(where, f"{describe(bad[0] if bad else wanted)} is not a value of "
                         f"conditional '{name}' ({', '.join(switch.categories)})")
            return None
        out.append((str(name), tuple(dict.fromkeys(values))))
    return tuple(out)


def with_conditions(parameters: list[Parameter], raw_parameters: Any, switches: list[Parameter],
                    problems: Problems) -> list[Parameter]:
    """The conditionals first, then each parameter with its conditions; the whole space is
    checked (a space where no parameter is always active is refused)."""
    if not isinstance(raw_parameters, list):
        return parameters
    by_name = {s.name: s for s in switches}
    given = {}
    for i, item in enumerate(raw_parameters):
        if isinstance(item, Mapping) and item.get("conditions") not in (None, {}):
            found = conditions(item["conditions"], f"parameters[{i}].conditions", by_name,
                               problems)
            if found is not None and isinstance(item.get("name"), str):
                given[item["name"]] = found
    clash = [p.name for p in parameters if p.name in by_name]
    if clash:
        problems.add("conditionals", f"'{clash[0]}' is both a conditional and a parameter; "
                     "rename one")
        return parameters
    result = [*switches, *(dataclasses.replace(p, conditions=given[p.name])
                           if p.name in given else p for p in parameters)]
    if switches and not problems:
        try:
            Space(result)
        except ValueError as exc:
            problems.add("conditionals", str(exc).removeprefix("parameters: "))
    return result
