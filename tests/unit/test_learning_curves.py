"""Early stopping seen everywhere: runs that report through the real store (fakeredis with
Lua), an ASHA scheduler deciding, and then the learning-curves figure (SVG and its data), the
dashboard's observations, `coordinator status`, `run`'s last lines and the export."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ElementTree

import pytest
from click.testing import CliRunner

from coordinator.cli import experiments as experiment_commands
from coordinator.cli.context import Context
from coordinator.cli.main import cli
from coordinator.dashboard import data, svg
from coordinator.dashboard.figures import Figure, figures, thin
from coordinator.service import progress, views
from coordinator.state.states import ReportReply
from tests.unit.conftest import make_spec

pytestmark = pytest.mark.timeout(60)

ASHA = {"scheduler": "asha", "metric": "score", "resource": "epoch", "min_resource": 1,
        "max_resource": 9, "reduction_factor": 3}
SVG_NS = "{http://www.w3.org/2000/svg}"


def train(service, experiment, quality: float, last_step: int, observe: bool = True):
    """One run as a worker makes it: claim, report every epoch until the scheduler says stop
    (or `last_step`), then observe with the step reached and whether it was stopped."""
    s = service.create_suggestion(experiment.id)
    claim = service.store.claim(experiment.id, s.id, "host:1", 60_000)
    step, decision = 0, None
    for step in range(1, last_step + 1):
        decision = progress.report(service.store, experiment.spec, experiment.id, s.id,
                                   claim.epoch, step, {"score": quality * step / (step + 1)})
        if not decision.status.goes_on:
            break
    if not observe:
        return s.id
    assert decision is not None
    stopped = decision.status is ReportReply.STOP
    suggestion = service.store.suggestion(experiment.id, s.id)
    service.observe(service.new_observation(
        experiment, suggestion, {"score": (quality * step / (step + 1), None)},
        metadata={"stop_reason": decision.reason} if decision.reason else {},
        resource=float(step), stopped=stopped), claim.epoch)
    return s.id


@pytest.fixture
def asha(service):
    """A completed run (the best), two stopped at the first rung, one still running."""
    experiment = service.create_experiment(make_spec(early_stopping=ASHA, budget=6,
                                                     parallel_bandwidth=4))
    runs = {"completed": train(service, experiment, 0.9, 9),
            "stopped": [train(service, experiment, q, 9) for q in (0.5, 0.3)],
            "running": train(service, experiment, 0.95, 2, observe=False)}
    return experiment, runs


def curves_figure(service, experiment) -> Figure:
    snap = data.snapshot(service, experiment.id)
    best = views.best(service, snap.experiment, snap.observations)
    return next(f for f in figures(data.with_curves(service, snap, best), best)
                if f.name == "curves")


def test_the_scheduler_stopped_two_runs_and_the_best_reached_max_resource(service, asha):
    experiment, runs = asha
    by_suggestion = {o.suggestion: o for o in service.observations(experiment)}
    assert by_suggestion[runs["completed"]].resource == 9.0
    assert not by_suggestion[runs["completed"]].stopped
    assert all(by_suggestion[sid].stopped and by_suggestion[sid].resource == 1.0
               for sid in runs["stopped"])


def test_the_curves_figure_draws_a_path_per_run_crosses_where_runs_stopped_and_the_rungs(
        service, asha):
    experiment, runs = asha
    root = ElementTree.fromstring(svg.render(curves_figure(service, experiment)))
    paths = [p for p in root.iter(f"{SVG_NS}path") if p.get("class") == "run"]
    titles = [p.findtext(f"{SVG_NS}title") or "" for p in paths]
    assert len(paths) == 4  # completed, two stopped, running
    assert sum("stopped early at epoch 1" in t for t in titles) == 2
    assert sum(t.startswith(f"run {runs['running']}: running, at epoch 2") for t in titles) == 1
    stops = [p for p in root.iter(f"{SVG_NS}path") if p.get("class") == "stop"]
    assert len(stops) == 2
    faded = [p for p, t in zip(paths, titles, strict=True) if "stopped early" in t]
    assert all(float(p.get("stroke-opacity", "1")) < 1 for p in faded)
    rungs = [line for line in root.iter(f"{SVG_NS}line") if line.get("class") == "rung"]
    assert len(rungs) == 2 and float(rungs[0].get("x1")) < float(rungs[1].get("x1"))
    labels = {t.text for t in root.iter(f"{SVG_NS}text")}
    assert {"epoch 1", "epoch 3"} <= labels and "Learning curves: score by epoch" in labels


def test_the_curves_data_has_the_milestones_the_best_run_on_top_and_every_reported_point(
        service, asha):
    experiment, runs = asha
    figure = curves_figure(service, experiment)
    assert figure.vlines == [(1.0, "epoch 1"), (3.0, "epoch 3")]
    assert experiment.spec.early_stopping.milestones(0) == [1.0, 3.0]
    assert figure.x.label == "epoch" and figure.x.log and figure.y.label == "score"
    assert figure.series[-1].label == "best" and figure.series[-1].points[-1][0] == 9.0
    assert len(figure.series[-1].points) == 9
    assert [s.label for s in figure.series].count("stopped early") == 2
    assert all(s.end for s in figure.series if s.label == "stopped early")


def test_no_curves_figure_until_some_run_reported(service):
    experiment = service.create_experiment(make_spec())
    s = service.create_suggestion(experiment.id)
    service.observe(service.new_observation(experiment, s, {"score": (1.0, None)}))
    snap = data.snapshot(service, experiment.id)
    assert not snap.reported
    assert "curves" not in {f.name for f in figures(snap, [])}
    assert "curves" not in {name for name, _ in data.experiment_view(service, snap)["figures"]}


def test_reading_curves_is_bounded_and_long_curves_are_thinned(service):
    experiment = service.create_experiment(make_spec(budget=300))
    sid = train(service, experiment, 1.0, 260)  # no early stopping: reports still count
    figure = curves_figure(service, experiment)
    (curve,) = figure.series
    assert len(curve.points) <= 200 and curve.points[0][0] == 1.0 and \
        curve.points[-1][0] == 260.0 and not figure.vlines and figure.x.label == "step"
    snap = data.snapshot(service, experiment.id)
    assert data.curve_runs(snap, [], limit=0) == [] and data.curve_runs(snap, []) == [sid]
    points = [(float(i), 0.0) for i in range(1000)]
    assert len(thin(points, 200)) == 200 and thin(points, 200)[-1] == points[-1]


def test_the_observations_table_and_progress_carry_the_resource_and_stopped_marks(
        service, asha):
    experiment, runs = asha
    view = data.experiment_view(service, data.snapshot(service, experiment.id))
    rows = {o["suggestion"]: o for o in view["observations"]}
    assert rows[runs["completed"]]["resource"] == 9.0 and not rows[runs["completed"]]["stopped"]
    assert rows[runs["stopped"][0]]["stopped"] and \
        rows[runs["stopped"][0]]["stop_reason"].startswith("asha: at rung 1")
    p = view["progress"]
    assert p["stopped"] == 2 and p["resource"] == "epoch" and p["resource_spent"] == 9 + 1 + 1 + 2
    assert view["experiment"]["early_stopping"]["milestones"] == [1.0, 3.0]
    assert view["open_suggestions"][0]["step"] == 2.0
    assert "curves" in {f["name"] for f in view["figures"]}


def invoke(service, *args: str):
    context = Context(None)
    context._service = service
    return CliRunner().invoke(cli, list(args), obj=context, catch_exceptions=False)


def test_status_says_how_many_stopped_the_resource_used_and_where_open_runs_are(
        service, asha):
    experiment, _ = asha
    result = invoke(service, "status", experiment.id)
    assert result.exit_code == 0
    assert "open 1 (running 1 (epoch 2))" in result.output
    assert "stopped 2  epoch used 13  " in result.output
    as_json = json.loads(invoke(service, "status", experiment.id, "--json").output)
    assert as_json["stopped"] == 2 and as_json["running_steps"] == [2.0]


def test_status_of_an_experiment_without_early_stopping_or_reports_is_as_before(service):
    experiment = service.create_experiment(make_spec())
    service.create_suggestion(experiment.id)
    output = invoke(service, "status", experiment.id).output
    assert "stopped" not in output and "used" not in output and "open 1 (running 0)" in output


def test_the_status_line_names_the_resource_budget_and_run_says_when_it_ended_the_run(
        service, capsys):
    spec = make_spec(early_stopping=ASHA, budget=6, resource_budget=12)
    experiment = service.create_experiment(spec)
    train(service, experiment, 0.9, 9)
    train(service, experiment, 0.95, 9)
    status = views.status(service, experiment.id)
    assert status.resource_exhausted and not status.done
    assert "epoch used 12/12" in invoke(service, "status", experiment.id).output
    experiment_commands._print_final(service, experiment.id, status)
    out = capsys.readouterr().out
    assert f"experiment {experiment.id} ended: 2 observations" in out
    assert "the resource budget ended the run: 12 of 12 epoch used" in out


def test_export_adds_resource_stopped_and_stop_reason_after_the_existing_columns(
        service, asha):
    experiment, runs = asha
    rows = list(csv.DictReader(io.StringIO(views.export(service, experiment.id, "csv"))))
    header = list(rows[0])
    assert header[:2] == ["id", "suggestion"] and header[-5:] == [
        "metadata", "resource", "stopped", "stop_reason", "output"]
    by_suggestion = {r["suggestion"]: r for r in rows}
    assert by_suggestion[runs["completed"]]["resource"] == "9.0"
    assert by_suggestion[runs["completed"]]["stop_reason"] == "reached max_resource 9"
    assert by_suggestion[runs["stopped"][0]]["stopped"] == "True"
    records = {r["suggestion"]: r for r in json.loads(views.export(service, experiment.id,
                                                                   "json"))}
    stopped = records[runs["stopped"][1]]
    assert stopped["stopped"] is True and stopped["resource"] == 1.0
    assert stopped["stop_reason"] == stopped["metadata"]["stop_reason"]


def test_json_export_gives_every_record_the_fields_even_without_early_stopping(service):
    experiment = service.create_experiment(make_spec())
    s = service.create_suggestion(experiment.id)
    service.observe(service.new_observation(experiment, s, {"score": (1.0, None)}))
    (record,) = json.loads(views.export(service, experiment.id, "json"))
    assert record["stop_reason"] == "" and record["stopped"] is False and \
        record["resource"] is None
    old = '{"assignments": {}, "id": "7", "metadata": {"stop_reason": "x"}}'  # an old record
    assert json.loads(views.export_record(old)) == {
        "stop_reason": "x", "assignments": {}, "id": "7", "metadata": {"stop_reason": "x"},
        "resource": None, "stopped": False}


def test_the_report_has_the_curves_figure_and_the_resource_column(service, asha, tmp_path):
    experiment, _ = asha
    out = tmp_path / "report.html"
    assert invoke(service, "report", experiment.id, "-o", str(out),
                  "--png", str(tmp_path / "png")).exit_code == 0
    html = out.read_text()
    assert "Learning curves: score by epoch" in html and "<th>epoch</th>" in html
    assert html.count("1 (stopped)") == 2 and "stopped early" in html
    assert (tmp_path / "png" / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_a_report_that_lets_a_run_go_on_changes_the_dashboard_version(service):
    experiment = service.create_experiment(make_spec(early_stopping=ASHA))
    sid = train(service, experiment, 0.9, 1, observe=False)
    before = data.version(service, service.experiment(experiment.id))
    epoch = service.store.suggestion(experiment.id, sid).epoch
    assert progress.report(service.store, experiment.spec, experiment.id, sid, epoch, 2,
                           {"score": 0.7}).status.goes_on
    assert data.version(service, service.experiment(experiment.id)) != before
