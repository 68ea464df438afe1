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
    el("td", {class: "num", title: e.best_metric ? `best ${e.best_metric} (${e.objective})` : ""},
      fmt(e.best_value)),
    el("td", {class: "num"}, e.failed), el("td", {class: "num"}, e.open),
    el("td", null, clock(e.created)));
}

function showClient(client) {
  setText("client", "client " + client);
}

async function loadList() {
  const data = await getJSON("/api/experiments");
  showClient(data.client);
  fill(document.querySelector("#experiments tbody"), data.experiments.map(experimentRow));
  document.getElementById("empty").hidden = data.experiments.length > 0;
  document.getElementById("experiments").hidden = data.experiments.length === 0;
  setText("empty-client", data.client);
  document.getElementById("empty-default").hidden = data.client !== "default";
  document.getElementById("empty-other").hidden = data.client === "default";
}

// ---- one experiment ----------------------------------------------------------------------

const view = {id: null, version: null, data: null, sortKey: "id", sortDir: 1, brush: null,
  picked: null, expanded: new Set(), page: null};  // page: a page of all observations, newest first

function renderHeader(d) {
  const e = d.experiment;
  document.title = "Celeriac · " + e.name;
  setText("experiment-name", e.name);
  setText("crumb-name", "#" + e.id);
  showClient(d.client);
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
  const successes = d.observations.some((o) => !o.failed);
  document.getElementById("best-card").hidden = !successes && d.observations.length > 0;
  if (!d.best.length) {
    box.replaceChildren(el("p", {class: "muted"}, "No observation meets every threshold yet."));
    return;
  }
  const items = d.best.map((row) => el("div", {class: "front-item"},
    el("div", {class: "muted"}, `observation ${row.label}` + (d.best.length > 1 ? " (Pareto front)" : "")),
    assignmentList(row, d.experiment.metrics)));
  box.replaceChildren(...items);
}

function renderFigures(d) {
  Explore.state.onPick = pick;
  Explore.state.onBrush = brush;
  Plots.update(d, BASE, view.id).catch((error) => {
    console.error("figures:", error);
    live(false, "figures: " + error.message);
  });
}

// A click on a point: its row in the observations table, highlighted and scrolled to.
function pick(id) {
  view.picked = id;
  const visible = document.querySelector(`#observations tbody tr[data-id="${CSS.escape(id)}"]`);
  if (!visible) {  // filtered out: show every observation again
    document.getElementById("filter").value = "";
    document.getElementById("filter-state").value = "all";
    if (view.brush && !view.brush.has(id)) Explore.clearBrush();
  }
  renderObservations(view.data);
  const row = document.querySelector(`#observations tbody tr[data-id="${CSS.escape(id)}"]`);
  if (row) row.scrollIntoView({block: "center", behavior: "instant"});
}

// Brushing in parallel coordinates: only the observations inside every brushed range.
function brush(ids) {
  view.brush = ids;
  document.getElementById("brush").hidden = ids === null;
  if (view.data) renderObservations(view.data);
}

function renderReasons(d) {
  const groups = d.failure_reasons;
  document.getElementById("reasons-card").hidden = groups.length === 0;
  setText("reasons-title-count", `(${d.progress.failed} failed, ${groups.length} ` +
    `reason${groups.length === 1 ? "" : "s"})`);
  fill(document.querySelector("#reasons tbody"), groups.map((g) => {
    const detail = g.example && g.example !== g.reason ? el("details", null,
      el("summary", null, "full reason (one of them)"), el("pre", {class: "reason"}, g.example)) : null;
    const output = g.output ? el("details", null, el("summary", null, "output (tail)"),
      el("pre", {class: "output"}, g.output)) : null;
    const more = g.count > g.observations.length && g.observations.length ? " …" : "";
    return el("tr", null, el("td", {class: "num"}, g.count),
      el("td", {class: "reason"}, el("div", {class: "headline"}, g.reason), detail, output),
      el("td", {class: "ids"}, g.observations.map((o) => o.label).join(", ") + more),
      el("td", null, g.hosts.join(", ") || "–"));
  }));
}

function renderConfig(d) {
  const e = d.experiment;
  fill(document.querySelector("#space tbody"), e.parameters.map((p) => el("tr", null,
    el("td", null, p.name), el("td", null, p.type),
    el("td", null, p.type === "categorical" ? p.categories.join(", ")
      : p.grid && p.grid.length ? "grid " + p.grid.map(fmt).join(", ") : `${fmt(p.low)} … ${fmt(p.high)}`),
    el("td", null, p.log ? "log" : "–"))));
  fill(document.querySelector("#metrics tbody"), e.metrics.map((m) => el("tr", null,
    el("td", null, m.name), el("td", null, m.objective), el("td", null, m.strategy),
    el("td", null, fmt(m.threshold)))));
  const list = document.getElementById("config");
  list.replaceChildren(...Object.entries(e.config).flatMap(([key, value]) => [
    el("dt", null, key), el("dd", null, typeof value === "object" ? JSON.stringify(value) : fmt(value))]));
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
  fill(document.querySelector("#failed tbody"), d.failed.slice(-MAX_ROWS).map((o) => el("tr", null,
    el("td", null, o.label), el("td", null, o.suggestion || "–"), el("td", null, o.hostname || "–"),
    el("td", {class: "reason headline"}, o.headline || o.reason))));
}

// Observations table: columns from the experiment, sortable by any column, filtered by text.
function columns(d) {
  const cols = [{key: "id", label: "Id", get: (o) => o.number || Number(o.id), num: true,
    show: (_, o) => o.label},
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
    {key: "reason", label: "Reason", get: (o) => o.headline});
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
  const shown = view.page ? view.page.observations : d.observations;
  const rows = shown.filter((o) => {
    if (view.brush && !view.brush.has(o.id)) return false;
    if (state === "failed" && !o.failed) return false;
    if (state === "ok" && o.failed) return false;
    if (state === "feasible" && !o.feasible) return false;
    if (state === "stopped" && !o.stopped) return false;
    if (!needle) return true;
    return cols.some((c) => fmt(c.get(o)).toLowerCase().includes(needle));
  }).sort((a, b) => view.sortDir * compare(sortCol.get(a), sortCol.get(b)));
  setText("obs-title-count", `(${rows.length} of ${shown.length})`);
  const win = document.getElementById("obs-window");
  win.hidden = !d.window || Boolean(view.page);
  document.getElementById("obs-pager").hidden = !d.window;
  document.getElementById("page-newer").disabled = !view.page || view.page.page === 0;
  document.getElementById("page-older").disabled = Boolean(view.page) && view.page.page + 1 >= view.page.pages;
  document.getElementById("page-window").disabled = !view.page;
  setText("page-text", view.page ? `page ${view.page.page + 1} of ${view.page.pages} ` +
    `(${view.page.total} observations, newest first)` : "browse every observation, 500 a page");
  if (d.window) {
    win.textContent = `A window of this long experiment: ${d.window.shown} of its ` +
      `${d.window.total} observations (the latest, each that improved the best so far, and ` +
      `the best), in the table and the figures; \`coordinator export ${d.experiment.id}\` ` +
      `writes them all.`;
  }
  if (view.brush) setText("brush-text", `${rows.length} brushed in parallel coordinates`);
  const body = [];
  for (const o of rows.slice(0, MAX_ROWS)) {
    body.push(observationRow(o, cols));
    if (view.expanded.has(o.id)) body.push(detailRow(o, cols.length));
  }
  fill(document.querySelector("#observations tbody"), body);
}

function observationRow(o, cols) {
  const classes = [o.best ? "best-row" : "", view.picked === o.id ? "picked" : ""].join(" ").trim();
  const row = el("tr", {class: classes, "data-id": o.id, title: "click: details"}, ...cols.map((c) => {
    const value = c.get(o);
    if (c.key === "status") return el("td", null, el("span", {class: "badge " + value}, value));
    if (c.key === "reason") return el("td", {class: "reason headline"}, value || "");
    if (c.key === "resource" && o.stopped) {
      return el("td", {class: "num", title: o.stop_reason || "stopped early"}, fmt(value), " ",
        el("span", {class: "badge stopped"}, "stopped"));
    }
    return el("td", {class: c.num ? "num" : ""}, c.show ? c.show(value, o) : fmt(value));
  }));
  row.addEventListener("click", () => {
    if (view.expanded.has(o.id)) view.expanded.delete(o.id);
    else view.expanded.add(o.id);
    renderObservations(view.data);
  });
  return row;
}

// Everything about one observation: metadata, the whole reason, the output's tail (folded).
function detailRow(o, span) {
  const meta = el("dl", {class: "assignments"});
  for (const [key, value] of Object.entries(o.metadata)) {
    if (key === "output") continue;
    meta.append(el("dt", null, key), el("dd", null, typeof value === "object" ? JSON.stringify(value) : fmt(value)));
  }
  const parts = [el("div", {class: "muted"}, `observation ${o.label} (id ${o.id})` +
    (o.suggestion ? ` · suggestion ${o.suggestion}` : "")), meta];
  if (o.reason) parts.push(el("pre", {class: "reason"}, o.reason));
  if (o.output) {
    parts.push(el("details", {class: "output"}, el("summary", null, "output (the tail of stdout and stderr)"),
      el("pre", {class: "output"}, o.output)));
  }
  return el("tr", {class: "detail", "data-detail": o.id}, el("td", {colspan: String(span)}, ...parts));
}

function render(d) {
  view.data = d;
  view.version = d.version;
  renderHeader(d);
  renderKpis(d.progress);
  renderReasons(d);
  renderBest(d);
  renderFigures(d);
  renderConstraints(d);
  renderConfig(d);
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

async function showPage(page) {
  view.page = page === null ? null : await getJSON("/api/experiments/" +
    encodeURIComponent(view.id) + "/observations?page=" + page);
  if (view.data) renderObservations(view.data);
}

function startExperiment() {
  view.id = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
  const rerender = () => { if (view.data) renderObservations(view.data); };
  document.getElementById("filter").addEventListener("input", rerender);
  document.getElementById("filter-state").addEventListener("change", rerender);
  document.getElementById("brush-clear").addEventListener("click", () => Explore.clearBrush());
  document.getElementById("page-older").addEventListener("click",
    () => showPage(view.page ? view.page.page + 1 : 0));
  document.getElementById("page-newer").addEventListener("click",
    () => showPage(Math.max(0, view.page.page - 1)));
  document.getElementById("page-window").addEventListener("click", () => showPage(null));
  poll(loadExperiment);
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page === "experiment") startExperiment();
  else poll(loadList);
});
