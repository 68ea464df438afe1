"""The broad benchmark suite: its known minima are where it says, its tuning tasks give a real
cross-validated loss, and the suite report judges medians and ranks as documented."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import suite_report
from benchmarks.optimizer_problems import every_problem, problems
from benchmarks.suite_problems import ARGMIN, off_centre, suite
from benchmarks.tuning_tasks import tasks


def test_the_suite_covers_what_the_issue_asks_for():
    found = suite()
    assert len({**found, **tasks()}) >= 16 and len(tasks()) >= 6
    dims = [len(p.parameters) for p in found.values()]
    assert min(dims) == 2 and max(dims) == 20
    assert sum(p.noise > 0 for p in found.values()) >= 4
    assert any(any(x.type == "categorical" for x in p.parameters) for p in found.values())
    assert any(any(x.type == "int" for x in p.parameters) for p in found.values())
    assert set(problems()) >= set(found) | set(tasks())


def test_the_off_centre_variants_move_the_minimum_away_from_the_centre_only():
    """Diagnostics beside the suite, not in it: the same function and domain, the minimum
    half-way from the centre to the boundary along every axis."""
    assert not set(off_centre()) & set(problems())
    for name, problem in off_centre().items():
        original = suite()[name.removesuffix("-off-centre")]
        assert [(p.low, p.high) for p in problem.parameters] == \
            [(p.low, p.high) for p in original.parameters]
        centre = {p.name: 0.0 for p in problem.parameters}
        assert problem.function(centre) > problem.minimum + 1.0
        for p in problem.parameters:
            assert math.isclose(abs(ARGMIN[name][p.name]), 0.5 * p.high)


@pytest.mark.parametrize("name", sorted({**suite(), **off_centre()}))
def test_each_known_minimum_is_taken_at_its_argmin_and_nowhere_lower(name):
    problem = every_problem()[name]
    assert math.isclose(problem.function(ARGMIN[name]), problem.minimum, abs_tol=1e-6)
    rng = np.random.default_rng(0)
    for _ in range(200):
        point = {p.name: _draw(p, rng) for p in problem.parameters}
        assert problem.function(point) >= problem.minimum - 1e-6


def _draw(parameter, rng):
    if parameter.type == "categorical":
        return parameter.categories[rng.integers(len(parameter.categories))]
    if parameter.type == "int":
        return int(rng.integers(int(parameter.low), int(parameter.high) + 1))
    return float(rng.uniform(parameter.low, parameter.high))


def test_a_tuning_task_is_a_deterministic_cross_validated_loss():
    task = tasks()["logreg-breast-cancer"]
    assert task.tuning and math.isnan(task.minimum)
    point = {p.name: _draw(p, np.random.default_rng(1)) for p in task.parameters}
    first, second = task.function(point), task.function(point)
    assert first == second and 0 <= first < 1


def _row(problem, contender, seed, value, tuning=False):
    key = "best" if tuning else "regret"
    return {"problem": problem, "contender": contender, "q": 4, "seed": seed, key: value,
            "tuning": tuning}


def test_the_report_compares_medians_with_the_best_peer_and_random():
    rows = [_row("f", "celeriac", s, v) for s, v in enumerate([-3, -2, -1])]
    rows += [_row("f", "optuna", s, v) for s, v in enumerate([-2.5, -2, 0])]  # median -2
    rows += [_row("f", "random", s, 0.0) for s in range(3)]
    rows += [_row("g", "celeriac", s, 1.0) for s in range(3)]
    rows += [_row("g", "random", s, 0.5) for s in range(3)]
    (f, g) = sorted(suite_report.verdicts(rows), key=lambda v: v.problem)
    assert f.medians == {"celeriac": -2, "optuna": -2, "random": 0.0}
    assert f.best_peer == "optuna" and f.at_or_below_best_peer and not f.behind_random
    assert g.best_peer == "random" and not g.at_or_below_best_peer and g.behind_random
    text = suite_report.render(rows, 4)
    assert "on 1 of 2 problems (50 %); behind random search on 1: g." in text


def test_tuning_ranks_share_ties_and_skip_seeds_not_everyone_ran():
    rows = [_row("t", "celeriac", 0, 0.1, True), _row("t", "optuna", 0, 0.1, True),
            _row("t", "random", 0, 0.3, True), _row("t", "celeriac", 1, 0.2, True),
            _row("t", "optuna", 1, 0.1, True), _row("t", "random", 1, 0.3, True),
            _row("t", "celeriac", 2, 0.0, True)]  # seed 2: the others did not run it
    ranks, pairs = suite_report.mean_ranks(rows)
    assert pairs == 2
    assert ranks == {"celeriac": (1.5 + 2) / 2, "optuna": (1.5 + 1) / 2, "random": 3.0}


def test_speedup_reads_the_evaluations_q_needs_to_reach_sequential_at_its_budget():
    from benchmarks.optimizer_bench import speedup

    rows = [{"problem": "p", "contender": "c", "q": 1, "seed": s, "curve": [3, 2, 1, 0]}
            for s in range(3)]
    rows += [{"problem": "p", "contender": "c", "q": 8, "seed": s,
              "curve": [3, 3, 2, 2, 1, 1, 0.5, 0.5]} for s in range(3)]
    rows += [{"problem": "p", "contender": "c", "q": 4, "seed": 0, "curve": [3, 3, 3, 3]}]
    table = speedup(rows, budget_of={"p": 4})
    assert "| p | c | 8 | 3 | 0.00 | > 8 | > 2.00 | < 4.0x |" in table
    rows[3:6] = [{**r, "curve": [3, 2, 2, 1, 0, 0, 0, 0]} for r in rows[3:6]]
    assert "| p | c | 8 | 3 | 0.00 | 5 | 1.25 | 6.4x |" in speedup(rows, budget_of={"p": 4})
    assert "| p | c | 4 | 1 | 0.00 | > 4 | > 1.00 | < 4.0x |" in table


def test_a_labelled_variant_is_judged_and_compared_with_the_default(tmp_path):
    import json

    default = [_row("f", "celeriac", s, -1.0) for s in range(3)] + \
        [_row("g", "celeriac", s, -2.0) for s in range(3)] + \
        [_row("f", "random", s, 0.0) for s in range(3)]
    variant = [_row("f", "celeriac", s, -3.0) for s in range(3)] + \
        [_row("g", "celeriac", s, 1.0) for s in range(3)]
    paths = []
    for name, rows in (("base", default), ("variant", variant)):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        paths.append(str(path))
    rows = suite_report.load([paths[0], paths[1] + "=celeriac-x"], 4)
    assert {r["contender"] for r in rows} == {"celeriac", "celeriac-x", "random"}
    (f, _) = sorted(suite_report.verdicts(rows, "celeriac-x"), key=lambda v: v.problem)
    assert f.ours == -3.0 and f.best_peer == "random"
    assert suite_report.compare(rows, "celeriac-x") == (
        "celeriac-x against celeriac: helps 1: f (-1 -> -3); hurts 1: g (-2 -> 1).")
