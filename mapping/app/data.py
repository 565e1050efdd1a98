"""What the app reads: built outputs, loaded once per process and shared read-only by sessions.

Nothing here is per user. :func:`app_data` is cached per processed directory (``pn.cache``,
bounded), so every session of one server process shares the same frames and geometry arrays;
sessions never modify them (every state change makes new arrays).

The index is recomputed through the engine (:mod:`mapping.index`) for the weights, methods and
reference frame a session asks for; those results are cached too (:func:`index_table`, bounded
LRU), so two officers trying the same weights share the work.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import panel as pn
import shapely

from mapping.geography.rollup import weighted_rollup
from mapping.index.aggregate import aggregate
from mapping.index.engine import (
    DECILE_COLUMN,
    INDEX_COLUMN,
    QUINTILE_COLUMN,
    RANK_COLUMN,
    build_index,
    domain_column,
    rank_bands,
    rank_descending,
)
from mapping.index.normalise import normalise
from mapping.index.spec import IndexSpec, load_default_spec, spec_from_dict
from mapping.maps.bokeh_map import polygon_columns, polygon_lists, to_mercator
from mapping.outputs import Outputs, load_outputs, processed_dir
from mapping.registry import Registry, load_registry

LEVELS = {"lsoa": "LSOA (small areas)", "ward": "Ward", "borough": "Borough"}
LEVEL_KEYS = {"lsoa": "lsoa21", "ward": "ward24", "borough": "borough"}
NORMALISATIONS = {
    "minmax": "Min–max (0 to 1)",
    "rank": "Rank (fraction of areas)",
    "zscore": "z-score",
    "exponential": "IMD exponential of ranks",
}
AGGREGATIONS = {
    "arithmetic": "Arithmetic mean (compensatory)",
    "geometric": "Geometric mean (less compensatory)",
}
INDEX_MEASURE = "index"
DOMAIN_PREFIX = "domain:"
#: Earlier indexes the build still publishes (DR-0009 keeps v1 selectable by name):
#: measure key ``earlier:<name>`` -> (output file, label).
EARLIER_PREFIX = "earlier:"
EARLIER_INDEXES = {
    "equal_v1": ("lsoa21_index_equal_v1.csv",
                 "Earlier index: equal weights, four domains (v1, DR-0003)"),
}
#: Robustness columns the app reads from a build output (``index_*.csv`` with these columns).
ROBUSTNESS_COLUMNS = ("rank_p05", "rank_p95", "unstable")


def code_col(level: str) -> str:
    return f"{LEVEL_KEYS[level]}_code"


def name_col(level: str) -> str:
    return f"{LEVEL_KEYS[level]}_name"


@dataclasses.dataclass(frozen=True, eq=False)
class LevelData:
    """One geography level: its attribute table (one row per area, in geometry order), the
    polygon columns for Bokeh, bounds per area, and London percentiles of every indicator."""

    level: str
    table: pd.DataFrame
    xs: list
    ys: list
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy in Web Mercator
    percentiles: pd.DataFrame  # same rows as table, one column per indicator, 0–100

    @property
    def codes(self) -> np.ndarray:
        return self.table[code_col(self.level)].to_numpy()


@dataclasses.dataclass(frozen=True, eq=False)
class AppData:
    """Everything a session reads; shared by all sessions of a process, never modified."""

    outputs: Outputs
    registry: Registry
    spec: IndexSpec
    levels: dict[str, LevelData]
    indicators: dict[str, dict]  # code -> manifest entry (label, unit, direction, ...)
    domains: dict[str, str]  # domain code -> name (from the spec)
    boroughs: pd.DataFrame  # borough_code, borough_name, label_x, label_y, bounds
    borough_lines: tuple[list, list]  # borough outlines as multi-line xs/ys
    thames: tuple[list, list]  # the river as polygon xs/ys (the gap between LSOAs)
    libraries: pd.DataFrame  # name, source, x, y
    robustness: pd.DataFrame | None  # lsoa21_code index; rank_p05, rank_p95, unstable
    published: pd.DataFrame | None  # the build's LSOA index (geometry order), if it has one
    build_version: str
    built_at: str
    #: earlier index name -> its published LSOA scores (``index_score``), geometry order
    earlier: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)

    @property
    def input_indicators(self) -> list[str]:
        return self.spec.indicator_codes

    @property
    def borough_only(self) -> list[str]:
        """Indicators published for boroughs only (registry geography ``lad``): columns of the
        borough table with no LSOA values, in manifest order."""
        lsoa_cols = set(self.levels["lsoa"].table.columns)
        boro_cols = set(self.levels["borough"].table.columns)
        return [c for c in self.indicators if c not in lsoa_cols and c in boro_cols]

    def measures(self, level: str | None = None) -> dict[str, str]:
        """Measure key -> display label: the index, its domains, every indicator with LSOA
        values, then the borough-only indicators. With ``level`` ``"lsoa"`` or ``"ward"`` the
        borough-only indicators are left out (they have no values at those levels)."""
        out = {INDEX_MEASURE: "Digital exclusion risk index (composite)"}
        for name in self.earlier:
            out[EARLIER_PREFIX + name] = EARLIER_INDEXES[name][1]
        for code, name in self.domains.items():
            out[DOMAIN_PREFIX + code] = f"Domain: {name}"
        lsoa_cols = set(self.levels["lsoa"].table.columns)
        for code, meta in self.indicators.items():
            if code in lsoa_cols:
                suffix = " (validation)" if meta.get("role") == "validation" else ""
                out[code] = f"{meta['label']}{suffix}"
        if level in (None, "borough"):
            for code in self.borough_only:
                out[code] = str(self.indicators[code]["label"])
        return out

    def measure_levels(self, measure: str) -> tuple[str, ...]:
        """The levels at which ``measure`` has values."""
        return ("borough",) if measure in self.borough_only else tuple(LEVELS)

    def vintage(self, code: str) -> str:
        try:
            ind = self.registry.indicator(code)
        except KeyError:
            return ""
        src = self.registry.sources.get(ind.source)
        rel = f", released {src.release_date}" if src else ""
        return f"{ind.vintage}{rel}"


def _level(outputs: Outputs, level: str, indicator_codes: Sequence[str]) -> LevelData:
    key = LEVEL_KEYS[level]
    table = outputs.table(f"{key}_indicators.csv")
    geo = outputs.geo(f"{key}.geojson")
    code = code_col(level)
    # geometry order defines row order; attributes come from the table
    geo = geo[[code, "geometry"]].merge(table, on=code, how="left", validate="one_to_one")
    if level == "borough" and "borough_name" not in geo.columns:
        raise ValueError("borough table has no borough_name")
    merc = to_mercator(geo)
    xs, ys = polygon_lists(merc.geometry)
    bounds = shapely.bounds(merc.geometry.to_numpy())
    attrs = pd.DataFrame(geo.drop(columns="geometry"))
    present = [c for c in indicator_codes if c in attrs.columns]
    pct = attrs[present].rank(pct=True, method="max") * 100.0
    return LevelData(level, attrs.reset_index(drop=True), xs, ys, bounds,
                     pct.reset_index(drop=True))


def _thames(lsoa_geo) -> tuple[list, list]:
    """The river as the gap the LSOAs leave: close the union by 700 m, subtract the union, keep
    the pieces of more than 0.2 km² (drops slivers and docks smaller than that)."""
    merc = to_mercator(lsoa_geo)
    # the LSOAs are a coverage (shared edges are identical): coverage union is ~25x faster
    union = shapely.coverage_union_all(merc.geometry.to_numpy())
    closed = shapely.buffer(shapely.buffer(union, 700.0, quad_segs=4), -700.0, quad_segs=4)
    gap = shapely.difference(closed, union)
    parts = [p for p in shapely.get_parts(gap) if p.area > 200_000]
    if not parts:
        return [], []
    river = shapely.simplify(shapely.MultiPolygon(parts), 25.0)
    xs, ys = polygon_columns([river])
    return xs, ys


def _borough_lines(boro_merc) -> tuple[list, list]:
    xs, ys = [], []
    for geom in boro_merc.geometry:
        for line in shapely.get_parts(shapely.boundary(geom)):
            for part in shapely.get_parts(line):
                c = shapely.get_coordinates(part)
                xs.append(c[:, 0].astype(np.float32))
                ys.append(c[:, 1].astype(np.float32))
    return xs, ys


def _robustness(root: Path) -> pd.DataFrame | None:
    """Monte Carlo rank intervals from the build (``lsoa21_index.csv``, or any ``*index*.csv``
    with ``lsoa21_code`` and the robustness columns), or None when the build has none."""
    paths = [root / "lsoa21_index.csv", *sorted(root.glob("*index*.csv"))]
    for path in paths:
        if not path.exists():
            continue
        head = pd.read_csv(path, nrows=0)
        if "lsoa21_code" in head.columns and all(c in head.columns for c in ROBUSTNESS_COLUMNS):
            frame = pd.read_csv(path)
            keep = ["lsoa21_code", *ROBUSTNESS_COLUMNS]
            extra = [c for c in ("median_rank", "nominal_rank") if c in frame.columns]
            out = frame[keep + extra].set_index("lsoa21_code")
            out["unstable"] = out["unstable"].astype(str).str.lower().isin(["true", "1"])
            return out
    return None


def _published_index(root: Path, lsoa: pd.DataFrame, spec: IndexSpec) -> pd.DataFrame | None:
    """The build's default index (``lsoa21_index.csv``) in geometry order, or None."""
    path = root / "lsoa21_index.csv"
    if not path.exists():
        return None
    frame = pd.read_csv(path, dtype={"lsoa21_code": str})
    cols = [INDEX_COLUMN, *[domain_column(c) for c in spec.domain_codes]]
    if not set(cols) <= set(frame.columns):
        return None
    return lsoa[["lsoa21_code"]].merge(frame[["lsoa21_code", *cols]], on="lsoa21_code",
                                       how="left", validate="one_to_one")


def _earlier(outputs: Outputs, lsoa: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The earlier indexes this build publishes, in geometry order."""
    out = {}
    for name, (file, _label) in EARLIER_INDEXES.items():
        if file in outputs.manifest.get("outputs", {}):
            frame = outputs.table(file)[["lsoa21_code", INDEX_COLUMN]]
            out[name] = lsoa[["lsoa21_code"]].merge(frame, on="lsoa21_code", how="left",
                                                    validate="one_to_one")
    return out


@pn.cache(max_items=2)
def app_data(root: str) -> AppData:
    """Load the build at ``root`` (verified against its manifest) into an :class:`AppData`."""
    outputs = load_outputs(root)
    registry = load_registry()
    spec = load_default_spec()
    indicators = {k: v for k, v in outputs.manifest["indicators"].items()}
    codes = list(indicators)
    levels = {lvl: _level(outputs, lvl, codes) for lvl in LEVELS}
    boro = levels["borough"]
    boro_geo = outputs.geo("borough.geojson")
    merc = to_mercator(boro_geo)
    points = shapely.point_on_surface(merc.geometry.to_numpy())
    names = dict(zip(boro.table["borough_code"], boro.table["borough_name"], strict=True))
    boroughs = pd.DataFrame({
        "borough_code": boro_geo["borough_code"],
        "borough_name": boro_geo["borough_code"].map(names),
        "label_x": shapely.get_x(points),
        "label_y": shapely.get_y(points),
    }).sort_values("borough_name").reset_index(drop=True)
    lib = outputs.geo("libraries.geojson")
    lib_m = to_mercator(lib)
    libraries = pd.DataFrame({"name": lib["name"].astype(str), "source": lib["source"].astype(str),
                              "x": lib_m.geometry.x.to_numpy(), "y": lib_m.geometry.y.to_numpy()})
    manifest = outputs.manifest
    built = manifest.get("built_at") or manifest.get("created") or ""
    if not built:
        built = dt.datetime.fromtimestamp((outputs.root / "manifest.json").stat().st_mtime,
                                          dt.UTC).strftime("%Y-%m-%d")
    return AppData(
        outputs=outputs,
        registry=registry,
        spec=spec,
        levels=levels,
        indicators=indicators,
        domains={d.code: d.name for d in spec.domains},
        boroughs=boroughs,
        borough_lines=_borough_lines(merc),
        thames=_thames(outputs.geo("lsoa21.geojson")),
        libraries=libraries,
        robustness=_robustness(outputs.root),
        published=_published_index(outputs.root, levels["lsoa"].table, spec),
        build_version=str(manifest.get("package_version", "unknown")),
        built_at=str(built)[:10],
        earlier=_earlier(outputs, levels["lsoa"].table),
    )


def default_app_data() -> AppData:
    """The build named by ``MAPPING_PROCESSED_DIR`` (or ``data/processed``)."""
    return app_data(str(processed_dir()))


# ---------------------------------------------------------------------------------------------
# The index for a session's choices (through the engine; cached and bounded)
# ---------------------------------------------------------------------------------------------


def method_spec(spec: IndexSpec, weights: Sequence[float], normalisation: str,
                aggregation: str, frame: Sequence[str] = ()) -> IndexSpec:
    """``spec`` with domain weights (in domain order), the indicator normalisation, the
    domain aggregation and the reference frame (borough codes; empty = London) replaced."""
    d = spec.to_dict()
    d["index"]["normalise_weights"] = True
    for dom, w in zip(d["domains"], weights, strict=True):
        dom["weight"] = float(w)
    d["indicator_level"]["normalisation"] = normalisation
    d["domain_level"]["aggregation"] = aggregation
    d["robustness"]["normalisations"] = [normalisation]
    d["robustness"]["aggregations"] = [aggregation]
    d["frame"] = ({"kind": "boroughs", "codes": sorted(frame)} if frame
                  else {"kind": "london", "codes": []})
    return spec_from_dict(d, source=spec.source)


def _ranked(frame: pd.DataFrame, scores: pd.Series) -> pd.DataFrame:
    out = frame.copy()
    out[INDEX_COLUMN] = scores.to_numpy()
    valid = scores.dropna()
    rank = rank_descending(valid)
    out[RANK_COLUMN] = rank.reindex(scores.index).astype("Int64").to_numpy()
    out[DECILE_COLUMN] = rank_bands(rank, 10).reindex(scores.index).astype("Int64").to_numpy()
    out[QUINTILE_COLUMN] = rank_bands(rank, 5).reindex(scores.index).astype("Int64").to_numpy()
    return out


@pn.cache(max_items=64)
def index_table(root: str, weights: tuple[float, ...], normalisation: str, aggregation: str,
                frame: tuple[str, ...] = ()) -> pd.DataFrame:
    """LSOA index results for these choices, one row per LSOA in geometry order (NaN outside the
    frame): ``index_score``, each ``<domain>_score``, ``index_rank``, decile and quintile, and
    ``exact`` (a column of one bool): whether the scores are computed from the unsuppressed
    inputs.

    Two paths, both through the engine (:mod:`mapping.index`):

    * **Domain weights and the domain aggregation** (London frame, the default indicator
      normalisation): the build's published domain scores, which were computed from the full
      inputs, are aggregated again with the engine's :func:`~mapping.index.aggregate.aggregate`.
      At the default weights this reproduces the published index exactly.
    * **Another normalisation or a borough reference frame** rebuilds the index from the
      published indicator table (:func:`~mapping.index.engine.build_index`). Small counts
      suppressed in that table (DR-0004) are imputed with their borough's median, so these
      variants are close to, not identical with, what the full inputs would give.

    Raises :class:`mapping.index.spec.SpecError` for an invalid combination of methods.
    """
    data = app_data(root)
    spec = method_spec(data.spec, weights, normalisation, aggregation, frame)
    lsoa = data.levels["lsoa"].table
    dom_cols = [domain_column(c) for c in spec.domain_codes]
    if (data.published is not None and not frame
            and normalisation == data.spec.indicator_level.normalisation):
        dom = data.published[dom_cols].set_axis(spec.domain_codes, axis=1)
        if spec.domain_level.normalisation != "none":
            dom = normalise(dom, spec.domain_level)
        lv = spec.domain_level
        scores = aggregate(dom, spec.domain_weights(), lv.aggregation, lv.geometric_offset)
        out = _ranked(data.published[["lsoa21_code", *dom_cols]], scores)
        out["exact"] = True
        return out
    d = spec.to_dict()
    d["imputation"]["max_missing_share"] = 1.0  # suppressed cells may cluster in a frame
    spec = spec_from_dict(d, source=spec.source)
    result = build_index(lsoa, spec, name="lsoa21_indicators.csv").table()
    cols = ["lsoa21_code", INDEX_COLUMN, *dom_cols, RANK_COLUMN, DECILE_COLUMN, QUINTILE_COLUMN]
    out = lsoa[["lsoa21_code"]].merge(result[cols], on="lsoa21_code", how="left")
    out["exact"] = data.published is None
    return out


def rollup(lsoa: pd.DataFrame, values: pd.DataFrame, level: str) -> pd.DataFrame:
    """Population-weighted means of ``values`` (columns, LSOA rows aligned with ``lsoa``) for
    ward or borough areas; returns one row per area with the area code column."""
    key = code_col(level)
    frame = pd.concat([lsoa[[key, "population"]].reset_index(drop=True),
                       values.reset_index(drop=True)], axis=1)
    return weighted_rollup(frame, [key], rates=list(values.columns))
