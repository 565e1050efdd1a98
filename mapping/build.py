"""The build: data package → validated indicator tables → outputs + manifest.

Steps (each a plain function over frames):

1. check every source file the registry lists (exists, hash recorded);
2. read what the indicators need, validating each file;
3. derive each indicator at its source geography, then bring it to LSOA 2021
   (``lsoa11`` converted, ``msoa21`` apportioned; see :mod:`mapping.geography`);
4. roll LSOA values up to wards and boroughs (population-weighted), add borough-only indicators;
5. write tables, light web geometry and libraries, then ``manifest.json``.

Everything is written into a staging folder that replaces ``<out>/processed`` in one rename at
the end, so a failed or killed build leaves the previous outputs untouched. Outputs are
deterministic: the same inputs give byte-identical files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapping import io
from mapping.config import PROCESSED  # re-exported: mapping.build.PROCESSED
from mapping.disclosure import suppress
from mapping.errors import DataValidationError, Problem
from mapping.geography.apportion import msoa_to_lsoa
from mapping.geography.geometry import check_geometry, web_geometry
from mapping.geography.rollup import weighted_rollup
from mapping.geography.vintage import convert_lsoa11_to_lsoa21, pair_shares
from mapping.locking import out_dir_lock
from mapping.registry import Indicator, Registry, load_registry
from mapping.sources import READERS, Table
from mapping.sources import cache as table_cache
from mapping.sources.readers import iod2019_workbook

WEB_TOLERANCE_M = 50.0
WEB_DECIMALS = 5
ID_COLUMNS = ["lsoa21_code", "lsoa21_name", "msoa21_code", "ward24_code", "ward24_name",
              "borough_code", "borough_name", "population"]


@dataclass
class BuildOptions:
    data_dir: Path
    out_dir: Path
    indicator_files: tuple[Path, ...] = ()
    repair_geometry: bool = False
    progress: bool = True
    #: read an analyst's sources even from outside their registry file's folder and the data
    #: directory (``--allow-outside-sources``)
    allow_outside_sources: bool = False
    #: how long to wait for another build or release holding the out-dir's lock (``--wait``)
    lock_wait_s: float = 0.0


@dataclass
class Inputs:
    """Validated source tables, read once and shared by every step."""

    registry: Registry
    data_dir: Path
    cache_dir: Path | None = None
    tables: dict[str, object] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    #: per indicator code, what derivation found and did not treat as an error: rows outside
    #: London that were ignored (``rows_outside_london``, ``of_which_welsh``); recorded in the
    #: manifest and printed by ``mapping validate``
    notes: dict[str, dict[str, int]] = field(default_factory=dict)

    def path(self, source_id: str) -> Path:
        return self.data_dir / self.registry.sources[source_id].path

    def get(self, source_id: str):
        if source_id not in self.tables:
            reader = self.registry.sources[source_id].reader
            if reader == "csv_by_code":  # user files: registered ranges checked while reading
                ranges = {ind.numerator.columns[0]: ind.range for ind in self.registry.indicators
                          if ind.numerator.source == source_id and ind.denominator is None
                          and ind.range is not None and ind.scale == 1.0}
                self.tables[source_id] = READERS[reader](self.path(source_id), ranges)
            else:
                self.tables[source_id] = READERS[reader](self.path(source_id))
        return self.tables[source_id]

    def markers(self, ind: Indicator) -> dict[str, int]:
        """Missing-value markers (``[c]``, ``[x]``, ``blank``, ``NA``, ...) counted in the
        numerator columns of ``ind`` as its source file gives them (empty for workbooks)."""
        if self.registry.sources[ind.numerator.source].reader == "iod2019_workbook":
            return {}
        out = self.get(ind.numerator.source)
        if not isinstance(out, Table):
            return {}
        total: dict[str, int] = {}
        for col in ind.numerator.columns:
            for marker, n in out.markers.get(col, {}).items():
                total[marker] = total.get(marker, 0) + n
        return dict(sorted(total.items()))

    def frame(self, source_id: str, sheet: str | None = None) -> pd.DataFrame:
        if self.registry.sources[source_id].reader == "iod2019_workbook":
            return self.workbook_sheet(sheet or "IMD 2019")
        out = self.get(source_id)
        return out.frame if isinstance(out, Table) else out

    def workbook_sheet(self, sheet: str) -> pd.DataFrame:
        """The IoD 2019 London workbook is slow to parse: cache each sheet keyed by its hash,
        as data only (:mod:`mapping.sources.cache`: never a pickle; a damaged or edited cache
        file is ignored and rebuilt)."""
        path = self.path("iod2019_london_workbook")
        digest = self.hashes.get("iod2019_london_workbook") or io.sha256_file(path)
        cache = None
        if self.cache_dir is not None:
            cache = table_cache.cache_path(self.cache_dir, "iod2019_workbook", digest, sheet)
            cached = table_cache.load_table(cache, digest, sheet)
            if cached is not None:
                return cached
        frame = iod2019_workbook(path, sheet).frame
        if cache is not None:
            table_cache.save_table(cache, frame, digest, sheet)
        return frame


def source_files(registry: Registry, data_dir: Path) -> dict[str, list[Path]]:
    """Every file behind each source (a shapefile's sidecars included)."""
    out = {}
    for sid, src in registry.sources.items():
        main = data_dir / src.path
        if main.suffix == ".shp":
            out[sid] = sorted(p for p in main.parent.glob(main.stem + ".*") if p.is_file())
        else:
            out[sid] = [main]
    return out


def check_inputs(registry: Registry, data_dir: Path, *, allow_outside_sources: bool = False
                 ) -> tuple[dict[str, dict], list[Problem]]:
    """Hash every source file. Missing files are problems; a hash that differs from the
    registry is recorded (``matches_registry: false``), not fatal: data refreshes change it.

    A source from an analyst's own registry file must lie, once links are resolved, in that
    file's folder or in the data directory: a registry file alone must not be able to make the
    build read (and echo parts of) any file on the machine. ``allow_outside_sources`` lifts
    this for an analyst who means it (``--allow-outside-sources``)."""
    problems: list[Problem] = []
    record: dict[str, dict] = {}
    for sid, files in source_files(registry, data_dir).items():
        src = registry.sources[sid]
        main = data_dir / src.path
        problem = _source_file_problem(sid, src, main, data_dir, allow_outside_sources)
        if problem is not None:
            problems.append(problem)
            continue
        entry = {"path": src.path, "files": {}}
        for f in files:
            name = str(f.relative_to(data_dir)) if f.is_relative_to(data_dir) else str(f)
            entry["files"][name] = io.sha256_file(f)
        entry["sha256"] = io.sha256_file(main)
        entry["matches_registry"] = entry["sha256"] == src.sha256
        entry["hash_declared"] = bool(src.sha256)
        record[sid] = entry
    return record, problems


def _source_file_problem(sid: str, src, main: Path, data_dir: Path,
                         allow_outside: bool) -> Problem | None:
    """What is wrong with a source's file before it is read, or None.

    A package source is named by its path; an analyst's source by the registry file, line and
    ``path`` key that declared it (where the fix is), with the path as written there."""
    user = bool(src.origin)

    def problem(message: str) -> Problem:
        if user:
            return Problem(src.origin, f"source {sid!r}: {message}", src.path_line, "path",
                           src.path)
        return Problem(str(main), f"source {sid!r}: {message}")

    real = Path(os.path.realpath(main))
    if user and not allow_outside:
        folders = [Path(src.origin).parent, data_dir.resolve()]
        if not any(real.is_relative_to(f) for f in folders):
            return problem(
                f"the file is outside the registry file's folder ({folders[0]}) and the data "
                f"directory ({folders[1]}): it resolves to {real}. Move it beside the registry "
                "file, or pass --allow-outside-sources if you mean to read it from there")
    if main.is_symlink() and not main.exists():
        return problem(f"{main} is a symbolic link to {os.readlink(main)}, which does not exist")
    if not main.exists():
        if user:
            return problem(f"file not found at {main} (a relative path is relative to the "
                           "registry file's folder)")
        return problem("file not found in the data directory")
    if not main.is_file():
        return problem(f"{main} is a folder, not a file" if main.is_dir()
                       else f"{main} is not a regular file")
    return None


# ---- indicator derivation ---------------------------------------------------------------------

def _key(frame: pd.DataFrame) -> str:
    for key in ("lsoa21_code", "lsoa11_code", "msoa21_code", "lad_code"):
        if key in frame.columns:
            return key
    raise KeyError("no geography code column")


def derive(ind: Indicator, inputs: Inputs) -> pd.DataFrame:
    """The indicator at its source geography: a frame of ``<code column>, <indicator code>``."""
    num_frame = inputs.frame(ind.numerator.source, ind.numerator.sheet)
    key = _key(num_frame)
    problems = []
    for term in (ind.numerator, ind.denominator):
        if term is None:
            continue
        cols = inputs.frame(term.source, term.sheet).columns
        for col in term.columns:
            if col not in cols:
                problems.append(Problem(str(inputs.path(term.source)),
                                        f"indicator {ind.code!r} needs a column the file does "
                                        f"not have (columns found: {', '.join(map(str, cols))})",
                                        column=col))
    if problems:
        raise DataValidationError(problems)
    num = num_frame[list(ind.numerator.columns)].sum(axis=1, min_count=len(ind.numerator.columns))
    result = pd.DataFrame({key: num_frame[key].to_numpy(), "num": num.to_numpy()})
    if ind.denominator is None:
        result[ind.code] = result["num"] * ind.scale
    else:
        den_frame = inputs.frame(ind.denominator.source, ind.denominator.sheet)
        if _key(den_frame) != key:
            raise DataValidationError.single(
                inputs.path(ind.denominator.source),
                f"indicator {ind.code!r}: numerator and denominator are at different geographies")
        den = pd.DataFrame({key: den_frame[key],
                            "den": den_frame[list(ind.denominator.columns)].sum(axis=1)})
        result = result.merge(den, on=key, how="left", validate="one_to_one")
        ok = result["den"] > 0
        result[ind.code] = (result["num"] / result["den"].where(ok)) * ind.scale
    infinite = np.isinf(result[ind.code])
    if infinite.any():  # finite source values can still overflow once scaled
        raise DataValidationError([
            Problem(str(inputs.path(ind.numerator.source)), f"derived value of {ind.code!r} is "
                    f"not a finite number (its source value times scale = {ind.scale:g} "
                    "overflows)", column=ind.code, value=f"{code}: {v}")
            for code, v in zip(result.loc[infinite, key], result.loc[infinite, ind.code],
                               strict=True)][:25])
    return result[[key, ind.code]]


def check_range(frame: pd.DataFrame, ind: Indicator, where: str) -> list[Problem]:
    if ind.range is None:
        return []
    lo, hi = ind.range
    values = frame[ind.code]
    bad = values.notna() & ((values < lo) | (values > hi))
    return [Problem(where, f"derived value of {ind.code!r} outside its registered range "
                    f"[{lo:g}, {hi:g}]", column=ind.code, value=f"{code}: {v:.6g}")
            for code, v in zip(frame.loc[bad].iloc[:, 0], values[bad], strict=True)][:25]


# ---- the steps ----------------------------------------------------------------------------------

def london_units(inputs: Inputs) -> pd.DataFrame:
    """The 4,994 London LSOAs 2021 with MSOA, ward 2024, borough and Census 2021 population."""
    geo = inputs.frame("boundaries_lsoa21")
    units = pd.DataFrame({
        "lsoa21_code": geo["lsoa21_code"], "lsoa21_name": geo["LSOA21NM"],
        "msoa21_code": geo["MSOA21CD"], "borough_code": geo["LAD22CD"],
        "borough_name": geo["LAD22NM"],
    })
    wards = inputs.frame("lookup_lsoa21_ward24")
    units = units.merge(wards[["lsoa21_code", "ward24_code", "ward24_name", "ltla24_code"]],
                        on="lsoa21_code", how="left", validate="one_to_one")
    problems = [Problem(str(inputs.path("lookup_lsoa21_ward24")), "London LSOA has no ward",
                        column="lsoa21_code", value=c)
                for c in units.loc[units["ward24_code"].isna(), "lsoa21_code"]]
    moved = units["ltla24_code"].notna() & (units["ltla24_code"] != units["borough_code"])
    problems += [Problem(str(inputs.path("lookup_lsoa21_ward24")), "ward lookup puts the LSOA "
                         "in a different borough from the boundary file", column="ltla24_code",
                         value=c) for c in units.loc[moved, "lsoa21_code"]]
    pop = inputs.frame("census2021_ts007a").set_index("lsoa21_code")["Age: Total"]
    units["population"] = units["lsoa21_code"].map(pop)
    problems += [Problem(str(inputs.path("census2021_ts007a")), "London LSOA has no population",
                         column="lsoa21_code", value=c)
                 for c in units.loc[units["population"].isna(), "lsoa21_code"]]
    if problems:
        raise DataValidationError(problems)
    units["population"] = units["population"].astype(np.int64)
    return units[ID_COLUMNS].sort_values("lsoa21_code").reset_index(drop=True)


def check_proportions(values: pd.Series, ind: Indicator, inputs: Inputs) -> list[Problem]:
    """A percentage indicator from an analyst's own CSV whose values all lie in [0, 1] almost
    certainly holds proportions (0.25 for 25 %): refused, since the map would show every area as
    under 1 %. If the values really are percentages below 1 %, the registry says so with
    ``range = [0, 1]``. Built-in sources are exempt (Ofcom's share of premises below the
    broadband USO is a genuine 0–0.2 %)."""
    if ind.unit.strip() != "%" or ind.denominator is not None:
        return []
    if inputs.registry.sources[ind.numerator.source].reader != "csv_by_code":
        return []
    if ind.range is not None and ind.range[1] <= 1:
        return []
    v = values.dropna()
    if len(v) < 2 or not v.between(0, 1).all() or v.max() == 0:
        return []
    return [Problem(str(inputs.path(ind.source)),
                    f"every value of {ind.code!r} lies between 0 and 1 (largest {v.max():.4g}) "
                    "but its unit is '%': these look like proportions. Multiply them by 100, or "
                    "set scale = 100 in its [[indicator]] entry; if they really are percentages "
                    "below 1 %, declare range = [0, 1]",
                    column=ind.numerator.columns[0])]


def to_lsoa21(ind: Indicator, inputs: Inputs, units: pd.DataFrame) -> pd.Series:
    """Derive an LSOA-level indicator and bring it to the London LSOA 2021 units."""
    values = _to_lsoa21(ind, inputs, units)
    problems = check_range(pd.DataFrame({"lsoa21_code": units["lsoa21_code"],
                                         ind.code: values.to_numpy()}), ind,
                           str(inputs.path(ind.source)))
    problems += check_proportions(values, ind, inputs)
    if problems:
        raise DataValidationError(problems)
    return values


def _note_outside(inputs: Inputs, ind: Indicator, codes, london) -> set:
    """Record how many rows of the indicator's data lie outside London (ignored); returns them."""
    outside = set(codes) - set(london)
    inputs.notes[ind.code] = {"rows_outside_london": len(outside),
                              "of_which_welsh": sum(1 for c in outside if str(c).startswith("W"))}
    return outside


def _to_lsoa21(ind: Indicator, inputs: Inputs, units: pd.DataFrame) -> pd.Series:
    derived = derive(ind, inputs)
    where = str(inputs.path(ind.source))
    london = units["lsoa21_code"]
    pop21 = units.set_index("lsoa21_code")["population"]
    if ind.geography == "lsoa21":
        values = derived.set_index("lsoa21_code")[ind.code]
        outside = _note_outside(inputs, ind, values.index, london)
        absent = sorted(set(london) - set(values.index))
        if absent:
            problems = []
            if outside:  # LSOA 2011 codes given where 2021 codes are expected?
                lookup = inputs.frame("lookup_lsoa11_lsoa21")
                only11 = sorted(outside & (set(lookup["lsoa11_code"])
                                           - set(lookup["lsoa21_code"])))
                if only11:
                    problems.append(Problem(
                        where, f"{len(only11)} code(s) for {ind.code!r} are LSOA 2011 codes that "
                        "no longer exist in 2021 (" + ", ".join(only11[:10])
                        + (", …" if len(only11) > 10 else "") + "): the file looks like LSOA "
                        "2011 data. Name its code column lsoa11_code and set geography = "
                        "\"lsoa11\" for the source and indicator, and it is converted through "
                        "the ONS lookup", column="lsoa21_code"))
            problems += [Problem(where, f"London LSOA 2021 missing from the data for "
                                 f"{ind.code!r}", column="lsoa21_code", value=c)
                         for c in absent[:25]]
            raise DataValidationError(problems)
        return london.map(values).rename(ind.code)
    if ind.geography == "lsoa11":
        lookup = inputs.frame("lookup_lsoa11_lsoa21")
        _note_outside(inputs, ind, derived["lsoa11_code"],
                      lookup.loc[lookup["lsoa21_code"].isin(london), "lsoa11_code"])
        shares = pair_shares(lookup[lookup["lsoa21_code"].isin(london)], pop21)
        pop11 = inputs.workbook_sheet("Population figures").set_index("lsoa11_code")[
            "Total population: mid 2015 (excluding prisoners)"]
        out = convert_lsoa11_to_lsoa21(derived, shares, rates=[ind.code], pop11=pop11,
                                       source=where)
        return london.map(out.set_index("lsoa21_code")[ind.code]).rename(ind.code)
    if ind.geography == "msoa21":
        _note_outside(inputs, ind, derived["msoa21_code"], units["msoa21_code"])
        out = msoa_to_lsoa(derived, units[["lsoa21_code", "msoa21_code"]], rates=[ind.code],
                           source=where)
        return london.map(out.set_index("lsoa21_code")[ind.code]).rename(ind.code)
    raise ValueError(f"{ind.code}: geography {ind.geography} is not small-area")


def borough_indicator(ind: Indicator, inputs: Inputs, boroughs: pd.DataFrame) -> pd.Series:
    derived = derive(ind, inputs)
    where = str(inputs.path(ind.source))
    problems = check_range(derived, ind, where)
    _note_outside(inputs, ind, derived["lad_code"], boroughs["borough_code"])
    values = derived.set_index("lad_code")[ind.code]
    problems += check_proportions(values[values.index.isin(boroughs["borough_code"])], ind,
                                  inputs)
    absent = sorted(set(boroughs["borough_code"]) - set(values.index))
    problems += [Problem(where, f"London borough missing for {ind.code!r}", column="lad_code",
                         value=c) for c in absent]
    if problems:
        raise DataValidationError(problems)
    return boroughs["borough_code"].map(values).rename(ind.code)


def indicator_tables(inputs: Inputs, progress: Callable[[str], None] = lambda s: None):
    """LSOA, ward and borough indicator tables plus missing-value counts per indicator."""
    reg = inputs.registry
    units = london_units(inputs)
    lsoa = units.copy()
    missing: dict[str, int] = {}
    small = reg.select(geography="lsoa")
    for ind in small:
        progress(f"indicator {ind.code}")
        lsoa[ind.code] = to_lsoa21(ind, inputs, units).to_numpy()
        missing[ind.code] = int(lsoa[ind.code].isna().sum())
    codes = [i.code for i in small]
    ward = weighted_rollup(lsoa, ["ward24_code", "ward24_name", "borough_code", "borough_name"],
                           rates=codes)
    borough = weighted_rollup(lsoa, ["borough_code", "borough_name"], rates=codes)
    ward["n_lsoa"] = lsoa.groupby("ward24_code").size().reindex(ward["ward24_code"]).to_numpy()
    borough["n_lsoa"] = lsoa.groupby("borough_code").size().reindex(
        borough["borough_code"]).to_numpy()
    for ind in reg.select(geography="lad"):
        progress(f"indicator {ind.code}")
        borough[ind.code] = borough_indicator(ind, inputs, borough).to_numpy()
        missing[ind.code] = int(borough[ind.code].isna().sum())
    return lsoa, ward, borough, missing


def small_area_counts(ind: Indicator, inputs: Inputs, units: pd.DataFrame):
    """Numerator and denominator counts per London LSOA for a ratio indicator published at
    LSOA 2021 (the counts the disclosure rule looks at), or None for other indicators."""
    if ind.denominator is None or ind.geography != "lsoa21":
        return None
    num = inputs.frame(ind.numerator.source, ind.numerator.sheet).set_index("lsoa21_code")
    den = inputs.frame(ind.denominator.source, ind.denominator.sheet).set_index("lsoa21_code")
    codes = units["lsoa21_code"]
    return (num[list(ind.numerator.columns)].sum(axis=1).reindex(codes).to_numpy(),
            den[list(ind.denominator.columns)].sum(axis=1).reindex(codes).to_numpy())


def apply_disclosure(inputs: Inputs, lsoa: pd.DataFrame, ward: pd.DataFrame,
                     borough: pd.DataFrame):
    """Published copies of the tables with the small-count rule of DR-0004 applied.

    For every ratio indicator built from LSOA counts, a rate whose numerator or denominator is
    below 10 is blanked and flagged in ``<code>_suppressed``; secondary suppression (within
    wards and boroughs, whose population-weighted rates with the published populations give
    their counts back) blanks further cells or the ward/borough value so that no suppressed
    count can be recovered by differencing. The index is computed from the full inputs.
    """
    pub = [lsoa.copy(), ward.copy(), borough.copy()]
    counts: dict[str, int] = {}
    for ind in inputs.registry.select(geography="lsoa"):
        got = small_area_counts(ind, inputs, lsoa)
        if got is None:
            continue
        num, den = got
        result = suppress(pd.Series(num, index=lsoa.index),
                          [lsoa["ward24_code"], lsoa["borough_code"]],
                          denominators=pd.Series(den, index=lsoa.index))
        cells = result.cells.to_numpy()
        flags = [cells,
                 ward["ward24_code"].map(result.totals[0]).fillna(False).to_numpy(bool),
                 borough["borough_code"].map(result.totals[1]).fillna(False).to_numpy(bool)]
        for frame, flag in zip(pub, flags, strict=True):
            frame[ind.code] = frame[ind.code].where(~flag)
            frame[f"{ind.code}_suppressed"] = flag
        counts[ind.code] = int(cells.sum())
    return (*pub, counts)


def geometry_outputs(inputs: Inputs, lsoa: pd.DataFrame, repair: bool):
    """Light WGS84 GeoJSON for LSOAs, wards and boroughs (coverage-simplified: no gaps)."""
    geo = inputs.frame("boundaries_lsoa21")
    geo, report = check_geometry(geo, "lsoa21_code", str(inputs.path("boundaries_lsoa21")),
                                 repair=repair)
    geo = geo[["lsoa21_code", "geometry"]].merge(
        lsoa[["lsoa21_code", "lsoa21_name", "ward24_code", "borough_code"]], on="lsoa21_code")
    web = web_geometry(geo, WEB_TOLERANCE_M, WEB_DECIMALS).sort_values("lsoa21_code")

    def dissolve(by: str) -> gpd.GeoDataFrame:
        parts = []
        for code, group in web.groupby(by, sort=True):
            parts.append({by: code, "geometry": shapely.coverage_union_all(group.geometry.values)})
        out = gpd.GeoDataFrame(parts, geometry="geometry", crs=4326)
        out["geometry"] = shapely.set_precision(out.geometry.to_numpy(), 10.0 ** -WEB_DECIMALS)
        return out

    return (web[["lsoa21_code", "lsoa21_name", "borough_code", "geometry"]].reset_index(drop=True),
            dissolve("ward24_code"), dissolve("borough_code"), report)


def libraries(inputs: Inputs, boroughs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Libraries in London from the DCMS 2016 list and OpenStreetMap, tagged with their source.

    DCMS rows without coordinates cannot be placed; they are counted in the manifest."""
    dcms = inputs.frame("libraries_dcms_2016").dropna(subset=["lng", "lat"])
    a = gpd.GeoDataFrame({"name": dcms["library_name"], "source": "DCMS Libraries Taskforce 2016"},
                         geometry=gpd.points_from_xy(dcms["lng"], dcms["lat"]), crs=4326)
    osm = inputs.frame("libraries_osm")
    b = gpd.GeoDataFrame({"name": osm["name"].fillna("(unnamed)"), "source": "OpenStreetMap"},
                         geometry=osm.geometry.to_crs(4326))
    both = pd.concat([a, b], ignore_index=True)
    london = shapely.union_all(boroughs.geometry.to_numpy())
    inside = both[both.geometry.within(london)].copy()
    inside["geometry"] = shapely.set_precision(inside.geometry.to_numpy(), 1e-5)
    return inside.sort_values(["source", "name"], kind="mergesort").reset_index(drop=True)


def code_version() -> str:
    pkg = version("london-digital-exclusion-map")
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                text=True, cwd=Path(__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return f"{pkg}+g{commit}"


def _geojson_bytes(frame: gpd.GeoDataFrame) -> bytes:
    text = frame.to_json(drop_id=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def build(options: BuildOptions) -> dict:
    """Run the whole build; returns the manifest. Raises DataValidationError on bad input.

    The registry, the input hashes and an analyst's own files are checked first, writing
    nothing. Then the build takes the out-dir's lock (:mod:`mapping.locking`) and holds it
    until the outputs are published: a second build or a release into the same folder waits
    ``options.lock_wait_s`` seconds for it, then fails naming this one. Holding it, the build
    removes the staging folders that builds killed during an earlier publish left behind."""
    steps = ["registry", "inputs", "indicators", "geometry", "index", "write"]
    bar = _Progress(len(steps), enabled=options.progress)
    bar.step("registry")
    registry = load_registry(options.indicator_files)
    bar.step("hash inputs")
    inputs_record, problems = check_inputs(registry, options.data_dir,
                                           allow_outside_sources=options.allow_outside_sources)
    if problems:
        raise DataValidationError(problems)
    inputs = Inputs(registry, options.data_dir, cache_dir=options.out_dir / "cache",
                    hashes={k: v["sha256"] for k, v in inputs_record.items()})
    for sid, src in registry.sources.items():  # an analyst's own files first: fast feedback
        if src.reader == "csv_by_code":
            inputs.get(sid)
    with out_dir_lock(options.out_dir, options.lock_wait_s, what="build into"):
        remove_stale_staging(options.out_dir / PROCESSED)
        return _build_locked(options, registry, inputs_record, inputs, bar)


def _build_locked(options: BuildOptions, registry: Registry, inputs_record: dict,
                  inputs: Inputs, bar: _Progress) -> dict:
    """The steps of :func:`build` that write (the reader cache, then the outputs)."""
    bar.step("indicators")
    lsoa, ward, borough, missing = indicator_tables(inputs, bar.note)
    bar.step("geometry")
    lsoa_geo, ward_geo, borough_geo, geo_report = geometry_outputs(inputs, lsoa,
                                                                   options.repair_geometry)
    libs = libraries(inputs, borough_geo)
    bar.step("index")
    index_tables = _build_index(lsoa)
    lsoa, ward, borough, suppressed = apply_disclosure(inputs, lsoa, ward, borough)
    bar.step("write")
    files: dict[str, bytes] = {
        "lsoa21_indicators.csv": _csv_bytes(lsoa),
        "ward24_indicators.csv": _csv_bytes(ward),
        "borough_indicators.csv": _csv_bytes(borough),
        "lsoa21.geojson": _geojson_bytes(lsoa_geo),
        "ward24.geojson": _geojson_bytes(ward_geo),
        "borough.geojson": _geojson_bytes(borough_geo),
        "libraries.geojson": _geojson_bytes(libs),
    }
    for name, frame in index_tables.items():
        files[name if name.endswith(".csv") else f"{name}.csv"] = _csv_bytes(frame)
    used = sorted({s for ind in registry.indicators for s in ind.sources})
    manifest = {
        "package_version": code_version(),
        "parameters": {
            "web_geometry": {"method": "shapely.coverage_simplify", "tolerance_m": WEB_TOLERANCE_M,
                             "decimals": WEB_DECIMALS},
            "indicator_files": [str(p) for p in options.indicator_files],
            "repair_geometry": options.repair_geometry,
        },
        "inputs": inputs_record,
        "indicators": {ind.code: {"label": ind.label, "domain": ind.domain, "unit": ind.unit,
                                  "direction": ind.direction, "role": ind.role,
                                  "geography": ind.geography, "sources": list(ind.sources),
                                  "missing": missing.get(ind.code, 0),
                                  "missing_markers": inputs.markers(ind),
                                  **inputs.notes.get(ind.code, {})}
                       for ind in registry.indicators},
        "disclosure": {"rule": "DR-0004: counts below 10 suppressed, with secondary "
                       "suppression within wards and boroughs", "suppressed_cells": suppressed},
        "row_counts": {"lsoa21": len(lsoa), "ward24": len(ward), "borough": len(borough),
                       "libraries": len(libs)},
        "geometry": {"invalid_repaired": [list(x) for x in geo_report.repaired_area_change]},
        "libraries_without_coordinates": int(
            inputs.get("libraries_dcms_2016").missing.get("lng", 0)),
        "attributions": registry.attributions(used),
        "outputs": {name: io.sha256_bytes(data) for name, data in sorted(files.items())},
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
                              + "\n").encode("utf-8")
    publish(options.out_dir / PROCESSED, files)
    bar.done()
    return manifest


def unsuppressed_lsoa_table(data_dir: Path, indicator_files: Sequence[Path] = (),
                            cache_dir: Path | None = None) -> pd.DataFrame:
    """The LSOA indicator table the build's index is computed from: every registered
    indicator before the small-count rule (DR-0004) blanks cells for publication. For analysis
    in notebooks and tests (choosing weights, DR-0009); never published as it is."""
    registry = load_registry(list(indicator_files))
    record, problems = check_inputs(registry, data_dir)
    if problems:
        raise DataValidationError(problems)
    with tempfile.TemporaryDirectory(prefix="mapping-cache-") as scratch:
        inputs = Inputs(registry, data_dir, cache_dir=cache_dir or Path(scratch),
                        hashes={k: v["sha256"] for k, v in record.items()})
        return indicator_tables(inputs)[0]


def _build_index(lsoa: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The default composite index and its robustness results (:mod:`mapping.index`), computed
    from the LSOA table exactly as it is published (written to a scratch folder first)."""
    from mapping.index import build_default  # noqa: PLC0415 (heavy import, build only)

    with tempfile.TemporaryDirectory(prefix="mapping-index-") as scratch:
        (Path(scratch) / "lsoa21_indicators.csv").write_bytes(_csv_bytes(lsoa))
        return build_default(scratch)


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.10g").encode("utf-8")


#: ``tempfile.mkdtemp``'s random part: 8 characters of this alphabet
_STAGING_SUFFIX = re.compile(r"[a-z0-9_]{8}")


def remove_stale_staging(target: Path) -> list[Path]:
    """Remove the staging folders of ``target`` that a killed build left behind; returns them.

    Only what :func:`publish` creates is touched: a real folder (not a link) beside ``target``,
    named ``.<target name>.staging-`` plus mkdtemp's 8 random characters, owned by this user.
    Call it only while holding the out-dir's lock (then no other build is using one)."""
    prefix = f".{target.name}.staging-"
    removed = []
    if not target.parent.is_dir():
        return removed
    for child in sorted(target.parent.iterdir()):
        if (child.name.startswith(prefix) and _STAGING_SUFFIX.fullmatch(child.name[len(prefix):])
                and not child.is_symlink() and child.is_dir()
                and child.lstat().st_uid == os.getuid()):
            shutil.rmtree(child)
            removed.append(child)
    return removed


def publish(target: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into a staging folder, then swap it into ``target`` with renames.

    The caller holds the out-dir's lock (:func:`build` does)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.parent / f".{target.name}.old"
    if not target.exists() and old.exists():  # a build killed between the two renames below
        os.replace(old, target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
            os.chmod(staging / name, 0o644)
        os.chmod(staging, 0o755)
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        if old.exists():
            shutil.rmtree(old)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


class _Progress:
    """A plain progress line per step on stderr (no timing-dependent output in files)."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.n, self.enabled = total, 0, enabled

    def step(self, name: str) -> None:
        self.n += 1
        if self.enabled:
            print(f"[{self.n}/{self.total}] {name}", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        if self.enabled:
            print(f"      {text}", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled:
            print("build complete", file=sys.stderr, flush=True)
