"""Every field the official client can send to create an experiment is either honoured (it
reads back as sent and changes what happens) or refused with a 400 naming it; none is
accepted and dropped. Against a real `coordinator serve`."""

from __future__ import annotations

from typing import Any

import pytest
from sigopt import Connection
from sigopt.exception import ApiException

from tests.integration.api_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

X = {"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}
N = {"name": "n", "type": "int", "bounds": {"min": 1, "max": 9}}
BASE: dict[str, Any] = {"name": "fields", "parameters": [X, N], "metrics": [{"name": "v"}],
                        "observation_budget": 10}


def with_parameter(**extra: Any) -> dict[str, Any]:
    return {"parameters": [{**X, **extra}, N]}


# (what is sent on top of BASE, how the created experiment shows it is honoured)
HONOURED: list[tuple[dict[str, Any], Any]] = [
    ({"name": "renamed"}, lambda e: e.name == "renamed"),
    ({"observation_budget": 33}, lambda e: e.observation_budget == 33),
    ({"parallel_bandwidth": 3}, lambda e: e.parallel_bandwidth == 3),
    ({"metadata": {"team": "a"}}, lambda e: e.metadata["team"] == "a"),
    ({"type": "random"}, lambda e: e.type == "random"),
    ({"type": "grid", "parameters": [{"name": "x", "type": "double", "grid": [0.1, 0.5]}, N]},
     lambda e: e.type == "grid" and e.parameters[0].grid == [0.1, 0.5]),
    ({"type": "offline"}, lambda e: e.type == "offline"),
    ({"num_solutions": 1}, lambda e: e.num_solutions == 1),
    (with_parameter(transformation="log", bounds={"min": 0.01, "max": 1}),
     lambda e: e.parameters[0].transformation == "log"),
    (with_parameter(prior={"name": "normal", "mean": 0.3, "scale": 0.1}),
     lambda e: e.parameters[0].prior.mean == 0.3),
    ({"conditionals": [{"name": "c", "values": ["a", "b"]}],
      "parameters": [{**X, "conditions": {"c": ["a"]}}, N]},
     lambda e: e.conditionals[0].values == ["a", "b"]
     and dict(e.parameters[0].conditions) == {"c": ["a"]}),
    ({"linear_constraints": [{"type": "less_than", "threshold": 0.5,
                              "terms": [{"name": "x", "weight": 1}]}]},
     lambda e: e.linear_constraints[0].threshold == 0.5),
    ({"metrics": [{"name": "v", "objective": "minimize"},
                  {"name": "c", "strategy": "constraint", "threshold": 2}]},
     lambda e: e.metrics[0].objective == "minimize" and e.metrics[1].threshold == 2),
    ({"metrics": [{"name": "v"}, {"name": "kept", "strategy": "store"}]},
     lambda e: e.metrics[1].strategy == "store"),
    ({"tasks": [{"name": "cheap", "cost": 0.1}, {"name": "full", "cost": 1}]},
     lambda e: [t.cost for t in e.tasks] == [0.1, 1]),
]

# (what is sent, the field path the 400 must name)
REFUSED: list[tuple[dict[str, Any], str]] = [
    (with_parameter(precision=3), "parameters[0].precision"),
    (with_parameter(default_value=0.5), "parameters[0].default_value"),
    (with_parameter(tunable=False), "parameters[0].tunable"),
    ({"num_solutions": 3}, "num_solutions"),
    ({"development": True}, "development"),
    ({"folder": "f1"}, "folder"),
    ({"runs_only": True}, "runs_only"),
    ({"type": "bayesian"}, "type"),
    ({"conditionals": [{"name": "c", "values": []}]}, "conditionals[0].values"),
    ({"linear_constraints": [{"type": "less_than", "threshold": 0.5,
                              "terms": [{"name": "n", "weight": 1}]}]},
     "linear_constraints[0].terms[0].name"),
    ({"metrics": [{"name": "v", "objective": "up"}]}, "metrics[0].objective"),
]


@pytest.fixture
def conn(api) -> Connection:
    connection = Connection(client_token=api.token)
    connection.set_api_url(api.url)
    return connection


@pytest.mark.parametrize(("extra", "honoured"), HONOURED,
                         ids=[next(iter(e)) for e, _ in HONOURED])
def test_a_field_that_is_accepted_reads_back_as_sent(conn, extra, honoured):
    created = conn.experiments().create(**{**BASE, **extra})
    assert honoured(conn.experiments(created.id).fetch())
    suggestion = conn.experiments(created.id).suggestions().create()  # and it runs
    assert set(suggestion.assignments) <= {"x", "n", "c"}


@pytest.mark.parametrize(("extra", "path"), REFUSED, ids=[p for _, p in REFUSED])
def test_a_field_that_is_not_modelled_is_refused_by_name(conn, extra, path):
    with pytest.raises(ApiException) as caught:
        conn.experiments().create(**{**BASE, **extra})
    assert caught.value.status_code == 400
    assert path in str(caught.value), str(caught.value)
