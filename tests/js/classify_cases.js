// Runs mapclient.js under Node on a build's map data: reads cases (JSON) on stdin, writes the
// classes and colours of each. Used by tests/test_client_js.py.
"use strict";
const fs = require("fs");
const vm = require("vm");
const [assetPath, clientPath] = process.argv.slice(2);
vm.runInThisContext(fs.readFileSync(assetPath, "utf8"));
const client = require(clientPath);
const data = client.data();
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
if (cases.format) {  // numbers to format as Python's format(x, ".<p>g")
  process.stdout.write(JSON.stringify(cases.format.map((x) => client.formatG(x, cases.p))));
  process.exit(0);
}
const out = cases.map((c) => {
  const values = c.values !== undefined
    ? c.values.map((v) => (v === null ? NaN : v))
    : client.indexValues(data, c.level, c.weights, c.aggregation);
  if (values === null) return null;
  // the palettes and directions the browser's repaint uses: the map data's own
  const higherIsWorse = !data.client.higher_is_better.includes(c.measure);
  const r = client.classify(values, c.scheme, c.k, data.client.palettes[c.palette],
                            higherIsWorse);
  return {classes: Array.from(r.classes), colours: r.colours,
          labels: client.classLabels(values, r.bins),
          values: Array.from(values, (v) => (Number.isNaN(v) ? null : v))};
});
process.stdout.write(JSON.stringify(out));
