"""The HTTP API in-process (Starlette TestClient over fakeredis): auth, errors, validation,
paging, runs. The official client's workflows run against a real server in integration/."""

from __future__ import annotations

import base64

import pytest
from starlette.testclient import TestClient

from coordinator.api import create_app
from coordinator.engine.backlog import SERVER, BacklogKeeper
from coordinator.state.tokens import Tokens

PARAMETERS = [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}},
              {"name": "kind", "type": "categorical", "categorical_values": ["a", "b"]}]


@pytest.fixture
def tokens(fake_redis) -> Tokens:
    return Tokens(fake_redis)


@pytest.fixture
def client(service, tokens) -> TestClient:
    token, _ = tokens.create("acme")
    http = TestClient(create_app(service, tokens={}))
    http.auth = (token, "")
    return http


@pytest.fixture
def experiment(client) -> dict:
    answer = client.post("/v1/experiments", json={
        "name": "unit", "parameters": PARAMETERS, "metrics": [{"name": "score"}],
        "observation_budget": 5, "parallel_bandwidth": 2})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_requests_without_a_token_get_401_and_unknown_or_revoked_tokens_403(
        service, tokens):
    http = TestClient(create_app(service, tokens={}))
    missing = http.get("/v1/tokens/self")
    assert missing.status_code == 401 and missing.json()["status"] == 401
    assert http.get("/v1/tokens/self", auth=("nope", "")).status_code == 403
    token, record = tokens.create("acme")
    assert http.get("/v1/tokens/self", auth=(token, "")).json()["client"] == "acme"
    tokens.revoke(record.id)
    revoked = http.get("/v1/tokens/self", auth=(token, ""))
    assert revoked.status_code == 403 and revoked.json()["token_status"] == "revoked"
    garbled = http.get("/v1/tokens/self", headers={"Authorization": "Basic %%%"})
    assert garbled.status_code == 400


def test_tokens_are_stored_as_digests_and_listed_without_the_secret(tokens, fake_redis):
    token, record = tokens.create("acme")
    stored = str(fake_redis.hgetall("celeriac:tokens"))
    assert token not in stored
    assert [r.id for r in tokens.all()] == [record.id]
    assert tokens.lookup(token) == record


def test_an_experiment_echoes_its_fields_and_always_has_progress(client, experiment):
    assert experiment["object"] == "experiment" and experiment["id"].isdigit()
    assert experiment["observation_budget"] == 5 and experiment["parallel_bandwidth"] == 2
    assert experiment["progress"]["observation_count"] == 0
    assert experiment["parameters"][1]["categorical_values"][0] == {
        "object": "categorical_value", "name": "a", "enum_index": 1}
    fetched = client.get(f"/v1/experiments/{experiment['id']}").json()
    assert fetched["progress"]["observation_count"] == 0


@pytest.mark.parametrize("body, field", [
    ({"name": "e", "parameters": [{"name": "x", "type": "double",
                                   "bounds": {"min": 2, "max": 1}}]}, "parameters[0].bounds"),
    ({"name": "e", "parameters": PARAMETERS, "metricz": []}, "metricz"),
    ({"name": "e", "parameters": PARAMETERS, "observation_budget": "ten"},
     "observation_budget"),
    ({"parameters": PARAMETERS}, "name"),
])
def test_an_invalid_experiment_is_a_400_naming_the_field(client, body, field):
    answer = client.post("/v1/experiments", json=body)
    assert answer.status_code == 400 and field in answer.json()["message"]


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b'{"name": NaN}', b'{"value": 1e999}',
                                 b"\xff\xfe", b"[" * 100000])
def test_malformed_json_is_a_400_that_says_so(client, experiment, raw):
    answer = client.post(f"/v1/experiments/{experiment['id']}/observations", content=raw)
    assert answer.status_code == 400 and "request body" in answer.json()["message"]


@pytest.mark.parametrize("body, field", [
    ({"suggestion": "1", "assignments": {"x": 0.5, "kind": "a"}, "value": 1}, "suggestion"),
    ({"assignments": {"x": 0.5, "kind": "a"}}, "value"),
    ({"assignments": {"x": 0.5, "kind": "a"}, "value": 1, "bogus": 1}, "bogus"),
    ({"assignments": {"x": 0.5, "kind": "a"}, "failed": True, "values": [{"value": 1}]},
     "failed"),
    ({"assignments": {"x": 0.5, "kind": "a"}, "value": 1, "value_stddev": -1},
     "value_stddev"),
    ({"assignments": {"x": 0.5, "kind": "a"}, "values": [{"name": "other", "value": 1}]},
     "values[0].name"),
    ({"assignments": {"x": 2.0, "kind": "a"}, "value": 1}, "assignments.x"),
    ({"assignments": {"x": 0.5, "kind": "z"}, "value": 1}, "assignments.kind"),
    ({"assignments": {"x": 0.5}, "value": 1}, "assignments.kind"),
    ({"suggestion": "999999", "value": 1}, "suggestion"),
    ({"suggestion": "abc", "value": 1}, "suggestion"),
    ({"assignments": {"x": 0.5, "kind": "a"}, "value": "high"}, "value"),
    ({"assignments": {"x": 0.5, "kind": "a"}, "value": 1, "metadata": {"k": [1]}},
     "metadata.k"),
])
def test_an_invalid_observation_is_a_400_naming_the_field(client, experiment, body, field):
    answer = client.post(f"/v1/experiments/{experiment['id']}/observations", json=body)
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["message"]


def test_a_suggestion_is_observed_once_and_then_closed(client, experiment):
    base = f"/v1/experiments/{experiment['id']}"
    suggestion = client.post(f"{base}/suggestions", json={}).json()
    assert suggestion["state"] == "open"
    body = {"suggestion": suggestion["id"], "value": 0.5, "value_stddev": None,
            "failed": None}
    first = client.post(f"{base}/observations", json=body)
    assert first.status_code == 200 and first.json()["value"] == 0.5
    second = client.post(f"{base}/observations", json=body)
    assert second.status_code == 400 and "already has an observation" in second.text
    assert client.get(f"{base}/suggestions/{suggestion['id']}").json()["state"] == "closed"


def test_a_manual_suggestion_keeps_its_assignments_and_cannot_repeat_an_open_one(
        client, experiment):
    base = f"/v1/experiments/{experiment['id']}/suggestions"
    body = {"assignments": {"x": 0.25, "kind": "b"}}
    made = client.post(base, json=body).json()
    assert made["assignments"] == {"x": 0.25, "kind": "b"}
    assert client.post(base, json=body).status_code == 400


def test_paging_parameters_are_checked_and_limit_zero_gives_only_the_count(client, experiment):
    base = f"/v1/experiments/{experiment['id']}/suggestions"
    for _ in range(3):
        client.post(base, json={})
    assert client.get(base, params={"limit": 0}).json()["count"] == 3
    assert client.get(base, params={"limit": 0}).json()["data"] == []
    for params in ({"limit": "abc"}, {"limit": 5000}, {"before": "x1"}, {"state": "running"}):
        answer = client.get(base, params=params)
        assert answer.status_code == 400 and list(params)[0] in answer.json()["message"]
    first = client.get(base, params={"limit": 2}).json()
    rest = client.get(base, params={"limit": 2, "before": first["paging"]["before"]}).json()
    assert len(first["data"]) == 2 and len(rest["data"]) == 1
    assert rest["paging"]["before"] is None


def test_unknown_endpoints_and_methods_get_sigopt_error_bodies(client, experiment):
    missing = client.get("/v1/nothing/<script>")
    assert missing.status_code == 404
    assert missing.json()["message"] == "Endpoint not found: /v1/nothing/&lt;script&gt;"
    assert client.patch(f"/v1/experiments/{experiment['id']}").status_code == 405
    assert client.get("/v1/experiments/123456789").status_code == 404


def test_a_training_run_merges_values_and_records_its_observation_when_completed(client):
    created = client.post("/v1/clients/acme/projects/p1/aiexperiments", json={
        "name": "ai", "parameters": PARAMETERS, "metrics": [{"name": "score"}], "budget": 2})
    assert created.status_code == 200, created.text
    eid = created.json()["id"]
    run = client.post(f"/v1/aiexperiments/{eid}/training_runs",
                      json={"name": "r", "metadata": None}).json()
    path = f"/v1/training_runs/{run['id']}"
    client.request("MERGE", path, json={"values": {"score": {"value": 0.8}},
                                        "metadata": {"a": 1, "b": 2}})
    skipped = client.request("MERGE", path, json={"metadata": {"a": None}, "state": "completed"},
                             headers={"X-Response-Content": "skip"})
    assert skipped.status_code == 204
    fetched = client.get(path).json()
    assert fetched["state"] == "completed" and fetched["metadata"] == {"b": 2}
    assert fetched["values"]["score"]["value"] == 0.8 and fetched["observation"]
    progress = client.get(f"/v1/aiexperiments/{eid}").json()["progress"]
    assert progress == {"object": "progress", "finished_run_count": 1, "active_run_count": 0,
                        "total_run_count": 1, "remaining_budget": 1}
    best = client.get(f"/v1/aiexperiments/{eid}/best_training_runs").json()
    assert [r["id"] for r in best["data"]] == [run["id"]]
    assert client.request("MERGE", path, json={"state": "done"}).status_code == 400
    assert client.get("/v1/clients/other/projects/p1").status_code == 404
    assert client.post("/v1/clients/acme/projects", json={"id": "p1"}).status_code == 409


def test_the_servers_keeper_fills_each_backlog_and_refreshes_it_after_an_observation(
        client, experiment, service):
    keeper = BacklogKeeper(service.suggester, SERVER)
    assert keeper.refresh_stale() == 1
    assert service.store.counts(experiment["id"]).backlog == 4
    assert keeper.refresh_stale() == 0
    base = f"/v1/experiments/{experiment['id']}"
    suggestion = client.post(f"{base}/suggestions", json={}).json()
    assert suggestion["id"]
    client.post(f"{base}/observations", json={"suggestion": suggestion["id"], "value": 1})
    assert keeper.refresh_stale() == 1


def test_the_openapi_document_lists_every_endpoint(client):
    document = client.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert "post" in document["paths"]["/v1/experiments/{experiment_id}/suggestions"]
    assert "x-merge" in document["paths"]["/v1/training_runs/{run_id}"]


def test_basic_auth_header_is_sigopts_token_colon_nothing(client, tokens):
    token, _ = tokens.create("acme")
    header = "Basic " + base64.b64encode(f"{token}:".encode()).decode()
    http = TestClient(client.app)
    assert http.get("/v1/tokens/self", headers={"Authorization": header}).status_code == 200
