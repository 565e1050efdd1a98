"""Standalone folium maps of a build: :func:`export_map` returns a ``folium.Map`` (like
geopandas' ``explore()``, so it shows inline in a notebook) and :func:`write_map` writes it as
one HTML file that opens without Python.

The build is read through the read model (:class:`~mapping.outputs.readmodel.ReadModel`, named
:data:`ExportData` here): levels, measures, ranks and value text are the same as in the app.

How the page stays light, safe and reproducible:

* **Light.** Geometry is the build's web geometry (``shapely.coverage_simplify``, shared edges
  kept, coordinates on a 1e-5° grid), sent as integers (:mod:`mapping.maps.folium_layers`).
  Attributes are sent once, as columns. No basemap tiles by default (the map is legible without
  them; ``tiles="OpenStreetMap"`` adds them).
* **Safe.** No data string is handed to folium's ``Tooltip``/``Popup``/``GeoJsonTooltip`` (they
  do not escape). Data travels as JSON inside ``<script type="application/json">`` and tooltips
  are built in the browser with ``textContent``; the side panel and the borough index page come
  from autoescaping templates (``templates/export_panel.html``, ``export_index.html``), and layer
  names are HTML-escaped.
* **Reproducible.** Element ids are numbered, not random, and the date shown comes from the
  build, not the clock, so the same build gives the same bytes.
* **Offline.** Only Leaflet is loaded (folium's jQuery, Bootstrap, Font Awesome and
  awesome-markers are not used by these maps); ``offline=True`` inlines the npm copy
  (:mod:`mapping.maps.assets`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import shapely

from mapping.files import write_text
from mapping.governance.records import review_status_text
from mapping.index.ranking import ranks
from mapping.maps.assets import inline_assets
from mapping.maps.classify import NO_DATA_COLOUR, PALETTES, SCHEME_LABELS, SCHEMES, classify
from mapping.maps.escape import html_text
from mapping.maps.folium_layers import (  # noqa: F401 (encode/decode: part of this API)
    GRID,
    LEAFLET_ONLY_CSS,
    LEAFLET_ONLY_JS,
    TEMPLATES,
    DataLayer,
    StaticHtml,
    decode_ring,
    encode_polygons,
    encode_ring,
    page_head,
)
from mapping.maps.folium_layers import PAGE_CSS as _PAGE_CSS  # noqa: F401 (its colours are tested)
from mapping.maps.summary import risk_summary
from mapping.maps.templating import render
from mapping.outputs.formatting import SUPPRESSED, value_text
from mapping.outputs.readmodel import (  # noqa: F401 (select_boroughs: part of this API)
    Measure,
    ReadModel,
    ReadModelError,
    select_boroughs,
)

#: A build opened for exports is the read model itself; its errors are the exports' errors.
ExportData = ReadModel
ExportError = ReadModelError
OSM_TILES_ATTRIBUTION = "Basemap © OpenStreetMap contributors"


def _check_options(scheme: str, palette: str, k: int, class_frame: str, tiles: str | None):
    if scheme not in SCHEMES:
        raise ExportError(f"unknown scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
    if palette not in PALETTES:
        raise ExportError(f"unknown palette {palette!r}; choose from {', '.join(PALETTES)}")
    if not 2 <= k <= 9:
        raise ExportError("the number of classes must be between 2 and 9")
    if class_frame not in ("london", "selection"):
        raise ExportError("class_frame must be 'london' or 'selection'")
    if tiles not in (None, "OpenStreetMap"):
        raise ExportError("tiles must be None or 'OpenStreetMap'")


def export_map(
    data: ExportData | str | os.PathLike | None = None,
    *,
    measure: str | None = None,
    level: str = "lsoa",
    boroughs: Sequence[str] | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    palette: str = "viridis",
    class_frame: str = "london",
    libraries: bool = True,
    borough_outlines: bool = True,
    tiles: str | None = None,
    title: str | None = None,
    date: str | None = None,
) -> folium.Map:
    """A folium map of one measure of a build, ready to show in a notebook or to write.

    Parameters
    ----------
    data
        A :class:`ExportData` (the read model), a ``processed`` folder, or ``None`` for the
        default build.
    measure
        A column of the level's tables: an indicator code, ``index_score`` or a domain score
        (``<domain>_score``). Default: the index when built, else the first indicator.
    level
        ``"lsoa"``, ``"ward"`` or ``"borough"``.
    boroughs
        Borough codes or names to show; all of London when empty.
    scheme, k, palette
        Classification (see :mod:`mapping.maps.classify`), as in the app.
    class_frame
        ``"london"`` (default): class breaks from every London area of the level, so colours
        mean the same in every borough's map; ``"selection"``: breaks from the areas shown.
    libraries, borough_outlines
        Add the libraries overlay and borough boundary lines (toggleable layers).
    tiles
        ``None`` (default, no network needed) or ``"OpenStreetMap"``.
    title, date
        Override the title, and the date shown (default: the build's date, see
        :meth:`ReadModel.build_date`, else the latest release date of the sources used).

    Returns
    -------
    folium.Map
    """
    if not isinstance(data, ReadModel):
        data = ReadModel.open(data)
    _check_options(scheme, palette, k, class_frame, tiles)
    lv = data.level(level)
    frame = data.frame(level)
    measures = data.measures(level)
    code = measure or data.default_measure(level)
    if code not in measures:
        raise ExportError(f"no measure {code!r} at level {level!r}; choose from "
                          f"{', '.join(sorted(measures))}")
    meas = measures[code]
    chosen = select_boroughs(frame, boroughs)
    everywhere = len(chosen) == frame["borough_code"].nunique()

    values = frame[code].astype(float)
    rank_col = meas.rank_column
    rank = (frame[rank_col].astype("Int64") if rank_col and rank_col in frame.columns
            else ranks(values, meas.direction))
    shown = frame["borough_code"].isin(chosen).to_numpy()
    basis = values if class_frame == "london" else values[shown]
    classes = classify(basis.to_numpy(), scheme, k, palette,
                       higher_is_worse=meas.direction != "higher_is_better")
    cls = classes.classes[shown] if class_frame == "london" else classes.classes
    sub = frame.loc[shown].reset_index(drop=True)
    n_classes = len(classes.colours)
    cls_list = [int(c) if c < n_classes else None for c in cls]
    sup_col = f"{code}_suppressed"
    suppressed = (sub[sup_col].fillna(False).astype(bool).to_numpy() if sup_col in sub.columns
                  else np.zeros(len(sub), dtype=bool))

    borough_names = sorted(sub["borough_name"].unique().tolist())
    b_index = {b: i for i, b in enumerate(borough_names)}
    area_payload = {
        "grid": GRID,
        "measure": meas.label,
        "rankOf": int(values.notna().sum()),
        "rankNote": f"in London ({lv.title}; 1 = most at risk)",
        "showBorough": level != "borough",
        "boroughs": borough_names,
        "colours": list(classes.colours),
        "classLabels": list(classes.labels),
        "noData": NO_DATA_COLOUR,
        "areas": {
            "code": sub[lv.code].astype(str).tolist(),
            "name": sub[lv.name].astype(str).tolist(),
            "borough": [b_index[b] for b in sub["borough_name"]],
            "value": [SUPPRESSED if hidden else value_text(v, meas.unit)
                      for v, hidden in zip(sub[code].astype(float), suppressed, strict=True)],
            "rank": [None if pd.isna(r) else int(r) for r in rank[shown]],
            "cls": cls_list,
        },
        "shapes": [encode_polygons(g) for g in sub.geometry],
    }

    minx, miny, maxx, maxy = sub.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=10,
                   tiles=None, prefer_canvas=True, control_scale=True, zoom_snap=0.25)
    # Instance lists (folium's are module-level and mutated by add_js_link): Leaflet only.
    m.default_js = list(LEAFLET_ONLY_JS)
    m.default_css = list(LEAFLET_ONLY_CSS)
    if tiles == "OpenStreetMap":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=True).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(12, 12))

    DataLayer("areas", area_payload, f"{meas.label} ({lv.title})").add_to(m)
    if borough_outlines and level != "borough":
        bgeo = data.frame("borough")
        bgeo = bgeo[bgeo["borough_code"].isin(chosen)]
        DataLayer("outlines", {"grid": GRID,
                               "shapes": [encode_polygons(g) for g in bgeo.geometry]},
                  "Borough boundaries").add_to(m)
    if libraries:
        _libraries_layer(data, chosen, everywhere).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)

    place = "London" if everywhere else ", ".join(borough_names)
    heading = title or f"{meas.label}: {place}"
    used_sources = data.map_sources(meas, level, libraries)
    shown_date = date if date is not None else data.build_date()
    vintage = data.data_vintage(used_sources)
    lines = data.attributions(used_sources)
    if tiles == "OpenStreetMap":
        lines.append(OSM_TILES_ATTRIBUTION)
    worse = "higher" if meas.direction == "higher_is_worse" else "lower"
    frame_text = f"all London {lv.title}" if class_frame == "london" else f"the {lv.title} shown"
    about = [f"{len(sub):,} {lv.title}"]
    if meas.vintage:
        about.append(f"data for {meas.vintage}")
    summary = risk_summary(
        sub[code].astype(float).to_numpy(), sub[lv.name].astype(str).tolist(),
        None if level == "borough" else sub["borough_name"].astype(str).tolist(),
        measure=meas.label, areas=lv.plural, higher_is_worse=meas.higher_is_worse,
        value_text=lambda v: value_text(v, meas.unit, with_unit=False) or "",
        suppressed=suppressed if sup_col in sub.columns else None)
    side = render(TEMPLATES, "export_panel.html", heading=heading, about="; ".join(about),
                  summary=summary, measure=meas.label, unit=meas.unit,
                  direction=f"A {worse} value means more risk of digital exclusion.",
                  classes=list(zip(classes.colours, classes.labels, strict=True)),
                  no_data=NO_DATA_COLOUR if any(c is None for c in cls_list) else "",
                  libraries=libraries,
                  classes_text=f"{SCHEME_LABELS[scheme]}; class breaks from {frame_text}.",
                  attributions=lines, version=data.build_version,
                  date_text=(f"built {shown_date}" if shown_date
                             else f"data released up to {vintage}" if vintage else ""),
                  governance=review_status_text())
    m.get_root().title = html_text(heading)
    StaticHtml(side, page_head()).add_to(m)
    return m


def _libraries_layer(data: ReadModel, chosen: list[str], everywhere: bool) -> DataLayer:
    libs = data.libraries()
    if not everywhere:
        area = shapely.union_all(data.frame("borough").loc[
            lambda f: f["borough_code"].isin(chosen)].geometry.to_numpy())
        libs = libs[libs.geometry.within(area)]
    src_names = sorted(libs["source"].astype(str).unique().tolist())
    s_index = {s: i for i, s in enumerate(src_names)}
    return DataLayer("points", {
        "grid": GRID,
        "kind": "Public library",
        "name": libs["name"].astype(str).tolist(),
        "sources": src_names,
        "source": [s_index[s] for s in libs["source"].astype(str)],
        "x": np.rint(libs.geometry.x.to_numpy() * GRID).astype(np.int64).tolist(),
        "y": np.rint(libs.geometry.y.to_numpy() * GRID).astype(np.int64).tolist(),
    }, f"Libraries ({len(libs)})")


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _number_ids(m: folium.Map) -> None:
    """Replace folium's random element ids with numbers, so one build gives one page."""
    seen: set[int] = set()
    counter = 0

    def walk(el) -> None:
        nonlocal counter
        if id(el) in seen:
            return
        seen.add(id(el))
        counter += 1
        el._id = f"{counter:04d}"
        for child in list(getattr(el, "_children", {}).values()):
            walk(child)

    walk(m.get_root())


def render_html(m: folium.Map, offline: bool = False) -> str:
    """The standalone page of ``m``; with ``offline`` its scripts and styles inlined."""
    _number_ids(m)
    page = m.get_root().render()
    # folium's viewport meta blocks pinch-zoom (WCAG 1.4.4): let people zoom the page.
    page = page.replace(", maximum-scale=1.0, user-scalable=no", "")
    page = re.sub(r"[ \t]+\n", "\n", page).replace("<html>", '<html lang="en">', 1)
    return inline_assets(page) if offline else page


def write_map(path: str | os.PathLike, m: folium.Map, offline: bool = False) -> Path:
    """Write ``m`` as one HTML file (atomically: no half-written file on failure)."""
    return write_text(path, render_html(m, offline=offline))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "map"


def write_all_boroughs(directory: str | os.PathLike, data: ExportData, offline: bool = False,
                       **options) -> list[Path]:
    """One map per borough plus ``index.html`` linking them; returns the paths written."""
    directory = Path(directory)
    written, links = [], []
    for code, name in data.boroughs():
        m = export_map(data, boroughs=[code], **options)
        filename = f"{code}-{slug(name)}.html"
        written.append(write_map(directory / filename, m, offline=offline))
        links.append((filename, name, code))
    measure = options.get("measure") or data.default_measure(options.get("level", "lsoa"))
    index = render(TEMPLATES, "export_index.html", label=data.measure(measure).label,
                   version=data.build_version, links=links)
    written.append(write_text(directory / "index.html", index + "\n"))
    return written
