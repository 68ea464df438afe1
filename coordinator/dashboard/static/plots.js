// Celeriac dashboard: which figures the experiment page shows, kept up to date. The figure
// data is fetched once per experiment version; figures with nothing to draw get no card.
"use strict";

const Plots = (() => {
  const S = Explore.state;

  function setRows(d) {
    S.rows = new Map(d.observations.map((o) => [o.id, o]));
    S.data = d;
  }

  async function fetchFigures(base, id, version) {
    const url = `${base}/api/experiments/${encodeURIComponent(id)}/figures?v=${encodeURIComponent(version)}`;
    const response = await fetch(url, {credentials: "same-origin"});
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || ("HTTP " + response.status));
    return body;
  }

  // Called on every fresh poll; fetches and draws the figures of a new version, one at a time.
  async function update(d, base, id) {
    setRows(d);
    S.base = base;
    S.id = id;
    const box = document.getElementById("figures");
    const successes = d.observations.some((o) => !o.failed);
    document.getElementById("figures-note").hidden = successes || !d.observations.length;
    box.hidden = !successes;
    if (!successes) return;
    if (typeof Plotly === "undefined") {
      document.getElementById("figures-note").hidden = false;
      document.getElementById("figures-note").textContent = "The figures need plotly.min.js, which did not load.";
      return;
    }
    S.wanted = d.version;
    if (S.loading || S.version === d.version) return;
    while (S.wanted !== S.version) {
      const version = S.wanted;
      S.loading = fetchFigures(base, id, version);
      try {
        S.payload = await S.loading;
      } finally {
        S.loading = null;
      }
      S.version = version;
      drawAll(box);
    }
  }

  // Cards go into the page first, then Plotly draws into them: it sizes a plot by its box.
  function drawAll(box) {
    const wanted = [];
    for (const figure of S.payload.figures) {
      if (figure.empty) continue;
      const parallel = figure.kind === "parallel";
      if (parallel && !Explore.webgl()) {
        wanted.push([figure.name, true, null]);
        continue;
      }
      wanted.push([figure.name, parallel,
        () => parallel ? Explore.parallelFigure(figure) : Explore.xyFigure(figure)]);
    }
    const imp = S.payload.importance;
    if (imp && imp.importances.length) {
      wanted.push(["importance", false, () => Explore.importanceFigure(imp)]);
    }
    let contour = null;
    try {
      contour = contourSpec();
    } catch (error) {
      console.error("figure contour:", error);
    }
    if (contour) wanted.push(["contour", false, () => contour]);
    const names = new Set(wanted.map(([name]) => name));
    for (const [name, entry] of Object.entries(S.cards)) {
      if (!names.has(name)) { Plotly.purge(entry.plot); delete S.cards[name]; }
    }
    box.replaceChildren(...wanted.map(([name, wide]) => Explore.card(name, wide).node));
    for (const [name, wide, spec] of wanted) {
      try {
        drawOne(name, wide, spec);
      } catch (error) {  // one figure that cannot be drawn must not stop the others
        console.error(`figure ${name}:`, error);
      }
    }
    document.body.dataset.figures = S.version;  // what the tests wait for
  }

  function drawOne(name, wide, spec) {
    if (spec) Explore.draw(name, spec(), wide);
    // WebGL present but refused (a blocked GPU, a lost context): Plotly says so in the card
    const refused = name === "parallel" && Explore.card(name, wide).plot.textContent.includes("WebGL is not supported");
    if (spec && !refused) return;
    Explore.image(name, `${S.base}/api/experiments/${encodeURIComponent(S.id)}/plots/${name}.svg?v=${encodeURIComponent(S.version)}`, wide);
  }

  // ---- contour of the metric over a chosen pair of parameters ------------------------------

  function pickers(params) {
    const entry = Explore.card("contour", false);
    if (!entry.controls) {
      entry.controls = document.createElement("div");
      entry.controls.className = "pair";
      const selects = [0, 1].map((i) => {
        const select = document.createElement("select");
        select.id = "contour-" + "xy"[i];
        select.setAttribute("aria-label", "Contour " + "xy"[i] + " parameter");
        select.addEventListener("change", () => {
          S.pair[i] = select.value;
          const spec = contourSpec();
          if (spec) Explore.draw("contour", spec, false);
        });
        return select;
      });
      entry.controls.append("Contour of ", selects[0], " and ", selects[1]);
      entry.node.prepend(entry.controls);
    }
    for (const select of entry.controls.querySelectorAll("select")) {
      const current = [...select.options].map((o) => o.value).join("\u0000");
      if (current === params.map((p) => p.name).join("\u0000")) continue;
      select.replaceChildren(...params.map((p) => {
        const option = document.createElement("option");
        option.value = p.name;
        option.textContent = p.name;
        return option;
      }));
    }
    return entry;
  }

  function defaultPair(params) {
    const names = params.map((p) => p.name);
    const ranked = (S.payload.importance.importances || []).map((i) => i.parameter);
    const order = [...ranked.filter((n) => names.includes(n)), ...names.filter((n) => !ranked.includes(n))];
    if (!names.includes(S.pair[0])) S.pair[0] = order[0];
    if (!names.includes(S.pair[1]) || S.pair[1] === S.pair[0]) S.pair[1] = order.find((n) => n !== S.pair[0]);
  }

  function contourSpec() {
    const d = S.data;
    const params = d.experiment.parameters;
    const metric = d.experiment.metrics.find((m) => m.strategy === "optimize");
    if (params.length < 2 || !metric) return null;
    const scored = d.observations.filter((o) => !o.failed && typeof o.values[metric.name] === "number");
    if (scored.length < 3) return null;
    defaultPair(params);
    const entry = pickers(params);
    const selects = entry.controls.querySelectorAll("select");
    selects[0].value = S.pair[0];
    selects[1].value = S.pair[1];
    const [px, py] = S.pair.map((n) => params.find((p) => p.name === n));
    const coord = (p, o) => p.type === "categorical" ? Explore.esc(o.assignments[p.name]) : o.assignments[p.name];
    // a conditional parameter absent from a point puts the point nowhere on this pair
    const done = scored.filter((o) => o.assignments[px.name] !== undefined && o.assignments[py.name] !== undefined);
    const x = done.map((o) => coord(px, o));
    const y = done.map((o) => coord(py, o));
    const z = done.map((o) => o.values[metric.name]);
    const axisOf = (p) => ({...(p.type === "categorical" ? {type: "category"} : p.log ? {type: "log"} : {}),
      title: {text: Explore.esc(Explore.short(p.name, 60))}, automargin: true});
    // a contour needs two distinct values on each axis (Plotly cannot draw one otherwise)
    const drawable = done.length >= 3 && new Set(x.map(String)).size > 1 && new Set(y.map(String)).size > 1;
    const contour = {type: "contour", x, y, z, connectgaps: true, hoverinfo: "skip",
      line: {smoothing: 0.8, width: 0.5}, colorscale: "Blues",
      reversescale: metric.objective === "minimize", contours: {coloring: "fill"},
      colorbar: {title: {text: Explore.esc(Explore.short(metric.name, 20)), side: "right"}, thickness: 12}};
    const points = {type: "scatter", mode: "markers", x, y, customdata: done.map((o) => o.id),
      hoverinfo: "text", hovertext: done.map((o) => Explore.hoverText(o.id)), showlegend: false,
      marker: {color: done.map((o) => o.best ? "#16a34a" : o.feasible ? "#111827" : "#ea580c"), size: 7,
        line: {color: "#fff", width: 1}}};
    const traces = drawable ? [contour, points] : [points];
    return {traces, layout: {
      title: {text: `${Explore.esc(Explore.short(metric.name, 40))} over two parameters`, x: 0.01, xanchor: "left", font: {size: 14}},
      margin: {l: 56, r: 16, t: 40, b: 48}, height: 340, hovermode: "closest", uirevision: S.pair.join("\u0000"),
      xaxis: axisOf(px), yaxis: axisOf(py), font: {family: "system-ui, sans-serif", size: 12}}};
  }

  return {update};
})();
