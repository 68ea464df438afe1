"""Client isolation on a real redis-server: a token of one client gets 404 (never 403, which
would reveal that the id exists) from every endpoint that names another client's experiment,
AI experiment, training run or project, and Redis is byte-for-byte unchanged afterwards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from coordinator.api import create_app
from coordinator.api.limits import ApiLimits
from coordinator.api.routes import ENDPOINTS
from coordinator.infra.connection import connect
from coordinator.service.experiments import Service
from coordinator.state.store import Store
from coordinator.state.tokens import Tokens
from tests.integration.processes import coordinator
from tests.unit.redis_snapshot import snapshot

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

PARAMETERS = [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}]
CORE = {"name": "b's", "parameters": PARAMETERS, "metrics": [{"name": "v"}],
        "observation_budget": 5}
AI = {"name": "b's ai", "parameters": PARAMETERS, "metrics": [{"name": "v"}], "budget": 5}
FILE = {"content_length": 3, "content_md5": "kAFQmDzST7DWlj99KOF/cg==", "content_type": "image/png"}
# The caller's own: create, its token, and listings of its own client's experiments (which
# list nothing of another client's: tests/integration/test_sigopt_listings.py)
NOT_OBJECT_SPECIFIC = {("POST", "/v1/experiments"), ("GET", "/v1/tokens/self"),
                       ("GET", "/v1/experiments"), ("GET", "/v1/aiexperiments")}


def http_for(service: Service, client: str) -> TestClient:
    http = TestClient(create_app(service, tokens={}, limits=ApiLimits(rate=0)))
    http.auth = (Tokens(service.store.redis).create(client)[0], "")
    return http


def client_b_objects(b: TestClient) -> dict[str, str]:
    """Everything an endpoint can name, owned by client b, with an observation and a run."""
    core = b.post("/v1/experiments", json=CORE).json()["id"]
    sid = b.post(f"/v1/experiments/{core}/suggestions", json={}).json()["id"]
    oid = b.post(f"/v1/experiments/{core}/observations",
                 json={"suggestion": sid, "value": 1.0}).json()["id"]
    open_sid = b.post(f"/v1/experiments/{core}/suggestions", json={}).json()["id"]
    ai = b.post("/v1/clients/team-b/projects/proj/aiexperiments", json=AI).json()["id"]
    run = b.post(f"/v1/aiexperiments/{ai}/training_runs", json={}).json()["id"]
    checkpoint = b.post(f"/v1/training_runs/{run}/checkpoints",
                        json={"values": [{"name": "v", "value": 1}]}).json()["id"]
    queued = b.post(f"/v1/experiments/{core}/queued_suggestions",
                    json={"assignments": {"x": 0.5}}).json()["id"]
    file_id = b.post(f"/v1/training_runs/{run}/files", json=FILE).json()["id"]
    return {"core": core, "suggestion_id": open_sid, "observation_id": oid, "ai": ai,
            "run_id": run, "checkpoint_id": checkpoint, "client_id": "team-b",
            "project_id": "proj", "queued_suggestion_id": queued, "file_id": file_id}


def body_for(method: str, path: str, ids: dict[str, str]) -> dict | None:
    """A body that client b itself could send, so only ownership stands in the way."""
    if method not in ("POST", "MERGE"):
        return None
    if path.endswith("/observations"):
        return {"suggestion": ids["suggestion_id"], "value": 0.5}
    if path.endswith("/observations/batch"):
        return {"observations": [{"suggestion": ids["suggestion_id"], "value": 0.5}]}
    if path.endswith("/aiexperiments"):
        return AI
    if path.endswith("/projects"):
        return {"id": "another"}
    if path.endswith("/checkpoints"):
        return {"values": [{"name": "v", "value": 1}]}
    if path.endswith("/files"):
        return FILE
    if path.endswith("/training_runs/batch"):
        return {"runs": [{"name": "uploaded"}]}
    return {"state": "completed"} if method == "MERGE" else {}


def fill(path: str, ids: dict[str, str]) -> str:
    def value(found: re.Match) -> str:
        name = found.group(1)
        if name == "experiment_id":
            return ids["ai" if path.startswith("/v1/aiexperiments") else "core"]
        return ids[name]
    return re.sub(r"\{(\w+)\}", value, path)


def test_a_token_of_another_client_gets_404_everywhere_and_changes_nothing(redis_server):
    service = Service(Store(connect(redis_server.url)))
    b, a = http_for(service, "team-b"), http_for(service, "team-a")
    ids = client_b_objects(b)
    before = snapshot(service.store.redis)
    tried = 0
    for endpoint in ENDPOINTS:
        if (endpoint.method, endpoint.path) in NOT_OBJECT_SPECIFIC:
            continue
        path = fill(endpoint.path, ids)
        answer = a.request(endpoint.method, path, json=body_for(endpoint.method, path, ids))
        assert answer.status_code == 404, (endpoint.method, path, answer.text)
        assert answer.json()["status"] == 404
        tried += 1
    assert tried == len(ENDPOINTS) - len(NOT_OBJECT_SPECIFIC)
    filtered = a.get("/v1/clients/team-a/projects/proj/training_runs",
                     params={"filters": f'[{{"field":"experiment","operator":"==",'
                                        f'"value":"{ids["ai"]}"}}]'})
    assert filtered.json()["count"] == 0
    assert snapshot(service.store.redis) == before
    assert b.get(f"/v1/experiments/{ids['core']}").json()["progress"]["observation_count"] == 1


def test_a_foreign_experiment_looks_exactly_like_a_missing_one(redis_server):
    service = Service(Store(connect(redis_server.url)))
    b, a = http_for(service, "team-b"), http_for(service, "team-a")
    core = b.post("/v1/experiments", json=CORE).json()["id"]
    foreign = a.get(f"/v1/experiments/{core}")
    missing = a.get("/v1/experiments/987654321")
    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert foreign.json()["message"] == missing.json()["message"].replace("987654321", core)


def test_cli_experiments_belong_to_the_default_client_only(redis_server, env, tmp_path: Path):
    config = tmp_path / "exp.yml"
    config.write_text("name: cli\nparameters:\n  - {name: x, type: double, "
                      "bounds: {min: 0, max: 1}}\nmetrics: [{name: v}]\nbudget: 3\n"
                      "evaluate: pkg.mod:fn\n")
    experiment_id = coordinator(["create", str(config)], env).stdout.split()[-1]
    service = Service(Store(connect(redis_server.url)))
    operator, team = http_for(service, "default"), http_for(service, "team-a")
    assert operator.get(f"/v1/experiments/{experiment_id}").status_code == 200
    assert operator.post(f"/v1/experiments/{experiment_id}/suggestions",
                         json={}).status_code == 200
    assert team.get(f"/v1/experiments/{experiment_id}").status_code == 404
    assert team.post(f"/v1/experiments/{experiment_id}/suggestions",
                     json={}).status_code == 404
