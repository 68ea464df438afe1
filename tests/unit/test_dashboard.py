"""The dashboard in-process (Starlette TestClient over fakeredis): authentication, the numbers
it shows, live-poll versions, and hostile names that must stay text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

import pytest
from starlette.testclient import TestClient

from coordinator.api import create_app
from coordinator.spec.config import validate_experiment
from coordinator.state.tokens import Tokens
from tests.unit.conftest import make_spec
from tests.unit.test_learning_curves import ASHA, train

pytestmark = pytest.mark.timeout(60)

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>&amp;'


def hostile_spec():
    return validate_experiment({
        "name": "exp " + HOSTILE,
        "parameters": [
            {"name": "x" + HOSTILE, "type": "double", "bounds": {"min": 0.01, "max": 10},
             "transformation": "log"},
            {"name": "kind", "type": "categorical", "categorical_values": [HOSTILE, "b"]}],
        "metrics": [{"name": "m" + HOSTILE}, {"name": "cost", "objective": "minimize"},
                    {"name": "lat</text><script>", "strategy": "constraint",
                     "objective": "minimize", "threshold": 5}],
        "budget": 12, "parallel_bandwidth": 2, "evaluate": "pkg.mod:fn",
        "optimizer": {"type": "random", "seed": 3}}, require_evaluation=True)


def run_observations(service, experiment, count: int, fail_every: int = 4) -> None:
    for i in range(count):
        s = service.create_suggestion(experiment.id)
        metrics = [m.name for m in experiment.spec.metrics]
        values = {name: (float((i * 7 + j * 3) % 10), None) for j, name in enumerate(metrics)}
        failed = i % fail_every == fail_every - 1
        service.observe(service.new_observation(
            experiment, s, values, failed=failed, reason=f"crash {HOSTILE}" if failed else "",
            metadata={"hostname": "host" + HOSTILE}))


@pytest.fixture
def token(fake_redis) -> str:
    return Tokens(fake_redis).create()[0]


@pytest.fixture
def http(service, token) -> TestClient:
    client = TestClient(create_app(service, tokens={}))
    client.auth = (token, "")
    return client


@pytest.fixture
def hostile(service):
    experiment = service.create_experiment(hostile_spec())
    run_observations(service, experiment, 8)
    service.create_suggestion(experiment.id)  # one open suggestion
    return experiment


def test_every_dashboard_path_asks_the_browser_for_basic_auth_with_an_api_token(service, token):
    client = TestClient(create_app(service, tokens={}))
    for path in ("/dashboard/", "/dashboard/static/dashboard.js", "/dashboard/api/experiments"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert client.get(f"/dashboard/api/experiments?token={token}").status_code == 401
    assert client.get("/dashboard/", auth=("not-a-token", "")).status_code == 403
    assert client.get("/dashboard/", auth=(token, "")).status_code == 200


def test_a_revoked_token_is_refused_and_the_root_redirects_to_the_dashboard(service, token,
                                                                          fake_redis):
    client = TestClient(create_app(service, tokens={}))
    assert client.get("/", follow_redirects=False).headers["location"] == "/dashboard/"
    Tokens(fake_redis).revoke(Tokens(fake_redis).all()[0].id)
    assert client.get("/dashboard/", auth=(token, "")).status_code == 403


def test_pages_forbid_inline_scripts_and_framing(http, hostile):
    for path in ("/dashboard/", f"/dashboard/experiments/{hostile.id}"):
        response = http.get(path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "<script>" not in response.text  # only <script src=...> from static/
        assert HOSTILE not in response.text  # pages are shells: names arrive as JSON


def test_the_experiment_data_has_the_counts_the_best_and_the_open_suggestion(
        http, service, hostile):
    view = http.get(f"/dashboard/api/experiments/{hostile.id}").json()
    observations = service.observations(hostile.id)
    assert view["progress"]["observations"] == len(observations) == 8
    assert view["progress"]["failed"] == sum(o.failed for o in observations) == 2
    assert view["progress"]["budget"] == 12 and view["progress"]["open"] == 1
    assert len(view["open_suggestions"]) == 1 and len(view["failed"]) == 2
    assert view["failed"][0]["reason"] == f"crash {HOSTILE}"
    assert {f["name"] for f in view["figures"]} >= {"history-0", "history-1", "pareto",
                                                    "constraint-0", "param-0", "param-1",
                                                    "parallel"}
    constraint = view["constraints"][0]
    assert constraint["total"] == 6 and 0 <= constraint["satisfied"] <= 6
    listed = http.get("/dashboard/api/experiments").json()["experiments"]
    assert listed[0]["id"] == hostile.id and listed[0]["name"] == hostile.spec.name


def test_polling_with_the_current_version_is_answered_unchanged_until_an_observation(
        http, service, hostile):
    path = f"/dashboard/api/experiments/{hostile.id}"
    version = http.get(path).json()["version"]
    assert http.get(path, params={"since": version}).json() == {"unchanged": True,
                                                                "version": version}
    run_observations(service, hostile, 1, fail_every=99)
    fresh = http.get(path, params={"since": version}).json()
    assert fresh["version"] != version and fresh["progress"]["observations"] == 9


def test_hostile_names_are_escaped_text_in_every_svg_figure(http, hostile):
    view = http.get(f"/dashboard/api/experiments/{hostile.id}").json()
    for figure in view["figures"]:
        response = http.get(f"/dashboard/api/experiments/{hostile.id}/plots/{figure['name']}.svg")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert "default-src 'none'" in response.headers["content-security-policy"]
        root = ElementTree.fromstring(response.text)  # well-formed: the names did not break it
        tags = {element.tag.split("}")[-1] for element in root.iter()}
        assert tags <= {"svg", "title", "rect", "text", "line", "path", "circle"}
        assert "<script" not in response.text and "<img" not in response.text


def test_an_unknown_experiment_or_figure_is_a_404(http, hostile):
    assert http.get("/dashboard/api/experiments/99999").status_code == 404
    assert http.get(f"/dashboard/api/experiments/{hostile.id}/plots/nope.svg").status_code == 404


def test_json_responses_carry_the_hostile_names_verbatim_for_text_rendering(http, hostile):
    response = http.get(f"/dashboard/api/experiments/{hostile.id}")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    view = json.loads(response.text)
    assert view["experiment"]["name"] == "exp " + HOSTILE
    assert view["observations"][0]["hostname"] == "host" + HOSTILE


def test_the_learning_curves_figure_is_served_for_an_experiment_whose_runs_reported(
        http, service):
    experiment = service.create_experiment(make_spec(early_stopping=ASHA))
    for quality in (0.9, 0.4):
        train(service, experiment, quality, 9)
    view = http.get(f"/dashboard/api/experiments/{experiment.id}").json()
    assert "curves" in {f["name"] for f in view["figures"]}
    assert [o["stopped"] for o in view["observations"]] == [False, True]
    response = http.get(f"/dashboard/api/experiments/{experiment.id}/plots/curves.svg")
    assert response.status_code == 200
    assert response.text.count('class="run"') == 2 and response.text.count('class="stop"') == 1
