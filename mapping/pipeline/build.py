"""The build: data package → validated indicator tables → outputs + manifest.

Steps (each a plain function over frames):

1. check every source file the registry lists (exists, hash recorded);
2. read what the indicators need, validating each file;
3. derive each indicator at its source geography, then bring it to LSOA 2021
   (``lsoa11`` converted, ``msoa21`` apportioned), roll LSOA values up to wards and boroughs
   (population-weighted) and add borough-only indicators (:mod:`mapping.pipeline.derive`);
4. build the default index (:mod:`mapping.index`), apply the small-count rule to the published
   tables (:mod:`mapping.pipeline.disclosure`);
5. write tables, light web geometry and libraries, then ``manifest.json``
   (:class:`mapping.outputs.manifest.Manifest`; file names from
   :mod:`mapping.outputs.catalogue`).

Everything is written into a staging folder that replaces ``<out>/processed`` in one rename at
the end (:func:`mapping.pipeline.staging.staged`, shared with releases), so a failed or killed
build leaves the previous outputs untouched. Outputs are deterministic: the same inputs give
byte-identical files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from mapping.config import PROCESSED  # re-exported: mapping.pipeline.build.PROCESSED
from mapping.errors import DataValidationError, Problem
from mapping.files import sha256_bytes, sha256_file
from mapping.geography.geometry import check_geometry, web_geometry
from mapping.index.needs import NEEDS_FILE, NeedTable, load_needs
from mapping.outputs.catalogue import LEVELS, LIBRARIES, MANIFEST, SMALL_AREAS, SUPPORT_PLACES
from mapping.outputs.manifest import IndexRecord, IndicatorRecord, InputRecord, Manifest
from mapping.pipeline.derive import apply_disclosure, indicator_tables
from mapping.pipeline.locking import out_dir_lock
from mapping.pipeline.staging import remove_stale, staged
from mapping.pipeline.support import SUPPORT_READER, need_and_support_tables, support_places
from mapping.registry import Indicator, Registry, load_registry
from mapping.sources import READERS, Table
from mapping.sources import cache as table_cache
from mapping.sources.readers import iod2019_workbook

WEB_TOLERANCE_M = 50.0
WEB_DECIMALS = 5


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
    #: the need table (need types, indicators, support); None = mapping/specs/needs.toml
    needs_file: Path | None = None


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
        digest = self.hashes.get("iod2019_london_workbook") or sha256_file(path)
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
            entry["files"][name] = sha256_file(f)
        entry["sha256"] = sha256_file(main)
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
    nothing. Then the build takes the out-dir's lock (:mod:`mapping.pipeline.locking`) and holds it
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
        if src.reader in ("csv_by_code", SUPPORT_READER):
            inputs.get(sid)
    needs = load_needs(options.needs_file or NEEDS_FILE,
                       known={i.code for i in registry.indicators})
    with out_dir_lock(options.out_dir, options.lock_wait_s, what="build into"):
        remove_stale(options.out_dir / PROCESSED)
        return _build_locked(options, registry, inputs_record, inputs, needs, bar)


def _build_locked(options: BuildOptions, registry: Registry, inputs_record: dict,
                  inputs: Inputs, needs: NeedTable, bar: _Progress) -> dict:
    """The steps of :func:`build` that write (the reader cache, then the outputs)."""
    bar.step("indicators")
    lsoa, ward, borough, missing = indicator_tables(inputs, bar.note)
    bar.step("geometry")
    lsoa_geo, ward_geo, borough_geo, geo_report = geometry_outputs(inputs, lsoa,
                                                                   options.repair_geometry)
    libs = libraries(inputs, borough_geo)
    bar.step("index")
    directions = {ind.code: ind.direction for ind in registry.indicators}
    index_tables, index_record = _build_index(lsoa, directions)
    places = support_places(libs, [(sid, inputs.get(sid).frame)
                                   for sid, src in registry.sources.items()
                                   if src.reader == SUPPORT_READER])
    quintile = index_tables["lsoa21_index"].set_index(SMALL_AREAS.code)["index_quintile"]
    need_tables = need_and_support_tables(
        lsoa, inputs.frame("boundaries_lsoa21"), quintile, places, needs,
        directions)
    lsoa, ward, borough, suppressed = apply_disclosure(inputs, lsoa, ward, borough)
    bar.step("write")
    files: dict[str, bytes] = {LIBRARIES: _geojson_bytes(libs),
                               SUPPORT_PLACES: _geojson_bytes(places)}
    for name, frame in need_tables.items():
        files[name] = _csv_bytes(frame)
    for level, table, geo in zip(LEVELS.values(), (lsoa, ward, borough),
                                 (lsoa_geo, ward_geo, borough_geo), strict=True):
        files[level.table] = _csv_bytes(table)
        files[level.geometry] = _geojson_bytes(geo)
    for name, frame in index_tables.items():
        files[name if name.endswith(".csv") else f"{name}.csv"] = _csv_bytes(frame)
    used = sorted({s for ind in registry.indicators for s in ind.sources})
    manifest = Manifest(
        package_version=code_version(),
        parameters={
            "web_geometry": {"method": "shapely.coverage_simplify", "tolerance_m": WEB_TOLERANCE_M,
                             "decimals": WEB_DECIMALS},
            "indicator_files": [str(p) for p in options.indicator_files],
            "repair_geometry": options.repair_geometry,
            "needs": {"file": str(options.needs_file or NEEDS_FILE),
                      "stands_out": needs.stands_out, "high_risk_quintile": needs.high_risk,
                      "walk_m": needs.walk_m},
        },
        inputs={sid: InputRecord(**v) for sid, v in inputs_record.items()},
        indicators={ind.code: IndicatorRecord(
            label=ind.label, domain=ind.domain, unit=ind.unit, direction=ind.direction,
            role=ind.role, geography=ind.geography, sources=tuple(ind.sources),
            missing=missing.get(ind.code, 0), missing_markers=inputs.markers(ind),
            **inputs.notes.get(ind.code, {})) for ind in registry.indicators},
        index=index_record,
        disclosure={"rule": "DR-0004: counts below 10 suppressed, with secondary "
                    "suppression within wards and boroughs", "suppressed_cells": suppressed},
        row_counts={"lsoa21": len(lsoa), "ward24": len(ward), "borough": len(borough),
                    "libraries": len(libs)},
        geometry={"invalid_repaired": [list(x) for x in geo_report.repaired_area_change]},
        libraries_without_coordinates=int(
            inputs.get("libraries_dcms_2016").missing.get("lng", 0)),
        attributions=tuple(registry.attributions(used)),
        outputs={name: sha256_bytes(data) for name, data in sorted(files.items())},
    )
    files[MANIFEST] = manifest.to_json()
    publish(options.out_dir / PROCESSED, files)
    bar.done()
    return manifest.to_dict()


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


def _build_index(lsoa: pd.DataFrame, directions: dict[str, str]
                 ) -> tuple[dict[str, pd.DataFrame], IndexRecord]:
    """The default composite index and its robustness results (:mod:`mapping.index`), computed
    from the LSOA table exactly as it is published (written to a scratch folder first), and the
    record of its specification for the manifest."""
    from mapping.index import build_default, load_default_spec  # noqa: PLC0415 (build only)

    with tempfile.TemporaryDirectory(prefix="mapping-index-") as scratch:
        (Path(scratch) / SMALL_AREAS.table).write_bytes(_csv_bytes(lsoa))
        frames = build_default(scratch, directions)
    spec = load_default_spec()
    if set(frames["index_weights"]["spec_sha256"]) != {spec.digest()}:
        raise RuntimeError("the index was built with another specification than the default")
    return frames, IndexRecord(spec.name, spec.version, spec.digest(), spec.to_dict())


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.10g").encode("utf-8")


def publish(target: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into a staging folder, then swap it into ``target`` with renames
    (:func:`mapping.pipeline.staging.staged`). The caller holds the out-dir's lock
    (:func:`build` does)."""
    with staged(target, replace=True) as staging:
        for name, data in files.items():
            (staging / name).write_bytes(data)
            os.chmod(staging / name, 0o644)
        os.chmod(staging, 0o755)


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
