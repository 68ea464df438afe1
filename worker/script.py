"""A tiny helper for command-style evaluations (`command: python run-model.py`).

    from worker.script import params, log_metric
    p = params()                     # {"C": 1.5, "kernel": "rbf", ...}, exact types
    log_metric("accuracy", 0.93)     # or log_metric("accuracy", 0.93, stddev=0.01)

The worker hands the assignments over in CELERIAC_ASSIGNMENTS (JSON) and as `--name value`
arguments, and reads metrics from the file named by CELERIAC_METRICS_FILE (one JSON object a
line). Run outside a worker, params() parses `--name value` arguments and log_metric prints.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

ASSIGNMENTS_ENV = "CELERIAC_ASSIGNMENTS"
METRICS_FILE_ENV = "CELERIAC_METRICS_FILE"


def params() -> dict[str, Any]:
    raw = os.environ.get(ASSIGNMENTS_ENV)
    if raw:
        return dict(json.loads(raw))
    return _from_argv(sys.argv[1:])


def _from_argv(argv: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for flag, value in zip(argv[::2], argv[1::2], strict=False):
        if flag.startswith("--"):
            found[flag[2:]] = _number_or_text(value)
    return found


def _number_or_text(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def log_metric(name: str, value: float, stddev: float | None = None) -> None:
    line = json.dumps({"name": name, "value": value, "value_stddev": stddev})
    path = os.environ.get(METRICS_FILE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
    else:
        print(line, flush=True)
