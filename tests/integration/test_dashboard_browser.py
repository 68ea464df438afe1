"""The dashboard in a real headless chromium against `coordinator serve`, real Redis and real
Celery workers: right numbers for an experiment that just ran, live updates, no console
errors, and hostile names shown as text.

The browser is Debian's chromium driven by Playwright, never a downloaded one. Missing chromium
or Playwright skips these tests on a developer machine and fails them under CI (CI=true), where
.ci/run installs chromium first.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from coordinator.service import views
from tests.integration.api_fixtures import ApiServer
from tests.integration.processes import coordinator, end_group, start_coordinator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

CONFIG = """
name: dashboard quadratic
parameters:
  - {name: x, type: double, bounds: {min: -2, max: 2}}
  - {name: y, type: double, bounds: {min: -3, max: 1}}
metrics: [{name: value, objective: maximize}]
budget: 6
parallel_bandwidth: 2
evaluate: tests.integration.metrics:quadratic
optimizer: {type: sobol, seed: 5}
"""

# WebGL (Plotly's parallel coordinates) on the CPU: no GPU on CI (--disable-gpu would turn
# WebGL off; the page then shows a picture, tested by NO_WEBGL_ARGS)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--use-angle=swiftshader",
                 "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
NO_WEBGL_ARGS = [*CHROMIUM_ARGS, "--disable-gpu", "--disable-webgl"]


def chromium_path() -> str:
    found = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"),
                              shutil.which("chromium-browser")) if p and os.path.exists(p)), None)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        message = ("no chromium (apt-get install -y chromium) or no playwright "
                   "(pip install -e '.[test]'): the dashboard browser test cannot run")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


class Page:
    """A browser page with every console error, page error and dialog recorded."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).first.text_content() or "").strip()

    def wait_text(self, selector: str, expected: str, timeout: float = 15) -> None:
        self.page.wait_for_function(
            "([s, e]) => { const n = document.querySelector(s);"
            " return n && n.textContent.trim() === e; }",
            arg=[selector, expected], timeout=timeout * 1000)


@contextmanager
def browser(user_data: Path, token: str, args: list[str] | None = None) -> Iterator[Page]:
    """A fresh profile sending the API token as basic-auth user; the browser ends with it."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(user_data), executable_path=executable, headless=True, args=args or CHROMIUM_ARGS,
            http_credentials={"username": token, "password": ""},
            viewport={"width": 1400, "height": 1000})
        try:
            yield Page(context.new_page())
        finally:
            context.close()


HOSTILE = '<img src=x onerror="window.__pwned=1;alert(1)"><script>window.__pwned=2</script>'


def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: $CELERIAC_SCREENSHOTS when set (to look at them), else tmp."""
    folder = Path(os.environ.get("CELERIAC_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def api(redis_server, tmp_path):
    chromium_path()  # fail (CI) or skip before starting anything
    server = ApiServer(redis_server.url, tmp_path / "server")
    yield server
    server.stop()


def test_the_dashboard_follows_a_run_live_and_shows_the_numbers_and_new_observations(
        env, tmp_path, start_worker, service, api):
    config = tmp_path / "exp.yml"
    config.write_text(CONFIG)
    experiment_id = coordinator(["create", str(config)], env).stdout.split()[-1]
    shots = screenshots(tmp_path)
    with browser(tmp_path / "profile", api.token) as page:
        page.page.goto(f"{api.url}/dashboard/experiments/{experiment_id}")
        page.wait_text("#obs-count", "0")
        for name in ("alpha", "beta"):
            start_worker(name, extra_env={"CELERIAC_TEST_SLEEP": "1.5"})
        run = start_coordinator(["run", experiment_id], env, tmp_path / "run.log")
        try:
            # while it runs: open suggestions with the worker holding each lease
            page.page.locator("#open tbody tr td:nth-child(3):has-text(':')").first.wait_for(
                timeout=30000)
            owners = page.page.locator("#open tbody td:nth-child(3)").all_text_contents()
            assert any(o.split(":")[-1].isdigit() for o in owners), owners
            page.page.screenshot(path=str(shots / "dashboard-running.png"), full_page=True)
            page.wait_text("#obs-count", "6", timeout=60)  # the page follows the run
            assert run.wait(timeout=60) == 0
        finally:
            end_group(run)
        experiment = service.experiment(experiment_id)
        best = views.best(service, experiment)[0].value_of("value")
        page.page.goto(f"{api.url}/dashboard/")
        page.wait_text(f"#experiments tr[data-id='{experiment_id}'] td:nth-child(4)", "6 / 6")
        page.page.screenshot(path=str(shots / "dashboard-list.png"))
        page.page.goto(f"{api.url}/dashboard/experiments/{experiment_id}")
        page.wait_text("#obs-count", "6")
        assert page.text("#experiment-name") == "dashboard quadratic"
        assert page.text("#budget") == "6" and page.text("#failed-count") == "0"
        assert float(page.text("#best-value")) == pytest.approx(best, rel=1e-5)
        assert page.page.locator("#observations tbody tr").count() == 6
        wait_for_figures(page)
        page.page.screenshot(path=str(shots / "dashboard-experiment.png"), full_page=True)

        with api.http() as http:  # a new observation from an API client, not from the page
            http.post(f"/v1/experiments/{experiment_id}/observations",
                      json={"assignments": {"x": 0.3, "y": -1.0}, "value": 0.0}
                      ).raise_for_status()
        page.wait_text("#obs-count", "7", timeout=10)
        page.wait_text("#best-value", "0")
        assert page.page.locator("#observations tbody tr").count() == 7
        sort_by_value_descending(page)
        top = max(service.observations(experiment_id), key=lambda o: o.value_of("value"))
        first = page.page.locator("#observations tbody tr:first-child")
        assert first.get_attribute("data-id") == top.id
        assert page.text("#observations tbody tr:first-child td:first-child") == top.label
        assert page.errors == [], page.errors


def wait_for_figures(page) -> None:
    """Every figure the page lists is drawn by Plotly (an SVG of its own in each card)."""
    page.page.wait_for_function(
        "() => { const figs = [...document.querySelectorAll('#figures figure')];"
        " return document.body.dataset.figures && figs.length >= 4 &&"
        " figs.every(f => f.querySelector('.plot .main-svg')); }",
        polling=250, timeout=30000)


def sort_by_value_descending(page) -> None:
    header = page.page.locator("#observations th[data-key='m:value']")
    header.click()
    page.page.locator("#observations th[data-key='m:value'].asc").wait_for()
    page.page.locator("#observations th[data-key='m:value']").click()
    page.page.locator("#observations th[data-key='m:value'].desc").wait_for()


def test_hostile_experiment_parameter_metric_and_metadata_names_are_shown_as_text(
        tmp_path, api):
    with api.http() as http:
        experiment = http.post("/v1/experiments", json={
            "name": HOSTILE, "observation_budget": 5,
            "parameters": [{"name": "p" + HOSTILE, "type": "double",
                            "bounds": {"min": 0, "max": 1}},
                           {"name": "c", "type": "categorical",
                            "categorical_values": [{"name": HOSTILE}, {"name": "b"}]}],
            "metrics": [{"name": "m" + HOSTILE}]}).json()
        path = f"/v1/experiments/{experiment['id']}"
        for i in range(3):
            suggestion = http.post(path + "/suggestions").json()
            http.post(path + "/observations", json={
                "suggestion": suggestion["id"], "value": float(i),
                "metadata": {"note": HOSTILE}}).raise_for_status()
        http.post(path + "/observations", json={
            "suggestion": http.post(path + "/suggestions").json()["id"], "failed": True,
            "metadata": {"hostname": HOSTILE}}).raise_for_status()
    with browser(tmp_path / "profile", api.token) as page:
        page.page.goto(f"{api.url}/dashboard/")
        page.wait_text(f"#experiments tr[data-id='{experiment['id']}'] td:nth-child(2)", HOSTILE)
        page.page.goto(f"{api.url}/dashboard/experiments/{experiment['id']}")
        page.wait_text("#obs-count", "4")
        wait_for_figures(page)
        assert page.text("#experiment-name") == HOSTILE
        headers = page.page.locator("#observations th").all_text_contents()
        assert "p" + HOSTILE in headers and "m" + HOSTILE in headers
        assert page.text("#failed tbody td:nth-child(3)") == HOSTILE
        page.page.screenshot(path=str(screenshots(tmp_path) / "dashboard-hostile.png"),
                             full_page=True)
        assert page.page.evaluate("() => window.__pwned") is None
        assert page.page.locator("#observations img, #best img, h1 img, script:not([src])"
                                 ).count() == 0
        assert page.dialogs == [] and page.errors == [], (page.dialogs, page.errors)
