"""Best observations: feasibility, thresholds, objectives and the Pareto front."""

import math

from optimizer import Metric, Observation, best_observations


def obs(failed=False, **values):
    return Observation({"x": 0.0}, values=values, failed=failed)


def test_single_metric_maximize_picks_the_largest():
    history = [obs(y=1.0), obs(y=3.0), obs(y=2.0)]
    assert best_observations([Metric("y")], history) == [1]


def test_single_metric_minimize_picks_the_smallest():
    history = [obs(y=1.0), obs(y=3.0), obs(y=-2.0)]
    assert best_observations([Metric("y", objective="minimize")], history) == [2]


def test_failed_missing_and_non_finite_observations_never_count():
    history = [obs(failed=True, y=100.0), obs(), obs(y=math.nan), obs(y=math.inf), obs(y=0.5)]
    assert best_observations([Metric("y")], history) == [4]


def test_nothing_feasible_gives_an_empty_list():
    assert best_observations([Metric("y")], [obs(failed=True)]) == []
    assert best_observations([Metric("y")], []) == []


def test_constraint_threshold_excludes_infeasible_observations():
    metrics = [Metric("acc"), Metric("latency", "minimize", "constraint", threshold=10.0)]
    history = [obs(acc=0.99, latency=20.0), obs(acc=0.9, latency=10.0), obs(acc=0.8, latency=5.0)]
    assert best_observations(metrics, history) == [1]


def test_threshold_on_optimized_metric_must_be_met():
    history = [obs(y=0.4), obs(y=0.3)]
    assert best_observations([Metric("y", threshold=0.5)], history) == []


def test_store_metrics_are_ignored_even_when_missing():
    metrics = [Metric("y"), Metric("time", strategy="store")]
    assert best_observations(metrics, [obs(y=1.0), obs(y=2.0)]) == [1]


def test_ties_keep_the_earliest_observation():
    assert best_observations([Metric("y")], [obs(y=1.0), obs(y=1.0)]) == [0]


def test_two_optimized_metrics_give_the_pareto_front_sorted_by_the_first():
    metrics = [Metric("acc"), Metric("cost", objective="minimize")]
    history = [
        obs(acc=0.9, cost=5.0),  # front
        obs(acc=0.8, cost=6.0),  # dominated by 0
        obs(acc=0.95, cost=9.0),  # front
        obs(acc=0.7, cost=1.0),  # front
        obs(acc=0.95, cost=9.5),  # dominated by 2
    ]
    assert best_observations(metrics, history) == [2, 0, 3]


def test_pareto_front_honours_thresholds():
    metrics = [Metric("a"), Metric("b", threshold=0.5)]
    history = [obs(a=1.0, b=0.1), obs(a=0.5, b=0.6), obs(a=0.2, b=0.9)]
    assert best_observations(metrics, history) == [1, 2]
