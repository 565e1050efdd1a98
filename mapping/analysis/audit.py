"""What is in the data package and in a build: sources, validation, coverage, vintages.

Plain functions returning DataFrames, used by ``notebooks/01-data-audit.py`` (and by anyone
checking a data refresh). Nothing here writes files.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from mapping.errors import DataValidationError, Problem
from mapping.outputs import Outputs
from mapping.outputs.catalogue import BOROUGHS, SMALL_AREAS
from mapping.pipeline.build import Inputs
from mapping.registry import Registry
from mapping.sources import Table

LEVEL_TABLES = {lv.prefix: lv.table for lv in (SMALL_AREAS, BOROUGHS)}


def problems_table(error: DataValidationError | Iterable[Problem]) -> pd.DataFrame:
    """The problems of a validation error, one row each: file, row, column, value, message."""
    problems = error.problems if isinstance(error, DataValidationError) else list(error)
    return pd.DataFrame(
        [{"file": Path(p.file).name, "row": p.row, "column": p.column,
          "value": None if p.value is None else str(p.value), "message": p.message}
         for p in problems],
        columns=["file", "row", "column", "value", "message"],
    )


def sources_table(registry: Registry, manifest: dict | None = None) -> pd.DataFrame:
    """One row per registered source: who publishes it, vintage, licence, reader, the
    indicators derived from it, and (given a build's manifest) whether the file read matched
    the hash in the registry."""
    used: dict[str, list[str]] = {}
    for ind in registry.indicators:
        for sid in ind.sources:
            used.setdefault(sid, []).append(ind.code)
    inputs = (manifest or {}).get("inputs", {})
    rows = []
    for sid, src in registry.sources.items():
        row = {"source": sid, "publisher": src.publisher, "title": src.title,
               "release_date": src.release_date, "geography": src.geography,
               "licence": src.licence, "reader": src.reader, "path": src.path,
               "indicators": ", ".join(used.get(sid, [])) or "(context, lookup or geometry)"}
        if manifest is not None:
            rec = inputs.get(sid)
            row["hash_matches_registry"] = None if rec is None else bool(rec["matches_registry"])
        rows.append(row)
    return pd.DataFrame(rows)


def validation_report(registry: Registry, data_dir: str | Path,
                      skip_readers: Iterable[str] = ("iod2019_workbook",)) -> pd.DataFrame:
    """Read and validate every source file with its reader, as the build does.

    Returns one row per source: ``status`` (``ok`` or ``problems``), rows read, missing-value
    markers found, the number of problems and the first one, and the seconds taken. The IoD
    2019 workbook (slow; the build caches it) is skipped by default.
    """
    inputs = Inputs(registry, Path(data_dir))
    rows = []
    for sid, src in registry.sources.items():
        if src.reader in skip_readers:
            rows.append({"source": sid, "reader": src.reader, "status": "skipped (slow)",
                         "rows": None, "missing_markers": None, "problems": 0,
                         "first_problem": "", "seconds": 0.0})
            continue
        start = time.perf_counter()
        try:
            out = inputs.get(sid)
        except DataValidationError as exc:
            rows.append({"source": sid, "reader": src.reader, "status": "problems",
                         "rows": None, "missing_markers": None,
                         "problems": len(exc.problems), "first_problem": str(exc.problems[0]),
                         "seconds": time.perf_counter() - start})
            continue
        frame = out.frame if isinstance(out, Table) else out
        markers = out.missing_total() if isinstance(out, Table) else 0
        rows.append({"source": sid, "reader": src.reader, "status": "ok", "rows": len(frame),
                     "missing_markers": markers, "problems": 0, "first_problem": "",
                     "seconds": time.perf_counter() - start})
    return pd.DataFrame(rows)


def indicator_coverage(outputs: Outputs, registry: Registry) -> pd.DataFrame:
    """Per registered indicator: level, geography and vintage of its source, unit, direction,
    role, how many areas have a value, how many are missing (of which how many are suppressed
    by the disclosure rule, DR-0004), and its range."""
    tables = {level: outputs.table(name) for level, name in LEVEL_TABLES.items()}
    rows = []
    for ind in registry.indicators:
        level = "borough" if ind.geography == "lad" else "lsoa21"
        frame = tables[level]
        row = {"indicator": ind.code, "label": ind.label, "domain": ind.domain,
               "role": ind.role, "level": level, "source_geography": ind.geography,
               "vintage": ind.vintage, "unit": ind.unit, "direction": ind.direction,
               "source": ind.source}
        if ind.code in frame.columns:
            values = pd.to_numeric(frame[ind.code], errors="coerce")
            ok = values.dropna()
            flag = f"{ind.code}_suppressed"
            suppressed = int(frame[flag].astype(bool).sum()) if flag in frame.columns else 0
            row.update(areas=len(values), present=int(ok.size), missing=int(values.isna().sum()),
                       suppressed=suppressed, missing_share=float(values.isna().mean()),
                       minimum=float(ok.min()) if ok.size else np.nan,
                       median=float(ok.median()) if ok.size else np.nan,
                       maximum=float(ok.max()) if ok.size else np.nan)
        else:
            row.update(areas=len(frame), present=0, missing=len(frame), suppressed=0,
                       missing_share=1.0,
                       minimum=np.nan, median=np.nan, maximum=np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def vintages(registry: Registry) -> pd.DataFrame:
    """Reference period of each indicator against the release date of its source."""
    return pd.DataFrame(
        [{"indicator": ind.code, "vintage": ind.vintage, "source": ind.source,
          "source_release": registry.sources[ind.source].release_date,
          "source_geography": ind.geography, "decision": ind.decision}
         for ind in registry.indicators]
    )


def missing_by_borough(outputs: Outputs, registry: Registry) -> pd.DataFrame:
    """Boroughs × LSOA indicators: how many LSOAs lack a value (only non-zero rows kept)."""
    frame = outputs.table(LEVEL_TABLES["lsoa21"])
    codes = [i.code for i in registry.indicators if i.geography != "lad" and i.code in frame]
    counts = frame[codes].isna().groupby(frame["borough_name"]).sum()
    return counts.loc[counts.sum(axis=1) > 0, counts.sum(axis=0) > 0]


def try_indicator(registry: Registry, data_dir: str | Path, code: str) -> pd.Series:
    """Derive one LSOA-level indicator at LSOA 2021 exactly as the build does (read and
    validate its source files, derive, convert, check the registered range), without writing
    anything. Raises the build's :class:`~mapping.errors.DataValidationError` on bad input."""
    from mapping.pipeline.derive import london_units, to_lsoa21  # noqa: PLC0415

    ind = registry.indicator(code)
    if ind.geography == "lad":
        raise ValueError(f"{code} is a borough-level indicator; try_indicator is for LSOAs")
    inputs = Inputs(registry, Path(data_dir))
    units = london_units(inputs)
    values = to_lsoa21(ind, inputs, units)
    return pd.Series(values.to_numpy(), index=units["lsoa21_code"], name=code)
