"""The naive map a notebook user would write, against the app, measured the same way.

Naive: a ``folium.Choropleth`` of the unsimplified LSOA 2021 gen20 boundaries (full float
precision, WGS84; the same map as ``export_size.naive``) shown in a Panel ``Folium`` pane and
rebuilt on every change: a weight change recomputes the index with pandas (weighted sum of the
four domain scores) and assigns a new map to ``pane.object``.

App: :class:`mapping.app.page.MapApp` for one session, changing ``state.measure`` (recolour) or
``state.weights`` (re-weight).

Both are measured in-process on a Bokeh ``Document`` holding the map's model: the bytes are
those of the ``PATCH-DOC`` message Bokeh would send over the websocket for the change (header,
metadata, content and binary buffers, from ``bokeh.protocol``), and the initial bytes those of
the ``PULL-DOC-REPLY`` for the document; the time is server-side wall time from the change to
the updated models (plus, for the naive map, building the folium map), not the browser.

    .venv/bin/python benchmarks/bench_naive.py [--updates 3] [--borough Camden]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

def _domains() -> tuple[str, ...]:
    from mapping.index.spec import load_default_spec

    return tuple(load_default_spec().domain_codes)


DOMAINS = _domains()


def _message_bytes(msg) -> int:
    total = len(msg.header_json) + len(msg.metadata_json) + len(msg.content_json)
    for buf in msg.buffers:
        total += len(buf.to_bytes())
    return total


def patch_bytes(events) -> int:
    """Bytes of the ``PATCH-DOC`` message for ``events`` (0 when nothing changed)."""
    from bokeh.protocol import Protocol

    return _message_bytes(Protocol().create("PATCH-DOC", list(events))) if events else 0


def doc_bytes(doc) -> int:
    """Bytes of the ``PULL-DOC-REPLY`` message carrying the whole document."""
    from bokeh.protocol import Protocol

    return _message_bytes(Protocol().create("PULL-DOC-REPLY", "bench", doc))


def processed_of(build_dir: Path) -> Path:
    """``<build>/processed``, or ``build_dir`` itself when it is the processed folder."""
    build_dir = Path(build_dir)
    return build_dir / "processed" if (build_dir / "processed").is_dir() else build_dir


def _weights(i: int) -> list[float]:
    w = [0.25, 0.25, 0.25, 0.25]
    w[i % 4] += 0.05 * (1 + i % 3)
    return w


def naive_pane(build_dir: Path, updates: int, boroughs: list[str] | None = None) -> dict:
    """Initial and per-update payload and server time of the naive folium-in-Panel map."""
    import folium
    import panel as pn
    from bokeh.document import Document

    from mapping.config import data_dir
    from mapping.maps.folium_map import ExportData, select_boroughs
    from mapping.sources.readers import boundaries

    data = ExportData.open(processed_of(build_dir))
    table = data.frame("lsoa")
    cols = ["lsoa21_code", "lsoa21_name", "borough_code", "borough_name",
            *(f"{d}_score" for d in DOMAINS)]
    table = table[cols]
    raw = boundaries(data_dir() / data.registry.sources["boundaries_lsoa21"].path)
    gdf = raw[["lsoa21_code", "geometry"]].to_crs(4326).merge(table, on="lsoa21_code")
    if boroughs:
        gdf = gdf[gdf["borough_code"].isin(select_boroughs(table, boroughs))].copy()

    def make_map(weights: list[float]) -> folium.Map:
        # what the notebook user writes on each slider change: pandas maths, a new map
        gdf["index"] = sum(w * gdf[f"{d}_score"] for w, d in zip(weights, DOMAINS, strict=True))
        m = folium.Map(tiles=None)
        layer = folium.Choropleth(gdf, data=gdf, columns=["lsoa21_code", "index"],
                                  key_on="feature.properties.lsoa21_code",
                                  fill_color="YlOrRd", name="index").add_to(m)
        folium.GeoJsonTooltip(["lsoa21_name", "borough_name", "index"]).add_to(layer.geojson)
        m.fit_bounds(m.get_bounds())
        return m

    t0 = time.perf_counter()
    pane = pn.pane.plot.Folium(make_map(_weights(0)), height=700, sizing_mode="stretch_width")
    doc = Document()
    doc.add_root(pane.get_root(doc))
    initial_s = time.perf_counter() - t0
    initial = doc_bytes(doc)
    events: list = []
    doc.on_change(events.append)
    times, sizes = [], []
    for i in range(1, updates + 1):
        events.clear()
        t0 = time.perf_counter()
        pane.object = make_map(_weights(i))
        times.append(time.perf_counter() - t0)
        sizes.append(patch_bytes(events))
    return {"areas": len(gdf), "initial_bytes": initial, "initial_s": initial_s,
            "update_bytes": sizes, "update_s": times}


def app_inprocess(build_dir: Path, repeats: int) -> dict:
    """Initial map document bytes, and recolour / re-weight patch bytes and server time, for
    one :class:`MapApp` session (the map's figure only, as for the naive pane)."""
    from bokeh.document import Document

    from mapping.app.data import app_data
    from mapping.app.page import MapApp
    from mapping.app.usage import UsageCounter

    processed = processed_of(build_dir)
    t0 = time.perf_counter()
    app = MapApp(app_data(str(processed)), UsageCounter(None))
    doc = Document()
    doc.add_root(app.fig)
    initial_s = time.perf_counter() - t0
    initial = doc_bytes(doc)
    events: list = []
    doc.on_change(events.append)
    measures = [m for m in ("age_65_plus_pct", "disability_pct", "no_qualifications_pct",
                            "index") if m in app_measures(app)]
    out = {"initial_bytes": initial, "initial_s": initial_s, "recolour_bytes": [],
           "recolour_s": [], "reweight_bytes": [], "reweight_s": []}
    for i in range(repeats + 1):  # the first change of each kind is a warm-up
        events.clear()
        t0 = time.perf_counter()
        app.state.measure = measures[i % len(measures)]
        dt = time.perf_counter() - t0
        if i:
            out["recolour_s"].append(dt)
            out["recolour_bytes"].append(patch_bytes(events))
    app.state.measure = "index"
    for i in range(repeats + 1):
        events.clear()
        t0 = time.perf_counter()
        app.state.weights = _weights(i + 1)
        dt = time.perf_counter() - t0
        if i:
            out["reweight_s"].append(dt)
            out["reweight_bytes"].append(patch_bytes(events))
    return out


def app_measures(app) -> set[str]:
    measures = app.data.measures
    return set(measures() if callable(measures) else measures)


def main(argv: list[str] | None = None) -> int:
    from mapping.config import output_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3)
    parser.add_argument("--borough", action="append", default=None)
    parser.add_argument("--build-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    build = args.build_dir or output_dir()
    n = naive_pane(build, args.updates, args.borough)
    a = app_inprocess(build, args.updates)
    med = statistics.median
    print(f"naive ({n['areas']} areas): initial {n['initial_bytes']:,} B; per update "
          f"{med(n['update_bytes']):,.0f} B, {med(n['update_s']):.2f} s")
    print(f"app: initial {a['initial_bytes']:,} B; recolour {med(a['recolour_bytes']):,.0f} B, "
          f"{med(a['recolour_s']) * 1000:.1f} ms; re-weight {med(a['reweight_bytes']):,.0f} B, "
          f"{med(a['reweight_s']) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
