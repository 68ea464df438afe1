"""`coordinator report`: one self-contained HTML file and PNG figures, hostile names escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from coordinator.cli.context import Context
from coordinator.cli.main import cli
from tests.unit.test_dashboard import HOSTILE, hostile_spec, run_observations

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def experiment(service):
    experiment = service.create_experiment(hostile_spec())
    run_observations(service, experiment, 10)
    return experiment


class Tags(HTMLParser):
    """Every element name and every attribute that would make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.linking: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.linking += [(k, v) for k, v in attrs if k in ("src", "href", "xlink:href")]


def invoke(service, *args: str):
    context = Context(None)
    context._service = service
    return CliRunner().invoke(cli, list(args), obj=context, catch_exceptions=False)


def test_the_report_is_one_file_with_inline_svg_figures_and_nothing_external(
        service, experiment, tmp_path):
    out = tmp_path / "report.html"
    result = invoke(service, "report", experiment.id, "-o", str(out))
    assert result.exit_code == 0 and f"wrote {out}" in result.output
    html = out.read_text()
    assert html.count("<svg") == 7  # 2 histories, Pareto, 1 constraint, 2 params, parallel
    tags = Tags()
    tags.feed(html)
    assert "script" not in tags.names and "img" not in tags.names and "link" not in tags.names
    assert not tags.linking  # no src= or href= anywhere: nothing to fetch
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert HOSTILE not in html and "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "Observations (10)" in html and "Failed observations (2)" in html
    # the reasons grouped, the search space and the config are in the report too
    assert html.index("Failures by reason") < html.index("<svg")
    assert "Search space" in html and "Config" in html and "parallel_bandwidth" in html


def test_png_writes_every_figure_as_a_png_image(service, experiment, tmp_path):
    result = invoke(service, "report", experiment.id, "--png", str(tmp_path / "png"))
    assert result.exit_code == 0
    files = sorted((tmp_path / "png").glob("*.png"))
    assert {f.stem for f in files} == {"history-0", "history-1", "pareto", "constraint-0",
                                       "param-0", "param-1", "parallel"}
    assert all(f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in files)


def test_a_report_of_an_experiment_without_observations_says_so_instead_of_plotting(
        service, tmp_path):
    experiment = service.create_experiment(hostile_spec())
    out = tmp_path / "empty.html"
    assert invoke(service, "report", experiment.id, "-o", str(out)).exit_code == 0
    assert "no successful observation yet" in out.read_text()
