"""Standalone folium maps of a build: :func:`export_map` returns a ``folium.Map`` (like
geopandas' ``explore()``, so it shows inline in a notebook) and :func:`write_map` writes it as
one HTML file that opens without Python.

How the page stays light, safe and reproducible:

* **Light.** Geometry is the build's web geometry (``shapely.coverage_simplify``, shared edges
  kept, coordinates on a 1e-5° grid). Each ring is sent as integers on that grid, the first
  vertex absolute and the rest as differences, without the closing vertex; a few lines of
  JavaScript turn it back into Leaflet polygons. Attributes are sent once, as columns. No
  basemap tiles by default (the map is legible without them; ``tiles="OpenStreetMap"`` adds them).
* **Safe.** No data string is handed to folium's ``Tooltip``/``Popup``/``GeoJsonTooltip`` (they
  do not escape). Data travels as JSON inside ``<script type="application/json">`` (see
  :func:`mapping.maps.escape.json_for_script`) and tooltips are built in the browser with
  ``textContent``; title, legend, attribution and layer names are HTML-escaped in Python.
* **Reproducible.** Element ids are numbered, not random, and the date shown comes from the
  build (``manifest.json``), not the clock, so the same build gives the same bytes.
* **Offline.** Only Leaflet is loaded (folium's jQuery, Bootstrap, Font Awesome and
  awesome-markers are not used by these maps); ``offline=True`` inlines the npm copy
  (:mod:`mapping.maps.assets`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template

from mapping import io
from mapping.disclosure import SUPPRESSED
from mapping.errors import MappingError
from mapping.governance.records import review_status_text
from mapping.maps.assets import inline_assets
from mapping.maps.classify import NO_DATA_COLOUR, PALETTES, SCHEME_LABELS, SCHEMES, classify
from mapping.maps.escape import html_attr, html_text, json_for_script
from mapping.maps.summary import risk_summary
from mapping.outputs import Outputs, load_outputs
from mapping.registry import Registry, load_registry, unit_suffix

LEAFLET_ONLY_JS = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")]
LEAFLET_ONLY_CSS = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")]
GRID = 100_000  # coordinates are sent as integers in units of 1e-5 degree (≈ 1 m)

# Sources every export uses besides its measure's: the LSOA 2021 boundaries (wards and
# boroughs are dissolved from them) and the population weights of the roll-ups.
GEOMETRY_SOURCES = ("boundaries_lsoa21",)
LIBRARY_SOURCES = ("libraries_dcms_2016", "libraries_osm")
OSM_TILES_ATTRIBUTION = "Basemap © OpenStreetMap contributors"


class ExportError(MappingError):
    """A request for a map that the build cannot answer (unknown measure, borough, level…)."""


# ---------------------------------------------------------------------------------------------
# Levels and measures
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    key: str
    code: str
    name: str
    geojson: str
    table: str
    label: str
    extra_sources: tuple[str, ...] = ()


LEVELS = {
    "lsoa": Level("lsoa21", "lsoa21_code", "lsoa21_name", "lsoa21.geojson",
                  "lsoa21_indicators.csv", "LSOAs (2021)"),
    "ward": Level("ward24", "ward24_code", "ward24_name", "ward24.geojson",
                  "ward24_indicators.csv", "wards (2024)",
                  ("lookup_lsoa21_ward24", "census2021_ts007a")),
    "borough": Level("borough", "borough_code", "borough_name", "borough.geojson",
                     "borough_indicators.csv", "boroughs", ("census2021_ts007a",)),
}
NOT_MEASURES = {"population", "n_lsoa", "n_units"}
AREAS_PLURAL = {"lsoa": "LSOAs", "ward": "wards", "borough": "boroughs"}
NOT_MEASURE_SUFFIXES = ("_rank", "_decile", "_quintile", "_code", "_name")
NOT_MEASURE_PREFIXES = ("rank_", "n_units")


@dataclass(frozen=True)
class Measure:
    """A column that can be mapped, with what is needed to label and cite it."""

    code: str
    label: str
    unit: str
    direction: str  # higher_is_worse | higher_is_better
    sources: tuple[str, ...]
    kind: str  # index | domain | indicator | other
    vintage: str = ""

    @property
    def rank_column(self) -> str | None:
        return self.code[: -len("_score")] + "_rank" if self.code.endswith("_score") else None


@dataclass
class ExportData:
    """A build opened once for many exports (``--all-boroughs`` reuses it 33 times)."""

    outputs: Outputs
    registry: Registry
    _frames: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    _libraries: gpd.GeoDataFrame | None = None

    @classmethod
    def open(cls, root: str | os.PathLike | None = None) -> ExportData:
        return cls(load_outputs(root), load_registry())

    @property
    def manifest(self) -> dict:
        return self.outputs.manifest

    def frame(self, level: str) -> gpd.GeoDataFrame:
        """Geometry of ``level`` with every table of that level merged on its code."""
        if level not in LEVELS:
            raise ExportError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
        if level not in self._frames:
            self._frames[level] = _level_frame(self.outputs, LEVELS[level])
        return self._frames[level]

    def libraries(self) -> gpd.GeoDataFrame:
        if self._libraries is None:
            self._libraries = self.outputs.geo("libraries.geojson")
        return self._libraries

    def measures(self, level: str) -> dict[str, Measure]:
        frame = self.frame(level)
        return {c: self.measure(c) for c in frame.columns if _is_measure(frame, c)}

    def measure(self, code: str) -> Measure:
        indicators = self.manifest.get("indicators", {})
        if code in indicators:
            meta = indicators[code]
            vintage = ""
            try:
                vintage = self.registry.indicator(code).vintage
            except KeyError:
                pass
            return Measure(code, meta["label"], meta.get("unit", ""),
                           meta.get("direction", "higher_is_worse"), _sorted_sources([meta]),
                           "indicator", vintage)
        name, domains = _index_structure(self.manifest)
        if code == "index_score":
            members = [indicators[c] for _, codes in domains.values() for c in codes
                       if c in indicators]
            return Measure(code, name, "score", "higher_is_worse", _sorted_sources(members),
                           "index")
        if code.endswith("_score") and code[: -len("_score")] in domains:
            domain = code[: -len("_score")]
            label, codes = domains[domain]
            members = [indicators[c] for c in codes if c in indicators]
            return Measure(code, f"{label} (domain score)", "score", "higher_is_worse",
                           _sorted_sources(members), "domain")
        return Measure(code, code.replace("_", " "), "", "higher_is_worse", (), "other")

    def default_measure(self, level: str) -> str:
        measures = self.measures(level)
        if "index_score" in measures:
            return "index_score"
        inputs = [c for c, m in measures.items() if m.kind == "indicator"]
        if not inputs:
            raise ExportError(f"the build has no measure at level {level!r}")
        return inputs[0]

    def attributions(self, source_ids: Iterable[str]) -> list[str]:
        ids = [s for s in dict.fromkeys(source_ids) if s in self.registry.sources]
        return self.registry.attributions(ids)


def _index_structure(manifest: dict) -> tuple[str, dict[str, tuple[str, tuple[str, ...]]]]:
    """The index name and its domains (code → (name, indicator codes)): from the manifest when
    the build records them, else from the default index specification."""
    recorded = manifest.get("index")
    if isinstance(recorded, dict) and isinstance(recorded.get("domains"), list):
        return (str(recorded.get("name", "Digital exclusion risk index")),
                {str(d["code"]): (str(d.get("name", d["code"])),
                                  tuple(str(i if isinstance(i, str) else i["code"])
                                        for i in d.get("indicators", ())))
                 for d in recorded["domains"]})
    try:
        from mapping.index.spec import load_default_spec  # noqa: PLC0415
        spec = load_default_spec()
    except (ImportError, MappingError):
        small = {c: m for c, m in manifest.get("indicators", {}).items()
                 if m.get("role") == "input" and m.get("geography") != "lad"}
        by_domain: dict[str, list[str]] = {}
        for c, m in small.items():
            by_domain.setdefault(m.get("domain", ""), []).append(c)
        return ("Digital exclusion risk index",
                {d: (d.replace("_", " ").capitalize(), tuple(cs)) for d, cs in by_domain.items()})
    return spec.name, {d.code: (d.name, tuple(i.code for i in d.indicators))
                       for d in spec.domains}


# Sources used to bring an indicator from its own geography to LSOA 2021 (see mapping.build).
CONVERSION_SOURCES = {
    "lsoa11": ("lookup_lsoa11_lsoa21", "iod2019_london_workbook", "census2021_ts007a"),
    "msoa21": ("census2021_ts007a",),
}


def _sorted_sources(metas: Iterable[dict]) -> tuple[str, ...]:
    """The sources of some indicators, with those used to convert them to LSOA 2021."""
    ids = set()
    for meta in metas:
        ids.update(meta.get("sources", ()))
        ids.update(CONVERSION_SOURCES.get(meta.get("geography", ""), ()))
    return tuple(sorted(ids))


def _is_measure(frame: pd.DataFrame, column: str) -> bool:
    return (column not in NOT_MEASURES and not column.endswith(NOT_MEASURE_SUFFIXES)
            and not column.startswith(NOT_MEASURE_PREFIXES)
            and column != "geometry" and pd.api.types.is_numeric_dtype(frame[column])
            and not pd.api.types.is_bool_dtype(frame[column]) and frame[column].notna().any())


def _level_frame(outputs: Outputs, level: Level) -> gpd.GeoDataFrame:
    geo = outputs.geo(level.geojson)[[level.code, "geometry"]]
    table = outputs.table(level.table)
    # Any other table of this level that the build wrote (e.g. the index: scores, domain scores,
    # ranks, deciles) is merged on the level's code; columns already present are kept as they are.
    for name in sorted(outputs.manifest.get("outputs", {})):
        if name == level.table or not name.endswith(".csv") or level.key not in name:
            continue
        extra = outputs.table(name)
        if level.code not in extra.columns:
            continue
        new = [c for c in extra.columns if c not in table.columns]
        if new:
            table = table.merge(extra[[level.code, *new]], on=level.code, how="left",
                                validate="one_to_one")
    frame = geo.merge(table, on=level.code, how="inner", validate="one_to_one")
    if "borough_name" not in frame.columns and level.code == "borough_code":
        frame["borough_name"] = frame[level.name]
    return frame.sort_values(level.code, kind="mergesort").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Pure helpers: selection, ranks, value text, encoding
# ---------------------------------------------------------------------------------------------


def select_boroughs(frame: pd.DataFrame, wanted: Sequence[str] | None) -> list[str]:
    """Borough codes for ``wanted`` (codes or names, any case); all boroughs when empty."""
    pairs = frame[["borough_code", "borough_name"]].drop_duplicates().sort_values("borough_code")
    if not wanted:
        return pairs["borough_code"].tolist()
    by_key = {}
    for code, name in pairs.itertuples(index=False):
        by_key[str(code).casefold()] = code
        by_key[str(name).casefold()] = code
    chosen, unknown = [], []
    for item in wanted:
        code = by_key.get(str(item).strip().casefold())
        if code is None:
            unknown.append(item)
        elif code not in chosen:
            chosen.append(code)
    if unknown:
        raise ExportError(f"unknown borough(s): {', '.join(map(repr, unknown))}; use a code "
                          "such as E09000001 or a name such as 'City of London'")
    return sorted(chosen)


def ranks(values: pd.Series, direction: str) -> pd.Series:
    """Rank 1 = most at risk (the highest value when higher is worse); ties share the best
    rank; no value, no rank."""
    ascending = direction == "higher_is_better"
    return values.rank(method="min", ascending=ascending, na_option="keep").astype("Int64")


def value_text(value: float, unit: str, with_unit: bool = True) -> str | None:
    """A value as the hover text shows it, with its registered unit
    (:func:`mapping.registry.unit_suffix`); ``with_unit=False`` for the text summary, whose
    legend says the unit once. None for no value."""
    if value is None or not np.isfinite(value):
        return None
    text = f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    if not with_unit:
        return f"{text}%" if unit == "%" else text
    return text + unit_suffix(unit, percent="%")


def encode_ring(coords: np.ndarray) -> list[int]:
    """A ring as integers on the 1e-5° grid: first vertex, then differences; no closing vertex."""
    grid = np.rint(np.asarray(coords)[:, :2] * GRID).astype(np.int64)
    if len(grid) > 1 and (grid[0] == grid[-1]).all():
        grid = grid[:-1]
    deltas = np.vstack([grid[:1], np.diff(grid, axis=0)])
    return deltas.ravel().tolist()


def decode_ring(ints: Sequence[int]) -> np.ndarray:
    """Inverse of :func:`encode_ring` (closing vertex restored), in degrees."""
    grid = np.cumsum(np.asarray(ints, dtype=np.int64).reshape(-1, 2), axis=0)
    return np.vstack([grid, grid[:1]]) / GRID


def encode_polygons(geom) -> list[list[list[int]]]:
    """A (multi)polygon as [polygon][ring] of encoded rings; lines as [line][[…]]."""
    if geom is None or geom.is_empty:
        return []
    parts = getattr(geom, "geoms", [geom])
    out = []
    for part in parts:
        if part.geom_type == "Polygon":
            rings = [part.exterior, *part.interiors]
            out.append([encode_ring(np.asarray(r.coords)) for r in rings])
    return out


# ---------------------------------------------------------------------------------------------
# folium elements
# ---------------------------------------------------------------------------------------------

_HELPERS_JS = r"""
<script>
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
</script>
"""

_PAGE_CSS = """
<style>
.folium-map { position: absolute !important; top: 0; bottom: 0; left: 0; right: 340px;
  width: auto !important; height: auto !important; }
.mapping-side { position: absolute; top: 0; bottom: 0; right: 0; width: 340px;
  box-sizing: border-box; overflow-y: auto; padding: 12px 14px; background: #ffffff;
  color: #111111; border-left: 1px solid #cccccc;
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; }
.mapping-side h1 { font-size: 17px; margin: 0 0 6px; }
.mapping-side h2 { font-size: 14px; margin: 14px 0 4px; }
.mapping-side p { margin: 4px 0; }
.mapping-legend ul { list-style: none; margin: 6px 0; padding: 0; }
.mapping-legend li { display: flex; align-items: center; margin: 3px 0; }
.mapping-swatch { display: inline-block; width: 22px; height: 14px; margin-right: 8px;
  border: 1px solid #555555; flex: none; }
.mapping-dot { width: 10px; height: 10px; margin: 0 14px 0 6px; border-radius: 50%;
  background: #d7191c; }
.mapping-note, .mapping-sources { font-size: 12px; color: #333333; }
.mapping-sources ul { margin: 4px 0; padding-left: 16px; }
.mapping-tip strong { display: block; }
.leaflet-container { background: #f4f4f0; }
.leaflet-control-layers { max-width: 240px; font-size: 13px; }
@media (max-width: 700px) {
  .folium-map { right: 0; bottom: 45%; }
  .mapping-side { top: 55%; width: 100%; border-left: 0; border-top: 1px solid #cccccc; }
}
</style>
"""


class _DataLayer(Layer):
    """A Leaflet layer built in the browser from JSON data embedded in the page."""

    _template = Template("""
        {% macro html(this, kwargs) %}
<script type="application/json" id="{{ this.get_name() }}_data">{{ this.payload }}</script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = window.mappingExport.{{ this.builder }}(
                "{{ this.get_name() }}_data");
        {% endmacro %}
    """)

    def __init__(self, builder: str, payload: dict, name: str, show: bool = True,
                 control: bool = True):
        # Leaflet's layer control writes layer names as HTML: escape them here.
        super().__init__(name=html_text(name), overlay=True, control=control, show=show)
        self._name = "data_layer"
        self.builder = builder
        self.payload = json_for_script(payload)


class _StaticHtml(MacroElement):
    """Trusted HTML (already escaped) placed in the page body; optional header content."""

    _template = Template("""
        {% macro header(this, kwargs) %}{{ this.head }}{% endmacro %}
        {% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}
    """)

    def __init__(self, body: str = "", head: str = ""):
        super().__init__()
        self._name = "static_html"
        self.body = body
        self.head = head


# ---------------------------------------------------------------------------------------------
# The map
# ---------------------------------------------------------------------------------------------


def build_date(manifest: dict) -> str:
    """The date a map shows: the build's own date when the manifest records one
    (``build_date``), else ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) when set,
    else ``""`` and the page shows the latest release date of the sources used instead. Never
    the clock at export time, so the same build gives the same page."""
    for key in ("build_date", "built", "date"):
        if manifest.get(key):
            return str(manifest[key])[:10]
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%d")
    return ""


def _data_vintage(data: ExportData, source_ids: Iterable[str]) -> str:
    dates = [data.registry.sources[s].release_date for s in source_ids
             if s in data.registry.sources]
    dated = sorted(d for d in dates if re.match(r"^\d{4}", d))
    return dated[-1] if dated else ""


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
        An :class:`ExportData`, a ``processed`` folder, or ``None`` for the default build.
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
        :func:`build_date`, else the latest release date of the sources used).

    Returns
    -------
    folium.Map
    """
    if not isinstance(data, ExportData):
        data = ExportData.open(data)
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
    lv = LEVELS.get(level)
    if lv is None:
        raise ExportError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
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
    if class_frame == "london":
        cls = classes.classes[shown]
    else:
        cls = classes.classes
    sub = frame.loc[shown].reset_index(drop=True)
    n_classes = len(classes.colours)
    cls_list = [int(c) if c < n_classes else None for c in cls]

    borough_names = sorted(sub["borough_name"].unique().tolist())
    b_index = {b: i for i, b in enumerate(borough_names)}
    area_payload = {
        "grid": GRID,
        "measure": meas.label,
        "rankOf": int(values.notna().sum()),
        "rankNote": f"in London ({lv.label}; 1 = most at risk)",
        "showBorough": level != "borough",
        "boroughs": borough_names,
        "colours": list(classes.colours),
        "classLabels": list(classes.labels),
        "noData": NO_DATA_COLOUR,
        "areas": {
            "code": sub[lv.code].astype(str).tolist(),
            "name": sub[lv.name].astype(str).tolist(),
            "borough": [b_index[b] for b in sub["borough_name"]],
            "value": [
                SUPPRESSED if hidden else value_text(v, meas.unit)
                for v, hidden in zip(
                    sub[code].astype(float),
                    sub[f"{code}_suppressed"].fillna(False).astype(bool)
                    if f"{code}_suppressed" in sub.columns
                    else [False] * len(sub),
                    strict=True,
                )
            ],
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

    area_layer = _DataLayer("areas", area_payload, f"{meas.label} ({lv.label})")
    area_layer.add_to(m)
    if borough_outlines and level != "borough":
        bgeo = data.frame("borough")
        bgeo = bgeo[bgeo["borough_code"].isin(chosen)]
        _DataLayer("outlines", {"grid": GRID,
                                "shapes": [encode_polygons(g) for g in bgeo.geometry]},
                   "Borough boundaries").add_to(m)
    used_sources = [*meas.sources, *GEOMETRY_SOURCES, *lv.extra_sources]
    if libraries:
        libs = data.libraries()
        area = shapely.union_all(data.frame("borough").loc[
            lambda f: f["borough_code"].isin(chosen)].geometry.to_numpy())
        libs = libs[libs.geometry.within(area)] if not everywhere else libs
        src_names = sorted(libs["source"].astype(str).unique().tolist())
        s_index = {s: i for i, s in enumerate(src_names)}
        _DataLayer("points", {
            "grid": GRID,
            "kind": "Public library",
            "name": libs["name"].astype(str).tolist(),
            "sources": src_names,
            "source": [s_index[s] for s in libs["source"].astype(str)],
            "x": np.rint(libs.geometry.x.to_numpy() * GRID).astype(np.int64).tolist(),
            "y": np.rint(libs.geometry.y.to_numpy() * GRID).astype(np.int64).tolist(),
        }, f"Libraries ({len(libs)})").add_to(m)
        used_sources += list(LIBRARY_SOURCES)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)

    place = "London" if everywhere else ", ".join(borough_names)
    heading = title or f"{meas.label}: {place}"
    version = str(data.manifest.get("package_version", "unknown"))
    shown_date = date if date is not None else build_date(data.manifest)
    vintage = _data_vintage(data, used_sources)
    lines = data.attributions(used_sources)
    if tiles == "OpenStreetMap":
        lines.append(OSM_TILES_ATTRIBUTION)
    worse = "higher" if meas.direction == "higher_is_worse" else "lower"
    frame_text = (f"all London {lv.label}" if class_frame == "london"
                  else f"the {lv.label} shown")
    date_text = (f"built {shown_date}" if shown_date
                 else f"data released up to {vintage}" if vintage else "")
    swatches = "".join(
        f'<li class="mapping-class"><span class="mapping-swatch" '
        f'style="background:{html_attr(colour)}"></span>{html_text(label)}</li>'
        for colour, label in zip(classes.colours, classes.labels, strict=True))
    if any(c is None for c in cls_list):
        swatches += (f'<li class="mapping-nodata"><span class="mapping-swatch" '
                     f'style="background:{NO_DATA_COLOUR}"></span>No data</li>')
    if libraries:
        swatches += ('<li class="mapping-point"><span class="mapping-swatch mapping-dot">'
                     "</span>Public library</li>")
    about = [f"{len(sub):,} {lv.label}"]
    if meas.vintage:
        about.append(f"data for {meas.vintage}")
    classes_text = f"{SCHEME_LABELS[scheme]}; class breaks from {frame_text}."
    sup_col = f"{code}_suppressed"
    summary = risk_summary(
        sub[code].astype(float).to_numpy(), sub[lv.name].astype(str).tolist(),
        None if level == "borough" else sub["borough_name"].astype(str).tolist(),
        measure=meas.label, areas=AREAS_PLURAL[level],
        higher_is_worse=meas.direction == "higher_is_worse",
        value_text=lambda v: value_text(v, meas.unit, with_unit=False) or "",
        suppressed=(sub[sup_col].fillna(False).astype(bool).to_numpy()
                    if sup_col in sub.columns else None))
    side = (
        '<aside class="mapping-side" aria-label="About this map" tabindex="0">'
        f"<h1>{html_text(heading)}</h1>"
        f"<p>{html_text('; '.join(about))}.</p>"
        '<section class="mapping-summary" aria-labelledby="mapping-summary-h">'
        f'<h2 id="mapping-summary-h">In words</h2><p>{html_text(summary)}</p></section>'
        f'<section class="mapping-legend" aria-label="Legend"><h2>Legend</h2>'
        f"<p><strong>{html_text(meas.label)}</strong>"
        + (f"<br>Unit: {html_text(meas.unit)}" if meas.unit else "")
        + f"<br>{html_text(f'A {worse} value means more risk of digital exclusion.')}</p>"
        f"<ul>{swatches}</ul>"
        f'<p class="mapping-note">{html_text(classes_text)}'

        " Hover over an area for its name, value and rank.</p></section>"
        '<section class="mapping-sources" aria-label="Data sources and attribution">'
        "<h2>Data sources and attribution</h2><ul>"
        + "".join(f'<li class="mapping-attribution">{html_text(t)}</li>' for t in lines)
        + "</ul>"
        f'<p class="mapping-build">{html_text(f"Build {version}")}'
        f"{html_text(f', {date_text}') if date_text else ''}.</p>"
        f'<p class="mapping-governance">{html_text(review_status_text())}</p>'
        "</section></aside>"
    )
    m.get_root().title = html_text(heading)
    _StaticHtml(side, _PAGE_CSS + _HELPERS_JS).add_to(m)
    return m


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

    root = m.get_root()
    walk(root)


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
    return io.write_text(path, render_html(m, offline=offline))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "map"


def write_all_boroughs(directory: str | os.PathLike, data: ExportData, offline: bool = False,
                       **options) -> list[Path]:
    """One map per borough plus ``index.html`` linking them; returns the paths written."""
    directory = Path(directory)
    frame = data.frame(options.get("level", "lsoa"))
    pairs = (frame[["borough_code", "borough_name"]].drop_duplicates()
             .sort_values("borough_code").itertuples(index=False))
    written, links = [], []
    heading = ""
    for code, name in pairs:
        m = export_map(data, boroughs=[code], **options)
        filename = f"{code}-{slug(str(name))}.html"
        written.append(write_map(directory / filename, m, offline=offline))
        links.append(f'<li><a href="{html_attr(filename)}">{html_text(name)}</a> '
                     f"<small>({html_text(code)})</small></li>")
        heading = heading or m.get_root().title
    measure = options.get("measure") or data.default_measure(options.get("level", "lsoa"))
    label = data.measure(measure).label
    version = html_text(data.manifest.get("package_version", "unknown"))
    index = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html_text(label)}: maps by borough</title>"
        "<style>body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:44em;"
        "padding:0 1em}</style></head><body>"
        f"<h1>{html_text(label)}: maps by borough</h1>"
        f"<p>One standalone map per London borough (build {version}). Each file opens in a "
        "web browser on its own.</p>"
        f"<ul>{''.join(links)}</ul></body></html>\n"
    )
    written.append(io.write_text(directory / "index.html", index))
    return written
