"""SigOpt's multitask experiments: cheaper, partial versions of the evaluation (`tasks` with a
cost in (0, 1], one of them the full task of cost 1).

They use the early-stopping machinery: a cheap task's observation is a partial one at resource
`cost` of a full 1, so the optimizer's fidelity model learns how cheap results relate to full
ones, and only full-cost observations can be the best (as in SigOpt).

Each suggestion's task comes from a hash of its id, with weight 1/sqrt(cost): with tasks of cost
0.1 and 1, about three in four suggestions are cheap, and the expected cost of a suggestion is
about a third of a full one. Every process computes the same task for a suggestion, so it is
never stored.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coordinator.spec import models
from coordinator.spec.models import MAX_TASKS
from coordinator.spec.validation import Problems, as_mapping, as_number, as_text, unknown_keys


@dataclass(frozen=True)
class Task:
    name: str
    cost: float

    @property
    def is_full(self) -> bool:
        return self.cost >= 1.0

    def to_json(self) -> dict[str, Any]:
        return {"object": "task", "name": self.name, "cost": self.cost}


def task_of(tasks: Sequence[Task], suggestion_id: str) -> Task | None:
    if not tasks:
        return None
    weights = [1 / math.sqrt(t.cost) for t in tasks]
    digest = hashlib.sha256(f"task:{suggestion_id}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64 * sum(weights)
    for task, weight in zip(tasks, weights, strict=True):
        draw -= weight
        if draw < 0:
            return task
    return tasks[-1]


def validate_tasks(raw: Any, problems: Problems, path: str = "tasks") -> tuple[Task, ...]:
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_TASKS:
        problems.add(path, f"must list 2 to {MAX_TASKS} tasks ({{name, cost}}), got "
                     f"{len(raw) if isinstance(raw, list) else type(raw).__name__}")
        return ()
    found: list[Task] = []
    for i, item in enumerate(raw):
        where = f"{path}[{i}]"
        entry = as_mapping(item, where, problems)
        if entry is None:
            continue
        unknown_keys(entry, models.keys(models.Task), where, problems)
        name = as_text(entry.get("name"), f"{where}.name", problems)
        cost = as_number(entry.get("cost"), f"{where}.cost", problems)
        if cost is not None and not 0 < cost <= 1:
            problems.add(f"{where}.cost", f"must be above 0 and at most 1, got {cost:g}")
            continue
        if name is not None and any(t.name == name for t in found):
            problems.add(f"{where}.name", f"duplicate task name '{name}'")
            continue
        if name is not None and cost is not None:
            found.append(Task(name, cost))
    if len(found) == len(raw) and not any(t.is_full for t in found):
        problems.add(path, "one task must have cost 1 (the full evaluation); only its "
                     "observations can be the best")
    return tuple(found)
