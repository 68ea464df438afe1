"""A search space with fewer distinct points than the budget ends cleanly once every point is
observed, with real workers: no error while evaluations are in flight, no point twice."""

from __future__ import annotations

import pytest

from tests.integration.invariants import assert_invariants
from tests.integration.processes import coordinator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SMALL = """
name: small
parameters:
  - {name: x, type: categorical, categorical_values: [a, b, c]}
  - {name: n, type: int, bounds: {min: 1, max: 2}}
metrics: [{name: loss, objective: minimize}]
budget: 30
parallel_bandwidth: 4
evaluate: tests.integration.metrics:grid_cell
"""


def test_a_space_smaller_than_the_budget_finishes_when_every_point_is_observed(
        env, tmp_path, service):
    config = tmp_path / "small.yml"
    config.write_text(SMALL)
    result = coordinator(["run", str(config), "--workers", "2"],
                         {**env, "CELERIAC_TEST_SLEEP": "0.3"}, timeout=150, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout + result.stderr
    assert "the search space has 6 distinct points, fewer than the budget of 30" \
        in result.stdout
    experiment = service.experiments()[0]
    assert_invariants(service, experiment.id, 6)
    points = {(o.assignments["x"], o.assignments["n"]) for o in service.observations(experiment)}
    assert len(points) == 6
    status = coordinator(["status", experiment.id], env).stdout
    assert "finished" in status
