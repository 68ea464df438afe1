"""`coordinator report`: one self-contained HTML file with the dashboard's figures and tables.

Made for attaching to a pull request or a paper: no script, no external asset, every figure
an inline SVG from the same data functions as the live dashboard, every name escaped. The
figures can also be written as PNG files.
"""

from __future__ import annotations

import json
import time
from html import escape
from pathlib import Path
from typing import Any

from coordinator.dashboard import data, svg
from coordinator.dashboard.figures import Figure, figures
from coordinator.dashboard.importance import parameter_importance
from coordinator.dashboard.png import write_png
from coordinator.dashboard.snapshot import Snapshot
from coordinator.service import views
from coordinator.service.experiments import Service

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#111827;
max-width:1240px;margin:24px auto;padding:0 20px;background:#f9fafb}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:26px 0 8px}
.muted{color:#6b7280}.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.kpi{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;min-width:130px}
.kpi b{display:block;font-size:20px}.figs{display:flex;flex-wrap:wrap;gap:12px}
.figs svg{background:#fff;border:1px solid #e5e7eb;border-radius:8px;max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-size:12px}td.reason{font-family:monospace;font-size:12px;
white-space:pre-wrap}
"""


def t(value: Any) -> str:
    """Text for the report: escaped, numbers shortened."""
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return escape(f"{value:.6g}")
    return escape(str(value), quote=True)


def build(service: Service, experiment_id: str) -> tuple[str, list[Figure]]:
    """The report's HTML and the figures in it (for --png)."""
    snap = data.snapshot(service, experiment_id)
    best = views.best(service, snap.experiment, snap.observations)
    view = data.experiment_view(service, snap)
    found = figures(data.with_curves(service, snap, best), best)
    parts = [_header(view), _reasons(view), _best(view), "<h2>Figures</h2><div class='figs'>",
             *[svg.render(f) for f in found], "</div>", _importance(snap),
             _constraints(view), _space(view), _observations(view), _failed(view)]
    title = t(f"Celeriac report: {view['experiment']['name']}")
    html = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}"
            f"</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n")
    return html, found


def _header(view: dict[str, Any]) -> str:
    e, p = view["experiment"], view["progress"]
    made = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    kpis = [("observations", f"{p['observations']} / {p['budget'] or '–'}"),
            (f"best {p['best_metric'] or ''}", p["best_value"]), ("failed", p["failed"]),
            ("open", p["open"]), ("state", p["state"])]
    if p["reported"] or p["resource"]:
        budget = "" if p["resource_budget"] is None else f" / {p['resource_budget']:g}"
        kpis += [("stopped early", p["stopped"]),
                 (f"{p['resource'] or 'step'} used", f"{p['resource_spent']:g}{budget}")]
    cards = "".join(f"<div class='kpi'><span class='muted'>{t(k)}</span><b>{t(v)}</b></div>"
                    for k, v in kpis)
    window = view["window"]
    shown = "" if window is None else (
        f"<p class='muted'>A window of this long experiment: {t(window['shown'])} of its "
        f"{t(window['total'])} observations (the latest, each that improved the best so far, "
        f"and the best) in the tables and figures; <code>coordinator export {t(e['id'])}"
        f"</code> writes them all.</p>")
    return (f"<h1>{t(e['name'])}</h1><div class='muted'>experiment {t(e['id'])} · optimizer "
            f"{t(e['optimizer'])} · bandwidth {t(e['parallel_bandwidth'])} · report made "
            f"{t(made)}</div><div class='kpis'>{cards}</div>{shown}")


def _table(headers: list[str], rows: list[list[Any]], classes: dict[int, str] | None = None
           ) -> str:
    classes = classes or {}
    head = "".join(f"<th>{t(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(
        f"<td class='{classes[i]}'>{t(v)}</td>" if i in classes else f"<td>{t(v)}</td>"
        for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _best(view: dict[str, Any]) -> str:
    if not view["best"]:
        return "<h2>Best</h2><p class='muted'>No observation meets every threshold.</p>"
    metrics = [m["name"] for m in view["experiment"]["metrics"]]
    params = [p["name"] for p in view["experiment"]["parameters"]]
    rows = [[o["id"], *[o["values"].get(m) for m in metrics],
             *[o["assignments"].get(p) for p in params]] for o in view["best"]]
    title = "Best observation" if len(rows) == 1 else "Pareto front"
    return f"<h2>{title}</h2>" + _table(["observation", *metrics, *params], rows)


def _constraints(view: dict[str, Any]) -> str:
    if not view["constraints"]:
        return ""
    rows = [[c["metric"], f"{'<=' if c['objective'] == 'minimize' else '>='} {c['threshold']:g}",
             c["satisfied"], c["total"]] for c in view["constraints"]]
    return "<h2>Constraints</h2>" + _table(["metric", "threshold", "met", "observations"], rows)


def _observations(view: dict[str, Any]) -> str:
    metrics = [m["name"] for m in view["experiment"]["metrics"]]
    params = [p["name"] for p in view["experiment"]["parameters"]]
    rows = [[o["id"], "failed" if o["failed"] else ("best" if o["best"] else (
        "ok" if o["feasible"] else "infeasible")), *[o["assignments"].get(p) for p in params],
        *[o["values"].get(m) for m in metrics], o["duration"], o["hostname"]]
        for o in view["observations"]]
    headers = ["id", "status", *params, *metrics, "duration s", "host"]
    progress = view["progress"]
    if progress["reported"] or progress["resource"]:  # the step each run reached
        headers.insert(2, progress["resource"] or "step")
        for row, o in zip(rows, view["observations"], strict=True):
            reached = "–" if o["resource"] is None else f"{o['resource']:g}"
            row.insert(2, f"{reached} (stopped)" if o["stopped"] else reached)
    return f"<h2>Observations ({len(rows)})</h2>" + _table(headers, rows)


def _reasons(view: dict[str, Any]) -> str:
    """Failures grouped by reason, most frequent first, each reason's full text once."""
    groups = view["failure_reasons"]
    if not groups:
        return ""
    rows = [[g["count"], g["example"] or g["reason"],
             ", ".join(o["label"] for o in g["observations"]), ", ".join(g["hosts"])]
            for g in groups]
    return ("<h2>Failures by reason</h2>"
            + _table(["count", "reason", "observations", "hosts"], rows, {1: "reason"}))


def _importance(snap: Snapshot) -> str:
    found = parameter_importance(snap.experiment.spec, snap.observations)
    if not found["importances"]:
        return ""
    rows = [[i["parameter"], f"{100 * i['importance']:.1f} %"] for i in found["importances"]]
    return (f"<h2>Parameter importance for {t(found['metric'])}</h2><p class='muted'>"
            f"{t(found['method'])}; {t(found['observations'])} observations.</p>"
            + _table(["parameter", "importance"], rows))


def _space(view: dict[str, Any]) -> str:
    """The search space, the metrics and the rest of the stored config."""
    e = view["experiment"]
    params = [[p["name"], p["type"],
               ", ".join(map(str, p["categories"])) if p["type"] == "categorical" else (
                   "grid " + ", ".join(f"{v:g}" for v in p["grid"]) if p["grid"]
                   else f"{p['low']:g} … {p['high']:g}"), "log" if p["log"] else "–"]
              for p in e["parameters"]]
    metrics = [[m["name"], m["objective"], m["strategy"], m["threshold"]] for m in e["metrics"]]
    config = [[key, json.dumps(value) if isinstance(value, (dict, list)) else value]
              for key, value in e["config"].items()]
    return ("<h2>Search space</h2>" + _table(["parameter", "type", "values", "transformation"],
                                             params)
            + "<h2>Metrics</h2>" + _table(["metric", "objective", "strategy", "threshold"],
                                          metrics)
            + "<h2>Config</h2>" + _table(["field", "value"], config))


def _failed(view: dict[str, Any]) -> str:
    if not view["failed"]:
        return ""
    rows = [[o["id"], o["suggestion"], o["hostname"], o["reason"]] for o in view["failed"]]
    return (f"<h2>Failed observations ({len(rows)})</h2>"
            + _table(["observation", "suggestion", "host", "reason"], rows, {3: "reason"}))


def write_report(service: Service, experiment_id: str, output: Path | None,
                 png_dir: Path | None) -> list[Path]:
    """Writes the HTML (when output is given) and the PNGs (when png_dir is); returns paths."""
    html, found = build(service, experiment_id)
    written = []
    if output is not None:
        output.write_text(html, encoding="utf-8")
        written.append(output)
    if png_dir is not None:
        png_dir.mkdir(parents=True, exist_ok=True)
        written += [write_png(f, png_dir / f"{f.name}.png") for f in found]
    return written
