// Celeriac dashboard. Every value from the server enters the page through textContent or a
// URL built with encodeURIComponent: never as HTML, so hostile names stay text.
"use strict";

const POLL_MS = 1500;
const MAX_ROWS = 2000;
const BASE = location.pathname.slice(0, location.pathname.indexOf("/dashboard") + 10);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fmt(value) {
  if (value === null || value === undefined || value === "") return "–";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return String(Number(value.toPrecision(6)));
  }
  return String(value);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 60) return seconds.toFixed(seconds < 10 ? 1 : 0) + " s";
  if (seconds < 3600) return Math.floor(seconds / 60) + " min " + Math.round(seconds % 60) + " s";
  return Math.floor(seconds / 3600) + " h " + Math.round((seconds % 3600) / 60) + " min";
}

function clock(epochSeconds) {
  if (!epochSeconds) return "–";
  return new Date(epochSeconds * 1000).toLocaleString();
}

function setText(id, value) {
  const node = document.getElementById(id);
  if (node) node.textContent = value;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function live(ok, message) {
  const node = document.getElementById("live-status");
  node.className = "live " + (ok ? "on" : "off");
  node.textContent = message;
}

async function getJSON(path) {
  const response = await fetch(BASE + path, {credentials: "same-origin", cache: "no-store"});
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || ("HTTP " + response.status));
  return body;
}

function poll(load) {
  const tick = async () => {
    try {
      await load();
      live(true, "live · updated " + new Date().toLocaleTimeString());
    } catch (error) {
      live(false, "disconnected: " + error.message);
    }
    setTimeout(tick, POLL_MS);
  };
  tick();
}

// ---- the list of experiments -------------------------------------------------------------

function experimentRow(e) {
  const bar = el("div", {class: "progress small"}, el("div"));
  bar.firstChild.style.width = ((e.progress || 0) * 100).toFixed(1) + "%";
  const link = el("a", {href: BASE + "/experiments/" + encodeURIComponent(e.id)}, e.name);
  return el("tr", {"data-id": e.id},
    el("td", null, e.id), el("td", null, link),
    el("td", null, el("span", {class: "badge " + e.state}, e.state)),
    el("td", null, bar, `${e.observations} / ${e.budget === null ? "–" : e.budget}`),
    el("td", {class: "num"}, e.failed), el("td", {class: "num"}, e.open),
    el("td", null, clock(e.created)));
}

async function loadList() {
  const data = await getJSON("/api/experiments");
  fill(document.querySelector("#experiments tbody"), data.experiments.map(experimentRow));
  document.getElementById("empty").hidden = data.experiments.length > 0;
}

// ---- one experiment ----------------------------------------------------------------------

const view = {id: null, version: null, data: null, sortKey: "id", sortDir: 1, figures: {}};

function renderHeader(d) {
  const e = d.experiment;
  document.title = "Celeriac · " + e.name;
  setText("experiment-name", e.name);
  setText("crumb-name", "#" + e.id);
  const badge = document.getElementById("experiment-state");
  badge.className = "badge " + d.progress.state;
  badge.textContent = d.progress.state;
  setText("experiment-meta", `experiment ${e.id} · optimizer ${e.optimizer} · ` +
    `bandwidth ${e.parallel_bandwidth} · created ${clock(e.created)}`);
}

function renderKpis(p) {
  setText("obs-count", p.observations);
  setText("budget", p.budget === null ? "–" : p.budget);
  document.getElementById("progress-fill").style.width = ((p.fraction || 0) * 100).toFixed(1) + "%";
  setText("best-metric", p.best_metric === null ? "" : p.best_metric);
  setText("best-value", fmt(p.best_value));
  setText("open-count", p.open);
  setText("open-detail", `${p.running} running · ${p.queued} queued`);
  setText("workers-count", p.workers.length);
  setText("failed-count", p.failed);
  setText("eta", p.state === "finished" ? "done" : duration(p.eta_seconds));
  const budget = p.resource_budget === null ? "" : " / " + fmt(p.resource_budget);
  setText("stopping-detail", p.reported || p.resource ? `${p.stopped} stopped early · ` +
    `${p.resource || "step"} used ${fmt(p.resource_spent)}${budget}` : "");
}

function assignmentList(row, metrics) {
  const list = el("dl", {class: "assignments"});
  for (const m of metrics) list.append(el("dt", null, m.name), el("dd", null, fmt(row.values[m.name])));
  for (const [name, value] of Object.entries(row.assignments)) {
    list.append(el("dt", null, name), el("dd", null, fmt(value)));
  }
  return list;
}

function renderBest(d) {
  const box = document.getElementById("best");
  if (!d.best.length) {
    box.replaceChildren(el("p", {class: "muted"}, "No observation meets every threshold yet."));
    return;
  }
  const items = d.best.map((row) => el("div", {class: "front-item"},
    el("div", {class: "muted"}, `observation ${row.id}` + (d.best.length > 1 ? " (Pareto front)" : "")),
    assignmentList(row, d.experiment.metrics)));
  box.replaceChildren(...items);
}

function renderFigures(d) {
  const box = document.getElementById("figures");
  const wanted = new Set(d.figures.map((f) => f.name));
  for (const name of Object.keys(view.figures)) {
    if (!wanted.has(name)) { view.figures[name].remove(); delete view.figures[name]; }
  }
  for (const f of d.figures) {
    if (!view.figures[f.name]) {
      const img = el("img", {alt: f.title, "data-figure": f.name});
      view.figures[f.name] = el("figure", null, img);
      box.append(view.figures[f.name]);
    }
    const img = view.figures[f.name].firstChild;
    const src = `${BASE}/api/experiments/${encodeURIComponent(view.id)}/plots/` +
      `${encodeURIComponent(f.name)}.svg?v=${encodeURIComponent(d.version)}`;
    if (!img.getAttribute("src")) { img.src = src; continue; }
    const next = new Image();  // swap once loaded: no flicker while a run updates the plots
    next.onload = () => { img.src = src; };
    next.src = src;
  }
}

function renderConstraints(d) {
  document.getElementById("constraints-card").hidden = d.constraints.length === 0;
  fill(document.querySelector("#constraints tbody"), d.constraints.map((c) => {
    const share = c.total ? c.satisfied / c.total : 0;
    const bar = el("div", {class: "progress small"}, el("div"));
    bar.firstChild.style.width = (share * 100).toFixed(1) + "%";
    return el("tr", null, el("td", null, c.metric),
      el("td", null, `${c.objective === "minimize" ? "≤" : "≥"} ${fmt(c.threshold)}`),
      el("td", {class: "num"}, c.satisfied), el("td", {class: "num"}, c.total),
      el("td", null, bar, `${(share * 100).toFixed(0)} %`));
  }));
}

function assignmentsText(assignments) {
  return Object.entries(assignments).map(([k, v]) => `${k}=${fmt(v)}`).join(", ");
}

function renderOpen(d) {
  setText("open-title-count", `(${d.open_suggestions.length})`);
  document.getElementById("open-empty").hidden = d.open_suggestions.length > 0;
  fill(document.querySelector("#open tbody"), d.open_suggestions.map((s) => el("tr", null,
    el("td", null, s.id), el("td", null, el("span", {class: "badge " + s.state}, s.state)),
    el("td", null, s.owner || "–"), el("td", {class: "num"}, duration(s.lease_age)),
    el("td", {class: "num"}, s.attempts), el("td", {class: "assign"}, assignmentsText(s.assignments)))));
}

function renderFailed(d) {
  setText("failed-title-count", `(${d.failed.length})`);
  document.getElementById("failed-empty").hidden = d.failed.length > 0;
  fill(document.querySelector("#failed tbody"), d.failed.map((o) => el("tr", null,
    el("td", null, o.id), el("td", null, o.suggestion || "–"), el("td", null, o.hostname || "–"),
    el("td", {class: "reason"}, o.reason))));
}

// Observations table: columns from the experiment, sortable by any column, filtered by text.
function columns(d) {
  const cols = [{key: "id", label: "Id", get: (o) => Number(o.id), num: true},
    {key: "status", label: "Status", get: status}];
  if (d.progress.reported || d.experiment.early_stopping) {  // the step each run reached
    const unit = d.experiment.early_stopping ? d.experiment.early_stopping.resource : "step";
    cols.push({key: "resource", label: unit, get: (o) => o.resource, num: true});
  }
  for (const p of d.experiment.parameters) {
    cols.push({key: "p:" + p.name, label: p.name, get: (o) => o.assignments[p.name], num: p.type !== "categorical"});
  }
  for (const m of d.experiment.metrics) {
    cols.push({key: "m:" + m.name, label: m.name, get: (o) => o.values[m.name], num: true});
  }
  cols.push({key: "duration", label: "Duration s", get: (o) => o.duration, num: true},
    {key: "host", label: "Host", get: (o) => o.hostname},
    {key: "created", label: "Reported", get: (o) => o.created, show: clock},
    {key: "reason", label: "Reason", get: (o) => o.reason});
  return cols;
}

function status(o) {
  if (o.failed) return "failed";
  if (o.best) return "best";
  return o.feasible ? "ok" : "infeasible";
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined || a === "") return 1;
  if (b === null || b === undefined || b === "") return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

function renderObservations(d) {
  const cols = columns(d);
  const head = document.querySelector("#observations thead tr");
  head.replaceChildren(...cols.map((c) => {
    const th = el("th", {class: (c.num ? "num " : "") + (view.sortKey === c.key ? (view.sortDir > 0 ? "asc" : "desc") : ""), "data-key": c.key}, c.label);
    th.addEventListener("click", () => {
      view.sortDir = view.sortKey === c.key ? -view.sortDir : 1;
      view.sortKey = c.key;
      renderObservations(view.data);
    });
    return th;
  }));
  const needle = document.getElementById("filter").value.trim().toLowerCase();
  const state = document.getElementById("filter-state").value;
  const sortCol = cols.find((c) => c.key === view.sortKey) || cols[0];
  const rows = d.observations.filter((o) => {
    if (state === "failed" && !o.failed) return false;
    if (state === "ok" && o.failed) return false;
    if (state === "feasible" && !o.feasible) return false;
    if (state === "stopped" && !o.stopped) return false;
    if (!needle) return true;
    return cols.some((c) => fmt(c.get(o)).toLowerCase().includes(needle));
  }).sort((a, b) => view.sortDir * compare(sortCol.get(a), sortCol.get(b)));
  setText("obs-title-count", `(${rows.length} of ${d.observations.length})`);
  fill(document.querySelector("#observations tbody"), rows.slice(0, MAX_ROWS).map((o) => el("tr",
    {class: o.best ? "best-row" : "", "data-id": o.id}, ...cols.map((c) => {
      const value = c.get(o);
      if (c.key === "status") return el("td", null, el("span", {class: "badge " + value}, value));
      if (c.key === "reason") return el("td", {class: "reason"}, value || "");
      if (c.key === "resource" && o.stopped) {
        return el("td", {class: "num", title: o.stop_reason || "stopped early"}, fmt(value), " ",
          el("span", {class: "badge stopped"}, "stopped"));
      }
      return el("td", {class: c.num ? "num" : ""}, c.show ? c.show(value) : fmt(value));
    }))));
}

function render(d) {
  view.data = d;
  view.version = d.version;
  renderHeader(d);
  renderKpis(d.progress);
  renderBest(d);
  renderFigures(d);
  renderConstraints(d);
  renderOpen(d);
  renderObservations(d);
  renderFailed(d);
  document.body.dataset.version = d.version;
}

async function loadExperiment() {
  const since = view.version ? "?since=" + encodeURIComponent(view.version) : "";
  let d;
  try {
    d = await getJSON("/api/experiments/" + encodeURIComponent(view.id) + since);
  } catch (error) {
    const box = document.getElementById("error");
    box.hidden = false;
    box.textContent = error.message;
    throw error;
  }
  document.getElementById("error").hidden = true;
  if (!d.unchanged) render(d);
}

function startExperiment() {
  view.id = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
  const rerender = () => { if (view.data) renderObservations(view.data); };
  document.getElementById("filter").addEventListener("input", rerender);
  document.getElementById("filter-state").addEventListener("change", rerender);
  poll(loadExperiment);
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page === "experiment") startExperiment();
  else poll(loadList);
});
