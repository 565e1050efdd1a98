"""The read model of a build: what the app, the exports, the notebooks and a release ask of it.

A :class:`ReadModel` opens a build once (``--all-boroughs`` reuses it 33 times, the app shares
it between sessions) and answers, from the build's own manifest and tables:

* **which levels exist** (:data:`~mapping.outputs.catalogue.LEVELS`) and each level's table,
  geometry and areas (:meth:`ReadModel.table`, :meth:`ReadModel.frame`);
* **which measures exist** at a level, with what is needed to label and cite them
  (:class:`Measure`: label, unit, direction, sources, vintage), the index and its domains
  included (:meth:`ReadModel.measures`, :meth:`ReadModel.measure`);
* **rank this** (:meth:`ReadModel.rank`, through :func:`mapping.index.ranking.ranks`), **roll
  this up** from LSOAs to wards or boroughs (:meth:`ReadModel.rollup`, population-weighted,
  through :func:`mapping.geography.rollup.weighted_rollup`) and **format this value**
  (:meth:`ReadModel.format`, through :func:`mapping.outputs.formatting.value_text`).

Nothing here writes, and nothing is per user: a model is read-only once opened.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from mapping.errors import MappingError
from mapping.geography.rollup import weighted_rollup
from mapping.index.ranking import ranks
from mapping.outputs import Outputs, load_outputs
from mapping.outputs.catalogue import LEVELS, LIBRARIES, SMALL_AREAS, Level
from mapping.outputs.formatting import value_text
from mapping.outputs.manifest import build_date
from mapping.registry import Registry, load_registry

INDEX_COLUMN = "index_score"
SCORE_SUFFIX = "_score"
#: Sources every map uses besides its measure's: the LSOA 2021 boundaries (wards and boroughs
#: are dissolved from them), and those of the libraries layer.
GEOMETRY_SOURCES = ("boundaries_lsoa21",)
LIBRARY_SOURCES = ("libraries_dcms_2016", "libraries_osm")
#: Sources used to bring an indicator from its own geography to LSOA 2021
#: (see mapping.pipeline.derive).
CONVERSION_SOURCES = {
    "lsoa11": ("lookup_lsoa11_lsoa21", "iod2019_london_workbook", "census2021_ts007a"),
    "msoa21": ("census2021_ts007a",),
}
NOT_MEASURES = {"population", "n_lsoa", "n_units", "high_risk_residents",
                "most_common_need_lsoas"}
#: The support gap's map measures (DR-0011): code -> (label, unit).
SUPPORT_MEASURES = {
    "nearest_support_m": ("Distance to the nearest support place (straight line)", "m"),
    "residents_beyond_walk": ("Residents of high-risk areas beyond walking distance of support",
                              "residents"),
}
NOT_MEASURE_SUFFIXES = ("_rank", "_decile", "_quintile", "_code", "_name")
NOT_MEASURE_PREFIXES = ("rank_", "n_units")


class ReadModelError(MappingError):
    """A question the build cannot answer (unknown level, measure, borough…)."""


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
        """The column of the build holding this measure's published rank, if any."""
        return self.code[: -len(SCORE_SUFFIX)] + "_rank" if self.code.endswith(
            SCORE_SUFFIX) else None

    @property
    def higher_is_worse(self) -> bool:
        return self.direction != "higher_is_better"


def domain_column(domain: str) -> str:
    """The column of a domain's score."""
    return f"{domain}{SCORE_SUFFIX}"


@dataclass
class ReadModel:
    """A build opened once for many questions (see the module docstring)."""

    outputs: Outputs
    registry: Registry
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    _libraries: pd.DataFrame | None = None

    @classmethod
    def open(cls, root: str | os.PathLike | None = None, verify: bool = True) -> ReadModel:
        """The build in ``root`` (default: ``$MAPPING_PROCESSED_DIR`` or ``data/processed``),
        its hashes checked unless ``verify`` is False (its manifest is always checked)."""
        return cls(load_outputs(root, verify=verify), load_registry())

    # -- the build ------------------------------------------------------------------------
    @property
    def manifest(self) -> dict:
        """The manifest as parsed JSON (:attr:`Outputs.meta` is the typed record)."""
        return self.outputs.manifest

    @property
    def build_version(self) -> str:
        return str(self.manifest.get("package_version", "unknown"))

    def build_date(self, file_date: bool = False) -> str:
        """See :func:`mapping.outputs.manifest.build_date`; ``file_date`` falls back to the
        date the manifest was written (the app does; the exports never do, so that copying a
        build does not change its pages)."""
        return build_date(self.outputs.root / "manifest.json" if file_date else None)

    @cached_property
    def index_structure(self) -> tuple[str, dict[str, tuple[str, tuple[str, ...]]]]:
        """The index name and its domains, code → (name, indicator codes), from the
        specification the build recorded (an older build: the default specification)."""
        spec = self.spec
        return spec.name, {d.code: (d.name, tuple(i.code for i in d.indicators))
                           for d in spec.domains}

    @cached_property
    def spec(self):
        """The :class:`~mapping.index.spec.IndexSpec` of the build's index."""
        from mapping.index.spec import load_default_spec, spec_from_dict  # noqa: PLC0415

        record = self.outputs.meta.index
        if record is None:
            return load_default_spec()
        return spec_from_dict(record.specification, source=f"{self.outputs.root}/manifest.json")

    # -- levels -----------------------------------------------------------------------------
    @staticmethod
    def level(key: str) -> Level:
        if key not in LEVELS:
            raise ReadModelError(f"unknown level {key!r}; choose from {', '.join(LEVELS)}")
        return LEVELS[key]

    def frame(self, level: str) -> pd.DataFrame:
        """Geometry (WGS84) of ``level`` with every table of that level merged on its code,
        one row per area in code order."""
        lv = self.level(level)
        if level not in self._frames:
            geo = self.outputs.geo(lv.geometry)[[lv.code, "geometry"]]
            frame = geo.merge(self._table(lv), on=lv.code, how="inner", validate="one_to_one")
            if lv.name not in frame.columns and "borough_name" in frame.columns:
                frame[lv.name] = frame["borough_name"]
            if "borough_name" not in frame.columns and lv.code == "borough_code":
                frame["borough_name"] = frame[lv.name]
            self._frames[level] = frame.sort_values(lv.code, kind="mergesort").reset_index(
                drop=True)
        return self._frames[level]

    def table(self, level: str) -> pd.DataFrame:
        """:meth:`frame` without the geometry."""
        return pd.DataFrame(self.frame(level).drop(columns="geometry"))

    def _table(self, lv: Level) -> pd.DataFrame:
        table = self.outputs.table(lv.table)
        # every other table of this level the build wrote (the index: scores, domain scores,
        # ranks, deciles, rank intervals) is merged on the level's code; columns already
        # present are kept as they are
        for name in sorted(self.manifest.get("outputs", {})):
            if name == lv.table or not name.endswith(".csv") or lv.prefix not in name:
                continue
            extra = self.outputs.table(name)
            if lv.code not in extra.columns:
                continue
            new = [c for c in extra.columns if c not in table.columns]
            if new:
                table = table.merge(extra[[lv.code, *new]], on=lv.code, how="left",
                                    validate="one_to_one")
        return table

    def libraries(self) -> pd.DataFrame:
        if self._libraries is None:
            self._libraries = self.outputs.geo(LIBRARIES)
        return self._libraries

    def boroughs(self) -> list[tuple[str, str]]:
        """(code, name) of every borough, in code order."""
        t = self.frame("borough")
        return list(zip(t["borough_code"].astype(str), t["borough_name"].astype(str),
                        strict=True))

    # -- measures ---------------------------------------------------------------------------
    def measures(self, level: str) -> dict[str, Measure]:
        """Every column of ``level`` that can be mapped (it has values), by code."""
        frame = self.frame(level)
        return {c: self.measure(c) for c in frame.columns if _is_measure(frame, c)}

    def indicator_codes(self, level: str) -> list[str]:
        """The registered indicators with a column at ``level``, in manifest order."""
        cols = set(self.frame(level).columns)
        return [c for c in self.manifest.get("indicators", {}) if c in cols]

    @cached_property
    def borough_only(self) -> list[str]:
        """Indicators published for boroughs only (no LSOA values), in manifest order."""
        small = set(self.indicator_codes(SMALL_AREAS.key))
        return [c for c in self.indicator_codes("borough") if c not in small]

    def measure_levels(self, code: str) -> tuple[str, ...]:
        """The levels at which indicator ``code`` (or the index, a domain) has values."""
        return ("borough",) if code in self.borough_only else tuple(LEVELS)

    def measure(self, code: str) -> Measure:
        indicators = self.manifest.get("indicators", {})
        if code in indicators:
            meta = indicators[code]
            return Measure(code, meta["label"], meta.get("unit", ""),
                           meta.get("direction", "higher_is_worse"), _sources([meta]),
                           "indicator", self.vintage(code))
        name, domains = self.index_structure
        if code == INDEX_COLUMN:
            members = [indicators[c] for _, codes in domains.values() for c in codes
                       if c in indicators]
            return Measure(code, name, "score", "higher_is_worse", _sources(members), "index")
        if code.endswith(SCORE_SUFFIX) and code[: -len(SCORE_SUFFIX)] in domains:
            label, codes = domains[code[: -len(SCORE_SUFFIX)]]
            members = [indicators[c] for c in codes if c in indicators]
            return Measure(code, f"{label} (domain score)", "score", "higher_is_worse",
                           _sources(members), "domain")
        if code in SUPPORT_MEASURES:
            label, unit = SUPPORT_MEASURES[code]
            return Measure(code, label, unit, "higher_is_worse", LIBRARY_SOURCES, "support")
        if code.startswith("need_"):
            return Measure(code, f"Need score: {code[len('need_'):]} (London percentile)",
                           "percentile", "higher_is_worse", (), "need")
        return Measure(code, code.replace("_", " "), "", "higher_is_worse", (), "other")

    def default_measure(self, level: str) -> str:
        measures = self.measures(level)
        if INDEX_COLUMN in measures:
            return INDEX_COLUMN
        inputs = [c for c, m in measures.items() if m.kind == "indicator"]
        if not inputs:
            raise ReadModelError(f"the build has no measure at level {level!r}")
        return inputs[0]

    def vintage(self, code: str) -> str:
        """The reference period of an indicator (registry), or ``""``."""
        try:
            return self.registry.indicator(code).vintage
        except KeyError:
            return ""

    def vintage_released(self, code: str) -> str:
        """The reference period and its source's release date: ``"2021, released 2022-11-02"``."""
        try:
            ind = self.registry.indicator(code)
        except KeyError:
            return ""
        src = self.registry.sources.get(ind.source)
        return f"{ind.vintage}, released {src.release_date}" if src else ind.vintage

    # -- sources ----------------------------------------------------------------------------
    def map_sources(self, measure: Measure, level: str, libraries: bool) -> list[str]:
        """Every source a map of ``measure`` at ``level`` draws on."""
        out = [*measure.sources, *GEOMETRY_SOURCES, *self.level(level).extra_sources]
        return out + list(LIBRARY_SOURCES) if libraries else out

    def attributions(self, source_ids: Iterable[str]) -> list[str]:
        ids = [s for s in dict.fromkeys(source_ids) if s in self.registry.sources]
        return self.registry.attributions(ids)

    def data_vintage(self, source_ids: Iterable[str]) -> str:
        """The latest release date among ``source_ids``."""
        dates = [self.registry.sources[s].release_date for s in source_ids
                 if s in self.registry.sources]
        dated = sorted(d for d in dates if re.match(r"^\d{4}", d))
        return dated[-1] if dated else ""

    # -- rank, roll up, format --------------------------------------------------------------
    def rank(self, values: pd.Series, code: str) -> pd.Series:
        """Rank 1 = most at risk on measure ``code`` (its direction); no value, no rank."""
        return ranks(values, self.measure(code).direction)

    def rollup(self, values: pd.DataFrame, level: str) -> pd.DataFrame:
        """Population-weighted means of ``values`` (columns; rows aligned with the LSOA table)
        for the areas of ``level``, one row per area with the area code column."""
        key = self.level(level).code
        lsoa = self.frame(SMALL_AREAS.key)
        frame = pd.concat([lsoa[[key, "population"]].reset_index(drop=True),
                           values.reset_index(drop=True)], axis=1)
        return weighted_rollup(frame, [key], rates=list(values.columns))

    def format(self, value: float | None, code: str) -> str | None:
        """A value of measure ``code`` as text (``None`` when there is no value)."""
        return value_text(value, self.measure(code).unit)

    # -- boroughs by name -------------------------------------------------------------------
    def select_boroughs(self, wanted: Sequence[str] | None) -> list[str]:
        return select_boroughs(self.frame("borough"), wanted)


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
        raise ReadModelError(f"unknown borough(s): {', '.join(map(repr, unknown))}; use a code "
                             "such as E09000001 or a name such as 'City of London'")
    return sorted(chosen)


def _sources(metas: Iterable[dict]) -> tuple[str, ...]:
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
