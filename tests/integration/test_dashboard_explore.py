"""The dashboard's interactive figures in a real headless chromium against `coordinator
serve` and a real Redis: hovering a point shows that observation's values, a click on it
highlights its row, brushing parallel coordinates filters the table; a failed experiment's
page shows its reasons, grouped and counted, above the fold; the header names the client and
an empty list says how to see the CLI's experiments.

Observations are stored through the Service (no workers: these tests are about the page).
"""

from __future__ import annotations

import pytest

from coordinator.spec.config import validate_experiment
from coordinator.state.records import MetricValue, ObservationRecord
from coordinator.state.tokens import Tokens
from tests.integration.api_fixtures import ApiServer
from tests.integration.test_dashboard_browser import (
    HOSTILE,
    NO_WEBGL_ARGS,
    Page,
    browser,
    chromium_path,
    screenshots,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

VIEWPORT_HEIGHT = 1000  # browser()'s viewport

SPEC = {
    "name": "explore",
    "parameters": [
        {"name": "learning_rate", "type": "double", "bounds": {"min": 0.0001, "max": 1},
         "transformation": "log"},
        {"name": "depth", "type": "int", "bounds": {"min": 1, "max": 12}},
        {"name": "kind", "type": "categorical", "categorical_values": ["rbf", "poly"]}],
    "metrics": [{"name": "accuracy", "objective": "maximize"},
                {"name": "latency", "strategy": "constraint", "objective": "minimize",
                 "threshold": 20}],
    "budget": 30, "parallel_bandwidth": 2, "evaluate": "pkg.mod:fn",
    "optimizer": {"type": "random", "seed": 11}}


@pytest.fixture
def api(redis_server, tmp_path):
    chromium_path()  # fail (CI) or skip before starting anything
    server = ApiServer(redis_server.url, tmp_path / "server")
    yield server
    server.stop()


def observe_all(service, experiment, count: int, failures: list[str] | None = None) -> None:
    """`count` observations; those with a reason in `failures` (cycled) fail."""
    for i in range(count):
        suggestion = service.create_suggestion(experiment.id)
        a = suggestion.assignments
        accuracy = 0.9 - 0.05 * abs(a["depth"] - 6) / 6 + (0.02 if a["kind"] == "rbf" else 0)
        values = {"accuracy": (accuracy, None), "latency": (5.0 + 3 * a["depth"], None)}
        reason = failures[i % len(failures)] if failures else ""
        service.observe(service.new_observation(
            experiment, suggestion, values, failed=bool(reason), reason=reason,
            metadata={"hostname": f"host-{i % 2}", "output": f"epoch 1\nline of run {i}\n"}))


def plot_point(page: Page, figure: str, trace: int, point: int) -> dict:
    """Where one point of a figure is on the screen, with its data."""
    return page.page.evaluate(
        """([figure, trace, point]) => {
          const gd = document.querySelector(`figure[data-figure="${figure}"] .plot`);
          const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
          const box = gd.getBoundingClientRect(), t = gd.data[trace];
          return {x: box.left + xa._offset + xa.d2p(t.x[point]),
                  y: box.top + ya._offset + ya.d2p(t.y[point]),
                  id: t.customdata[point], name: t.name, color: t.marker && t.marker.color};
        }""", [figure, trace, point])


def test_hover_shows_the_points_values_a_click_highlights_its_row_and_brushing_filters(
        api, tmp_path):
    experiment = api.service.create_experiment(validate_experiment(SPEC))
    observe_all(api.service, experiment, 14)
    observations = {o.id: o for o in api.service.observations(experiment.id)}
    with browser(tmp_path / "profile", api.token) as page:
        page.page.goto(f"{api.url}/dashboard/experiments/{experiment.id}")
        page.page.wait_for_selector("body[data-figures]", timeout=20000)
        assert page.text("#client") == "client default"
        names = page.page.eval_on_selector_all("#figures figure",
                                               "n => n.map(f => f.dataset.figure)")
        assert {"history-0", "constraint-0", "parallel", "importance", "contour"} <= set(names)

        # hover with the mouse over a point of the best-so-far chart: the observation's values
        point = plot_point(page, "history-0", 0, 3)
        page.page.mouse.move(point["x"], point["y"])
        label = page.page.locator("figure[data-figure='history-0'] .hoverlayer .hovertext")
        label.wait_for(timeout=5000)
        hovered = observations[point["id"]]
        text = label.text_content() or ""
        assert f"observation #{hovered.number}" in text
        assert f"depth = {hovered.assignments['depth']}" in text
        assert f"kind = {hovered.assignments['kind']}" in text

        # a click on it: its row in the table, highlighted and scrolled into view
        page.page.mouse.click(point["x"], point["y"])
        row = page.page.locator("#observations tbody tr.picked")
        row.wait_for(timeout=5000)
        assert row.get_attribute("data-id") == point["id"]
        box = row.bounding_box()
        assert box is not None and 0 <= box["y"] <= VIEWPORT_HEIGHT

        # brushing depth in parallel coordinates (drawn with WebGL): depth 4..8 stay
        assert page.page.evaluate("() => Explore.webgl()")
        assert "WebGL is not supported" not in page.text("figure[data-figure='parallel']")
        page.page.evaluate("""() => {
          const gd = document.querySelector('figure[data-figure="parallel"] .plot');
          Plotly.restyle(gd, {'dimensions[1].constraintrange': [[4, 8]]});
        }""")
        expected = {i for i, o in observations.items() if 4 <= o.assignments["depth"] <= 8}
        assert 0 < len(expected) < len(observations)
        page.page.wait_for_function(
            "n => document.querySelectorAll('#observations tbody tr[data-id]').length === n",
            arg=len(expected), timeout=5000)
        shown = page.page.eval_on_selector_all("#observations tbody tr[data-id]",
                                               "rows => rows.map(r => r.dataset.id)")
        assert set(shown) == expected and page.page.locator("#brush").is_visible()
        page.page.screenshot(path=str(screenshots(tmp_path) / "dashboard-explore.png"),
                             full_page=True)
        page.page.click("#brush-clear")
        page.page.wait_for_function(
            "n => document.querySelectorAll('#observations tbody tr[data-id]').length === n",
            arg=len(observations), timeout=5000)

        # infeasible points are their own trace; the importance says its method
        traces = page.page.evaluate("""() => document.querySelector(
            'figure[data-figure="history-0"] .plot').data.map(t => t.name)""")
        assert "misses a threshold" in traces
        importance = page.text("figure[data-figure='importance']")
        assert "permutation importance of a random forest" in importance
        # the search space and the config, and an observation's output behind a click
        assert "learning_rate" in page.text("#space") and "pkg.mod:fn" in page.text("#config")
        page.page.click(f"#observations tbody tr[data-id='{point['id']}'] td:nth-child(2)")
        detail = page.page.locator(f"tr[data-detail='{point['id']}'] details.output")
        detail.locator("summary").click()
        assert f"line of run {hovered.number - 1}" in (detail.text_content() or "")
        assert page.errors == [], page.errors


def test_without_webgl_parallel_coordinates_are_a_picture_that_says_why(api, tmp_path):
    experiment = api.service.create_experiment(validate_experiment(SPEC))
    observe_all(api.service, experiment, 10)
    with browser(tmp_path / "profile", api.token, NO_WEBGL_ARGS) as page:
        page.page.goto(f"{api.url}/dashboard/experiments/{experiment.id}")
        page.page.wait_for_selector("body[data-figures]", timeout=20000)
        assert not page.page.evaluate("() => Explore.webgl()")
        image = page.page.locator("figure[data-figure='parallel'] img.fallback")
        page.page.wait_for_function(
            "() => { const i = document.querySelector('figure[data-figure=\"parallel\"] img');"
            " return i && i.complete && i.naturalWidth > 0; }", polling=250, timeout=10000)
        assert image.count() == 1
        assert "brushing axes to filter the table needs WebGL" in page.text(
            "figure[data-figure='parallel'] figcaption")
        assert page.page.locator("figure[data-figure='history-0'] .main-svg").count() > 0
        assert page.errors == [], page.errors


def test_a_failed_experiment_shows_its_reasons_counted_above_the_fold_and_no_empty_figures(
        api, tmp_path):
    experiment = api.service.create_experiment(validate_experiment(SPEC))
    traceback = ("ZeroDivisionError: division by zero | Traceback (most recent call last):\n"
                 '  File "model.py", line 3, in evaluate\n    return 1 / 0\n')
    observe_all(api.service, experiment, 7, [traceback, traceback, "exit status 2 | stderr"])
    with browser(tmp_path / "profile", api.token) as page:
        page.page.goto(f"{api.url}/dashboard/experiments/{experiment.id}")
        page.wait_text("#failed-count", "7")
        card = page.page.locator("#reasons-card")
        box = card.bounding_box()
        assert box is not None and box["y"] + box["height"] <= VIEWPORT_HEIGHT, box
        rows = page.page.locator("#reasons tbody tr")
        assert rows.count() == 2
        assert rows.nth(0).locator("td").nth(0).text_content() == "5"
        assert page.text("#reasons tbody tr:first-child .headline") == \
            "ZeroDivisionError: division by zero"
        assert page.page.locator("#reasons pre.reason").count() == 2  # once per reason
        width = page.page.locator("#reasons tbody tr:first-child td.reason").bounding_box()
        assert width is not None and width["width"] > 200, width
        assert page.page.locator("#figures figure").count() == 0
        assert page.page.locator("#figures-note").is_visible()
        page.page.screenshot(path=str(screenshots(tmp_path) / "dashboard-failed.png"),
                             full_page=True)
        assert page.errors == [], page.errors


def test_the_header_names_the_client_and_an_empty_list_says_how_to_see_cli_experiments(
        api, tmp_path):
    api.service.create_experiment(validate_experiment({**SPEC, "name": HOSTILE}))
    token = Tokens(api.service.store.redis).create("team-a")[0]
    with browser(tmp_path / "profile", token) as page:
        page.page.goto(f"{api.url}/dashboard/")
        page.wait_text("#client", "client team-a")
        empty = page.page.locator("#empty")
        empty.wait_for(timeout=10000)
        text = " ".join((empty.text_content() or "").split())
        assert "No experiments for client team-a" in text
        assert "coordinator token create --client default" in text
        assert page.page.locator("#experiments tbody tr").count() == 0
        assert page.errors == [], page.errors


def test_a_long_experiment_shows_a_window_and_pages_through_every_observation(api, tmp_path):
    """Past 5,000 observations the page holds a window (it says so) and the pager reads
    every observation, 500 a page, newest first."""
    spec = validate_experiment({**SPEC, "budget": 10_000})
    experiment = api.service.create_experiment(spec)
    store = api.service.store
    for i, oid in enumerate(store.allocate_ids(5200)):
        store.observe_assignments(ObservationRecord(
            id=oid, experiment=experiment.id, suggestion=None,
            assignments={"learning_rate": 0.01, "depth": 1 + i % 12, "kind": "rbf"},
            values=(MetricValue("accuracy", (i % 89) / 100 + i / 1e6),
                    MetricValue("latency", 5.0))))
    newest = max(store.observation_ids(experiment.id), key=int)
    with browser(tmp_path / "profile", api.token) as page:
        page.page.goto(f"{api.url}/dashboard/experiments/{experiment.id}")
        wait_contains(page, "#obs-window", "of its 5200 observations")
        assert page.text("#obs-count") == "5200"
        page.page.click("#page-older")
        wait_contains(page, "#page-text", "page 1 of 11")
        rows = page.page.eval_on_selector_all("#observations tbody tr[data-id]",
                                              "rows => rows.map(r => r.dataset.id)")
        assert len(rows) == 500 and newest in rows
        page.page.click("#page-older")
        wait_contains(page, "#page-text", "page 2 of 11")
        assert newest not in page.page.eval_on_selector_all(
            "#observations tbody tr[data-id]", "rows => rows.map(r => r.dataset.id)")
        page.page.click("#page-window")
        wait_contains(page, "#page-text", "browse every observation")
        assert page.page.locator("#obs-window").is_visible()


def wait_contains(page: Page, selector: str, part: str) -> None:
    page.page.wait_for_function(
        "([s, p]) => { const n = document.querySelector(s); return n && !n.hidden &&"
        " n.closest('[hidden]') === null && n.textContent.includes(p); }",
        arg=[selector, part], timeout=15000)
