"""Experiment configs: YAML files and API bodies checked up front, every problem named by path.

Nothing is stored until the whole config is valid, so a bad config can never leave a partial
experiment behind.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from coordinator.errors import ConfigError
from coordinator.spec import early_stopping_config, models
from coordinator.spec.conditionals import conditionals, with_conditions
from coordinator.spec.early_stopping import EarlyStopping
from coordinator.spec.experiment import Evaluation, ExperimentSpec
from coordinator.spec.linear_constraints import linear_constraints
from coordinator.spec.tasks import validate_tasks
from coordinator.spec.validation import (
    Problems,
    as_choice,
    as_int,
    as_mapping,
    as_number,
    as_text,
    child,
    describe,
    flat_metadata,
    present,
    unknown_keys,
)
from coordinator.spec.warm_start import warm_start
from optimizer import Metric, Parameter, Settings, SettingsError
from optimizer.priors import Prior

TOP_KEYS = models.keys(models.ExperimentConfig)
PRIOR_KEYS = models.keys(models.Prior)
# SigOpt fields Celeriac does not model yet: refused by name rather than silently ignored
UNSUPPORTED_PARAMETER_KEYS = {
    "precision": "not supported: round the value in your evaluation, or give a grid of the "
                 "values to try",
    "default_value": "not supported: a parameter is always suggested; to try a known point "
                     "first, list it under warm_start (or queue it: `coordinator enqueue`)",
}
PARAMETER_KEYS = models.keys(models.Parameter, *UNSUPPORTED_PARAMETER_KEYS)
METRIC_KEYS = models.keys(models.Metric)
MAX_PARAMETERS, MAX_CATEGORIES = models.MAX_PARAMETERS, models.MAX_CATEGORIES
MAX_BUDGET, MAX_BANDWIDTH = models.MAX_BUDGET, models.MAX_BANDWIDTH
MAX_CONFIG_BYTES = 1_000_000
CALLABLE = re.compile(models.CALLABLE)
MERGE_TAG = "tag:yaml.org,2002:merge"


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; a config with `budget:` twice is a mistake to
    name, not to guess. Keys brought in by a merge (`<<: *base`) may still be overridden."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                earlier = first_line.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # an unhashable key: SafeLoader names that itself
                continue
            if earlier != key_node.start_mark.line + 1:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {earlier}); keep one",
                    key_node.start_mark)
        return super().construct_mapping(node, deep)


def load_config_file(path: str | Path) -> ExperimentSpec:
    """Read and validate a YAML experiment config; raises ConfigError, never a traceback."""
    path = Path(path)
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"cannot read the file: {exc.strerror}"], source) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError([f"file is {len(data)} bytes; configs are limited to "
                           f"{MAX_CONFIG_BYTES}"], source)
    return parse_config_text(data, source, base_dir=path.parent)


def parse_config_text(data: bytes, source: str = "config", *, base_dir: Path | None = None
                      ) -> ExperimentSpec:
    """`base_dir`: the config file's folder, which warm_start's files are read from."""
    try:
        text = data.decode("utf-8")
        raw = yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader, duplicates refused
    except UnicodeDecodeError as exc:
        raise ConfigError([f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"],
                          source) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"line {where.line + 1}: " if where else ""
        raise ConfigError([f"{line}invalid YAML: {getattr(exc, 'problem', exc)}"],
                          source) from None
    except RecursionError:
        raise ConfigError(["YAML nested too deeply"], source) from None
    return validate_experiment(raw, source=source, require_evaluation=True, base_dir=base_dir)


def validate_experiment(raw: Any, *, source: str = "config", require_evaluation: bool = False,
                        base_dir: Path | None = None) -> ExperimentSpec:
    """Turn a config mapping (YAML or JSON body) into an ExperimentSpec or raise ConfigError."""
    problems = Problems()
    top = as_mapping(raw, "", problems)
    if top is None:
        raise ConfigError(problems.lines, source)
    unknown_keys(top, TOP_KEYS, "", problems)
    name = as_text(top.get("name"), "name", problems)
    parameters = with_conditions(_parameters(top.get("parameters"), problems),
                                 top.get("parameters"),
                                 conditionals(top.get("conditionals"), problems), problems)
    constraints = linear_constraints(top.get("linear_constraints"), parameters, problems)
    if top.get("num_solutions") not in (None, 1):
        problems.add("num_solutions", "only 1 is supported (the single best, or the Pareto "
                     "front of two optimized metrics); drop the field or set it to 1")
    metrics = _metrics(top.get("metrics", [{"name": "value"}]), problems)
    budget = _budget(top, problems, required=require_evaluation or _needs_budget(metrics))
    bandwidth = _optional_int(top, "parallel_bandwidth", 1, MAX_BANDWIDTH, 1, problems)
    max_attempts = _optional_int(top, "max_attempts", 1, 100, 3, problems)
    pause_after = _optional_int(top, "pause_after_failures", 0, MAX_BUDGET, 5, problems)
    evaluation = _evaluation(top, problems, required=require_evaluation)
    settings = _experiment_type(top, _optimizer(top.get("optimizer"), problems), problems)
    metadata = flat_metadata(top["metadata"], "metadata", problems) \
        if top.get("metadata") is not None else {}
    stopping = _early_stopping(top, metrics, problems)
    checkpoints = early_stopping_config.checkpoints(top.get("checkpoints"), problems)
    resource_budget = early_stopping_config.resource_budget(top, problems)
    tasks = validate_tasks(top["tasks"], problems) if top.get("tasks") is not None else ()
    if tasks and stopping is not None:
        problems.add("tasks", "give either tasks (cheaper evaluations) or early_stopping "
                     "(shorter ones), not both")
    # config files may give warm_start (checked below, with the spec); API bodies may not
    model = models.ExperimentConfig if base_dir is not None else models.ExperimentBody
    models.check(model, present(top, skip="warm_start"), problems)
    if problems:
        raise ConfigError(problems.lines, source)
    assert name is not None and budget is not False
    spec = ExperimentSpec(name=name, parameters=tuple(parameters), metrics=tuple(metrics),
                          budget=budget, parallel_bandwidth=bandwidth or 1,
                          max_attempts=max_attempts or 3, evaluation=evaluation,
                          pause_after_failures=5 if pause_after is None else pause_after,
                          optimizer=settings, metadata=metadata, early_stopping=stopping,
                          checkpoints=checkpoints, resource_budget=resource_budget,
                          tasks=tasks, linear_constraints=constraints)
    start = warm_start(top.get("warm_start"), spec.space, spec.metrics, base_dir, problems)
    if top.get("warm_start") is not None:
        models.check(model, present(top), problems)
    if problems:
        raise ConfigError(problems.lines, source)
    return dataclasses.replace(spec, warm_start=start) if start else spec


def _early_stopping(top: Mapping[str, Any], metrics: list[Metric], problems: Problems
                    ) -> EarlyStopping | None:
    """`early_stopping:` (Celeriac's schedulers) or SigOpt's `training_monitor`, not both."""
    if top.get("early_stopping") is not None and top.get("training_monitor") is not None:
        problems.add("training_monitor", "give either early_stopping or training_monitor, "
                     "not both")
        return None
    if top.get("training_monitor") is not None:
        return early_stopping_config.training_monitor(top["training_monitor"], metrics,
                                                      problems)
    if top.get("early_stopping") is not None:
        return early_stopping_config.early_stopping(top["early_stopping"], metrics, problems)
    return None


def _optional_int(top: Mapping[str, Any], key: str, low: int, high: int, default: int,
                  problems: Problems) -> int | None:
    if top.get(key) is None:
        return default
    return as_int(top[key], key, problems, low=low, high=high)


def _needs_budget(metrics: list[Metric]) -> bool:
    optimized = [m for m in metrics if m.strategy == "optimize"]
    return len(optimized) > 1 or any(m.strategy == "constraint" for m in metrics)


def _budget(top: Mapping[str, Any], problems: Problems, required: bool) -> int | None | bool:
    if "budget" in top and "observation_budget" in top:
        problems.add("observation_budget", "give either budget or observation_budget, not both")
        return False
    key = "budget" if "budget" in top else "observation_budget"
    if top.get(key) is None:
        if required:
            problems.add("budget", "required: how many observations to run (e.g. budget: 30)")
        return None
    return as_int(top[key], key, problems, low=1, high=MAX_BUDGET)


def _parameters(raw: Any, problems: Problems) -> list[Parameter]:
    if not isinstance(raw, list) or not raw:
        problems.add("parameters", f"must be a non-empty list of parameters, got {describe(raw)}")
        return []
    if len(raw) > MAX_PARAMETERS:
        problems.add("parameters", f"at most {MAX_PARAMETERS} parameters, got {len(raw)}")
        return []
    result: list[Parameter] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        parameter = _parameter(item, f"parameters[{i}]", problems)
        if parameter is None:
            continue
        if parameter.name in seen:
            problems.add(f"parameters[{i}].name", f"duplicate name '{parameter.name}'")
        seen.add(parameter.name)
        result.append(parameter)
    return result


def _parameter(raw: Any, path: str, problems: Problems) -> Parameter | None:
    item = as_mapping(raw, path, problems)
    if item is None:
        return None
    unknown_keys(item, PARAMETER_KEYS, path, problems)
    name = as_text(item.get("name"), f"{path}.name", problems)
    kind = as_choice(item.get("type", "double"), ("double", "int", "categorical"),
                     f"{path}.type", problems)
    log = _transformation(item.get("transformation"), f"{path}.transformation", problems)
    for field in UNSUPPORTED_PARAMETER_KEYS:
        if item.get(field) is not None:
            problems.add(f"{path}.{field}", UNSUPPORTED_PARAMETER_KEYS[field])
    if name is None or kind is None or log is None:
        return None
    if kind == "categorical":
        if item.get("grid") is not None:
            problems.add(f"{path}.grid", "applies to double and int parameters; list a "
                                         "categorical's values in categorical_values")
        categories = _categories(item.get("categorical_values"), f"{path}.categorical_values",
                                 problems)
        if log:
            problems.add(f"{path}.transformation", "log applies to double and int parameters only")
        return Parameter(name=name, type=kind, categories=categories) if categories else None
    if item.get("grid") is not None:
        return _grid_parameter(item, name, kind, log, path, problems)
    bounds = _bounds(item.get("bounds"), kind, log, f"{path}.bounds", problems)
    if bounds is None:
        return None
    prior = _prior(item.get("prior"), f"{path}.prior", problems)
    if not isinstance(prior, Prior | None):
        return None
    try:
        return Parameter(name=name, type=kind, low=bounds[0], high=bounds[1], log=log,
                         prior=prior or None)
    except ValueError as exc:  # a prior on an int or a log-scaled double, or outside bounds
        problems.add(f"{path}.prior", str(exc).removeprefix(f"{name}: ").removeprefix(
            "prior: "))
        return None


def _prior(raw: Any, path: str, problems: Problems) -> Prior | None | bool:
    """SigOpt's {name: normal, mean, scale} or {name: beta, shape_a, shape_b}; False: bad."""
    if raw is None:
        return None
    item = as_mapping(raw, path, problems)
    if item is None:
        return False
    unknown_keys(item, PRIOR_KEYS, path, problems)
    kind = as_choice(item.get("name"), ("normal", "beta"), f"{path}.name", problems)
    numbers = {k: as_number(item[k], f"{path}.{k}", problems)
               for k in PRIOR_KEYS[1:] if item.get(k) is not None}
    if kind is None or any(v is None for v in numbers.values()):
        return False
    try:
        return Prior(name=kind, **numbers)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        problems.add(f"{path}.{field.removeprefix('prior.')}", message)
        return False


def _grid_parameter(item: Mapping[str, Any], name: str, kind: str, log: bool, path: str,
                    problems: Problems) -> Parameter | None:
    """A double or int that takes the listed values only (SigOpt's `grid`, without bounds)."""
    raw = item["grid"]
    if item.get("bounds") is not None:
        problems.add(f"{path}.bounds", "give either bounds or grid, not both")
        return None
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_CATEGORIES:
        problems.add(f"{path}.grid", f"must list 2 to {MAX_CATEGORIES} numbers, got "
                                     f"{describe(raw)}")
        return None
    values = [as_number(v, f"{path}.grid[{i}]", problems) for i, v in enumerate(raw)]
    if any(v is None for v in values):
        return None
    try:
        return Parameter(name=name, type=kind, grid=tuple(v for v in values if v is not None),
                         log=log)
    except ValueError as exc:
        problems.add(f"{path}.grid", str(exc).removeprefix(f"{name}: "))
        return None


def _transformation(raw: Any, path: str, problems: Problems) -> bool | None:
    if raw is None or raw == "none":
        return False
    if raw == "log":
        return True
    problems.add(path, f"must be 'log' or 'none', got {describe(raw)}")
    return None


def _bounds(raw: Any, kind: str, log: bool, path: str, problems: Problems
            ) -> tuple[float, float] | None:
    bounds = as_mapping(raw, path, problems)
    if bounds is None:
        return None
    unknown_keys(bounds, models.keys(models.Bounds), path, problems)
    low = as_number(bounds.get("min"), f"{path}.min", problems)
    high = as_number(bounds.get("max"), f"{path}.max", problems)
    if low is None or high is None:
        return None
    if kind == "int" and not (low.is_integer() and high.is_integer()):
        problems.add(path, f"int bounds must be whole numbers, got min {low:g}, max {high:g}")
        return None
    if low >= high:
        problems.add(path, f"min {low:g} must be below max {high:g}")
        return None
    if abs(low) > 1e15 or abs(high) > 1e15:
        problems.add(path, "bounds must lie within ±1e15")
        return None
    if log and low <= 0:
        problems.add(path, f"min {low:g} must be above 0 for transformation: log")
        return None
    return low, high


def _categories(raw: Any, path: str, problems: Problems) -> tuple[str, ...] | None:
    if not isinstance(raw, list) or len(raw) < 2:
        problems.add(path, f"must list at least 2 values, got {describe(raw)}")
        return None
    if len(raw) > MAX_CATEGORIES:
        problems.add(path, f"at most {MAX_CATEGORIES} values, got {len(raw)}")
        return None
    values: list[str] = []
    for i, item in enumerate(raw):
        value = item.get("name") if isinstance(item, Mapping) else item
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        text = as_text(value, f"{path}[{i}]", problems)
        if text is None:
            return None
        if text in values:
            problems.add(f"{path}[{i}]", f"duplicate value '{text}'")
            return None
        values.append(text)
    return tuple(values)


def _metrics(raw: Any, problems: Problems) -> list[Metric]:
    if not isinstance(raw, list) or not raw or len(raw) > models.MAX_METRICS:
        problems.add("metrics", f"must be a list of 1 to {models.MAX_METRICS} metrics, got "
                     f"{describe(raw)}")
        return []
    result: list[Metric] = []
    for i, item in enumerate(raw):
        metric = _metric(item, f"metrics[{i}]", problems)
        if metric and any(m.name == metric.name for m in result):
            problems.add(f"metrics[{i}].name", f"duplicate name '{metric.name}'")
        elif metric:
            result.append(metric)
    if result and not any(m.strategy == "optimize" for m in result):
        problems.add("metrics", "at least one metric needs strategy: optimize")
    if sum(m.strategy == "optimize" for m in result) > 2:
        problems.add("metrics", "at most 2 metrics can have strategy: optimize")
    return result


def _metric(raw: Any, path: str, problems: Problems) -> Metric | None:
    item = as_mapping(raw, path, problems)
    if item is None:
        return None
    unknown_keys(item, METRIC_KEYS, path, problems)
    name = as_text(item.get("name"), f"{path}.name", problems)
    objective = as_choice(item.get("objective", "maximize"), ("maximize", "minimize"),
                          f"{path}.objective", problems)
    strategy = as_choice(item.get("strategy", "optimize"), ("optimize", "constraint", "store"),
                         f"{path}.strategy", problems)
    threshold = None
    if item.get("threshold") is not None:
        threshold = as_number(item["threshold"], f"{path}.threshold", problems)
        if threshold is None:
            return None
    if strategy == "constraint" and threshold is None:
        problems.add(f"{path}.threshold", "required for strategy: constraint")
        return None
    if name is None or objective is None or strategy is None:
        return None
    return Metric(name=name, objective=objective, strategy=strategy, threshold=threshold)


def _evaluation(top: Mapping[str, Any], problems: Problems, required: bool) -> Evaluation:
    evaluate, command = top.get("evaluate"), top.get("command")
    if evaluate is not None and command is not None:
        problems.add("evaluate", "give either evaluate or command, not both")
        return Evaluation()
    if required and evaluate is None and command is None:
        problems.add("evaluate", "required: a callable ('package.module:function' or "
                     "'file.py:function'), or give command: 'python run-model.py'")
    if evaluate is not None and (not isinstance(evaluate, str) or not CALLABLE.match(evaluate)):
        problems.add("evaluate", f"must look like 'package.module:function' or "
                     f"'path/file.py:function', got {describe(evaluate)}")
    if command is not None:
        as_text(command, "command", problems, max_len=4000)
    workdir = top.get("workdir", ".")
    as_text(workdir, "workdir", problems, max_len=4000)
    timeout = 3600.0
    if top.get("timeout") is not None:
        value = as_number(top["timeout"], "timeout", problems)
        if value is not None and not 0 < value <= 7 * 86400:
            problems.add("timeout", f"must be between 0 and 604800 seconds, got {value:g}")
        elif value is not None:
            timeout = value
    return Evaluation(evaluate=evaluate if isinstance(evaluate, str) else None,
                      command=command if isinstance(command, str) else None,
                      workdir=workdir if isinstance(workdir, str) else ".",
                      timeout=timeout if math.isfinite(timeout) else 3600.0)


EXPERIMENT_TYPES = {"offline": "bayes", "random": "random", "grid": "grid"}


def _experiment_type(top: Mapping[str, Any], settings: Settings, problems: Problems
                     ) -> Settings:
    """SigOpt's experiment `type`: offline is Bayesian optimization, random and grid are the
    optimizer's model-free strategies of those names (a grid ends when it is exhausted)."""
    if top.get("type") is None:
        return settings
    kind = as_choice(top["type"], tuple(EXPERIMENT_TYPES), "type", problems)
    if kind is None:
        return settings
    strategy = EXPERIMENT_TYPES[kind]
    given = top.get("optimizer")
    chosen = given if isinstance(given, str) else given.get("type") \
        if isinstance(given, Mapping) else None
    if chosen is not None and chosen != strategy:
        problems.add("type", f"{kind} means optimizer type {strategy}, but optimizer.type is "
                     f"{chosen!r}; give one of them")
        return settings
    return dataclasses.replace(settings, type=strategy)


def _optimizer(raw: Any, problems: Problems) -> Settings:
    if raw is None:
        return Settings()
    if isinstance(raw, str):
        raw = {"type": raw}
    block = as_mapping(raw, "optimizer", problems)
    if block is None:
        return Settings()
    try:
        return Settings.from_dict(block)
    except SettingsError as exc:
        problems.add(child("optimizer", exc.field), exc.message)
        return Settings()
