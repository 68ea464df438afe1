"""Listings through the official client against a real `coordinator serve`: a client's
experiments (active, archived or all), its projects, a project's experiments and AI
experiments, paged with SigOpt's markers; another client's are not listed."""

from __future__ import annotations

import pytest
from sigopt import Connection
from sigopt.exception import ApiException

from coordinator.state.tokens import Tokens
from tests.integration.api_fixtures import *  # noqa: F403
from tests.integration.api_fixtures import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PARAMETERS = [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}]


def connection(api: ApiServer, token: str | None = None) -> Connection:
    conn = Connection(client_token=token or api.token)
    conn.set_api_url(api.url)
    return conn


def test_a_clients_experiments_and_projects_are_listed_and_paged(api):
    token = Tokens(api.service.store.redis).create("lister")[0]
    conn = connection(api, token)
    client = conn.tokens("self").fetch().client
    made = [conn.experiments().create(name=f"e{i}", parameters=PARAMETERS,
                                      metrics=[{"name": "v"}], observation_budget=3)
            for i in range(5)]
    conn.experiments(made[1].id).delete()
    conn.clients(client).projects().create(id="vision", name="Vision")
    ai = conn.clients(client).projects("vision").aiexperiments().create(
        name="ai", parameters=PARAMETERS, metrics=[{"name": "v"}], budget=3)

    listed = [e.id for e in conn.clients(client).experiments().fetch().iterate_pages()]
    assert listed == [e.id for e in reversed(made) if e.id != made[1].id]  # newest first
    deleted = conn.clients(client).experiments().fetch(state="deleted")
    assert [e.id for e in deleted.iterate_pages()] == [made[1].id]
    assert deleted.data[0].state == "deleted"
    assert len(list(conn.clients(client).experiments().fetch(state="all").iterate_pages())) == 5

    first = conn.clients(client).experiments().fetch(limit=2)
    assert first.count == 4 and len(first.data) == 2
    assert [e.id for e in conn.clients(client).experiments().fetch(
        limit=2).iterate_pages()] == listed  # iterate_pages follows the markers to the end

    projects = conn.clients(client).projects().fetch()
    assert [p.id for p in projects.iterate_pages()] == ["vision"]
    ai_listed = conn.clients(client).projects("vision").aiexperiments().fetch()
    assert [e.id for e in ai_listed.iterate_pages()] == [ai.id]
    assert list(conn.clients(client).projects("vision").experiments().fetch()
                .iterate_pages()) == []

    # another client sees none of them, and cannot list this client's
    other = connection(api)
    assert not {e.id for e in other.clients(other.tokens("self").fetch().client).experiments()
                .fetch(state="all").iterate_pages()} & {e.id for e in made}
    with pytest.raises(ApiException) as caught:
        other.clients(client).experiments().fetch()
    assert caught.value.status_code == 404
    with pytest.raises(ApiException) as caught:
        conn.clients(client).experiments().fetch(state="paused")
    assert caught.value.status_code == 400 and "state: must be one of" in str(caught.value)
