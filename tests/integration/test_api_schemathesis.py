"""Schemathesis drives generated requests from /openapi.json at the real server: none may get a
500, and afterwards the store must still be consistent."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from tests.integration.api_fixtures import *  # noqa: F403
from tests.integration.api_fixtures import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

TARGETS: dict[str, str] = {}
EXAMPLES = 15


@pytest.fixture(scope="module")
def api_schema(api: ApiServer):
    """Real objects for the generated paths to hit, besides the random ids that get 404s."""
    with api.http() as http:
        core = http.post("/v1/experiments", json={
            "name": "fuzzed", "parameters": [
                {"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}},
                {"name": "k", "type": "categorical", "categorical_values": ["a", "b"]}],
            "metrics": [{"name": "v"}], "observation_budget": 50}).json()
        ai = http.post("/v1/clients/default/projects/fuzz/aiexperiments", json={
            "name": "fuzzed ai", "parameters": [
                {"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}],
            "metrics": [{"name": "v"}], "budget": 50}).json()
        run = http.post(f"/v1/aiexperiments/{ai['id']}/training_runs", json={}).json()
    TARGETS.update(core=core["id"], ai=ai["id"], run=run["id"])
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    return schema.exclude(method="DELETE", path_regex=r"^/v1/(ai)?experiments/\{[a-z_]+\}$")


def _aim(case) -> None:
    """Half the cases go to the real objects so validation paths run, not just 404s."""
    if hash(repr(case.body)) % 2:
        return
    params = case.path_parameters or {}
    if "experiment_id" in params:
        params["experiment_id"] = TARGETS["ai" if "aiexperiments" in case.path else "core"]
    if "run_id" in params:
        params["run_id"] = TARGETS["run"]
    if "client_id" in params:
        params["client_id"] = "default"


def _check(api: ApiServer, operation) -> None:
    strategy = st.one_of(operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
                         operation.as_strategy(schemathesis.GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True, database=None)
    def run(case) -> None:
        _aim(case)
        response = case.call(base_url=api.url, auth=(api.token, ""), timeout=30)
        case.validate_response(response, checks=[not_a_server_error])
    run()


def test_no_generated_request_gets_a_server_error(api, api_schema):
    """Valid and invalid requests for every operation (schemathesis' pytest loader does not
    support this pytest yet, so its strategies are driven with hypothesis directly)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        _check(api, operation)


def test_the_store_is_consistent_after_the_generated_requests(api):
    """Runs after the generated requests in this module (pytest keeps file order)."""
    store = api.service.store
    with api.http() as http:
        assert http.get("/health").status_code == 200
    for experiment_id in store.experiment_ids():
        suggestions = store.suggestions(experiment_id, store.suggestion_ids(experiment_id))
        open_ids = set(store.open_ids(experiment_id))
        assert open_ids == {s.id for s in suggestions if s.is_open}
        open_points = Counter(repr(sorted(s.assignments.items())) for s in suggestions
                              if s.is_open)
        assert all(n == 1 for n in open_points.values()), "two open suggestions share a point"
        observations = store.observations(experiment_id)
        observed = Counter(o.suggestion for o in observations if o.suggestion)
        assert all(n == 1 for n in observed.values()), "a suggestion was observed twice"
        assert set(observed) == {s.id for s in suggestions if s.state == "closed"}
        counts = store.counts(experiment_id)
        assert counts.observations == len(observations)
        assert counts.failed == sum(o.failed for o in observations)
    assert httpx.get(f"{api.url}/openapi.json").status_code == 200
