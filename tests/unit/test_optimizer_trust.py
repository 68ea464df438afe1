"""Trust region: replayed side length, box shape, and searches that stay inside it."""

import numpy as np
import pytest

from optimizer import Metric, Observation, Parameter, Settings, Space, trust
from optimizer.acquisition import Acquisition, Objective
from optimizer.bayes import _in_trust_region, _trust_region
from optimizer.gp import GaussianProcess, Hyper
from optimizer.proposals import History
from optimizer.search import maximize


def test_side_length_halves_after_a_run_of_failures():
    flat = np.zeros(20)  # one success (the first), then nothing improves
    assert trust.replay(flat, dimension=2, bandwidth=1).length == pytest.approx(trust.BASE / 2**4)


def test_side_length_counts_rounds_of_the_bandwidth_not_observations():
    # the first round sets the incumbent; eight workers report eight flat results: one
    # failed round halves the box once (patience ceil(4 / 8) = 1 round), not eight times
    values = np.concatenate([np.ones(8), np.zeros(8)])
    assert trust.replay(values, dimension=2, bandwidth=8).length == pytest.approx(trust.BASE / 2)
    # one improving result anywhere in a round makes the round a success
    rising = np.concatenate([np.zeros(8), [0, 0, 0, 5, 0, 0, 0, 0]])
    assert trust.replay(rising, dimension=2, bandwidth=8).length == pytest.approx(trust.BASE)


def test_side_length_doubles_after_successes_and_is_capped():
    rising = np.arange(1.0, 20.0)
    assert trust.replay(rising, dimension=2, bandwidth=1).length == pytest.approx(trust.LONGEST)


def test_side_length_restarts_when_it_collapses():
    flat = np.zeros(1 + 4 * 7)  # the seventh halving passes SHORTEST: start over
    assert trust.replay(flat, dimension=4, bandwidth=1).length == pytest.approx(trust.BASE)


def test_a_collapsed_region_is_converged_until_the_next_success():
    flat = np.zeros(1 + 4 * 7)
    assert not trust.replay(flat[:-1], dimension=4, bandwidth=1).converged
    assert trust.replay(flat, dimension=4, bandwidth=1).converged
    assert trust.replay(np.append(flat, np.zeros(5)), dimension=4, bandwidth=1).converged
    assert not trust.replay(np.append(flat, [0.0, 1.0]), dimension=4, bandwidth=1).converged


def test_box_is_longer_along_long_length_scales_and_leaves_categoricals_free():
    low, high = trust.box(
        np.array([0.5, 0.5, 0.5]), np.array([1.0, 0.25, 1.0]), 0.4, np.array([True, True, False])
    )
    assert high[0] - low[0] > high[1] - low[1]
    assert (low[2], high[2]) == pytest.approx((0.0, 1.0))
    assert np.all((0.0 <= low) & (high <= 1.0))


def test_maximize_stays_inside_the_box():
    space = Space([Parameter("x", "double", 0.0, 1.0), Parameter("y", "double", 0.0, 1.0)])
    x = np.random.default_rng(0).random((10, 2))
    model = GaussianProcess(Hyper(1.0, np.array([0.3, 0.3]), 1e-6), x, -x[:, 0], np.zeros(10))
    acq = Acquisition(Objective(model, 0.0), [])
    box = (np.array([0.4, 0.4]), np.array([0.6, 0.6]))
    rows = maximize(space, acq, np.random.default_rng(1), x[:2], 64, box)
    assert np.all((rows >= 0.4 - 1e-12) & (rows <= 0.6 + 1e-12))


def test_one_proposal_in_global_every_rounds_searches_the_whole_space():
    settings = Settings(trust_region=True, global_every=3)
    sequential = [_in_trust_region(settings, n, 1) for n in range(24)]
    assert sequential == ([False] + [True] * 11) * 2  # a round is at least 4 proposals
    eight = [_in_trust_region(settings, n, 8) for n in range(48)]
    assert eight == ([False] + [True] * 23) * 2
    assert all(_in_trust_region(Settings(global_every=0), n, 8) for n in range(48))
    assert not _in_trust_region(Settings(trust_region=False), 1)


def test_only_feasible_improvements_or_less_violation_count_as_progress():
    space = Space([Parameter("x", "double", 0.0, 1.0)])
    metrics = [Metric("f"), Metric("cost", "minimize", "constraint", threshold=0.5)]

    def replay(points):  # (f, cost) in report order, after a one-point design
        observations = [Observation({"x": i / 40}, {"f": f, "cost": c})
                        for i, (f, c) in enumerate(points)]
        history = History.build(space, observations, [])
        return _trust_region(history, metrics, 1, Settings(), 1).length

    # the objective climbs every time, but only on infeasible points: no progress, so the box
    # halves after every run of four (it used to double: each was counted a success)
    assert replay([(0.0, 0.1)] + [(float(i), 0.9) for i in range(1, 13)]) == pytest.approx(
        trust.BASE / 8)
    # before anything is feasible, shrinking violation is progress (as in SCBO)
    shrinking = [(0.0, 2.0)] + [(0.0, 2.0 - 0.1 * i) for i in range(1, 10)]
    assert replay(shrinking) == pytest.approx(trust.LONGEST)
    # and a feasible point beats any infeasible one, however good its objective
    assert replay([(9.0, 0.9)] * 4 + [(0.0, 0.1)]) == pytest.approx(trust.BASE)


def test_once_the_region_has_converged_proposals_search_the_whole_space(monkeypatch):
    from optimizer import bayes, suggest

    space = Space([Parameter("x", "double", 0.0, 1.0), Parameter("y", "double", 0.0, 1.0)])
    rng = np.random.default_rng(0)
    best = [Observation({"x": 0.5, "y": 0.5}, {"f": 1.0})]
    design = [Observation({"x": float(a), "y": float(b)}, {"f": -float(a) - float(b)})
              for a, b in rng.random((4, 2))]
    # after the design, 4 x 7 results that do not beat the incumbent collapse the region
    flat = [Observation({"x": float(a), "y": float(b)}, {"f": -1.0 - float(a)})
            for a, b in rng.random((4 * 7 + 1, 2))]
    boxes: list[int] = []
    real = bayes._trust_box
    monkeypatch.setattr(bayes, "_trust_box", lambda *a: boxes.append(1) or real(*a))
    settings = Settings(seed=0, global_every=0, local_every=0)  # every proposal may use a box

    suggest(space, [Metric("f")], best + design + flat[:8], [], 1, settings, 1)
    assert boxes == [1]
    boxes.clear()
    suggest(space, [Metric("f")], best + design + flat, [], 1, settings, 1)
    assert boxes == []
