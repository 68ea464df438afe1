"""SigOpt's `linear_constraints` in a config or an API body, checked field by field:

    linear_constraints:
      - type: less_than          # or greater_than
        threshold: 1
        terms: [{name: x, weight: 1}, {name: y, weight: 1}]   # x + y <= 1

Terms name double parameters without a grid or a log transformation (on those a constraint
is linear in what the optimizer searches); a set of constraints no point of the bounds can
meet is refused. Every suggestion meets every constraint (see `optimizer.constraints`).
"""

from __future__ import annotations

from typing import Any

from coordinator.spec import models
from coordinator.spec.models import MAX_CONSTRAINTS
from coordinator.spec.validation import (
    Problems,
    as_choice,
    as_mapping,
    as_number,
    as_text,
    describe,
    unknown_keys,
)
from optimizer import LinearConstraint, Parameter
from optimizer.constraints import KINDS, Polytope, constrainable

CONSTRAINT_KEYS = models.keys(models.LinearConstraint)
TERM_KEYS = models.keys(models.ConstraintTerm)


def linear_constraints(raw: Any, parameters: list[Parameter], problems: Problems
                       ) -> tuple[LinearConstraint, ...]:
    if raw is None or raw == []:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_CONSTRAINTS:
        problems.add("linear_constraints", f"must be a list of at most {MAX_CONSTRAINTS} "
                     f"constraints, got {describe(raw)}")
        return ()
    by_name = {p.name: p for p in parameters}
    found = [c for i, item in enumerate(raw)
             if (c := _constraint(item, f"linear_constraints[{i}]", by_name, problems))]
    if found and len(found) == len(raw) and not problems:
        if not Polytope(found, parameters).meets_cube():
            problems.add("linear_constraints", "no point within the parameters' bounds meets "
                         "every constraint; widen the bounds or loosen a threshold")
    return tuple(found)


def _constraint(raw: Any, path: str, by_name: dict[str, Parameter], problems: Problems
                ) -> LinearConstraint | None:
    item = as_mapping(raw, path, problems)
    if item is None:
        return None
    unknown_keys(item, CONSTRAINT_KEYS, path, problems)
    kind = as_choice(item.get("type"), KINDS, f"{path}.type", problems)
    threshold = as_number(item.get("threshold"), f"{path}.threshold", problems)
    terms = item.get("terms")
    if not isinstance(terms, list) or not terms:
        problems.add(f"{path}.terms", f"must be a list of terms {{name, weight}}, got "
                     f"{describe(terms)}")
        return None
    pairs = [t for j, term in enumerate(terms)
             if (t := _term(term, f"{path}.terms[{j}]", by_name, problems))]
    if kind is None or threshold is None or len(pairs) != len(terms):
        return None
    if len({n for n, _ in pairs}) != len(pairs):
        problems.add(f"{path}.terms", "names a parameter twice; give each parameter once")
        return None
    if all(w == 0 for _, w in pairs):
        problems.add(f"{path}.terms", "every weight is 0; give at least one nonzero weight")
        return None
    return LinearConstraint(type=kind, threshold=threshold, terms=tuple(pairs))


def _term(raw: Any, path: str, by_name: dict[str, Parameter], problems: Problems
          ) -> tuple[str, float] | None:
    item = as_mapping(raw, path, problems)
    if item is None:
        return None
    unknown_keys(item, TERM_KEYS, path, problems)
    name = as_text(item.get("name"), f"{path}.name", problems)
    weight = as_number(item.get("weight"), f"{path}.weight", problems)
    if name is None or weight is None:
        return None
    p = by_name.get(name)
    if p is None:
        problems.add(f"{path}.name", f"{name!r} is not a parameter of this experiment")
        return None
    if not constrainable(p):
        problems.add(f"{path}.name", f"{name!r} must be a double parameter without a grid, a "
                     "prior, conditions or a log transformation (linear constraints apply to "
                     "those only)")
        return None
    return name, weight
