// Celeriac dashboard: the figures, drawn with Plotly (served by the dashboard from the
// installed plotly package) from the server's figure data (figures.py, the same numbers the
// report's SVGs show). Plotly reads a little markup in its text (<b>, <br>, entities), so
// every name from the server passes through esc() first and is drawn as the text it is.
"use strict";

const Explore = (() => {
  const COLORS = {line: "#bfdbfe", dark: "#1e40af"};
  const CONFIG = {displaylogo: false, responsive: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"]};
  const state = {version: null, loading: null, wanted: null, data: null, payload: null,
    rows: new Map(), cards: {}, parallelIds: [], onPick: null, onBrush: null, pair: [null, null]};

  function esc(value) {
    return String(value === null || value === undefined ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function short(value, limit) {
    const text = String(value);
    return text.length > limit ? text.slice(0, limit - 1) + "…" : text;
  }

  function num(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value !== "number") return String(value);
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  }

  // What a point's hover says: the observation, its metric values and its assignments.
  function hoverText(id, fallback) {
    const row = state.rows.get(id);
    if (!row) return esc(fallback || "");
    const lines = [`<b>observation ${esc(row.label)}</b>` + (row.best ? " (best)" : "") +
      (!row.failed && !row.feasible ? " (misses a threshold)" : "")];
    for (const [name, value] of Object.entries(row.values)) lines.push(`${esc(name)} = ${esc(num(value))}`);
    for (const [name, value] of Object.entries(row.assignments)) lines.push(`${esc(name)} = ${esc(num(value))}`);
    return lines.join("<br>");
  }

  function axis(a) {
    const out = {title: {text: esc(short(a.label, 60))}, automargin: true, zeroline: false,
      gridcolor: "#e5e7eb"};
    if (a.categories.length) {
      return {...out, tickvals: a.categories.map((_, i) => i),
        ticktext: a.categories.map((c) => esc(short(c, 20))), range: [-0.5, a.categories.length - 0.5]};
    }
    if (a.log) out.type = "log";
    if (a.low !== null && a.high !== null) {
      const [low, high] = a.log ? [Math.log10(a.low), Math.log10(a.high)] : [a.low, a.high];
      const pad = (high - low) * 0.03;
      out.range = [low - pad, high + pad];
    }
    if (a.integer) out.tickformat = "d";
    return out;
  }

  function seriesTraces(s, shown) {
    const x = s.points.map((p) => p[0]);
    const y = s.points.map((p) => p[1]);
    const ids = s.style === "curve" ? x.map(() => s.ids[0] || null) : s.ids;
    const trace = {type: "scatter", x, y, name: esc(s.label), legendgroup: esc(s.label),
      showlegend: shown, opacity: s.opacity, customdata: ids, hoverinfo: "text",
      hovertext: s.points.map((_, i) => hoverText(ids[i], s.style === "curve" ? s.tips[0] : s.tips[i]))};
    if (s.style === "dots") {
      trace.mode = "markers";
      trace.marker = {color: s.color, size: 8, opacity: 0.8, line: {color: "#fff", width: 0.8}};
    } else if (s.style === "step") {
      Object.assign(trace, {mode: "lines", line: {color: s.color, width: s.width, shape: "hv"},
        hoverinfo: "x+y+name", hovertext: undefined});
    } else {
      trace.mode = s.style === "line" ? "lines+markers" : "lines";
      trace.line = {color: s.color, width: s.width};
      trace.marker = {color: s.color, size: 7};
    }
    const traces = [trace];
    if (s.end && s.points.length) {
      traces.push({type: "scatter", mode: "markers", x: [x[x.length - 1]], y: [y[y.length - 1]],
        showlegend: false, hoverinfo: "skip", marker: {symbol: "x", size: 8, color: "#dc2626"}});
    }
    return traces;
  }

  function lines(figure) {
    const shapes = [];
    const notes = [];
    for (const [y, label] of figure.hlines) {
      shapes.push({type: "line", xref: "paper", x0: 0, x1: 1, y0: y, y1: y, line: {dash: "dash", color: "#6b7280"}});
      notes.push({xref: "paper", x: 1, y, text: esc(label), showarrow: false, xanchor: "right", yanchor: "bottom", font: {size: 11}});
    }
    for (const [x, label] of figure.vlines) {
      shapes.push({type: "line", yref: "paper", y0: 0, y1: 1, x0: x, x1: x, line: {dash: "dot", color: "#9ca3af"}});
      notes.push({yref: "paper", y: 1, x, text: esc(short(label, 20)), showarrow: false, xanchor: "left", yanchor: "top", font: {size: 10}});
    }
    return {shapes, annotations: notes};
  }

  function layout(figure, extra) {
    return {title: {text: esc(short(figure.title, 80)), x: 0.01, xanchor: "left", font: {size: 14}},
      margin: {l: 56, r: 16, t: 64, b: 48}, height: 340, hovermode: "closest",
      uirevision: figure.name, plot_bgcolor: "#f9fafb", paper_bgcolor: "#ffffff",
      legend: {orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: {size: 11}},
      font: {family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12}, ...extra};
  }

  function xyFigure(figure) {
    const seen = new Set();
    const traces = [];
    for (const s of figure.series) {
      const key = s.label + s.color;
      traces.push(...seriesTraces(s, !seen.has(key)));
      seen.add(key);
    }
    return {traces, layout: layout(figure, {xaxis: axis(figure.x), yaxis: axis(figure.y), ...lines(figure)})};
  }

  // Parallel coordinates: log axes carry log10 of the value (ticks say the value), categories
  // their index; brushing an axis filters the observations table (see brushed()).
  function dimension(a, values) {
    const label = esc(short(a.label, 28));
    if (a.categories.length) {
      return {label, values, tickvals: a.categories.map((_, i) => i),
        ticktext: a.categories.map((c) => esc(short(c, 16))), range: [-0.2, a.categories.length - 0.8]};
    }
    if (!a.log) {
      const dim = {label, values};
      if (a.low !== null && a.high !== null) dim.range = [a.low, a.high];
      return dim;
    }
    const logs = values.map((v) => Math.log10(v));
    const low = Math.log10(a.low !== null ? a.low : Math.min(...values));
    const high = Math.log10(a.high !== null ? a.high : Math.max(...values));
    const tickvals = [];
    for (let e = Math.ceil(low); e <= Math.floor(high); e++) tickvals.push(e);
    return {label: label + " (log)", values: logs, range: [low, high], tickvals,
      ticktext: tickvals.map((e) => num(10 ** e))};
  }

  function parallelFigure(figure) {
    const keep = figure.rows.map((r, i) => [r, i]).filter(([r]) => r.every((v) => v !== null));
    state.parallelIds = keep.map(([, i]) => figure.ids[i]);
    const dims = figure.axes.map((a, col) => dimension(a, keep.map(([r]) => r[col])));
    const trace = {type: "parcoords", dimensions: dims, labelangle: dims.length > 6 ? -20 : 0,
      labelfont: {size: 12}, tickfont: {size: 11}, rangefont: {size: 10},
      line: {color: keep.map(([, i]) => figure.shades[i]), cmin: 0, cmax: 1,
        colorscale: [[0, COLORS.line], [1, COLORS.dark]]}};
    return {traces: [trace], layout: layout(figure, {margin: {l: 64, r: 64, t: 90, b: 30}, height: 380})};
  }

  function inRange(value, range) {
    if (!range || !range.length) return true;
    const list = Array.isArray(range[0]) ? range : [range];
    return list.some(([low, high]) => value >= low && value <= high);
  }

  // The observations every brushed axis lets through; null when nothing is brushed.
  function brushed(gd) {
    const dims = gd.data[0].dimensions;
    if (dims.every((d) => !d.constraintrange || !d.constraintrange.length)) return null;
    const keep = new Set();
    state.parallelIds.forEach((id, j) => {
      if (dims.every((d) => inRange(d.values[j], d.constraintrange))) keep.add(id);
    });
    return keep;
  }

  function clearBrush() {
    const card = state.cards.parallel;
    if (!card) return;
    const gd = card.plot;
    const update = {};
    gd.data[0].dimensions.forEach((_, i) => { update[`dimensions[${i}].constraintrange`] = null; });
    Plotly.restyle(gd, update);
  }

  function card(name, wide) {
    if (!state.cards[name]) {
      const plot = document.createElement("div");
      plot.className = "plot";
      const node = document.createElement("figure");
      node.dataset.figure = name;
      if (wide) node.classList.add("wide");
      node.append(plot);
      state.cards[name] = {node, plot, bound: false};
    }
    return state.cards[name];
  }

  function bind(entry, parallel) {
    if (entry.bound) return;
    entry.bound = true;
    if (parallel) {
      entry.plot.on("plotly_restyle", () => { if (state.onBrush) state.onBrush(brushed(entry.plot)); });
      return;
    }
    entry.plot.on("plotly_click", (event) => {
      const id = event.points && event.points[0] && event.points[0].customdata;
      if (id && state.onPick) state.onPick(String(id));
    });
  }

  function caption(entry, text) {
    let node = entry.node.querySelector("figcaption");
    if (!text) { if (node) node.remove(); return; }
    if (!node) { node = document.createElement("figcaption"); entry.node.append(node); }
    node.textContent = text;
  }

  function draw(name, spec, wide) {
    const entry = card(name, wide);
    Plotly.react(entry.plot, spec.traces, spec.layout, CONFIG);
    caption(entry, spec.caption);
    bind(entry, name === "parallel");
    return entry.node;
  }

  // Plotly draws parallel coordinates with WebGL; without it (no GPU, WebGL turned off) the
  // card shows the server's SVG of the same figure, and says that brushing needs WebGL.
  let webglFound = null;
  function webgl() {
    if (webglFound === null) {
      const canvas = document.createElement("canvas");
      webglFound = !!(canvas.getContext("webgl") || canvas.getContext("experimental-webgl"));
    }
    return webglFound;
  }

  function image(name, url, wide) {
    const entry = card(name, wide);
    if (entry.plot._fullLayout) Plotly.purge(entry.plot);
    const img = document.createElement("img");
    img.src = url;
    img.alt = "parallel coordinates";
    img.className = "fallback";
    entry.plot.replaceChildren(img);
    caption(entry, "This browser has no WebGL: the figure is a picture, and brushing axes to filter the table needs WebGL.");
    return entry.node;
  }

  function importanceFigure(imp) {
    const items = imp.importances.slice().reverse();
    return {traces: [{type: "bar", orientation: "h", x: items.map((i) => i.importance),
      y: items.map((i) => esc(short(i.parameter, 30))), marker: {color: "#2563eb"},
      hovertemplate: "%{y}: %{x:.1%}<extra></extra>"}],
    layout: layout({name: "importance", title: "Parameter importance"}, {
      xaxis: {tickformat: ".0%", title: {text: "share of the forest's R² drop"}, rangemode: "tozero"},
      yaxis: {automargin: true}, margin: {l: 56, r: 16, t: 48, b: 56},
      height: Math.max(240, 120 + 26 * items.length)}),
    // text, not Plotly markup: set with textContent under the plot
    caption: `Which parameters move ${imp.metric}: ${imp.method}; fit to ${imp.observations} observations.`};
  }

  return {esc, state, xyFigure, parallelFigure, importanceFigure, draw, image, webgl, card, brushed, clearBrush,
    hoverText, axis, short, num, inRange};
})();
