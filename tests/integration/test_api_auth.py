"""Tokens made by `coordinator token create` authenticate the official client; a missing token
is 401, an unknown or revoked one 403, and errors reach the client as SigOpt's messages."""

from __future__ import annotations

import pytest
from sigopt import Connection
from sigopt.exception import ApiException

from tests.integration.api_fixtures import *  # noqa: F403
from tests.integration.api_fixtures import ApiServer
from tests.integration.processes import coordinator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def connect(api: ApiServer, token: str) -> Connection:
    conn = Connection(client_token=token)
    conn.set_api_url(api.url)
    return conn


def status_of(call) -> int:
    with pytest.raises(ApiException) as caught:
        call()
    return caught.value.status_code


def test_cli_tokens_work_until_revoked_and_unknown_or_missing_tokens_are_refused(api):
    env = {**api.env, "CELERIAC_REDIS_URL": api.redis_url}
    token = coordinator(["token", "create", "--client", "team-a"], env).stdout.split()[-1]
    conn = connect(api, token)
    assert conn.tokens("self").fetch().client == "team-a"
    listed = coordinator(["token", "list"], env).stdout
    assert token not in listed and "team-a" in listed
    assert status_of(lambda: connect(api, "not-a-token").experiments("1").fetch()) == 403
    assert conn.tokens("self").fetch().client == "team-a"  # the client backs off after 5 errors
    token_id = [line.split("\t")[0] for line in listed.splitlines() if "team-a" in line][0]
    coordinator(["token", "revoke", token_id], env)
    assert status_of(lambda: conn.tokens("self").fetch()) == 403
    with api.http() as http:
        answer = http.get("/v1/tokens/self", auth=None)
    assert answer.status_code == 401 and answer.json()["status"] == 401


def test_client_errors_carry_the_servers_message_naming_the_field(api):
    conn = connect(api, api.token)
    message = ""
    try:
        conn.experiments().create(name="bad", parameters=[
            {"name": "x", "type": "double", "bounds": {"min": 3, "max": 1}}])
    except ApiException as exc:
        assert exc.status_code == 400
        message = str(exc)
    assert "parameters[0].bounds" in message
    experiment = conn.experiments().create(name="ok", parameters=[
        {"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}])
    suggestion = conn.experiments(experiment.id).suggestions().create()
    assert status_of(lambda: conn.experiments(experiment.id).observations().create(
        suggestion=suggestion.id)) == 400
    assert status_of(lambda: conn.experiments("99999999").fetch()) == 404
