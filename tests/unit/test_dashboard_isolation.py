"""A dashboard login sees only its own client's experiments, exactly as the API does."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from coordinator.api import create_app
from coordinator.state.tokens import Tokens
from tests.unit.conftest import make_spec

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def logins(service, fake_redis):
    tokens = Tokens(fake_redis)
    app = create_app(service, tokens={})
    found = {}
    for client in ("team-a", "team-b"):
        found[client] = TestClient(app)
        found[client].auth = (tokens.create(client)[0], "")
    return found


def test_another_clients_experiment_is_neither_listed_nor_readable(service, logins):
    theirs = service.create_experiment(make_spec(name="team b's"), owner="team-b")
    mine = service.create_experiment(make_spec(name="team a's"), owner="team-a")
    listed = logins["team-a"].get("/dashboard/api/experiments").json()["experiments"]
    assert [row["id"] for row in listed] == [mine.id]
    for path in (f"/dashboard/api/experiments/{theirs.id}",
                 f"/dashboard/api/experiments/{theirs.id}/plots/best.svg"):
        response = logins["team-a"].get(path)
        assert response.status_code == 404, path
        assert response.json()["message"] == f"experiment '{theirs.id}' not found"
    assert logins["team-b"].get(f"/dashboard/api/experiments/{theirs.id}").status_code == 200
