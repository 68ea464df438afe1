"""A broken evaluation explained where the user looks: `run` names the reasons with counts and
exits non-zero when nothing succeeded; `status` and `best` show the same reasons."""

from __future__ import annotations

import pytest

from tests.integration.processes import coordinator

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
