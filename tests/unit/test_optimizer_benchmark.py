"""The optimizer benchmark's bookkeeping: what each point's optimizer knew when it chose it."""

from __future__ import annotations

import math

import pytest

from benchmarks import optimizer_contenders
from benchmarks.optimizer_bench import latency_ratios, pipeline, run
from benchmarks.optimizer_problems import problems


@pytest.mark.parametrize("q", [1, 4])
def test_each_point_records_the_results_known_when_it_was_chosen(q: int) -> None:
    row = run(problems()["branin"], "random", q, seed=3, options={})
    known, budget = row["known"], row["evaluations"]
    assert len(known) == len(row["points"]) == budget
    assert known.count(0) == q  # the first wave knew nothing
    assert all(k <= i for i, k in enumerate(known))  # never its own result or a later one
    if q == 1:
        assert known == list(range(budget))


def test_a_synchronous_batch_knows_every_result_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    class Synchronous(optimizer_contenders.RandomSearch):
        synchronous = True

    monkeypatch.setitem(optimizer_contenders.CONTENDERS, "random", Synchronous)
    row = run(problems()["branin"], "random", 4, seed=3, options={})
    assert row["known"] == [4 * (i // 4) for i in range(row["evaluations"])]


def test_with_constraints_only_a_feasible_point_can_lead_and_none_yet_is_the_worst_regret(
) -> None:
    problem = problems()["gramacy"]
    row = run(problem, "random", 1, seed=0, options={})
    replay = optimizer_contenders.RandomSearch(problem, 1, 0, {})  # the same points again
    feasible = [problem.feasible(problem.extra(p)) for p in replay.ask(problem.budget, [])]
    worst = math.log10(problem.worst - problem.minimum)
    first = feasible.index(True)
    # both sides are log10 values rounded to 3 decimals: allow one unit of the last digit
    assert row["curve"][:first] == pytest.approx([worst] * first, abs=2e-3)
    pairs = list(zip(row["points"], feasible, strict=True))
    assert all(p == pytest.approx(worst, abs=2e-3) for p, ok in pairs if not ok)
    # the best so far never rises, and every leader after the first feasible point is feasible
    assert all(b <= a for a, b in zip(row["curve"], row["curve"][1:], strict=False))
    assert row["curve"][-1] == pytest.approx(min(p for p, ok in pairs if ok))


@pytest.mark.parametrize("name", ["celeriac", "celeriac-store", "optuna"])
def test_constraint_values_reach_the_contenders_that_use_them(name: str) -> None:
    problem = problems()["gramacy"]
    contender = optimizer_contenders.CONTENDERS[name](problem, 1, 0, {})
    point = contender.ask(1, [])[0]
    contender.tell(point, 1.0, {"c1": -1.0, "c2": 0.5})
    if name == "optuna":
        trial = contender.study.trials[0]  # type: ignore[attr-defined]  # Optuna's own field
        assert trial.constraints == pytest.approx({"c1": -1.0, "c2": 0.5})
    else:
        values = contender.observations[0].values  # type: ignore[attr-defined]  # Celeriac's own
        assert values == pytest.approx({"y": 1.0, "c1": -1.0, "c2": 0.5})


def test_the_pipeline_table_measures_gains_against_the_known_incumbent() -> None:
    curve = [0.0, -1.0, -1.0, -3.0]  # best so far after each evaluation
    row = {"problem": "p", "contender": "c", "q": 2, "curve": curve,
           "points": [0.0, -1.0, 0.5, -3.0], "known": [0, 0, 2, 2]}
    table = pipeline([row]).splitlines()
    # points 2 and 3 were chosen knowing two results (incumbent -1.0): gains +1.5 and -2.0
    assert table[-1] == "| p | c | 2 | 2 | -0.25 | 0.50 | 0.5 | 1.000 |"


def test_the_pipeline_table_leaves_out_points_whose_incumbent_was_at_the_floor() -> None:
    row = {"problem": "p", "contender": "c", "q": 1, "curve": [-12.0] * 4,
           "points": [-12.0, -5.0, -6.0, -7.0], "known": [0, 1, 2, 3]}
    assert pipeline([row]).splitlines()[-1] == "| p | c | 1 | 0 | - | - | - | 0.000 |"


def test_latency_targets_are_judged_as_ratios_to_the_anchor_of_the_same_run() -> None:
    timings = [{"observations": 200, "median_seconds": 0.5},
               {"observations": 1000, "median_seconds": 0.5},
               {"observations": 1000, "space": "mixed+constraint", "median_seconds": 9.0}]
    anchors = [{"observations": 50, "median_seconds": 4.2}]  # a machine twice as slow
    table = latency_ratios(timings, anchors).splitlines()
    # 0.5 s is above the 0.3 s, but here the allowance is 0.3 / 2.1 x 4.2 = 0.6 s
    assert table[-2] == "| 200 | 0.500 | 0.119 | 0.143 | yes |"
    assert table[-1] == "| 1000 | 0.500 | 0.119 | 0.714 | yes |"
    anchors = [{"observations": 50, "median_seconds": 2.1}]
    assert latency_ratios(timings, anchors).splitlines()[-2].endswith("| 0.238 | 0.143 | no |")
    assert latency_ratios(timings, []) == ""
