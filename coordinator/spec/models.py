"""The accepted surface of the config file and the API bodies, as one set of pydantic models.

Each model lists every field a config or a request body may hold, its type, and the limits
that need no other field to check. Three things come from these models and nothing else:

- the keys each hand-written validator allows (`keys`), so an unknown key is named with a
  did-you-mean hint against exactly the modelled fields;
- a structural pass (`check`) that runs beside the validators: whatever they let through
  that the model refuses is refused too, so nothing outside the schema is ever accepted;
- the request schemas of the OpenAPI document (`schemas`).

The validators keep the rules between fields (min below max, a condition naming a
conditional, a constraint's terms naming doubles) and their more specific messages; where
both name the same field, the validator's message is the one shown.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import models_json_schema

from coordinator.spec.early_stopping import KEEP, SCHEDULERS
from coordinator.spec.validation import Problems, child, describe
from optimizer.settings import ACQUISITIONS, PENDING_MODES, STRATEGY_TYPES

MAX_PARAMETERS = 100
MAX_CATEGORIES = 1000
MAX_BUDGET = 1_000_000
MAX_BANDWIDTH = 10_000
MAX_CONDITIONALS = 20
MAX_CONDITIONAL_VALUES = 100
MAX_CONSTRAINTS = 50
MAX_TASKS = 10
MAX_WARM_START_POINTS = 10_000
MAX_METRICS = 50
NAME_LENGTH = 100
CALLABLE = r"^[\w./\\-]+(\.py)?:[A-Za-z_]\w*$"  # 'package.module:function' or 'file.py:function'

Number = float  # JSON numbers; the validators refuse true/false and non-finite values
Name = Annotated[str, Field(min_length=1, max_length=NAME_LENGTH)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
Count = Annotated[int, Field(ge=1)]
Id = Annotated[Annotated[int, Field(ge=1)] | Annotated[str, Field(pattern=r"^[0-9]{1,30}$")],
               Field(description="an object id: digits")]
MetadataValue = Annotated[str, Field(max_length=500)] | Number | None
Metadata = Annotated[dict[str, MetadataValue], Field(
    max_length=100, description="a flat object: at most 100 keys, strings up to 500 characters, "
    "numbers or null")]
Assignments = Annotated[dict[str, Any], Field(
    description="parameter name to value; a conditional parameter that is inactive is absent")]
Scalar = str | Number  # a categorical or conditional value: numbers stand for their text
Echoed = Annotated[Any, Field(description="read-only: sent back unchanged by the client when it "
                                          "updates an object it fetched; ignored")]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the experiment ------------------------------------------------------------------------

class Bounds(Model):
    min: Number
    max: Number


class Prior(Model):
    """SigOpt's prior belief on a double: normal (mean, scale) or beta (shape_a, shape_b)."""

    name: Literal["normal", "beta"]
    mean: Number | None = None
    scale: Annotated[Number, Field(gt=0)] | None = None
    shape_a: Annotated[Number, Field(gt=0)] | None = None
    shape_b: Annotated[Number, Field(gt=0)] | None = None


class CategoricalValue(Model):
    name: Scalar
    enum_index: int | None = Field(None, description="sent by some clients; ignored")


class Parameter(Model):
    name: Name
    type: Literal["double", "int", "categorical"] = "double"
    bounds: Bounds | None = Field(None, description="double and int parameters, unless grid")
    categorical_values: Annotated[list[Scalar | CategoricalValue], Field(
        min_length=2, max_length=MAX_CATEGORIES)] | None = None
    transformation: Literal["log", "none"] | None = None
    grid: Annotated[list[Number], Field(
        min_length=2, max_length=MAX_CATEGORIES,
        description="the only values a double or int takes (instead of bounds)")] | None = None
    prior: Prior | None = Field(None, description="doubles without a log transformation")
    conditions: dict[str, Scalar | list[Scalar]] | None = Field(
        None, description="conditional name to the value(s) in which this parameter exists")


class Metric(Model):
    name: Name
    objective: Literal["maximize", "minimize"] = "maximize"
    strategy: Literal["optimize", "constraint", "store"] = "optimize"
    threshold: Number | None = Field(None, description="required for strategy: constraint")


class Conditional(Model):
    name: Name
    values: Annotated[list[Scalar], Field(min_length=1, max_length=MAX_CONDITIONAL_VALUES)]


class ConstraintTerm(Model):
    name: Name
    weight: Number


class LinearConstraint(Model):
    type: Literal["greater_than", "less_than"]
    threshold: Number
    terms: Annotated[list[ConstraintTerm], Field(min_length=1)]


class Task(Model):
    name: Name
    cost: Annotated[Number, Field(gt=0, le=1)]


class EarlyStopping(Model):
    """Celeriac's schedulers; which fields apply depends on the scheduler."""

    scheduler: Literal[SCHEDULERS]  # type: ignore[valid-type]
    metric: Name | None = None
    resource: Name | None = Field(None, description="what a step counts; default step")
    max_checkpoints: Count | None = None
    min_resource: Annotated[Number, Field(gt=0)] | None = None
    max_resource: Annotated[Number, Field(gt=0)] | None = None
    reduction_factor: Annotated[Number, Field(ge=2)] | None = None
    brackets: Count | None = None
    min_samples: Count | None = None
    lookback_checkpoints: Count | None = None
    min_checkpoints: Count | None = None
    min_relative_improvement: Annotated[Number, Field(ge=0, lt=1)] | None = None


class Criterion(Model):
    type: Literal["convergence"] | None = None
    name: Name | None = None
    metric: Name | None = None
    lookback_checkpoints: Count
    min_checkpoints: Count | None = None
    min_relative_improvement: Annotated[Number, Field(ge=0, lt=1)] | None = None


class TrainingMonitor(Model):
    """SigOpt's: stop a run once a metric stops improving; checkpoints are its steps."""

    max_checkpoints: Count | None = None
    early_stopping_criteria: list[Criterion] | None = None


class Checkpoints(Model):
    store: Annotated[str, Field(max_length=2000)] | None = Field(
        None, description="where workers keep checkpoints: a shared folder or an fsspec URL")
    keep: Literal[KEEP] | None = None  # type: ignore[valid-type]


class OptimizerSettings(Model):
    """How suggestions are made (optimizer.Settings); most users set only type or seed."""

    type: Literal[STRATEGY_TYPES] | None = None  # type: ignore[valid-type]
    seed: Annotated[int, Field(ge=0)] | None = None
    initial_points: Count | None = None
    acquisition: Literal[ACQUISITIONS] | None = None  # type: ignore[valid-type]
    xi: Annotated[Number, Field(ge=0)] | None = None
    kappa: Annotated[Number, Field(ge=0)] | None = None
    pending: Literal[PENDING_MODES] | None = None  # type: ignore[valid-type]
    candidates: Annotated[int, Field(ge=16)] | None = None
    max_history: Annotated[int, Field(ge=20)] | None = None
    trust_region: bool | None = None
    global_every: Annotated[int, Field(ge=0)] | None = None
    trust_patience: Annotated[int, Field(ge=0)] | None = None
    local_every: Annotated[int, Field(ge=0)] | None = None
    min_open_distance: Annotated[Number, Field(ge=0, le=0.2)] | None = None


class WarmStartFile(Model):
    observations: Text = Field(description="a CSV or JSON file `coordinator export` wrote, "
                                           "relative to the config file")


class ExperimentBody(Model):
    """An experiment as the API creates it (POST /v1/experiments, /v1/aiexperiments) and as a
    config file gives it, less warm_start (config files only)."""

    name: Name
    parameters: Annotated[list[Parameter], Field(min_length=1, max_length=MAX_PARAMETERS)]
    metrics: Annotated[list[Metric], Field(min_length=1, max_length=MAX_METRICS)] | None = None
    budget: Annotated[int, Field(ge=1, le=MAX_BUDGET)] | None = Field(
        None, description="observations to run; the same as observation_budget")
    observation_budget: Annotated[int, Field(ge=1, le=MAX_BUDGET)] | None = None
    parallel_bandwidth: Annotated[int, Field(ge=1, le=MAX_BANDWIDTH)] | None = None
    max_attempts: Annotated[int, Field(ge=1, le=100)] | None = Field(
        None, description="evaluations of one suggestion before it counts as failed")
    pause_after_failures: Annotated[int, Field(ge=0, le=MAX_BUDGET)] | None = Field(
        None, description="stop dispatching after this many failures in a row for one reason")
    timeout: Annotated[Number, Field(gt=0, le=7 * 86400)] | None = Field(
        None, description="seconds one evaluation may take")
    evaluate: Annotated[str, Field(pattern=CALLABLE)] | None = Field(
        None, description="'package.module:function' or 'file.py:function', run by workers")
    command: Text | None = Field(None, description="a program workers run instead of evaluate")
    workdir: Text | None = None
    optimizer: Literal[STRATEGY_TYPES] | OptimizerSettings | None = None  # type: ignore[valid-type]
    metadata: Metadata | None = None
    type: Literal["offline", "random", "grid"] | None = Field(
        None, description="SigOpt's: offline is Bayesian optimization")
    project: Annotated[str, Field(max_length=NAME_LENGTH)] | None = None
    early_stopping: EarlyStopping | None = None
    training_monitor: TrainingMonitor | None = None
    checkpoints: Checkpoints | None = None
    resource_budget: Annotated[Number, Field(gt=0)] | None = None
    tasks: Annotated[list[Task], Field(min_length=2, max_length=MAX_TASKS)] | None = Field(
        None, description="SigOpt's multitask: cheaper evaluations, one of cost 1")
    linear_constraints: Annotated[list[LinearConstraint], Field(
        max_length=MAX_CONSTRAINTS)] | None = None
    num_solutions: Literal[1] | None = None
    conditionals: Annotated[list[Conditional], Field(max_length=MAX_CONDITIONALS)] | None = None


class ExperimentConfig(ExperimentBody):
    """An experiment config file (`coordinator create`)."""

    warm_start: Annotated[list[Assignments], Field(max_length=MAX_WARM_START_POINTS)] \
        | WarmStartFile | None = Field(
        None, description="points to evaluate first, or earlier observations to import")


class ExperimentUpdate(Model):
    name: Name | None = None
    budget: Annotated[int, Field(ge=1, le=MAX_BUDGET)] | None = None
    observation_budget: Annotated[int, Field(ge=1, le=MAX_BUDGET)] | None = None
    parallel_bandwidth: Annotated[int, Field(ge=1, le=MAX_BANDWIDTH)] | None = None
    metadata: Metadata | None = None
    state: Literal["active", "deleted"] | None = None


# fields of a fetched experiment the client sends back with an update; ignored
EXPERIMENT_ECHOES = ("id", "object", "created", "updated", "progress", "client", "project",
                     "user", "development", "num_solutions")
# fields that define the search and cannot change: refused by name with what to do
EXPERIMENT_FIXED = ("parameters", "metrics", "conditionals", "linear_constraints", "type",
                    "tasks", "evaluate", "command", "optimizer", "early_stopping",
                    "training_monitor")


# --- suggestions and observations -----------------------------------------------------------

class SuggestionCreate(Model):
    assignments: Assignments | None = Field(None, description="a point of your own choosing")
    metadata: Metadata | None = None


class SuggestionUpdate(Model):
    metadata: Metadata | None = None


class QueuedSuggestionCreate(Model):
    assignments: Assignments
    metadata: Metadata | None = None


class Value(Model):
    name: Name | None = Field(None, description="the metric; optional with one metric")
    value: Number
    value_stddev: Annotated[Number, Field(ge=0)] | None = None


class ObservationCreate(Model):
    suggestion: Id | None = None
    assignments: Assignments | None = None
    value: Number | None = None
    value_stddev: Annotated[Number, Field(ge=0)] | None = None
    values: Annotated[list[Value], Field(min_length=1)] | None = None
    failed: bool | None = None
    metadata: Metadata | None = None
    no_optimize: bool | None = None


class ObservationBatch(Model):
    observations: list[ObservationCreate]


class ObservationUpdate(Model):
    value: Number | None = None
    value_stddev: Annotated[Number, Field(ge=0)] | None = None
    values: Annotated[list[Value], Field(min_length=1)] | None = None
    failed: bool | None = None
    metadata: Metadata | None = None
    id: Echoed = None
    object: Echoed = None
    experiment: Echoed = None
    suggestion: Echoed = None
    assignments: Echoed = None
    created: Echoed = None
    task: Echoed = None


# --- AI experiments: projects, training runs, checkpoints, files ---------------------------

RunStates = Literal["active", "completed", "failed"]  # state.RunState (a test keeps them equal)
RunName = Annotated[str, Field(min_length=1, max_length=300)]
Stored = Annotated[Any, Field(description="kept with the run as given (SigOpt's run fields)")]


class ProjectCreate(Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,64}$")]
    name: Name | None = None
    metadata: Metadata | None = None


class RunCreate(Model):
    name: RunName | None = None
    metadata: Metadata | None = None


class RunValue(Model):
    name: Name | None = None
    value: Number
    value_stddev: Annotated[Number, Field(ge=0)] | None = None


class ProjectRunCreate(Model):
    """A new training run outside an experiment (`sigopt.create_run`, `upload_runs`): the
    fields of a MERGE but files and deleted."""

    values: dict[str, RunValue] | None = None
    state: RunStates | None = None
    source_code: Stored = None
    metadata: Metadata | None = None
    logs: Stored = None
    datasets: Stored = None
    model: Stored = None
    name: RunName | None = None
    assignments: Assignments | None = None
    assignments_meta: Stored = None
    assignments_sources: Stored = None
    sys_metadata: Stored = None
    dev_metadata: Stored = None
    favorite: Stored = None
    tags: Stored = None


class RunMerge(ProjectRunCreate):
    """MERGE of a training run."""

    files: Stored = None
    deleted: bool | None = None


class RunBatch(Model):
    runs: Annotated[list[ProjectRunCreate], Field(min_length=1)]
    fields: Literal["id"] | None = Field(None, description="id: answer with the ids only")


class NamedValue(Model):
    name: Name
    value: Number
    value_stddev: Annotated[Number, Field(ge=0)] | None = None


class CheckpointCreate(Model):
    values: Annotated[list[NamedValue], Field(min_length=1)] \
        | Annotated[dict[str, Number | RunValue], Field(min_length=1)]
    metadata: Metadata | None = None


class FileCreate(Model):
    content_length: Annotated[int, Field(ge=1)]
    content_md5: Annotated[str, Field(min_length=1)]
    content_type: Annotated[str, Field(min_length=1)]
    name: Name | None = None
    filename: Annotated[str, Field(min_length=1, max_length=300)] | None = None


# The request schemas of the OpenAPI document, by the names the endpoint table uses
BODIES: dict[str, type[Model]] = {
    "ExperimentCreate": ExperimentBody, "AIExperimentCreate": ExperimentBody,
    "ExperimentUpdate": ExperimentUpdate, "SuggestionCreate": SuggestionCreate,
    "SuggestionUpdate": SuggestionUpdate, "QueuedSuggestionCreate": QueuedSuggestionCreate,
    "ObservationCreate": ObservationCreate, "ObservationBatch": ObservationBatch,
    "ObservationUpdate": ObservationUpdate, "ProjectCreate": ProjectCreate,
    "RunCreate": RunCreate, "ProjectRunCreate": ProjectRunCreate, "RunMerge": RunMerge,
    "RunBatch": RunBatch,
    "CheckpointCreate": CheckpointCreate, "FileCreate": FileCreate,
}


def keys(model: type[BaseModel], *extra: str) -> tuple[str, ...]:
    """The keys a mapping of this model may hold, in the model's order (then `extra`)."""
    return (*model.model_fields, *extra)


def echoed(model: type[BaseModel]) -> tuple[str, ...]:
    """The read-only fields the client sends back with an update (ignored)."""
    text = typing.get_args(Echoed)[1].description
    return tuple(k for k, f in model.model_fields.items() if f.description == text)


def schemas(ref_template: str = "#/components/schemas/{model}") -> dict[str, Any]:
    """JSON schemas of every request body, nested models under their own names."""
    every: tuple[type[BaseModel], ...] = (*BODIES.values(), ExperimentConfig)
    distinct = {model.__name__: model for model in every}
    top, defs = models_json_schema([(m, "validation") for m in distinct.values()],
                                   ref_template=ref_template)
    found: dict[str, Any] = dict(defs.get("$defs", {}))
    for (model, _), schema in top.items():
        found.setdefault(model.__name__, schema)
    for name, model in BODIES.items():
        if name != model.__name__:
            found[name] = {"$ref": ref_template.format(model=model.__name__)}
    return found


def check(model: type[BaseModel], raw: Any, problems: Problems, root: str = "") -> None:
    """Add what `model` refuses in `raw`, except at a field the validators already named.

    `null` counts as an absent optional field, as everywhere in the API and the config."""
    try:
        model.model_validate(raw)
    except ValidationError as exc:
        named = list(problems.paths)
        for error in exc.errors(include_url=False):
            path, message = _describe_error(model, raw, error, root)
            if path is None or any(_overlaps(path, done) for done in named):
                continue
            named.append(path)
            problems.add(path, message)


def _overlaps(path: str, named: str) -> bool:
    """One path is the other or inside it (`a.b` and `a.b[0].c`)."""
    if not named or not path:
        return True
    short, long = sorted((path, named), key=len)
    return long == short or long.startswith((short + ".", short + "["))


# --- pydantic's errors in the house style -------------------------------------------------

TYPE_WORDS = {"float": "a number", "int": "a whole number", "string": "a string",
              "bool": "true or false", "list": "a list", "dict": "a mapping of keys to values",
              "model": "a mapping of keys to values", "model_attributes": "a mapping of keys "
              "to values"}
BOUND_WORDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
               "less_than": "<"}


def _describe_error(model: type[BaseModel], raw: Any, error: Mapping[str, Any], root: str
                    ) -> tuple[str | None, str]:
    """The field path and message of one error; no path when the error is about a union
    member the value is not even the kind of (another member's error tells more)."""
    walk = _Walk(model, raw, root)
    walk.follow(error["loc"])
    if walk.mismatch is not None:
        members, value = walk.mismatch
        if any(_fits(m, value) for m in members):
            return None, ""
        words = " or ".join(dict.fromkeys(_word(m) for m in members))
        return walk.union_path, f"must be {words}, got {describe(value)}"
    path = walk.path
    kind, ctx, shown = error["type"], error.get("ctx") or {}, describe(error.get("input"))
    if kind == "missing":
        return path, "required"
    if kind == "extra_forbidden":
        allowed = list(walk.parent.model_fields) if walk.parent is not None else []
        close = difflib.get_close_matches(str(error["loc"][-1]), allowed, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else \
            f"; allowed: {', '.join(allowed)}" if allowed else ""
        return path, f"unknown key{hint}"
    if kind == "literal_error":
        return path, f"must be {ctx.get('expected', 'one of the listed values')}, got {shown}"
    if kind.endswith(("_type", "_parsing")) or kind == "int_from_float":
        base = kind.removesuffix("_type").removesuffix("_parsing").removesuffix("_from_float")
        return path, f"must be {TYPE_WORDS.get(base, base)}, got {shown}"
    if kind in BOUND_WORDS:
        return path, f"must be {BOUND_WORDS[kind]} {next(iter(ctx.values()), '')}, got {shown}"
    if kind == "too_short":
        return path, f"must have at least {ctx.get('min_length')} item(s), got {shown}"
    if kind == "too_long":
        return path, f"must have at most {ctx.get('max_length')} item(s), got {shown}"
    if kind == "string_too_short":
        return path, f"must be a non-empty string, got {shown}"
    if kind == "string_too_long":
        return path, f"must be at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return path, f"must match {ctx.get('pattern')}, got {shown}"
    return path, f"{str(error.get('msg', 'invalid')).lower()}, got {shown}"


class _Walk:
    """Follows an error's location through the model's annotations and the raw value: the
    field path (without pydantic's union-member tags), the model holding the last key, and
    whether a union member was tried that the value is not the kind of."""

    def __init__(self, model: type[BaseModel], raw: Any, root: str) -> None:
        self.path, self.union_path = root, root
        self.annotation: Any = model
        self.value: Any = raw
        self.parent: type[BaseModel] | None = None
        self.mismatch: tuple[list[Any], Any] | None = None

    def follow(self, loc: tuple[Any, ...]) -> None:
        items = list(loc)
        while items:
            members = _members(self.annotation)
            if len(members) > 1:  # pydantic names the union member it tried: a tag
                member = _member_for(members, items.pop(0))
                if self.mismatch is None and not _fits(member, self.value):
                    self.mismatch, self.union_path = (members, self.value), self.path
                self.annotation = member
                continue
            self._step(items.pop(0))

    def _step(self, item: Any) -> None:
        current, value = self.annotation, self.value
        if isinstance(current, type) and issubclass(current, BaseModel):
            self.parent = current
            field = current.model_fields.get(str(item))
            self.annotation = _plain(field.annotation) if field else Any
        else:
            args = typing.get_args(current)
            self.annotation = _plain(args[0] if isinstance(item, int) else args[-1]) \
                if args else Any
        self.path = f"{self.path}[{item}]" if isinstance(item, int) else child(self.path, item)
        try:
            self.value = value[item]
        except (KeyError, IndexError, TypeError):
            self.value = None


def _plain(annotation: Any) -> Any:
    """Without Annotated and without an optional None."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    members = _members(annotation)
    return members[0] if len(members) == 1 and members[0] is not annotation else annotation


def _members(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return [_plain(m) for m in typing.get_args(annotation) if m is not type(None)]
    return [annotation]


def _member_for(members: list[Any], tag: Any) -> Any:
    """The union member a tag (`str`, `float`, a model's name, `list[...]`) stands for."""
    for member in members:
        origin = typing.get_origin(member)
        name = getattr(origin or member, "__name__", "")
        word = tag.removeprefix("constrained-").split("[")[0].lower() \
            if isinstance(tag, str) else ""
        if word in (name.lower(), "literal" if origin is Literal else "-"):
            return member
    return members[0]


def _fits(member: Any, value: Any) -> bool:
    """Whether a value is the JSON kind of a union member (an object for a model)."""
    origin = typing.get_origin(member) or member
    if member is Any:
        return True
    if isinstance(value, Mapping):
        return origin is dict or isinstance(member, type) and issubclass(member, BaseModel)
    if isinstance(value, list):
        return origin is list
    if isinstance(value, bool):
        return member is bool
    if isinstance(value, int | float):
        return member in (int, float)
    if isinstance(value, str):
        return member is str or origin is Literal
    return False


def _word(member: Any) -> str:
    origin = typing.get_origin(member) or member
    if isinstance(member, type) and issubclass(member, BaseModel):
        return "a mapping of keys to values"
    if origin is Literal:
        return "one of " + ", ".join(map(str, typing.get_args(member)))
    return {str: "a string", float: "a number", int: "a whole number", bool: "true or false",
            list: "a list", dict: "a mapping of keys to values"}.get(origin, str(member))
