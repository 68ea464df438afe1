"""Runs the user's metric, a Python callable or a command, and reads back its metric values.

Anything the user's code does wrong (raises, exits non-zero, hangs past the timeout, prints
garbage) becomes an EvaluationFailed with a reason a person can act on; the worker stays up.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, cast

from coordinator.spec.experiment import ExperimentSpec
from coordinator.spec.validation import as_float, describe
from worker.output import OutputTail, capture_prints
from worker.pipes import CommandOutput, exit_reason
from worker.script import ASSIGNMENTS_ENV, METRICS_FILE_ENV

Values = dict[str, tuple[float, float | None]]


class Progress(Protocol):
    """What evaluate needs of a training context (worker/context.py)."""

    def last_reported(self) -> dict[str, float] | None: ...


class EvaluationFailed(Exception):
    """The metric could not be evaluated; str() is the reason stored with the observation."""


def evaluate(spec: ExperimentSpec, assignments: dict[str, Any], *,
             cancel: threading.Event | None = None, env: Mapping[str, str] | None = None,
             context: Progress | None = None, output: OutputTail | None = None) -> Values:
    """A function taking two arguments gets the training context as its second; an
    evaluation that reported progress and returns nothing ends with its last report. What it
    prints goes to `output` (bounded), also when it fails."""
    evaluation = spec.evaluation
    if evaluation.command:
        return run_command(spec, assignments, cancel=cancel, env=env, context=context,
                           output=output)
    if evaluation.evaluate:
        with capture_prints(output), kept_signal_handlers():
            function = load_callable(evaluation.evaluate, evaluation.workdir)
            if context is not None and takes_context(function):
                result = cast(Callable[[dict[str, Any], Any], Any], function)(
                    dict(assignments), context)
            else:
                result = function(dict(assignments))
        if result is None and context is not None:
            result = context.last_reported()
        return parse_result(result, spec)
    raise EvaluationFailed(f"experiment {spec.name!r} has no evaluate or command to run")


@contextmanager
def kept_signal_handlers() -> Iterator[None]:
    """A metric that sets its own handler for SIGTERM (or ignores it) changes it for this
    whole pool child; put back the worker's handlers when it returns, so the next task still
    hands back on shutdown and an idle child still ends on SIGTERM."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {signum: signal.getsignal(signum) for signum in _KEPT_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None and signal.getsignal(signum) is not handler:
                signal.signal(signum, handler)


_KEPT_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP)


def takes_context(function: Callable[..., Any]) -> bool:
    """A second positional parameter without a default, or one named `context` or `run`
    (so `def evaluate(params, seed=0)` keeps being called with the assignments alone)."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    return len(required) >= 2 or any(p.name in ("context", "run") for p in positional[1:2])


def load_callable(target: str, workdir: str) -> Callable[[dict[str, Any]], Any]:
    """`package.module:function` (importable from workdir) or `path/file.py:function`."""
    module_name, _, function_name = target.rpartition(":")
    base = Path(workdir).expanduser().resolve()
    try:
        if module_name.endswith(".py"):
            path = (base / module_name).resolve()
            spec = importlib.util.spec_from_file_location(f"celeriac_user_{path.stem}", path)
            if spec is None or spec.loader is None or not path.exists():
                raise EvaluationFailed(f"evaluate: file {path} not found on this worker")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            if str(base) not in sys.path:
                sys.path.insert(0, str(base))
            module = importlib.import_module(module_name)
    except EvaluationFailed:
        raise
    except Exception as exc:
        raise EvaluationFailed(f"evaluate: cannot import {module_name!r} from {base}: "
                               f"{type(exc).__name__}: {exc}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise EvaluationFailed(f"evaluate: {module_name!r} has no function {function_name!r}")
    return cast(Callable[[dict[str, Any]], Any], function)


def parse_result(result: Any, spec: ExperimentSpec) -> Values:
    """A number, (value, stddev), or {metric: number | (value, stddev) | {value, value_stddev}}."""
    if isinstance(result, Mapping):
        _no_strangers(result, spec)
        return {str(name): _metric_value(name, value) for name, value in result.items()}
    if result is None:
        raise EvaluationFailed("returned None, not a finite number: return a number, "
                               "(value, stddev), or a dict of metric name to value")
    if len(spec.metrics) != 1:
        names = ", ".join(m.name for m in spec.metrics)
        raise EvaluationFailed(f"returned {describe(result)}; this experiment has metrics {names}: "
                               f"return a dict of metric name to value")
    return {spec.metrics[0].name: _metric_value(spec.metrics[0].name, result)}


def _no_strangers(result: Mapping[Any, Any], spec: ExperimentSpec) -> None:
    """Keys that are not metrics are named before any value is looked at, so a dict of
    10,000 entries fails with one short reason about what it is, not about its 17th value."""
    expected = [m.name for m in spec.metrics]
    strangers = [key for key in result if str(key) not in expected]
    if strangers:
        shown = ", ".join(describe(key) for key in strangers[:3])
        more = f" and {len(strangers) - 3:,} more" if len(strangers) > 3 else ""
        raise EvaluationFailed(f"returned a dict of {len(result):,} key(s) with "
                               f"{len(strangers):,} that are not metrics of this experiment "
                               f"({shown}{more}); expected {', '.join(expected)}")


def _metric_value(name: Any, value: Any) -> tuple[float, float | None]:
    stddev = None
    if isinstance(value, Mapping) and "value" in value:
        value, stddev = value["value"], value.get("value_stddev")
    elif isinstance(value, list | tuple) and len(value) == 2:
        value, stddev = value
    number = as_float(value)
    if number is None or not math.isfinite(number):
        raise EvaluationFailed(f"metric {name!r} is {describe(value)}, not a finite number")
    spread = None if stddev is None else as_float(stddev)
    if stddev is not None and (spread is None or not math.isfinite(spread) or spread < 0):
        raise EvaluationFailed(f"metric {name!r} has value_stddev {describe(stddev)}; "
                               f"give a finite number >= 0")
    return number, spread


def command_argv(command: str, assignments: Mapping[str, Any]) -> list[str]:
    """Never a shell: each assignment is one argv element, whatever characters it holds.

    A leading `python` means the worker's own interpreter, so a venv need not be activated.
    """
    argv = shlex.split(command)
    if argv and argv[0] in ("python", "python3"):
        argv[0] = sys.executable  # the worker's own interpreter, with the user's packages
    for name, value in assignments.items():
        argv += [f"--{name}", str(value)]
    return argv


def run_command(spec: ExperimentSpec, assignments: dict[str, Any], *,
                cancel: threading.Event | None = None, env: Mapping[str, str] | None = None,
                context: Progress | None = None, output: OutputTail | None = None) -> Values:
    """Its stdout and stderr are read as they come (worker/pipes.py): a command may print
    without bound and the worker keeps only the tail and the last JSON line."""
    evaluation = spec.evaluation
    assert evaluation.command is not None
    with tempfile.TemporaryDirectory(prefix="celeriac-") as scratch:
        metrics_file = Path(scratch) / "metrics.jsonl"
        child_env = {**os.environ, **(env or {}), ASSIGNMENTS_ENV: json.dumps(assignments),
                     METRICS_FILE_ENV: str(metrics_file)}
        try:
            process = subprocess.Popen(
                command_argv(evaluation.command, assignments), cwd=evaluation.workdir,
                env=child_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, bufsize=0, start_new_session=True)
        except OSError as exc:
            raise EvaluationFailed(f"command {evaluation.command!r} could not start in "
                                   f"{evaluation.workdir!r}: {exc.strerror}") from None
        reader = CommandOutput(process, output)
        stopped = reader.follow(evaluation.timeout, cancel)
        if stopped:
            raise EvaluationFailed(stopped)
        if process.returncode != 0:
            tail = " | ".join(reader.stderr.kept().strip().splitlines()[-3:])[-500:]
            raise EvaluationFailed(exit_reason(process.returncode)
                                   + (f": {tail}" if tail else ""))
        found = _read_metrics(metrics_file, reader.last_json, spec)
        if found is None and context is not None:
            reported = context.last_reported()
            found = parse_result(reported, spec) if reported else None
        if found is None:
            raise EvaluationFailed("command reported no metrics: call worker.script.log_metric,"
                                   " or print a JSON object such as {\"accuracy\": 0.93} as "
                                   "the last line")
        return found


def _read_metrics(metrics_file: Path, last_json: dict[str, Any] | None, spec: ExperimentSpec
                  ) -> Values | None:
    """The metrics file wins; else the last stdout line that was a JSON object."""
    if metrics_file.exists() and metrics_file.stat().st_size:
        values: Values = {}
        for line in metrics_file.read_text(errors="replace").splitlines():
            if line.strip():
                item = _json_line(line)
                if not isinstance(item, dict) or "name" not in item:
                    raise EvaluationFailed(f"metrics file line {describe(line)} is not "
                                           f'{{"name": ..., "value": ...}}')
                values[str(item["name"])] = _metric_value(item["name"], item)
        return values
    return parse_result(last_json, spec) if last_json is not None else None


def _json_line(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None
