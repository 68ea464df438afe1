"""`warm_start:` in a config: points to evaluate first, or earlier observations to import.

Two forms, checked up front with every problem named by its field path or file line, so that
nothing is stored when any is wrong:

    warm_start:                          warm_start:
      - {lr: 0.01, layers: 2}              observations: earlier.csv   # or .json
      - {lr: 0.1, layers: 3}

A list is queued when the experiment is created (each handed out before any suggestion of the
optimizer's); a file is what `coordinator export` wrote (CSV or JSON), read relative to the
config file, and its rows become observations of the new experiment.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coordinator.spec import models
from coordinator.spec.validation import Problems, as_mapping, as_text, describe, unknown_keys
from optimizer import Metric, Space

KEYS = models.keys(models.WarmStartFile)
MAX_POINTS = models.MAX_WARM_START_POINTS
MAX_FILE_BYTES = 50_000_000
MAX_PROBLEMS = 20  # a broken file is named by its first problems, not a line for each row
PARAM, METRIC = "param.", "metric."
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no", "")

Values = dict[str, tuple[float, float | None]]


@dataclass(frozen=True)
class ImportedObservation:
    assignments: dict[str, Any]  # canonical
    values: Values
    failed: bool = False


@dataclass(frozen=True)
class WarmStart:
    points: tuple[dict[str, Any], ...] = ()  # canonical assignments, queued at create time
    observations: tuple[ImportedObservation, ...] = ()
    source: str = ""  # the observations file's name, kept in each imported one's metadata


def warm_start(raw: Any, space: Space, metrics: Sequence[Metric], base_dir: Path | None,
               problems: Problems) -> WarmStart | None:
    """`base_dir` is the config file's folder; None (an API body) refuses the field."""
    if raw is None:
        return None
    if base_dir is None:
        problems.add("warm_start", "only in a config file for `coordinator create`; through "
                     "the API, POST each point to /v1/experiments/{id}/queued_suggestions")
        return None
    if isinstance(raw, list):
        return WarmStart(points=_points(raw, space, problems))
    top = as_mapping(raw, "warm_start", problems)
    if top is None:
        return None
    unknown_keys(top, KEYS, "warm_start", problems)
    name = as_text(top.get("observations"), "warm_start.observations", problems, max_len=1000)
    if name is None:
        return None
    rows = _read(base_dir / name, "warm_start.observations", problems)
    if rows is None:
        return None
    found = _observations(rows, space, metrics, f"warm_start.observations: {name}", problems)
    return WarmStart(observations=found, source=Path(name).name)


def _points(raw: list[Any], space: Space, problems: Problems) -> tuple[dict[str, Any], ...]:
    if len(raw) > MAX_POINTS:
        problems.add("warm_start", f"at most {MAX_POINTS} points, got {len(raw)}")
        return ()
    points = []
    for i, item in enumerate(raw):
        point = as_mapping(item, f"warm_start[{i}]", problems)
        if point is None:
            continue
        try:
            points.append(space.canonical(point))
        except ValueError as exc:
            problems.add("", f"warm_start[{i}].{exc}")
    return tuple(points)


@dataclass
class _Row:
    where: str  # "line 3" (CSV) or "[2]" (JSON)
    assignments: dict[str, Any]
    values: dict[str, Any]  # metric name -> value, as the file has it
    failed: Any = False
    stddevs: dict[str, Any] = field(default_factory=dict)  # JSON only: CSV has no stddev


def _read(path: Path, where: str, problems: Problems) -> list[_Row] | None:
    if path.suffix.lower() not in (".csv", ".json"):
        problems.add(where, f"{path.name}: give a .csv or .json file as `coordinator export` "
                     f"writes it")
        return None
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.add(where, f"{path.name}: larger than {MAX_FILE_BYTES} bytes")
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        problems.add(where, f"cannot read {path}: {reason}")
        return None
    if path.suffix.lower() == ".csv":
        return _csv_rows(text)
    return _json_rows(text, f"{where}: {path.name}", problems)


def _csv_rows(text: str) -> list[_Row]:
    rows = []
    for n, record in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        assignments = {k[len(PARAM):]: v for k, v in record.items()
                       if k and k.startswith(PARAM) and v not in (None, "")}
        values = {k[len(METRIC):]: v for k, v in record.items()
                  if k and k.startswith(METRIC) and v not in (None, "")}
        rows.append(_Row(f"line {n}", assignments, values, record.get("failed") or ""))
    return rows


def _json_rows(text: str, where: str, problems: Problems) -> list[_Row] | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        problems.add(where, f"invalid JSON: {str(exc)[:80]}")
        return None
    if not isinstance(data, list):
        problems.add(where, f"must be a list of observations, got {describe(data)}")
        return None
    rows = []
    for i, item in enumerate(data):
        if not isinstance(item, Mapping) or not isinstance(item.get("assignments"), Mapping):
            problems.add(where, f"[{i}]: must be an observation with its assignments")
            continue
        entries = [v for v in item.get("values") or () if isinstance(v, Mapping)]
        rows.append(_Row(f"[{i}]", dict(item["assignments"]),
                         {str(v.get("name")): v.get("value") for v in entries},
                         item.get("failed", False),
                         {str(v.get("name")): v.get("value_stddev") for v in entries}))
    return rows


def _observations(rows: list[_Row], space: Space, metrics: Sequence[Metric], where: str,
                  problems: Problems) -> tuple[ImportedObservation, ...]:
    found = []
    for row in rows:
        if len(problems.lines) >= MAX_PROBLEMS:
            break
        imported = _observation(row, space, metrics, f"{where} {row.where}", problems)
        if imported is not None:
            found.append(imported)
    return tuple(found)


def _observation(row: _Row, space: Space, metrics: Sequence[Metric], where: str,
                 problems: Problems) -> ImportedObservation | None:
    failed = _failed(row.failed)
    if failed is None:
        problems.add(where, f"failed: must be true or false, got {describe(row.failed)}")
        return None
    try:
        assignments = space.canonical({k: _typed(space, k, v)
                                       for k, v in row.assignments.items()})
    except ValueError as exc:
        prefix = PARAM if row.where.startswith("line") else "assignments."
        problems.add(where, f"{prefix}{exc}")
        return None
    values: Values = {}
    for metric in metrics:
        value = _number(row.values.get(metric.name))
        if value is None and not failed:
            got = describe(row.values.get(metric.name))
            problems.add(where, f"{METRIC}{metric.name}: needs a finite number unless the "
                         f"observation failed, got {got}")
            return None
        if value is not None and not failed:
            values[metric.name] = (value, _number(row.stddevs.get(metric.name)))
    return ImportedObservation(assignments, values, failed)


def _typed(space: Space, name: str, value: Any) -> Any:
    """A CSV cell as its parameter's type: numbers for int and double, text for categorical."""
    if not isinstance(value, str):
        return value
    kind = next((p.type for p in space.parameters if p.name == name), "categorical")
    if kind == "categorical":
        return value
    try:
        number = float(value)
    except ValueError:
        return value  # canonical() names it: must be a number
    return int(number) if kind == "int" and number.is_integer() else number


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _failed(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in TRUE else False if text in FALSE else None
