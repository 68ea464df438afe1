"""Property-based: whatever observation or experiment body a client sends, the in-process API
(the real ASGI app over fakeredis with Lua) answers 2xx, or a 4xx JSON error that names the
field; never a 500, and a refused request leaves Redis exactly as it was."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from coordinator.api import create_app
from coordinator.api.limits import ApiLimits
from coordinator.state.tokens import Tokens
from tests.unit.redis_snapshot import snapshot

pytestmark = pytest.mark.timeout(120)

PARAMETERS = [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}},
              {"name": "n", "type": "int", "bounds": {"min": 1, "max": 5}},
              {"name": "kind", "type": "categorical", "categorical_values": ["a", "b"]}]
OBSERVATION_FIELDS = ("suggestion", "assignments", "value", "value_stddev", "values", "failed",
                      "metadata", "no_optimize", "request body")
EXPERIMENT_FIELDS = ("name", "parameters", "metrics", "observation_budget", "budget",
                     "parallel_bandwidth", "metadata", "type", "request body", "experiment")
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, database=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
junk = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)
numbers = st.one_of(st.integers(-5, 10), st.floats(-1e6, 1e6, allow_nan=False), junk)
metadata = st.one_of(st.dictionaries(st.text(min_size=0, max_size=110),
                                     st.one_of(scalars, st.text(min_size=490, max_size=510)),
                                     max_size=4), junk)
assignments = st.one_of(st.fixed_dictionaries(
    {"x": numbers, "kind": st.sampled_from(["a", "b", "c"])}, optional={"n": numbers}), junk)
values_list = st.one_of(st.lists(st.fixed_dictionaries(
    {}, optional={"name": st.sampled_from(["score", "other", None]), "value": numbers,
                  "value_stddev": numbers}), max_size=2), junk)


good_metadata = st.dictionaries(st.text(min_size=1, max_size=100),
                                st.one_of(st.none(), st.integers(), st.text(max_size=500),
                                          st.floats(allow_nan=False, allow_infinity=False)),
                                max_size=5)
good_assignments = st.fixed_dictionaries({
    "x": st.floats(0, 1), "n": st.integers(1, 5), "kind": st.sampled_from(["a", "b"])})


def mutated(valid: st.SearchStrategy[dict[str, Any]], fields: tuple[str, ...]
            ) -> st.SearchStrategy[dict[str, Any]]:
    """A valid body with one field replaced by junk (or removed): the near misses that reach
    the deepest checks."""
    def change(body: dict[str, Any], field: str, value: Any, drop: bool) -> dict[str, Any]:
        body = dict(body)
        if drop:
            body.pop(field, None)
        else:
            body[field] = value
        return body
    return st.builds(change, valid, st.sampled_from(fields), junk, st.booleans())


def valid_observations(suggestion_ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    target = st.one_of(st.fixed_dictionaries({"suggestion": st.sampled_from(suggestion_ids)}),
                       st.fixed_dictionaries({"assignments": good_assignments}))
    result = st.one_of(
        st.fixed_dictionaries({"value": st.floats(-1e6, 1e6)},
                              optional={"value_stddev": st.floats(0, 10)}),
        st.fixed_dictionaries({"values": st.lists(st.fixed_dictionaries(
            {"name": st.just("score"), "value": st.floats(-1e6, 1e6)}), min_size=1,
            max_size=1)}),
        st.fixed_dictionaries({"failed": st.just(True)}))
    extra = st.fixed_dictionaries({}, optional={"metadata": good_metadata,
                                                "no_optimize": st.booleans()})
    return st.builds(lambda a, b, c: {**a, **b, **c}, target, result, extra)


def observation_bodies(suggestion_ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    sid = st.one_of(st.sampled_from(suggestion_ids), st.integers(-1, 10**12), junk)
    anything = st.fixed_dictionaries({}, optional={
        "suggestion": sid, "assignments": assignments, "value": numbers,
        "value_stddev": numbers, "values": values_list, "failed": st.one_of(st.booleans(), junk),
        "metadata": metadata, "no_optimize": st.one_of(st.booleans(), junk), "bogus": junk})
    valid = valid_observations(suggestion_ids)
    return st.one_of(valid, mutated(valid, OBSERVATION_FIELDS[:-1] + ("bogus",)), anything)


parameter = st.fixed_dictionaries({
    "name": st.one_of(st.sampled_from(["p", "q", "x y"]), junk),
    "type": st.sampled_from(["double", "int", "categorical", "float", None]),
}, optional={"bounds": st.one_of(st.fixed_dictionaries({"min": numbers, "max": numbers}), junk),
             "categorical_values": st.one_of(st.lists(st.text(max_size=5), max_size=4), junk),
             "transformation": st.sampled_from(["log", "none", 3])})
metric = st.fixed_dictionaries({"name": st.one_of(st.sampled_from(["m", "n"]), junk)}, optional={
    "objective": st.sampled_from(["maximize", "minimize", "up"]),
    "strategy": st.sampled_from(["optimize", "constraint", "store", "x"]),
    "threshold": numbers})
random_experiments = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.text(max_size=20), junk),
    "parameters": st.one_of(st.lists(parameter, min_size=1, max_size=3), junk),
    "metrics": st.one_of(st.lists(metric, max_size=2), junk),
    "observation_budget": numbers, "parallel_bandwidth": numbers, "metadata": metadata,
    "type": st.sampled_from(["offline", "grid", "random"]), "unknown_key": junk})


@st.composite
def good_parameter(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["double", "int", "categorical"]))
    if kind == "categorical":
        values = draw(st.lists(st.text("abcxyz", min_size=1, max_size=4), min_size=2,
                               max_size=4, unique=True))
        return {"name": name, "type": kind, "categorical_values": values}
    low = draw(st.integers(-1000, 1000) if kind == "int" else st.floats(-1e3, 1e3))
    high = low + draw(st.integers(1, 1000) if kind == "int" else st.floats(1e-3, 1e3))
    return {"name": name, "type": kind, "bounds": {"min": low, "max": high}}


valid_experiments = st.fixed_dictionaries({
    "name": st.text("abc -_1", min_size=1, max_size=20).filter(str.strip),
    "parameters": st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3,
                           unique=True).flatmap(
        lambda names: st.tuples(*[good_parameter(n) for n in names]).map(list)),
    "metrics": st.just([{"name": "m"}]),
}, optional={"observation_budget": st.integers(1, 100), "parallel_bandwidth": st.integers(1, 8),
             "metadata": good_metadata})
experiment_bodies = st.one_of(
    valid_experiments, mutated(valid_experiments, EXPERIMENT_FIELDS[:-2]), random_experiments)


def make_client(service) -> TestClient:
    token, _ = Tokens(service.store.redis).create("acme")
    http = TestClient(create_app(service, tokens={}, limits=ApiLimits(rate=0)))
    http.auth = (token, "")
    return http


def assert_refusal_names_a_field(answer, body: dict[str, Any], fields: tuple[str, ...]) -> None:
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()
    assert error["status"] == answer.status_code and error["message"]
    named = [f for f in (*fields, *map(str, body)) if f and f in error["message"]]
    assert named, error["message"]


def test_any_observation_body_is_recorded_or_refused_naming_the_field_without_a_write(
        service):
    http = make_client(service)
    experiment = http.post("/v1/experiments", json={
        "name": "prop", "parameters": PARAMETERS, "metrics": [{"name": "score"}]}).json()
    base = f"/v1/experiments/{experiment['id']}"
    ids = [http.post(f"{base}/suggestions", json={}).json()["id"] for _ in range(5)]

    @PROPERTY_SETTINGS
    @given(body=observation_bodies(ids))
    def check(body: dict[str, Any]) -> None:
        before = snapshot(service.store.redis)
        count = service.store.counts(experiment["id"]).observations
        answer = http.post(f"{base}/observations", json=body)
        if answer.status_code == 200:
            assert answer.json()["object"] == "observation"
            assert service.store.counts(experiment["id"]).observations == count + 1
        else:
            assert_refusal_names_a_field(answer, body, OBSERVATION_FIELDS)
            assert snapshot(service.store.redis) == before

    check()


def test_any_experiment_body_creates_a_usable_experiment_or_is_refused_without_a_write(
        service):
    http = make_client(service)

    @PROPERTY_SETTINGS
    @given(body=experiment_bodies)
    def check(body: dict[str, Any]) -> None:
        before = snapshot(service.store.redis)
        answer = http.post("/v1/experiments", json=body)
        if answer.status_code == 200:
            created = answer.json()
            suggestion = http.post(f"/v1/experiments/{created['id']}/suggestions", json={})
            assert suggestion.status_code == 200, suggestion.text
        else:
            assert_refusal_names_a_field(answer, body, EXPERIMENT_FIELDS)
            assert snapshot(service.store.redis) == before

    check()
