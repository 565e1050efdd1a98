/* mapping export helpers: decode integer rings, build tooltips with textContent (never HTML). */
window.mappingExport = (function () {
  "use strict";
  function ring(a, s) {
    var x = a[0], y = a[1], out = [[y / s, x / s]];
    for (var i = 2; i < a.length; i += 2) { x += a[i]; y += a[i + 1]; out.push([y / s, x / s]); }
    return out;
  }
  function shape(polys, s) {
    return polys.map(function (p) { return p.map(function (r) { return ring(r, s); }); });
  }
  function tip(lines) {
    var div = document.createElement("div");
    div.className = "mapping-tip";
    lines.forEach(function (text, i) {
      if (text === null || text === undefined) { return; }
      var el = document.createElement(i === 0 ? "strong" : "div");
      el.textContent = String(text);
      div.appendChild(el);
    });
    return div;
  }
  function read(id) { return JSON.parse(document.getElementById(id).textContent); }
  function areas(id) {
    var d = read(id), a = d.areas, group = L.featureGroup();
    a.code.forEach(function (code, i) {
      var c = a.cls[i];
      var poly = L.polygon(shape(d.shapes[i], d.grid), {
        fillColor: c === null ? d.noData : d.colours[c], fillOpacity: 0.85,
        color: "#ffffff", weight: 0.4, opacity: 0.9
      });
      var value = a.value[i] === null ? "no data" : a.value[i];
      var rank = a.rank[i] === null ? "no rank" :
        "Rank " + a.rank[i].toLocaleString("en-GB") + " of " + d.rankOf.toLocaleString("en-GB") +
        " " + d.rankNote;
      var klass = c === null ? "Class: none (no value)" :
        "Class " + (c + 1) + " of " + d.colours.length + " (" + d.classLabels[c] + ")";
      var lines = [a.name[i] + " (" + code + ")",
                   d.showBorough ? "Borough: " + d.boroughs[a.borough[i]] : null,
                   d.measure + ": " + value, klass, rank];
      poly.bindTooltip(function () { return tip(lines); }, {sticky: true});
      poly.feature = {properties: {code: code}};
      group.addLayer(poly);
    });
    return group;
  }
  function outlines(id) {
    var d = read(id), group = L.featureGroup();
    d.shapes.forEach(function (polys) {
      group.addLayer(L.polygon(shape(polys, d.grid), {
        fill: false, color: "#222222", weight: 1.6, opacity: 0.9, interactive: false
      }));
    });
    return group;
  }
  function points(id) {
    var d = read(id), group = L.featureGroup();
    d.name.forEach(function (name, i) {
      var m = L.circleMarker([d.y[i] / d.grid, d.x[i] / d.grid], {
        radius: 3.5, color: "#ffffff", weight: 1, fillColor: "#d7191c", fillOpacity: 1
      });
      var lines = [name, d.kind, "Source: " + d.sources[d.source[i]]];
      m.bindTooltip(function () { return tip(lines); });
      group.addLayer(m);
    });
    return group;
  }
  return {areas: areas, outlines: outlines, points: points};
})();
