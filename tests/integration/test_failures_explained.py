"""A broken evaluation explained where the user looks: `run` names the reasons with counts and
exits non-zero when nothing succeeded; `status` and `best` show the same reasons."""

from __future__ import annotations

import pytest

from tests.integration.processes import coordinator, end_group, start_coordinator, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

BROKEN = """
name: broken
parameters: [{name: x, type: double, bounds: {min: 0, max: 1}}]
metrics: [{name: loss, objective: minimize}]
budget: 4
parallel_bandwidth: 2
evaluate: tests.integration.metrics:no_such_function
"""


def test_an_all_failed_run_names_its_reason_and_exits_non_zero(env, tmp_path, service):
    config = tmp_path / "broken.yml"
    config.write_text(BROKEN)
    result = coordinator(["run", str(config), "--workers", "1"], env, timeout=150, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    reason = "evaluate: 'tests.integration.metrics' has no function 'no_such_function'"
    assert f"4 failed: {reason}" in result.stdout
    assert "no observation succeeded" in result.stdout
    assert "meets every threshold" not in result.stdout  # nothing to blame thresholds for
    experiment_id = service.experiments()[0].id
    assert f"4 failed: {reason}" in coordinator(["status", experiment_id], env).stdout
    assert f"4 failed: {reason}" in coordinator(["best", experiment_id], env).stdout


def test_a_run_with_no_worker_on_its_redis_says_so_after_the_claim_timeout(env, tmp_path,
                                                                            redis_server):
    config = tmp_path / "quiet.yml"
    config.write_text(BROKEN.replace("no_such_function", "quadratic"))
    log_path = tmp_path / "run.log"
    process = start_coordinator(["run", str(config)], {**env, "CELERIAC_CLAIM_TIMEOUT": "2"},
                                log_path)
    try:
        wait_until(lambda: "no worker has claimed" in log_path.read_text(), 60,
                   what="the no-worker hint")
        text = log_path.read_text()
        assert f"CELERIAC_REDIS_URL={redis_server.url}" in text and "-Q celeriac" in text
    finally:
        end_group(process)


def test_a_run_pauses_after_failures_in_a_row_for_one_reason_and_continues_on_rerun(
        env, tmp_path, service):
    config = tmp_path / "broken.yml"
    config.write_text(BROKEN.replace("budget: 4", "budget: 40")
                      + "pause_after_failures: 3\n")
    result = coordinator(["run", str(config), "--workers", "1"], env, timeout=150, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    reason = "evaluate: 'tests.integration.metrics' has no function 'no_such_function'"
    assert f"paused: the last 3 evaluations failed for the same reason: {reason}" \
        in result.stdout
    experiment = service.experiments()[0]
    assert "experiment 1 paused" in result.stdout and experiment.id == "1"
    first = service.counts(experiment.id)
    # the budget is not spent: at most the streak plus what was open when it ended
    assert 3 <= first.observations <= 3 + 2 and first.open == 0
    again = coordinator(["run", experiment.id, "--workers", "1"], env, timeout=150,
                        check=False)
    assert again.returncode == 1 and "paused: the last 3" in again.stdout
    second = service.counts(experiment.id)
    assert first.observations + 3 <= second.observations <= first.observations + 5


def test_rerunning_a_config_names_its_twin_and_resume_continues_it(env, tmp_path, service):
    config = tmp_path / "twin.yml"
    config.write_text(BROKEN.replace("no_such_function", "slow").replace("budget: 4",
                                                                         "budget: 2"))
    coordinator(["run", str(config), "--workers", "1"], {**env, "CELERIAC_TEST_SLEEP": "0"},
                timeout=150)
    again = coordinator(["run", str(config), "--resume"], env, timeout=60)
    assert "continuing experiment 1" in again.stderr
    assert "experiment 1 finished: 2 observations" in again.stdout
    third = coordinator(["create", str(config)], env, timeout=60)
    assert "note: experiment 1 already has this same config" in third.stderr
    assert [e.id for e in service.experiments()] == ["1", "2"]
