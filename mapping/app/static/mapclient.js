// The map's client: re-weights the composite index, re-classifies and recolours the map in the
// browser, with the same results as the Python engine (mapping.index.aggregate,
// mapping.geography.rollup, mapping.maps.classify through mapclassify). Loaded once per
// browser as a static file; a session's document only calls MappingClient.repaint.
//
// It reads the build's map data (globalThis.MappingStatic, the map-<hash>.js asset) and never
// sends anything: whatever the server must know still reaches it through the widgets.
// tests/test_client_js.py runs this file under Node on the real build and compares every class.
(function (root) {
  "use strict";

  // numpy.arange for floats: the first two values, then start + i * (second - first)
  function arange(start, stop, step) {
    const n = Math.max(0, Math.ceil((stop - start) / step));
    const out = new Array(n);
    if (n > 0) out[0] = start;
    if (n > 1) out[1] = start + step;
    const delta = (start + step) - start;
    for (let i = 2; i < n; i++) out[i] = start + i * delta;
    return out;
  }

  // scipy.stats.scoreatpercentile (interpolation "fraction") of sorted values
  function scoreAtPercentile(sorted, per) {
    const idx = per / 100.0 * (sorted.length - 1);
    const i = Math.trunc(idx);
    if (i === idx) return sorted[i];
    const w0 = (i + 1) - idx, w1 = idx - i;
    return (sorted[i] * w0 + sorted[i + 1] * w1) / (w0 + w1);
  }

  function uniqueSorted(values) {
    const s = Float64Array.from(values).sort();
    const out = [];
    for (const v of s) if (out.length === 0 || out[out.length - 1] !== v) out.push(v);
    return out;
  }

  // mapclassify.classifiers.quantile
  function quantileBins(y, k) {
    const w = 100.0 / k;
    const p = arange(w, 100 + w, w);
    if (p[p.length - 1] > 100.0) p[p.length - 1] = 100.0;
    const sorted = Float64Array.from(y).sort();
    return uniqueSorted(p.map((pct) => scoreAtPercentile(sorted, pct)));
  }

  // mapclassify.EqualInterval._set_bins
  function equalIntervalBins(y, k) {
    let lo = Infinity, hi = -Infinity;
    for (const v of y) { if (v < lo) lo = v; if (v > hi) hi = v; }
    const width = (hi - lo) * 1.0 / k;
    let cuts = arange(lo + width, hi + width, width);
    if (cuts.length > k) cuts = cuts.slice(0, k);
    cuts[cuts.length - 1] = hi;
    return cuts;
  }

  // mapclassify.classifiers.bin1d: class j holds bins[j-1] < x <= bins[j]
  function bin1d(x, bins) {
    const k = bins.length;
    for (let j = 0; j < k; j++) {
      const left = j === 0 ? -Infinity : bins[j - 1];
      if (x > left && x <= bins[j]) return j;
    }
    return 0;
  }

  // The map data (the map-<hash>.js asset), its coordinates added up once (mapping.app.assets
  // stores them as differences from the previous vertex of the ring)
  function data() {
    if (root.MappingStatic) return root.MappingStatic;
    const raw = root.MappingStaticRaw;
    if (!raw) throw new Error("the map data (map-*.js) did not load");
    const undelta = (a) => {
      if (a.length && typeof a[0] !== "number") return a.map(undelta);
      const out = new Array(a.length);
      let acc = 0;
      for (let i = 0; i < a.length; i++) { acc += a[i]; out[i] = acc; }
      return out;
    };
    for (const path of raw.delta) {
      const keys = path.split(".");
      let node = raw;
      for (const key of keys.slice(0, -1)) node = node[key];
      node[keys[keys.length - 1]] = undelta(node[keys[keys.length - 1]]);
    }
    root.MappingStatic = raw;
    return raw;
  }

  const SCHEMES = {quantiles: quantileBins, equal_interval: equalIntervalBins};

  // mapping.maps.classify.classify: classes (no data = number of colours) and colours.
  // palettes: {k: colours} of one palette, light to dark.
  function classify(values, scheme, k, palettes, higherIsWorse) {
    const ok = [];
    for (const v of values) if (v !== null && !Number.isNaN(v)) ok.push(v);
    if (ok.length === 0) return null;
    const distinct = uniqueSorted(ok).length;
    let kEff = Math.max(1, Math.min(k, distinct));
    let bins;
    if (kEff === 1) {
      bins = [Math.max(...ok)];
    } else {
      bins = SCHEMES[scheme](ok, kEff);
      kEff = bins.length;
    }
    let colours = kEff > 1 ? palettes[Math.max(kEff, 2)].slice(0, kEff) : [palettes[2][1]];
    if (!higherIsWorse) colours = colours.slice().reverse();
    const cls = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || Number.isNaN(v)) cls[i] = colours.length;
      else cls[i] = kEff === 1 ? 0 : bin1d(v, bins);
    }
    return {classes: cls, colours: colours, bins: bins};
  }

  function sum(xs) { let s = 0; for (const x of xs) s += x; return s; }

  // the weights the engine ends with: AppState.normalised_weights (rounded to 6 decimals by
  // AppState._index), IndexSpec.domain_weights, aggregate._unit_weights
  function unitWeights(sliders) {
    const total = sum(sliders);
    let w = total <= 0 ? sliders.map(() => 1.0 / sliders.length) : sliders.map((s) => s / total);
    w = w.map((x) => parseFloat(x.toFixed(6)));
    const t2 = sum(w);
    w = w.map((x) => x / t2);
    const t3 = sum(w);
    return w.map((x) => x / t3);
  }

  // mapping.index.aggregate: arithmetic or geometric mean of the published domain scores,
  // per LSOA (null when a geometric mean is undefined: the server says why)
  function lsoaIndex(index, sliders, aggregation) {
    const w = unitWeights(sliders);
    const m = index.scores.length, n = index.scores[0].length, d = index.offset;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < m; j++) {
        let x = index.scores[j][i];
        if (x === null) x = NaN;
        if (aggregation === "geometric") {
          if (!(x + d > 0)) return null;
          acc += Math.log(x + d) * w[j];
        } else {
          acc += x * w[j];
        }
      }
      out[i] = aggregation === "geometric" ? Math.exp(acc) - d : acc;
    }
    return out;
  }

  // mapping.geography.rollup.weighted_rollup: population-weighted means by parent area, with
  // the compensated (Kahan) sums of pandas' groupby
  function rollup(values, population, parent, nAreas) {
    const num = new Float64Array(nAreas), numC = new Float64Array(nAreas);
    const den = new Float64Array(nAreas), denC = new Float64Array(nAreas);
    const add = (s, c, g, v) => {
      const y = v - c[g];
      const t = s[g] + y;
      c[g] = t - s[g] - y;
      if (Number.isNaN(c[g])) c[g] = 0;
      s[g] = t;
    };
    for (let i = 0; i < values.length; i++) {
      const g = parent[i];
      if (g < 0) continue;
      const valid = !Number.isNaN(values[i]);
      add(num, numC, g, (valid ? values[i] : 0.0) * population[i]);
      add(den, denC, g, valid ? population[i] : 0.0);
    }
    const out = new Float64Array(nAreas);
    for (let g = 0; g < nAreas; g++) out[g] = den[g] > 0 ? num[g] / den[g] : NaN;
    return out;
  }

  // the index at a level for these slider weights and aggregation, or null
  function indexValues(data, level, sliders, aggregation) {
    const index = data.index;
    if (!index || index.domain_normalisation !== "none") return null;
    const lsoa = lsoaIndex(index, sliders, aggregation);
    if (lsoa === null || level === "lsoa") return lsoa;
    return rollup(lsoa, index.population, index.parent[level], data.levels[level].code.length);
  }

  // Called by the widgets' callbacks in a session's document. ctx: the widgets' models, the
  // colour mapper and source(level), the level's source if it has been made. The rest (level
  // order, palettes, ...) is in the map data's "client" part. Returns what it painted (values,
  // classes, colours, bins) when the map was repainted here, false when only the server can.
  function repaint(ctx, trigger) {
    const data = api.data();
    const cfg = data.client;
    const level = cfg.levels[ctx.level.active];
    const src = ctx.source(level);
    const measure = ctx.measure.value, scheme = ctx.scheme.value;
    if (!src || measure === cfg.categorical || !(scheme in SCHEMES)) return false;
    const reweight = trigger === "weights" || trigger === "aggregation";
    const clientIndex = measure === cfg.index && ctx.normalisation.value === cfg.normalisation
      && !ctx.rescale.active && cfg.aggregations.includes(ctx.aggregation.value);
    let values = null;
    if (clientIndex) {
      values = indexValues(data, level, ctx.weights.map((s) => s.value), ctx.aggregation.value);
    } else if (!reweight) {
      values = Array.from(src.data.value);
    }
    if (values === null) return false;
    const palettes = cfg.palettes[ctx.palette.value];
    const higherIsWorse = !cfg.higher_is_better.includes(measure);
    const result = classify(values, scheme, ctx.k.value, palettes, higherIsWorse);
    if (result === null) return false;
    // class k = no data, k + 1 = suppressed by the small-count rule (kept from the server)
    const oldK = ctx.mapper.palette.length - 1, k = result.colours.length;
    const old = src.data.cls;
    for (let i = 0; i < result.classes.length; i++) {
      if (result.classes[i] === k && old[i] > oldK) result.classes[i] = k + 1;
    }
    // in place, then one change signal: nothing is sent to the server (it computes the same)
    src.data.cls = result.classes;
    src.data.value = Float64Array.from(values, (v) => (v === null ? NaN : v));
    const palette = [...result.colours, cfg.no_data];
    ctx.mapper.palette = palette;
    ctx.mapper.high = palette.length;
    src.change.emit();
    root.__mappingLastRepaint = {trigger: trigger, level: level, at: performance.now()};
    return {values: src.data.value, classes: result.classes, colours: result.colours,
            bins: result.bins};
  }

  // Python's format(x, ".<p>g"): p significant digits, rounded half to even on the exact
  // binary value (JavaScript's toPrecision rounds ties up), trailing zeros dropped
  function formatG(x, p) {
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
    const sign = x < 0 || Object.is(x, -0) ? "-" : "";
    if (x === 0) return sign + "0";
    const long = Math.abs(x).toExponential(100);  // every digit a double in this range has
    const e = long.indexOf("e");
    let exp = parseInt(long.slice(e + 1), 10);
    const all = long[0] + long.slice(2, e);
    let head = all.slice(0, p);
    const rest = all.slice(p);
    const up = rest[0] > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1))
      || Number(head[p - 1]) % 2 === 1));
    if (up) {
      const digits = head.split("").map(Number);
      let i = p - 1;
      while (i >= 0 && digits[i] === 9) { digits[i] = 0; i--; }
      if (i < 0) { digits.unshift(1); digits.pop(); exp += 1; } else digits[i] += 1;
      head = digits.join("");
    }
    if (exp < -4 || exp >= p) {
      const mant = (head[0] + "." + head.slice(1)).replace(/\.?0+$/, "");
      return sign + mant + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
    }
    let int, frac;
    if (exp >= 0) { int = head.slice(0, exp + 1); frac = head.slice(exp + 1); }
    else { int = "0"; frac = "0".repeat(-exp - 1) + head; }
    frac = frac.replace(/0+$/, "");
    return sign + int + (frac ? "." + frac : "");
  }

  // mapping.maps.classify.classify's labels: "low to high" per class, the lowest from the
  // smallest value shown, each number as format(x, ".3g")
  function classLabels(values, bins) {
    let lo = Infinity;
    for (const v of values) if (v !== null && !Number.isNaN(v) && v < lo) lo = v;
    return bins.map((hi, i) => formatG(i === 0 ? lo : bins[i - 1], 3) + " to " + formatG(hi, 3));
  }

  const api = {data, arange, quantileBins, equalIntervalBins, classify, unitWeights, lsoaIndex, rollup,
               indexValues, repaint, formatG, classLabels};
  root.MappingClient = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof globalThis !== "undefined" ? globalThis : this);
