"""report.lua's decisions, driven through real take and claim transitions on the unit store
(fakeredis with Lua, whose cjson the script's plan needs), and the early-stopping config's
validation messages.

Every report goes through coordinator.service.progress.report, the path workers, command
evaluations and the HTTP API share, so what is checked here is what they all see.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from coordinator.errors import ConfigError, InvalidInput
from coordinator.service.experiments import Service
from coordinator.service.progress import report
from coordinator.spec.config import validate_experiment
from coordinator.spec.experiment import ExperimentSpec
from coordinator.state import keys
from coordinator.state.records import Experiment, Report
from coordinator.state.states import (
    CheckpointReply,
    ClaimReply,
    ObserveReply,
    ReportReply,
    SweepReply,
)
from coordinator.state.store import Decision
from tests.unit.conftest import make_spec

pytestmark = pytest.mark.timeout(60)

LOSS = [{"name": "loss", "objective": "minimize"}]
SCORE = [{"name": "score", "objective": "maximize"}]


def asha(**settings: Any) -> dict[str, Any]:
    return {"scheduler": "asha", "min_resource": 1, "max_resource": 27, "reduction_factor": 3,
            **settings}


def experiment_with(service: Service, stopping: dict[str, Any] | None, metrics=None,
                    **top: Any) -> Experiment:
    overrides: dict[str, Any] = {"metrics": metrics or LOSS, "budget": 500, **top}
    if stopping is not None:
        overrides["early_stopping"] = stopping
    return service.create_experiment(make_spec(**overrides))


class Run:
    """One suggestion taken from the experiment and claimed as a worker would."""

    def __init__(self, service: Service, experiment: Experiment, ttl_ms: int = 10_000) -> None:
        self.service, self.experiment = service, experiment
        self.id = service.create_suggestion(experiment.id, claim_ms=10_000).id
        self.epoch = self.claim(ttl_ms)

    def claim(self, ttl_ms: int = 10_000) -> int:
        claim = self.service.store.claim(self.experiment.id, self.id, "host:1", ttl_ms)
        assert claim.status is ClaimReply.OK
        return claim.epoch

    def report(self, step: float, values: dict[str, float], epoch: int | None = None
               ) -> Decision:
        return report(self.service.store, self.experiment.spec, self.experiment.id, self.id,
                      self.epoch if epoch is None else epoch, step, values)

    def value(self, step: float, value: float) -> Decision:
        return self.report(step, {self.experiment.spec.metrics[0].name: value})

    def lose_lease(self) -> None:
        """The lease runs out and the sweeper requeues the suggestion."""
        store = self.service.store
        store.redis.zadd(keys.ExperimentKeys(self.experiment.id).leases, {self.id: 0})
        suggestion = store.suggestion(self.experiment.id, self.id)
        assert suggestion is not None
        failure = self.service.new_observation(self.experiment, suggestion, {}, failed=True,
                                               reason="lease ran out")
        assert store.sweep_one(self.experiment.id, self.id, failure, 5, 10_000) \
            is SweepReply.REQUEUED

    @property
    def state(self):
        found = self.service.store.suggestion(self.experiment.id, self.id)
        assert found is not None
        return found


def runs(service: Service, experiment: Experiment, count: int) -> list[Run]:
    return [Run(service, experiment) for _ in range(count)]


# ASHA ---------------------------------------------------------------------------------------


def test_the_first_run_to_reach_a_rung_goes_on(service):
    experiment = experiment_with(service, asha())
    first = Run(service, experiment)
    for step in (1, 2, 3, 9):
        assert first.value(step, 1.0 / step).status is ReportReply.CONTINUE


def test_a_clearly_worse_run_is_stopped_at_rung_one_with_the_reason(service):
    experiment = experiment_with(service, asha())
    good, bad = runs(service, experiment, 2)
    assert good.value(1, 0.2).status is ReportReply.CONTINUE
    decision = bad.value(1, 5.0)
    assert decision.status is ReportReply.STOP
    assert decision.reason == ("asha: at rung 1 (step 1) it ranks 2 of 2; only the top 1/3 "
                               "go on")
    assert bad.state.stopped and bad.state.stop == decision.reason
    assert good.value(2, 0.1).status is ReportReply.CONTINUE


def test_only_the_top_third_of_the_runs_at_a_rung_go_on(service):
    """Rising scores: each newcomer is the best so far; then at 6 runs the top 2 go on (a
    second-best goes on), at 7 runs a fourth-best stops."""
    experiment = experiment_with(service, asha(), metrics=SCORE)
    ranked = runs(service, experiment, 7)
    for run, score in zip(ranked[:5], (0.1, 0.2, 0.3, 0.4, 0.5), strict=True):
        assert run.value(1, score).status is ReportReply.CONTINUE
    assert ranked[5].value(1, 0.45).status is ReportReply.CONTINUE  # 2nd of 6, keep 2
    decision = ranked[6].value(1, 0.35)  # 4th of 7, keep 2
    assert decision.status is ReportReply.STOP and "ranks 4 of 7" in decision.reason


@pytest.mark.parametrize(("objective", "better", "worse"),
                         [("minimize", 0.1, 0.9), ("maximize", 0.9, 0.1)])
def test_rung_scores_follow_the_metrics_objective(service, objective, better, worse):
    experiment = experiment_with(service, asha(),
                                 metrics=[{"name": "m", "objective": objective}])
    first, improver, laggard = runs(service, experiment, 3)
    assert first.value(1, 0.5).status is ReportReply.CONTINUE
    assert improver.value(1, better).status is ReportReply.CONTINUE
    assert laggard.value(1, worse).status is ReportReply.STOP


def test_a_run_that_goes_on_at_rung_one_is_ranked_again_at_rung_two(service):
    experiment = experiment_with(service, asha())
    leader, second = runs(service, experiment, 2)
    assert leader.value(1, 0.5).status is ReportReply.CONTINUE
    assert second.value(1, 0.4).status is ReportReply.CONTINUE  # better at rung 1
    assert leader.value(3, 0.1).status is ReportReply.CONTINUE  # first at rung 2
    decision = second.value(3, 0.3)
    assert decision.status is ReportReply.STOP and decision.reason.startswith(
        "asha: at rung 2 (step 3)")


def test_a_run_reaching_max_resource_is_done_not_stopped(service):
    experiment = experiment_with(service, asha(max_resource=9))
    run = Run(service, experiment)
    assert run.value(1, 0.5).status is ReportReply.CONTINUE
    decision = run.value(9, 0.1)
    assert decision == Decision(ReportReply.DONE, "reached max_resource 9")
    assert not run.state.stopped and run.state.stop == "reached max_resource 9"


# Hyperband ----------------------------------------------------------------------------------


def test_hyperband_places_each_suggestion_in_one_bracket_and_uses_every_bracket(service):
    experiment = experiment_with(service, {**asha(), "scheduler": "hyperband", "max_resource": 81})
    stopping = experiment.spec.early_stopping
    assert stopping is not None and stopping.brackets == 4
    ids = [str(i) for i in range(1, 801)]
    placed = Counter(stopping.bracket_of(sid) for sid in ids)
    assert [stopping.bracket_of(sid) for sid in ids] == [stopping.bracket_of(sid) for sid in ids]
    assert set(placed) == {0, 1, 2, 3}
    assert placed[0] > placed[3]  # the most aggressive bracket gets the most runs
    assert [stopping.milestones(b) for b in range(4)] == [[1, 3, 9, 27], [3, 9, 27], [9, 27],
                                                          [27]]


def test_hyperband_ranks_a_run_only_at_the_rungs_of_its_own_bracket(service):
    experiment = experiment_with(service, {**asha(), "scheduler": "hyperband", "max_resource": 81})
    stopping = experiment.spec.early_stopping
    assert stopping is not None
    k = keys.ExperimentKeys(experiment.id)
    seen: set[int] = set()
    for run in runs(service, experiment, 40):
        bracket = stopping.bracket_of(run.id)
        first_rung = stopping.milestones(bracket)[0]
        run.value(first_rung - 0.5, 1.0)  # below its first rung: ranked nowhere
        assert not any(service.store.redis.zscore(k.rung(b, 0), run.id) is not None
                       for b in range(4))
        run.value(first_rung, 1.0)
        assert [b for b in range(4)
                if service.store.redis.zscore(k.rung(b, 0), run.id) is not None] == [bracket]
        seen.add(bracket)
    assert seen == {0, 1, 2, 3}


# median rule ----------------------------------------------------------------------------------


def median(**settings: Any) -> dict[str, Any]:
    return {"scheduler": "median", "min_resource": 1, "min_samples": 3, **settings}


def test_the_median_rule_waits_for_min_samples_other_runs(service):
    experiment = experiment_with(service, median())
    others = runs(service, experiment, 3)
    laggard = Run(service, experiment)
    for run, loss in zip(others[:2], (0.1, 0.2), strict=True):
        assert run.value(2, loss).status is ReportReply.CONTINUE
    assert laggard.value(2, 9.0).status is ReportReply.CONTINUE  # only 2 others at step 2
    # the median of the others (0.1, 0.2, 9.0) is 0.2: 0.15 is better
    assert others[2].value(2, 0.15).status is ReportReply.CONTINUE
    decision = laggard.value(3, 9.0)  # not at step 3: 0 others
    assert decision.status is ReportReply.CONTINUE
    for run in others:
        run.value(4, 0.1)
    decision = laggard.value(4, 9.0)
    assert decision.status is ReportReply.STOP
    assert decision.reason == "median: its best so far is below the median of 3 other runs " \
        "at step 4"


def test_the_median_rule_ranks_a_runs_best_so_far_not_its_last_report(service):
    experiment = experiment_with(service, median())
    others = runs(service, experiment, 3)
    wobbly = Run(service, experiment)
    assert wobbly.value(1, 0.1).status is ReportReply.CONTINUE
    for run in others:
        run.value(2, 0.5)
    assert wobbly.value(2, 0.9).status is ReportReply.CONTINUE  # its best, 0.1, beats 0.5


def test_the_median_rule_does_not_stop_before_its_warm_up(service):
    experiment = experiment_with(service, median(min_resource=5))
    for run in runs(service, experiment, 3):
        run.value(2, 0.1)
    late = Run(service, experiment)
    assert late.value(2, 9.0).status is ReportReply.CONTINUE


# convergence ----------------------------------------------------------------------------------


def convergence(**settings: Any) -> dict[str, Any]:
    return {"scheduler": "convergence", "lookback_checkpoints": 2, "min_checkpoints": 4,
            "min_relative_improvement": 0.1, **settings}


def test_convergence_stops_after_lookback_reports_without_enough_improvement(service):
    experiment = experiment_with(service, convergence())
    run = Run(service, experiment)
    # 1.0 best; 0.95 and 0.92 improve by less than 10%: no new best
    for step, loss in ((1, 1.0), (2, 0.95)):
        assert run.value(step, loss).status is ReportReply.CONTINUE
    assert run.value(3, 0.92).status is ReportReply.CONTINUE  # 2 without, but < 4 reports
    decision = run.value(4, 0.91)
    assert decision.status is ReportReply.STOP
    assert decision.reason == "convergence: loss has not improved in the last 2 checkpoints"


def test_convergence_counts_a_large_enough_improvement_as_a_new_best(service):
    experiment = experiment_with(service, convergence(min_checkpoints=1))
    run = Run(service, experiment)
    for step, loss in ((1, 1.0), (2, 0.95), (3, 0.8), (4, 0.79)):
        assert run.value(step, loss).status is ReportReply.CONTINUE
    assert run.value(5, 0.78).status is ReportReply.STOP  # best at report 3, 2 since


def test_training_monitor_max_checkpoints_ends_the_run_as_done(service):
    experiment = experiment_with(service, None, training_monitor={"max_checkpoints": 3})
    run = Run(service, experiment)
    assert run.value(1, 0.5).status is ReportReply.CONTINUE
    assert run.value(2, 0.4).status is ReportReply.CONTINUE
    assert run.value(3, 0.3) == Decision(ReportReply.DONE, "reached max_checkpoints 3")
    assert not run.state.stopped


def test_max_checkpoints_counts_reports_under_any_scheduler(service):
    experiment = experiment_with(service, median(max_checkpoints=2))
    run = Run(service, experiment)
    assert run.value(1, 0.5).status is ReportReply.CONTINUE
    assert run.value(5, 0.4).status is ReportReply.DONE


# resource budget, stickiness, fencing ---------------------------------------------------------


def test_the_resource_budget_is_shared_by_every_run_and_stops_them_once_spent(service):
    experiment = experiment_with(service, asha(), resource_budget=10)
    first, second = runs(service, experiment, 2)
    for step in range(1, 7):
        assert first.value(step, 1.0 / step).status is ReportReply.CONTINUE
    for step in range(1, 4):
        assert second.value(step, 0.5 / step).status is ReportReply.CONTINUE
    assert service.store.resource_spent(experiment.id) == 9
    decision = second.value(4, 0.1)
    assert decision == Decision(ReportReply.STOP, "the resource budget of 10 is spent")
    assert first.value(7, 0.1).status is ReportReply.STOP  # spent for every run
    assert service.store.resource_spent(experiment.id) == 11


def test_a_stop_is_sticky_after_the_run_is_claimed_again(service):
    experiment = experiment_with(service, asha())
    good, bad = runs(service, experiment, 2)
    good.value(1, 0.1)
    stopped = bad.value(1, 0.9)
    assert stopped.status is ReportReply.STOP
    bad.lose_lease()
    bad.epoch = bad.claim()
    for step in (1, 2):
        assert bad.value(step, 0.01) == stopped  # even a now excellent report


def test_a_step_that_does_not_rise_is_refused_naming_the_last_step(service):
    experiment = experiment_with(service, asha())
    run = Run(service, experiment)
    run.value(3, 0.5)
    for step in (3, 2):
        with pytest.raises(InvalidInput, match=r"step \d is not above the last step "
                                               r"reported, 3; steps must increase"):
            run.value(step, 0.4)
    store_decision = service.store.report(
        experiment.id, run.id, run.epoch, Report(2.0, {"loss": 0.4}),
        experiment.spec.early_stopping)
    assert store_decision == Decision(ReportReply.BACKWARD, "3")
    assert [r.step for r in service.store.curve(experiment.id, run.id)] == [3]


def test_a_report_from_an_earlier_claim_is_stale_and_stores_nothing(service):
    experiment = experiment_with(service, asha())
    run = Run(service, experiment)
    run.value(1, 0.5)
    zombie = run.epoch
    run.lose_lease()
    assert run.report(2, {"loss": 0.1}, epoch=zombie).status is ReportReply.STALE  # queued
    run.epoch = run.claim()
    assert run.report(2, {"loss": 0.1}, epoch=zombie).status is ReportReply.STALE  # re-claimed
    assert service.store.record_checkpoint(experiment.id, run.id, zombie, 2, "/zombie") \
        == (CheckpointReply.STALE, "")
    assert [r.step for r in service.store.curve(experiment.id, run.id)] == [1]
    assert run.state.checkpoint == "" and run.state.step is None  # claim reset its step
    assert service.store.resource_spent(experiment.id) == 1
    assert run.value(1, 0.4).status is ReportReply.CONTINUE  # the current claimant goes on


def test_a_claim_resets_the_reported_step_to_the_checkpoint(service):
    experiment = experiment_with(service, asha())
    run = Run(service, experiment)
    for step in (1, 2, 3):
        run.value(step, 1.0 / step)
    assert service.store.record_checkpoint(experiment.id, run.id, run.epoch, 2, "/ckpt-2") \
        == (CheckpointReply.OK, "")
    run.lose_lease()
    claim = service.store.claim(experiment.id, run.id, "host:2", 10_000)
    assert (claim.checkpoint, claim.checkpoint_step) == ("/ckpt-2", 2.0)
    run.epoch = claim.epoch
    assert run.state.step == 2
    assert run.value(3, 0.3).status is ReportReply.CONTINUE  # step 3 again: the redone epoch
    curve = service.store.curve(experiment.id, run.id)
    assert [r.step for r in curve] == [1, 2, 3] and curve[-1].epoch == claim.epoch


def test_a_report_for_a_closed_suggestion_is_refused(service):
    experiment = experiment_with(service, asha())
    run = Run(service, experiment)
    observation = service.new_observation(experiment, run.state, {"loss": (0.1, None)})
    assert service.observe(observation, epoch=run.epoch) is ObserveReply.OK
    assert run.value(1, 0.5).status is ReportReply.CLOSED


def test_stopped_events_are_emitted_once_per_stop(service):
    experiment = experiment_with(service, asha())
    good, bad = runs(service, experiment, 2)
    good.value(1, 0.1)
    bad.value(1, 0.9)
    bad.value(2, 0.8)
    events = service.store.redis.xrange(keys.ExperimentKeys(experiment.id).events)
    assert [f["sid"] for _, f in events if f.get("type") == "stopped"] == [bad.id]


# config validation ----------------------------------------------------------------------------


BASE: dict[str, Any] = {
    "name": "v", "budget": 5, "evaluate": "pkg.mod:fn",
    "parameters": [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}],
    "metrics": LOSS,
}


def problem(**top: Any) -> str:
    with pytest.raises(ConfigError) as raised:
        validate_experiment({**BASE, **top}, require_evaluation=True)
    return str(raised.value)


@pytest.mark.parametrize(("top", "expected"), [
    ({"early_stopping": {"scheduler": "asha"}},
     "config: early_stopping.max_resource: required for scheduler: asha"),
    ({"early_stopping": asha(min_resource=27)},
     "config: early_stopping.min_resource: 27 must be below max_resource 27"),
    ({"early_stopping": asha(reduction_factor=1.5)},
     "config: early_stopping.reduction_factor: must be at least 2"),
    ({"early_stopping": asha(reduction_factr=3)},
     "config: early_stopping.reduction_factr: unknown key; did you mean 'reduction_factor'?"),
    ({"early_stopping": asha(metric="accuracy")},
     "config: early_stopping.metric: 'accuracy' is not a metric of this experiment; use one "
     "of loss"),
    ({"early_stopping": {**asha(), "scheduler": "ashaa"}},
     "config: early_stopping.scheduler: must be one of asha, hyperband, median, convergence"),
    ({"early_stopping": {"scheduler": "convergence"}},
     "config: early_stopping.lookback_checkpoints: required for scheduler: convergence"),
    ({"early_stopping": asha(), "training_monitor": {"max_checkpoints": 3}},
     "config: training_monitor: give either early_stopping or training_monitor, not both"),
    ({"checkpoints": {"keep": "first"}},
     "config: checkpoints.keep: must be one of last, all, none"),
    ({"resource_budget": 0}, "config: resource_budget: must be above 0"),
])
def test_a_bad_early_stopping_config_is_one_line_naming_the_field(top, expected):
    message = problem(**top)
    assert "\n" not in message and message.startswith(expected), message


@pytest.mark.parametrize("brackets", [0, 9])
def test_hyperband_brackets_out_of_range_is_one_line_naming_the_field(brackets):
    message = problem(early_stopping={**asha(), "scheduler": "hyperband",
                                      "brackets": brackets})
    assert message.startswith("config: early_stopping.brackets:") and "\n" not in message, \
        message


def test_hyperband_brackets_out_of_range_names_the_field_and_the_allowed_range():
    message = problem(early_stopping={**asha(), "scheduler": "hyperband", "brackets": 9})
    assert "early_stopping.brackets: must be between 1 and 3, got 9" in message


def test_a_valid_asha_block_gives_the_rungs_below_max_resource():
    spec: ExperimentSpec = validate_experiment({**BASE, "early_stopping": asha()},
                                               require_evaluation=True)
    assert spec.early_stopping is not None
    assert spec.early_stopping.milestones() == [1, 3, 9] and spec.early_stopping.sign == -1


def test_unit_store_lua_has_cjson():
    """The decisions above need cjson inside fakeredis' Lua; fail loudly if it goes away."""
    import fakeredis

    assert fakeredis.FakeRedis().eval("return cjson.encode({1})", 0) in (b"[1]", "[1]")


def test_a_run_that_reaches_max_resource_as_the_budget_runs_out_is_done_not_stopped(service):
    experiment = experiment_with(service, asha(max_resource=9), resource_budget=9)
    run = Run(service, experiment)
    for step in (1, 3):
        assert run.value(step, 1.0 / step).status is ReportReply.CONTINUE
    assert run.value(9, 0.1) == Decision(ReportReply.DONE, "reached max_resource 9")


def test_a_run_restarted_without_a_checkpoint_is_not_judged_by_its_lost_attempts_best(service):
    experiment = experiment_with(service, convergence(min_checkpoints=1,
                                                      min_relative_improvement=0))
    run = Run(service, experiment)
    for step, loss in ((1, 1.0), (2, 0.5), (3, 0.3)):
        assert run.value(step, loss).status is ReportReply.CONTINUE
    run.lose_lease()
    run.epoch = run.claim()  # no checkpoint: training starts again at step 1
    for step, loss in ((1, 1.0), (2, 0.5), (3, 0.3)):
        assert run.value(step, loss).status is ReportReply.CONTINUE, step


def test_a_run_resumed_from_a_checkpoint_is_judged_by_its_progress_at_that_checkpoint(service):
    """The lost attempt's reports after the checkpoint (0.3, 0.29) are not the resumed run's
    best: it is compared with 0.5, the best at its checkpoint."""
    experiment = experiment_with(service, convergence(min_checkpoints=1,
                                                      min_relative_improvement=0))
    run = Run(service, experiment)
    for step, loss in ((1, 1.0), (2, 0.5)):
        assert run.value(step, loss).status is ReportReply.CONTINUE
    service.store.record_checkpoint(experiment.id, run.id, run.epoch, 2, "/ckpt-2")
    for step, loss in ((3, 0.3), (4, 0.29)):
        assert run.value(step, loss).status is ReportReply.CONTINUE
    run.lose_lease()
    run.epoch = run.claim()
    for step, loss in ((3, 0.45), (4, 0.4)):
        assert run.value(step, loss).status is ReportReply.CONTINUE, step
