"""What the app reads: a build, loaded once per process and shared read-only by sessions.

Nothing here is per user. :func:`app_data` is cached per processed directory (``pn.cache``,
bounded), so every session of one server process shares the same frames and geometry arrays;
sessions never modify them (every state change makes new arrays). The build is read through the
read model (:class:`~mapping.outputs.readmodel.ReadModel`): the same levels, measures, ranks,
roll-ups and value text as the exports and the notebooks.

The index is recomputed through the engine (:mod:`mapping.index`) for the weights, methods and
reference frame a session asks for; those results are cached too (:func:`index_table`, bounded
LRU), so two officers trying the same weights share the work.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import panel as pn
import shapely

from mapping.index.aggregate import aggregate
from mapping.index.engine import (
    DECILE_COLUMN,
    INDEX_COLUMN,
    QUINTILE_COLUMN,
    RANK_COLUMN,
    build_index,
    domain_column,
)
from mapping.index.methods import interactive_aggregations, interactive_normalisations
from mapping.index.needs import NEEDS_FILE, NeedTable, load_needs
from mapping.index.normalise import normalise
from mapping.index.ranking import percentiles, rank_bands, rank_descending
from mapping.index.scenario import method_scenario
from mapping.index.spec import IndexSpec
from mapping.maps.bokeh_map import polygon_lists, to_mercator
from mapping.outputs import Outputs, manifest_digest, processed_dir
from mapping.outputs.catalogue import EARLIER_INDEXES
from mapping.outputs.catalogue import LEVELS as CATALOGUE_LEVELS
from mapping.outputs.readmodel import SUPPORT_MEASURES, ReadModel
from mapping.registry import Registry

#: level key -> the label the app shows for it
LEVELS = {key: lv.label for key, lv in CATALOGUE_LEVELS.items()}
#: the index methods the app offers, name -> label (from the registry of mapping.index.methods)
NORMALISATIONS = interactive_normalisations()
AGGREGATIONS = interactive_aggregations()
INDEX_MEASURE = "index"
DOMAIN_PREFIX = "domain:"
INDEX_LABEL = "Digital exclusion risk index (composite)"
#: Earlier indexes the build still publishes (DR-0009 keeps v1 selectable by name):
#: measure key ``earlier:<name>`` -> label (their files: the catalogue's EARLIER_INDEXES).
EARLIER_PREFIX = "earlier:"
EARLIER_LABELS = {"equal_v1": "Earlier index: equal weights, four domains (v1, DR-0003)"}
#: Robustness columns the app reads from the build's LSOA index table.
ROBUSTNESS_COLUMNS = ("rank_p05", "rank_p95", "unstable")


def code_col(level: str) -> str:
    return CATALOGUE_LEVELS[level].code


def name_col(level: str) -> str:
    return CATALOGUE_LEVELS[level].name


def is_score(measure: str) -> bool:
    """True for the index and its domains (scores the app recomputes), False for indicators."""
    return measure == INDEX_MEASURE or measure.startswith(DOMAIN_PREFIX)


def is_earlier(measure: str) -> bool:
    """True for an earlier index the build still publishes (``earlier:<name>``)."""
    return measure.startswith(EARLIER_PREFIX)


def score_column(measure: str) -> str:
    """The column of the index (``index``) or a domain score (``domain:<code>``)."""
    if measure == INDEX_MEASURE:
        return INDEX_COLUMN
    return domain_column(measure[len(DOMAIN_PREFIX):])


@dataclasses.dataclass(frozen=True, eq=False)
class LevelData:
    """One geography level: its attribute table (one row per area, in geometry order), the
    areas' geometry in Web Mercator, bounds per area, and London percentiles of every
    indicator. The polygons reach the browser in the map data asset (:mod:`mapping.app.assets`),
    never in a session's document."""

    level: str
    table: pd.DataFrame
    geometry: np.ndarray  # shapely geometries, Web Mercator, same rows as table
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy in Web Mercator
    percentiles: pd.DataFrame  # same rows as table, one column per indicator, 0–100

    @property
    def codes(self) -> np.ndarray:
        return self.table[code_col(self.level)].to_numpy()

    @functools.cached_property
    def xs(self) -> list:
        """Polygon x coordinates per area, per polygon, per ring (whole metres), as the
        browser draws them."""
        return self._lists[0]

    @functools.cached_property
    def ys(self) -> list:
        return self._lists[1]

    @functools.cached_property
    def _lists(self) -> tuple[list, list]:
        return polygon_lists(self.geometry)


@dataclasses.dataclass(frozen=True, eq=False)
class AppData:
    """Everything a session reads; shared by all sessions of a process, never modified."""

    model: ReadModel
    spec: IndexSpec
    levels: dict[str, LevelData]
    boroughs: pd.DataFrame  # borough_code, borough_name, label_x, label_y
    robustness: pd.DataFrame | None  # lsoa21_code index; rank_p05, rank_p95, unstable
    published: pd.DataFrame | None  # the build's LSOA index (geometry order), if it has one
    built_at: str
    #: earlier index name -> its published LSOA scores (``index_score``), geometry order
    earlier: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    #: the need table the build used (need types and support; DR-0011), if it has one
    needs: NeedTable | None = None

    @property
    def outputs(self) -> Outputs:
        return self.model.outputs

    @functools.cached_property
    def libraries(self) -> pd.DataFrame:
        """The build's libraries: name, source, x and y (Web Mercator)."""
        from mapping.app.geometry import libraries  # noqa: PLC0415

        return libraries(self.model)

    @functools.cached_property
    def borough_lines(self) -> tuple[list, list]:
        """The borough outlines as lines (x and y arrays, one per boundary part)."""
        from mapping.app.geometry import borough_lines  # noqa: PLC0415

        return borough_lines(self.levels["borough"].geometry)

    @property
    def registry(self) -> Registry:
        return self.model.registry

    @property
    def build_version(self) -> str:
        return self.model.build_version

    @property
    def indicators(self) -> dict[str, dict]:
        """code -> manifest entry (label, unit, direction, ...)."""
        return self.model.manifest["indicators"]

    @property
    def domains(self) -> dict[str, str]:
        """domain code -> name (from the specification)."""
        return {d.code: d.name for d in self.spec.domains}

    @property
    def input_indicators(self) -> list[str]:
        return self.spec.indicator_codes

    @property
    def borough_only(self) -> list[str]:
        """Indicators published for boroughs only (registry geography ``lad``)."""
        return self.model.borough_only

    def measures(self, level: str | None = None) -> dict[str, str]:
        """Measure key -> display label: the index, its domains, every indicator with LSOA
        values, then the borough-only indicators. With ``level`` ``"lsoa"`` or ``"ward"`` the
        borough-only indicators are left out (they have no values at those levels)."""
        out = {INDEX_MEASURE: INDEX_LABEL}
        for name in self.earlier:
            out[EARLIER_PREFIX + name] = EARLIER_LABELS[name]
        for code, name in self.domains.items():
            out[DOMAIN_PREFIX + code] = f"Domain: {name}"
        for code in self.model.indicator_codes("lsoa"):
            meta = self.indicators[code]
            suffix = " (validation)" if meta.get("role") == "validation" else ""
            out[code] = f"{meta['label']}{suffix}"
        lsoa_cols = set(self.levels["lsoa"].table.columns)
        for code, (label, _unit) in SUPPORT_MEASURES.items():
            if code in lsoa_cols:
                out[code] = label
        if self.needs is not None and "main_need" in lsoa_cols:
            out["main_need"] = "Main need (need types, DR-0011)"
        if self.needs is not None:
            for n in self.needs.needs:
                if f"need_{n.code}" in lsoa_cols:
                    out[f"need_{n.code}"] = f"Need score: {n.label} (London percentile)"
        if level in (None, "borough"):
            for code in self.borough_only:
                out[code] = str(self.indicators[code]["label"])
        return out

    def measure_levels(self, measure: str) -> tuple[str, ...]:
        """The levels at which ``measure`` has values."""
        return self.model.measure_levels(measure)

    def vintage(self, code: str) -> str:
        return self.model.vintage_released(code)


def _level(model: ReadModel, level: str, indicator_codes: Sequence[str]) -> LevelData:
    frame = model.frame(level)
    geoms = to_mercator(frame).geometry.to_numpy()
    attrs = pd.DataFrame(frame.drop(columns="geometry")).reset_index(drop=True)
    present = [c for c in indicator_codes if c in attrs.columns]
    return LevelData(level, attrs, geoms, shapely.bounds(geoms), percentiles(attrs[present]))




def _robustness(lsoa: pd.DataFrame) -> pd.DataFrame | None:
    """Monte Carlo rank intervals from the build's LSOA index, or None when it has none."""
    if not all(c in lsoa.columns for c in ROBUSTNESS_COLUMNS):
        return None
    extra = [c for c in ("median_rank", "nominal_rank") if c in lsoa.columns]
    out = lsoa[["lsoa21_code", *ROBUSTNESS_COLUMNS, *extra]].set_index("lsoa21_code")
    out["unstable"] = out["unstable"].astype(str).str.lower().isin(["true", "1"])
    return out


def _published_index(lsoa: pd.DataFrame, spec: IndexSpec) -> pd.DataFrame | None:
    """The build's default index in geometry order, or None."""
    cols = [INDEX_COLUMN, *[domain_column(c) for c in spec.domain_codes]]
    if not set(cols) <= set(lsoa.columns):
        return None
    return lsoa[["lsoa21_code", *cols]].copy()


def _earlier(outputs: Outputs, lsoa: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The earlier indexes this build publishes, in geometry order."""
    out = {}
    for name, file in EARLIER_INDEXES.items():
        if file in outputs.meta.outputs:
            frame = outputs.table(file)[["lsoa21_code", INDEX_COLUMN]]
            out[name] = lsoa[["lsoa21_code"]].merge(frame, on="lsoa21_code", how="left",
                                                    validate="one_to_one")
    return out


@pn.cache(max_items=2)
def app_data(root: str) -> AppData:
    """Load the build at ``root`` (verified against its manifest) into an :class:`AppData`.
    ``mapping serve`` verifies the build before it starts the server and says so (the digest
    of the manifest it verified, in ``MAPPING_VERIFIED_MANIFEST``): the same build is then not
    hashed a second time."""
    verified = os.environ.get("MAPPING_VERIFIED_MANIFEST")
    model = ReadModel.open(root, verify=not (verified and verified == manifest_digest(root)))
    spec = model.spec
    codes = list(model.manifest["indicators"])
    levels = {lvl: _level(model, lvl, codes) for lvl in LEVELS}
    boro_geo = model.frame("borough")
    merc = to_mercator(boro_geo)
    points = shapely.point_on_surface(merc.geometry.to_numpy())
    boroughs = pd.DataFrame({
        "borough_code": boro_geo["borough_code"].to_numpy(),
        "borough_name": boro_geo["borough_name"].to_numpy(),
        "label_x": shapely.get_x(points),
        "label_y": shapely.get_y(points),
    }).sort_values("borough_name").reset_index(drop=True)
    lsoa = levels["lsoa"].table
    return AppData(
        model=model,
        spec=spec,
        levels=levels,
        boroughs=boroughs,
        robustness=_robustness(lsoa),
        published=_published_index(lsoa, spec),
        built_at=model.build_date(file_date=True)[:10],
        earlier=_earlier(model.outputs, lsoa),
        needs=_needs(model),
    )


def _needs(model: ReadModel) -> NeedTable | None:
    """The need table named in the build's manifest (the default one for an older build), or
    None when the build has no need tables."""
    if "lsoa21_needs.csv" not in model.manifest.get("outputs", {}):
        return None
    path = model.manifest.get("parameters", {}).get("needs", {}).get("file") or NEEDS_FILE
    return load_needs(path if Path(path).is_file() else NEEDS_FILE)


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
    return method_scenario(spec, weights, normalisation, aggregation, frame).apply(spec)


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
    # suppressed cells may cluster in a frame
    spec = dataclasses.replace(spec, imputation=dataclasses.replace(spec.imputation,
                                                                    max_missing_share=1.0))
    result = build_index(lsoa, spec, name=CATALOGUE_LEVELS["lsoa"].table).table()
    cols = ["lsoa21_code", INDEX_COLUMN, *dom_cols, RANK_COLUMN, DECILE_COLUMN, QUINTILE_COLUMN]
    out = lsoa[["lsoa21_code"]].merge(result[cols], on="lsoa21_code", how="left")
    out["exact"] = data.published is None
    return out
