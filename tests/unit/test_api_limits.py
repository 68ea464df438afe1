"""Hostile or runaway clients in-process (TestClient over fakeredis with Lua): rate limits,
body limits, malformed JSON, metadata limits, response headers and token handling."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from coordinator.api import create_app
from coordinator.api.limits import ApiLimits, parse_rate
from coordinator.errors import InvalidInput
from coordinator.state.tokens import StaticTokens, TokenRecord, Tokens

pytestmark = pytest.mark.timeout(60)

PARAMETERS = [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}]
EXPERIMENT = {"name": "limits", "parameters": PARAMETERS, "metrics": [{"name": "score"}],
              "observation_budget": 5}
AI_EXPERIMENT = {"name": "limits", "parameters": PARAMETERS, "metrics": [{"name": "score"}],
                 "budget": 3}


def make_client(service, client: str = "acme", **limits) -> TestClient:
    token, _ = Tokens(service.store.redis).create(client)
    http = TestClient(create_app(service, tokens={}, limits=ApiLimits(**limits)))
    http.auth = (token, "")
    return http


@pytest.fixture
def client(service) -> TestClient:
    return make_client(service, max_body=4096)


@pytest.fixture
def experiment_id(client) -> str:
    answer = client.post("/v1/experiments", json=EXPERIMENT)
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def test_a_token_over_its_rate_gets_sigopts_429_with_retry_after_and_others_do_not(service):
    slow = make_client(service, rate=0.5, burst=2)
    other = TestClient(slow.app)
    other.auth = (Tokens(service.store.redis).create("acme")[0], "")
    assert [slow.get("/v1/tokens/self").status_code for _ in range(2)] == [200, 200]
    refused = slow.get("/v1/tokens/self")
    assert refused.status_code == 429
    assert refused.json()["status"] == 429 and "rate limit" in refused.json()["message"]
    assert refused.headers["retry-after"] == "2"
    assert refused.headers["content-type"] == "application/json"
    assert other.get("/v1/tokens/self").status_code == 200


def test_rate_limit_settings_come_from_options_then_environment_then_defaults(monkeypatch):
    assert parse_rate("100/s") == 100 and parse_rate("2.5") == 2.5 and parse_rate("off") == 0
    with pytest.raises(InvalidInput, match="rate limit"):
        parse_rate("fast")
    monkeypatch.setenv("CELERIAC_API_RATE_LIMIT", "7/s")
    monkeypatch.setenv("CELERIAC_API_MAX_BODY_BYTES", "5000")
    assert ApiLimits.from_env() == ApiLimits(rate=7, burst=2000, max_body=5000)
    assert ApiLimits.from_env("3/s", 9).rate == 3 and ApiLimits.from_env("3/s", 9).burst == 9
    monkeypatch.setenv("CELERIAC_API_BURST", "lots")
    with pytest.raises(InvalidInput, match="CELERIAC_API_BURST"):
        ApiLimits.from_env()


def test_a_body_over_the_limit_is_a_413_whether_declared_or_streamed(client, experiment_id):
    path = f"/v1/experiments/{experiment_id}/observations"
    declared = client.post(path, content=b" " * 5000)
    assert declared.status_code == 413 and declared.json()["status"] == 413

    def chunks():
        for _ in range(10):
            yield b" " * 1000

    streamed = client.post(path, content=chunks())  # chunked: no Content-Length
    assert streamed.status_code == 413 and "larger than" in streamed.json()["message"]
    assert service_counts(client, experiment_id) == 0


def service_counts(client: TestClient, experiment_id: str) -> int:
    return client.app.state.service.store.counts(experiment_id).observations


@pytest.mark.parametrize("raw, problem", [
    (b"[" * 3000, "not valid JSON"),
    (b'{"metadata":' + b'{"a":' * 40 + b"1" + b"}" * 41, "nested deeper"),
    (b'{"value": 1, "metadata": {"k": "\\ud800"}}', "surrogate"),
    (b'{"value": 1' + b"9" * 3000 + b"}", "too large for a 64-bit integer"),
    (b'{"value": 1, "value": "\xc3\x28"}', "not valid JSON"),
])
def test_hostile_json_is_a_400_naming_the_problem_and_records_nothing(
        client, experiment_id, raw, problem):
    answer = client.post(f"/v1/experiments/{experiment_id}/observations", content=raw)
    assert answer.status_code == 400, answer.text
    assert problem in answer.json()["message"]
    assert service_counts(client, experiment_id) == 0


def over_limit_metadata() -> list[tuple[object, str]]:
    return [({f"k{i}": i for i in range(101)}, "at most 100 keys"),
            ({"k" * 101: 1}, "1 to 100 characters"),
            ({"k": "v" * 501}, "500 characters"),
            ({"k": {"nested": 1}}, "metadata.k"),
            ({"k": True}, "metadata.k"),
            (["not", "an", "object"], "metadata")]


@pytest.mark.parametrize("metadata, problem", over_limit_metadata())
def test_metadata_over_sigopts_limits_is_refused_wherever_it_enters(
        client, experiment_id, metadata, problem):
    base = f"/v1/experiments/{experiment_id}"
    attempts = [
        ("POST", "/v1/experiments", {**EXPERIMENT, "metadata": metadata}),
        ("POST", f"{base}/suggestions", {"metadata": metadata}),
        ("POST", f"{base}/observations", {"assignments": {"x": 0.5}, "value": 1,
                                          "metadata": metadata}),
        ("POST", "/v1/clients/acme/projects", {"id": "p", "metadata": metadata}),
        ("POST", "/v1/clients/acme/projects/p/aiexperiments",
         {**AI_EXPERIMENT, "metadata": metadata}),
    ]
    for method, path, body in attempts:
        answer = client.request(method, path, json=body)
        assert answer.status_code == 400, (path, answer.text)
        assert problem in answer.json()["message"], path
    assert service_counts(client, experiment_id) == 0


def test_training_run_metadata_stays_within_limits_across_merges(client):
    ai = client.post("/v1/clients/acme/projects/p/aiexperiments", json=AI_EXPERIMENT).json()
    assert client.post(f"/v1/aiexperiments/{ai['id']}/training_runs",
                       json={"metadata": {"k": "v" * 501}}).status_code == 400
    run = client.post(f"/v1/aiexperiments/{ai['id']}/training_runs", json={}).json()
    path = f"/v1/training_runs/{run['id']}"
    assert client.request("MERGE", path, json={
        "metadata": {f"a{i}": i for i in range(60)}}).status_code == 200
    second = client.request("MERGE", path, json={"metadata": {f"b{i}": i for i in range(60)}})
    assert second.status_code == 400 and "at most 100 keys" in second.json()["message"]
    assert len(client.get(path).json()["metadata"]) == 60


def test_answers_are_json_with_nosniff_and_names_cannot_become_markup(client):
    answer = client.post("/v1/experiments", json={**EXPERIMENT, "name": "<script>x</script>"})
    assert answer.status_code == 200
    assert "<script>" not in answer.text and answer.json()["name"] == "<script>x</script>"
    for reply in (answer, client.get("/v1/nothing/<b>"), client.get("/health"),
                  client.post(f"/v1/experiments/{answer.json()['id']}/observations",
                              content=b"{")):
        assert reply.headers["content-type"] == "application/json"
        assert reply.headers["x-content-type-options"] == "nosniff"


def test_configured_tokens_are_held_as_digests_and_still_authenticate(service):
    record = TokenRecord(id="config", client="default", user="default", created=0)
    static = StaticTokens({"s3cret-token": record})
    assert "s3cret-token" not in repr(static.records)
    assert static.lookup("s3cret-token") == record and static.lookup("s3cret-tokem") is None
    http = TestClient(create_app(service, tokens={"s3cret-token": record},
                                 limits=ApiLimits(rate=0)))
    assert http.get("/v1/tokens/self", auth=("s3cret-token", "")).json()["client"] == "default"
    assert http.get("/v1/tokens/self", auth=("s3cret-tokem", "")).status_code == 403


def test_a_revoked_token_is_a_403_saying_revoked_in_the_api_and_the_dashboard(service):
    tokens = Tokens(service.store.redis)
    token, record = tokens.create("acme")
    tokens.revoke(record.id)
    http = TestClient(create_app(service, tokens={}))
    answer = http.get("/v1/experiments/1", auth=(token, ""))
    assert answer.status_code == 403
    assert json.loads(answer.text) == {"message": answer.json()["message"], "status": 403,
                                       "token_status": "revoked"}
    assert http.get("/dashboard/", auth=(token, "")).status_code == 403
