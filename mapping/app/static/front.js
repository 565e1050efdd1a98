// The front page (mapping/app/front.py): the published index on a map, re-weighted,
// re-classified and recoloured in the browser by mapclient.js, with no session on the server.
// Loaded before everything else: a shared address this page cannot show goes to the full tool
// at once. Every string from the data reaches the page as text (textContent), never as HTML.
(function (root) {
  "use strict";

  // the query parameters this page shows (the keys of mapping.app.state.SessionState.to_query)
  const HANDLED = ["measure", "level", "classes", "k", "palette", "weights", "agg"];
  const query = new URLSearchParams(root.location.search);
  for (const [key, value] of query) {
    const here = HANDLED.includes(key) && !(key === "measure" && value !== "index")
      && !(key === "classes" && !["quantiles", "equal_interval"].includes(value));
    if (!here) {
      root.location.replace("main" + root.location.search);
      return;
    }
  }

  // the width below which front.css stacks the page (and front.js folds the controls)
  const NARROW = "(max-width: 820px)";
  const $ = (id) => document.getElementById(id);
  let F, C, D, doc, state, defaults, londoners;
  const models = {};

  function initialState() {
    defaults = {level: F.levels[0][0], weights: F.domains.map((d) => d[2]),
                agg: F.aggregation, scheme: F.schemes[0][0], k: F.k[2],
                palette: F.palettes[0][0]};
    const s = {...defaults, weights: defaults.weights.slice()};
    const one = (key, allowed) => {
      const v = query.get(key);
      return v !== null && allowed.includes(v) ? v : null;
    };
    s.level = one("level", F.levels.map((l) => l[0])) || s.level;
    s.scheme = one("classes", F.schemes.map((l) => l[0])) || s.scheme;
    s.palette = one("palette", F.palettes.map((l) => l[0])) || s.palette;
    s.agg = one("agg", F.aggregations.map((l) => l[0])) || s.agg;
    const k = query.get("k");
    if (k !== null && /^[0-9]+$/.test(k) && +k >= F.k[0] && +k <= F.k[1]) s.k = +k;
    const w = (query.get("weights") || "").split(",").map(Number);
    if (w.length === s.weights.length && w.every((x) => Number.isFinite(x) && x >= 0 && x <= 1)
        && w.reduce((a, b) => a + b, 0) > 0) s.weights = w;
    return s;
  }

  // the view as the full tool's query (defaults left out, as SessionState.to_query does)
  function toQuery(extra) {
    const q = new URLSearchParams();
    if (state.level !== defaults.level) q.set("level", state.level);
    if (state.scheme !== defaults.scheme) q.set("classes", state.scheme);
    if (state.k !== defaults.k) q.set("k", String(state.k));
    if (state.palette !== defaults.palette) q.set("palette", state.palette);
    if (state.weights.some((w, i) => Math.abs(w - defaults.weights[i]) > 1e-8 + 1e-5 * Math.abs(defaults.weights[i]))) {
      q.set("weights", state.weights.map((w) => String(Number(w.toPrecision(4)))).join(","));
    }
    if (state.agg !== defaults.agg) q.set("agg", state.agg);
    for (const [key, value] of Object.entries(extra || {})) q.set(key, value);
    const text = q.toString().replace(/%2C/g, ",");  // the full tool's own form: a,b,c
    return text ? "?" + text : "";
  }

  function readControls() {
    const form = $("controls");
    state.level = form.elements.level.value;
    state.weights = F.domains.map((d) => Number($("w-" + d[0]).value));
    state.agg = $("agg").value;
    state.scheme = $("scheme").value;
    state.k = Number($("k").value);
    state.palette = $("palette").value;
  }

  function writeControls() {
    for (const input of $("controls").elements.level) input.checked = input.value === state.level;
    F.domains.forEach((d, i) => {
      $("w-" + d[0]).value = String(state.weights[i]);
    });
    $("agg").value = state.agg;
    $("scheme").value = state.scheme;
    $("k").value = String(state.k);
    $("palette").value = state.palette;
  }

  function showWeights() {
    F.domains.forEach((d, i) => {
      $("w-" + d[0] + "-out").textContent = String(state.weights[i]);
    });
  }

  function setArgs(model, changes) {
    if (model.args instanceof Map) {
      const next = new Map(model.args);
      for (const [k, v] of Object.entries(changes)) next.set(k, v);
      model.args = next;
    } else {
      model.args = {...model.args, ...changes};
    }
  }

  const levelLabel = (level) => F.levels.find((l) => l[0] === level)[1];
  const fmtValue = (v) => (v === null || Number.isNaN(v) ? "no data"
    : Number(v).toLocaleString("en-GB", {maximumSignificantDigits: 4}));

  let painted = null;  // what the map shows: {level, values, classes, colours, labels}

  function paint() {
    const level = state.level;
    const ctx = {
      level: {active: D.client.levels.indexOf(level)}, measure: {value: D.client.index},
      scheme: {value: state.scheme}, k: {value: state.k}, palette: {value: state.palette},
      normalisation: {value: D.client.normalisation}, rescale: {active: false},
      aggregation: {value: state.agg}, weights: state.weights.map((w) => ({value: w})),
      mapper: models.mapper, source: (lv) => doc.get_model_by_name("areas-" + lv),
    };
    const result = C.repaint(ctx, "weights");
    const full = "main" + toQuery();
    $("full-link").href = full;
    $("full-link-2").href = full;
    root.history.replaceState(null, "", toQuery() || root.location.pathname);
    if (!result) {
      painted = null;
      $("status").textContent = "This combination cannot be computed here (a geometric mean is "
        + "undefined where a domain score is zero or below). Choose another, or open the full tool.";
      return;
    }
    const labels = C.classLabels(result.values, result.bins);
    if (!painted || painted.level !== level) {  // the tools follow the level shown
      for (const lv of D.client.levels) models.renderers[lv].visible = lv === level;
      const renderer = models.renderers[level];
      models.hover.renderers = [renderer];
      models.hover.tooltips = F.tooltips[level];
      models.tap.renderers = [renderer];
      setArgs(models.valueFmt, {src: ctx.source(level)});
    }
    setArgs(models.classFmt, {level: level, labels: labels});
    painted = {level, values: result.values, classes: result.classes, colours: result.colours,
               labels};
    $("map-heading").textContent = F.index_label + ", " + levelLabel(level);
    renderLegend();
    const n = result.values.length, k = result.colours.length;
    const scheme = F.scheme_phrases[state.scheme];
    const plural = F.plurals[level];
    const top = result.classes.reduce((acc, c) => acc + (c === k - 1 ? 1 : 0), 0);
    const people = residents(level, result.classes, k - 1);
    $("status").textContent = `${n.toLocaleString("en-GB")} ${plural} in ${k} classes `
      + `${scheme}, across London. The most at risk class holds ${top.toLocaleString("en-GB")} `
      + `${plural}, home to ${Math.round(people).toLocaleString("en-GB")} residents `
      + `(${Math.round(100 * people / londoners)}% of Londoners). The table below the map gives `
      + "the same data as text.";
    const custom = toQuery().includes("weights=") || state.agg !== defaults.agg;
    $("custom-note").hidden = !custom;
    if ($("table-box").open) scheduleTable();
    root.__frontPainted = {level, at: performance.now()};
  }

  // residents of the areas of class c at a level (LSOA populations added up by parent area)
  function residents(level, classes, c) {
    const pop = D.index.population, parent = level === "lsoa" ? null : D.index.parent[level];
    let sum = 0;
    for (let i = 0; i < pop.length; i++) {
      const area = parent ? parent[i] : i;
      if (area >= 0 && classes[area] === c) sum += pop[i] || 0;
    }
    return sum;
  }

  function renderLegend() {
    const box = $("legend-rows");
    box.replaceChildren();
    painted.labels.forEach((label, i) => {
      const row = document.createElement("div");
      row.className = "legend-row";
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = painted.colours[i];
      sw.setAttribute("aria-hidden", "true");
      const text = document.createElement("span");
      text.textContent = `Class ${i + 1}: ${label}`;
      row.append(sw, text);
      box.append(row);
    });
    $("legend-title").textContent = `${F.index_label} (score), ${levelLabel(painted.level)}`;
  }

  function areaLink(code, text) {
    const a = document.createElement("a");
    a.href = "main" + toQuery({area: code});
    a.textContent = text;
    return a;
  }

  function cell(tag, text, cls) {
    const c = document.createElement(tag);
    if (cls) c.className = cls;
    if (text !== undefined) c.textContent = text;
    return c;
  }

  // the table follows the map once a slider rests (its 4,994 rows are not rebuilt per step)
  let tableTimer = null;
  function scheduleTable() {
    clearTimeout(tableTimer);
    tableTimer = setTimeout(renderTable, 150);
  }

  function renderTable() {
    if (!painted) return;
    const lv = D.levels[painted.level];
    const v = painted.values, k = painted.colours.length;
    const order = Array.from(v.keys()).sort((a, b) => {
      const x = Number.isNaN(v[a]) ? -Infinity : v[a], y = Number.isNaN(v[b]) ? -Infinity : v[b];
      return y - x || (lv.name[a] < lv.name[b] ? -1 : lv.name[a] > lv.name[b] ? 1 : 0);
    });
    const withBorough = painted.level !== "borough";
    document.querySelectorAll(".borough-col").forEach((th) => { th.hidden = !withBorough; });
    const body = document.createDocumentFragment();
    let rank = 0;
    order.forEach((i, pos) => {
      if (pos === 0 || v[i] !== v[order[pos - 1]]) rank = pos + 1;  // ties share the best rank
      const tr = document.createElement("tr");
      const name = cell("td");
      name.append(areaLink(lv.code[i], lv.name[i]));
      const c = painted.classes[i];
      tr.append(cell("td", Number.isNaN(v[i]) ? "" : String(rank), "num"), name,
                cell("td", lv.code[i]));
      if (withBorough) tr.append(cell("td", lv.borough[i]));
      tr.append(cell("td", fmtValue(v[i]), "num"),
                cell("td", c < k ? `${c + 1} of ${k}` : "no data"));
      body.append(tr);
    });
    $("table").tBodies[0].replaceChildren(body);
    $("table-caption").textContent = `${F.index_label} by ${levelLabel(painted.level)}: `
      + `${v.length.toLocaleString("en-GB")} areas, highest score (most at risk) first. `
      + "Each name opens the area's profile in the full tool.";
  }

  // a click on the map: the area, its score and class, and a link to its profile
  root.MappingFrontTap = function (level, indices) {
    const box = $("selection");
    box.replaceChildren();
    if (!painted || level !== painted.level || !indices.length) return;
    const i = indices[0], lv = D.levels[level], k = painted.colours.length;
    const c = painted.classes[i];
    const p = document.createElement("p");
    const where = level === "borough" ? "" : `, ${lv.borough[i]}`;
    p.append(cell("b", `${lv.name[i]}`), ` (${lv.code[i]}${where}): score `
      + `${fmtValue(painted.values[i])}, ${c < k ? `class ${c + 1} of ${k}` : "no data"}. `,
      areaLink(lv.code[i], "Open its profile in the full tool"));
    box.append(p);
  };

  function start() {
    F = root.MappingFront;
    C = root.MappingClient;
    if (!F || !C || !root.Bokeh) {
      $("status").textContent = "The map's files did not load. Reload the page, or open the full tool.";
      return;
    }
    D = C.data();
    londoners = D.index.population.reduce((a, b) => a + (b || 0), 0);
    // on a phone the map comes first: the controls are folded behind their summary until asked
    // for (CSS hides the summary on a wide screen, where they are always open)
    const narrow = root.matchMedia(NARROW);
    if (narrow.matches) $("controls-box").open = false;
    narrow.addEventListener("change", () => { if (!narrow.matches) $("controls-box").open = true; });
    state = initialState();
    writeControls();
    showWeights();
    $("controls").addEventListener("input", () => {
      readControls();
      showWeights();
      paint();
    });
    $("controls").addEventListener("submit", (ev) => ev.preventDefault());
    $("reset").addEventListener("click", () => {
      state = {...state, weights: defaults.weights.slice(), agg: defaults.agg};
      writeControls();
      showWeights();
      paint();
    });
    $("table-box").addEventListener("toggle", () => { if ($("table-box").open) renderTable(); });
    root.Bokeh.embed.embed_item(F.item, "map").then(() => {
      doc = root.Bokeh.documents[root.Bokeh.documents.length - 1];
      const get = (name) => doc.get_model_by_name(name);
      models.mapper = get("mapper");
      models.hover = get("hover");
      models.tap = get("tap");
      models.valueFmt = get("value-fmt");
      models.classFmt = get("class-fmt");
      models.renderers = {};
      for (const lv of D.client.levels) models.renderers[lv] = get("renderer-" + lv);
      paint();
    }, (err) => {
      $("status").textContent = "The map could not be drawn (" + err + "). Open the full tool.";
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})(globalThis);
