"""One reader per kind of file in the open data package.

Every reader takes the file's path and returns a validated :class:`~mapping.sources.tabular.Table`
(or a GeoDataFrame for boundaries), with geography codes in a column named by vintage
(``lsoa21_code``, ``lsoa11_code``, ``msoa21_code``, ``lad_code``). ``READERS`` maps the ``reader``
names used in ``sources.toml`` to these functions; the lookups are in
:mod:`mapping.sources.lookups`, the vector files in :mod:`mapping.sources.vector`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mapping.errors import DataValidationError, Problem
from mapping.sources.lookups import (
    lookup_best_fit,
    lookup_lsoa11_lad19,
    lookup_lsoa11_lsoa21,
    lookup_ward,
)
from mapping.sources.tabular import (
    MISSING_MARKERS,
    Numeric,
    Table,
    parse_csv,
    read_text,
    require_columns,
    validate,
)
from mapping.sources.vector import boundaries, boundaries_geojson, libraries_geojson

COUNT = Numeric("*", lo=0)


def _census_bulk(path: Path, kind: str, prefix: str) -> Table:
    """A Census 2021 Nomis bulk table: ``date, geography, geography code`` then counts."""
    frame = parse_csv(path, read_text(path))
    return validate(frame.drop(columns=["date"], errors="ignore"), path,
                    code_column="geography code", code_kind=kind, required=("geography",),
                    numeric=(COUNT,),
                    rename={"geography code": f"{prefix}_code", "geography": f"{prefix}_name"})


def census_lsoa(path: Path) -> Table:
    """Census 2021 Nomis bulk table at LSOA 2021 (codes in ``lsoa21_code``)."""
    return _census_bulk(path, "lsoa", "lsoa21")


def census_ltla(path: Path) -> Table:
    """Census 2021 Nomis bulk table for local authorities (codes in ``lad_code``)."""
    return _census_bulk(path, "lad", "lad")


def nomis_extract(path: Path) -> Table:
    """A Nomis web extract (RM121): title lines, a header row, data, blank lines, then notes.

    The header is the first line whose first cell names a geography ("… super output area …");
    column 1 holds ``"E01xxxxxx : name"`` and is split into code and name.
    """
    text = read_text(path)
    lines = text.split("\n")
    header = next(
        (i for i, line in enumerate(lines[:50]) if "super output area" in line.lower()), None
    )
    if header is None:
        raise DataValidationError.single(
            path,
            "no header row naming the geography (expected a "
            "line starting '2021 super output area - lower layer')",
        )
    data_end = len(lines)
    started = False
    for i in range(header + 1, len(lines)):
        is_blank = not lines[i].replace(",", "").strip()
        if not is_blank:
            started = True
        elif started:
            data_end = i
            break
    body = "\n".join(lines[header:data_end]) + "\n"
    frame = parse_csv(path, body)
    frame.index = frame.index + header  # back to file line numbers
    frame = frame[frame.iloc[:, 0].str.strip() != ""]
    geo_col = frame.columns[0]
    parts = frame[geo_col].str.split(" : ", n=1, expand=True)
    if parts.shape[1] != 2:
        raise DataValidationError.single(
            path, "first column should hold 'CODE : name'", column=geo_col
        )
    frame = frame.drop(columns=[geo_col])
    frame.insert(0, "lsoa21_name", parts[1].fillna("").str.strip())
    frame.insert(0, "lsoa21_code", parts[0].str.strip())
    return validate(
        frame,
        path,
        code_column="lsoa21_code",
        code_kind="lsoa",
        required=("lsoa21_name",),
        numeric=(COUNT,),
    )


def proficiency_msoa(path: Path) -> Table:
    """Census 2021 TS029 English proficiency at MSOA 2021."""
    frame = parse_csv(path, read_text(path))
    share = "Proportion who cannot speak English (well)"
    return validate(
        frame,
        path,
        code_column="msoa21_code",
        code_kind="msoa",
        numeric=(
            Numeric((share,), 0, 1),
            Numeric(tuple(c for c in frame.columns if c not in ("msoa21_code", share)), lo=0),
        ),
    )


_CODE_COLUMNS = {
    "lsoa21_code": "lsoa",
    "lsoa11_code": "lsoa",
    "ltla19_code": "lad",
    "ltla24_code": "lad",
}


def iod_csv(path: Path) -> Table:
    """IoD 2019/2025 CSVs: first column ``lsoa21_code``/``lsoa11_code``/``ltla*_code``.

    Ranks and deciles must be positive; deciles 1–10. Scores may be negative (standardised).
    """
    frame = parse_csv(path, read_text(path))
    code = frame.columns[0]
    if code not in _CODE_COLUMNS:
        raise DataValidationError.single(
            path, f"first column should be one of {', '.join(_CODE_COLUMNS)}", column=code
        )
    names = tuple(c for c in frame.columns if c.endswith("_name"))
    deciles = tuple(c for c in frame.columns if c.endswith("_decile"))
    ranks = tuple(c for c in frame.columns if c.endswith("_rank") or "rank_of" in c)
    other = tuple(c for c in frame.columns if c not in (code, *names, *deciles, *ranks))
    numeric = [Numeric(other)]
    if deciles:
        numeric.append(Numeric(deciles, 1, 10))
    if ranks:
        numeric.append(Numeric(ranks, lo=1))
    rename = {code: "lad_code"} if code.startswith("ltla") else None
    return validate(
        frame,
        path,
        code_column=code,
        code_kind=_CODE_COLUMNS[code],
        required=names,
        numeric=tuple(numeric),
        rename=rename,
    )


def uk_imd(path: Path) -> Table:
    """mySociety composite UK IMD; England rows only (``overall_local_score`` = IMD 2019 score)."""
    frame = parse_csv(path, read_text(path))
    if "nation" not in frame.columns:
        raise DataValidationError.single(path, "missing column", column="nation")
    frame = frame[frame["nation"] == "E"].drop(columns=["nation"])
    return validate(
        frame,
        path,
        code_column="lsoa",
        code_kind="lsoa",
        numeric=(Numeric("*"),),
        rename={"lsoa": "lsoa11_code"},
    )


IOD2019_SHEETS = (
    "IMD 2019",
    "Sub domains",
    "IDACI and IDAOPI",
    "Population figures",
    "Underlying indicators",
)


def iod2019_workbook(path: Path, sheet: str = "IMD 2019") -> Table:
    """The GLA's IoD 2019 London workbook; one LSOA sheet (default "IMD 2019").

    The first column is the LSOA 2011 code (called "geography code" on "IMD 2019" and
    "LSOA code (2011)" elsewhere); returned as ``lsoa11_code``. Reading takes seconds: the build
    caches the result (see :mod:`mapping.sources.cache`: data only, never a pickle).
    """
    if sheet not in IOD2019_SHEETS:
        raise ValueError(f"sheet must be one of {IOD2019_SHEETS}")
    try:
        frame = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataValidationError.single(path, "file not found") from None
    except ValueError as exc:
        raise DataValidationError.single(path, f"cannot read sheet {sheet!r}: {exc}") from None
    except Exception as exc:  # zip/xml errors from a damaged workbook
        raise DataValidationError.single(path, f"not a readable XLSX workbook: {exc}") from None
    frame.index = pd.RangeIndex(2, 2 + len(frame))
    code = frame.columns[0]
    text_cols = tuple(c for c in frame.columns[1:] if "name" in c.lower() or "code" in c.lower())
    numeric = tuple(c for c in frame.columns[1:] if c not in text_cols)
    return validate(
        frame,
        Path(f"{path} [sheet {sheet}]"),
        code_column=code,
        code_kind="lsoa",
        required=text_cols,
        numeric=(Numeric(numeric),),
        rename={code: "lsoa11_code"},
    )


def ofcom_json(path: Path) -> Table:
    """Ofcom Connected Nations JSON: ``{authority code: {"laName": …, measure: percent}}``."""
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataValidationError.single(
            path, f"not valid JSON: {exc.msg}", row=exc.lineno
        ) from None
    if not isinstance(data, dict) or not data:
        raise DataValidationError.single(path, "expected an object keyed by authority code")
    problems: list[Problem] = []
    rows = []
    for code, rec in data.items():
        if not isinstance(rec, dict):
            problems.append(Problem(str(path), "record is not an object", column=code))
            continue
        row = {"lad_code": code, "lad_name": str(rec.get("laName", ""))}
        for key, value in rec.items():
            if key == "laName":
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                problems.append(
                    Problem(str(path), f"authority {code}: not a number", column=key, value=value)
                )
            elif not 0 <= value <= 100:
                problems.append(
                    Problem(
                        str(path),
                        f"authority {code}: percentage out of range [0, 100]",
                        column=key,
                        value=value,
                    )
                )
            row[key] = value
        rows.append(row)
    frame = pd.DataFrame(rows).astype({"lad_code": str})
    frame.index = pd.RangeIndex(1, 1 + len(frame))
    if problems:
        raise DataValidationError(problems)
    measures = tuple(c for c in frame.columns if c not in ("lad_code", "lad_name"))
    str_frame = frame.astype(str).replace({"nan": ""})
    return validate(
        str_frame,
        path,
        code_column="lad_code",
        code_kind="lad",
        required=("lad_name",),
        numeric=(Numeric(measures, 0, 100),),
    )


def deri(path: Path) -> Table:
    """GMCA DERI v1.6: components and score, each 0–10, at LSOA 2011 for England."""
    frame = parse_csv(path, read_text(path))
    return validate(
        frame, path, code_column="lsoa11_code", code_kind="lsoa", numeric=(Numeric("*", 0, 10),)
    )


IUC_LEAST_ENGAGED = ("e-Withdrawn", "Settled Offline Communities", "Passive and Uncommitted Users")


def iuc(path: Path) -> Table:
    """CDRC Internet User Classification 2018; English and Welsh LSOAs kept (Scottish data zones
    dropped). Adds ``least_engaged`` = 1 for the three groups least engaged online, else 0."""
    frame = parse_csv(path, read_text(path))
    require_columns(frame, path, ("LSOA11_CD", "GRP_CD", "GRP_LABEL"), first_only=True)
    frame = frame[frame["LSOA11_CD"].str[:1].isin(["E", "W"])]
    table = validate(
        frame.drop(columns=["SHP_ID"], errors="ignore"),
        path,
        code_column="LSOA11_CD",
        code_kind="lsoa",
        required=("LSOA11_NM", "GRP_LABEL"),
        numeric=(Numeric(("GRP_CD",), 1, 10),),
        rename={
            "LSOA11_CD": "lsoa11_code",
            "LSOA11_NM": "lsoa11_name",
            "GRP_CD": "iuc_group",
            "GRP_LABEL": "iuc_label",
        },
    )
    f = table.frame
    f["least_engaged"] = f["iuc_label"].isin(IUC_LEAST_ENGAGED).astype(float)
    return table


def dpi(path: Path) -> Table:
    """ONS Digital Propensity Index 2021 at LSOA 2011 (England and Wales), as re-exported.

    The file's first column (an unnamed row number) and ``score_normalized`` (the re-exporter's
    own 0-10 rescaling) are not ONS figures and are dropped; ``Score`` (share of Census 2021
    responses made online, %) becomes ``dpi_score``, and must lie in [0, 100].
    """
    frame = parse_csv(path, read_text(path))
    first = frame.columns[0]
    if first.strip() == "" or first.startswith("Unnamed"):
        frame = frame.drop(columns=[first])
    require_columns(frame, path, ("LSOAcode", "Score"), first_only=True)
    return validate(
        frame.drop(columns=["score_normalized"], errors="ignore"),
        path,
        code_column="LSOAcode",
        code_kind="lsoa",
        required=("Local Authority name",),
        numeric=(Numeric(("Score",), 0, 100),),
        rename={"LSOAcode": "lsoa11_code", "Local Authority name": "lad_name",
                "Region": "region", "Score": "dpi_score"},
    )


def _coordinates(frame: pd.DataFrame, path: Path, lng: str, lat: str, out: pd.DataFrame,
                 problems: list[Problem]) -> dict[str, int]:
    """Check and convert longitude/latitude columns (WGS84, England's extent) into ``out``;
    returns the count of missing markers per column."""
    missing: dict[str, int] = {}
    for col, lo, hi in ((lng, -8.7, 2.0), (lat, 49.8, 55.9)):
        raw = frame[col].str.strip()
        is_missing = raw.isin(MISSING_MARKERS)
        missing[col] = int(is_missing.sum())
        values = pd.to_numeric(raw.where(~is_missing), errors="coerce")
        for line, value in frame[col][values.isna() & ~is_missing].items():
            problems.append(Problem(str(path), "not a number", line, col, value))
        for line, value in frame[col][(values < lo) | (values > hi)].items():
            problems.append(Problem(str(path), f"outside England [{lo}, {hi}]", line, col, value))
        out[col] = values
    return missing


def libraries_csv(path: Path) -> Table:
    """DCMS Libraries Taskforce list (2016), geocoded with lng/lat (WGS84)."""
    frame = parse_csv(path, read_text(path))
    require_columns(frame, path, ("library_service", "library_name", "lng", "lat"))
    problems: list[Problem] = []
    out = frame.copy()
    missing = _coordinates(frame, path, "lng", "lat", out, problems)
    for line, value in frame["library_name"][frame["library_name"].str.strip() == ""].items():
        problems.append(Problem(str(path), "library has no name", line, "library_name", value))
    if problems:
        raise DataValidationError(problems)
    return Table(out.reset_index(drop=True), path, {k: v for k, v in missing.items() if v})


def support_places_csv(path: Path) -> Table:
    """A user's list of places offering digital support (DR-0011): columns ``name``, ``type``
    (free text: "community centre", "device bank"…), ``lat``, ``lon`` (WGS84) and optionally
    ``notes`` (opening times…). Every place needs a name and both coordinates."""
    frame = parse_csv(path, read_text(path))
    require_columns(frame, path, ("name", "type", "lat", "lon"))
    problems: list[Problem] = []
    out = frame.copy()
    missing = _coordinates(frame, path, "lon", "lat", out, problems)
    for col, n in missing.items():
        if n:
            for line, value in frame[col][frame[col].str.strip().isin(MISSING_MARKERS)].items():
                problems.append(Problem(str(path), "a support place needs both coordinates",
                                        line, col, value))
    for line, value in frame["name"][frame["name"].str.strip() == ""].items():
        problems.append(Problem(str(path), "support place has no name", line, "name", value))
    if problems:
        raise DataValidationError(problems)
    if "notes" not in out.columns:
        out["notes"] = ""
    keep = out[["name", "type", "lat", "lon", "notes"]].copy()
    for col in ("name", "type", "notes"):
        keep[col] = keep[col].str.strip()
    return Table(keep.reset_index(drop=True), path, {})


def csv_by_code(path: Path, ranges: dict[str, tuple[float, float]] | None = None) -> Table:
    """A user-supplied CSV: one code column (``lsoa21_code``, ``lsoa11_code``, ``msoa21_code``
    or ``lad_code``), optional ``*_name`` text columns, every other column numeric.

    ``ranges`` (column → (min, max), from the registry) are checked in the same pass, so a
    non-number and an out-of-range value in one column are both reported at once."""
    frame = parse_csv(path, read_text(path))
    kinds = {"lsoa21_code": "lsoa", "lsoa11_code": "lsoa", "msoa21_code": "msoa",
             "lad_code": "lad"}
    present = [c for c in frame.columns if c in kinds]
    if len(present) != 1:
        raise DataValidationError.single(
            path, "needs exactly one code column named lsoa21_code, lsoa11_code, msoa21_code or "
            f"lad_code (columns found: {', '.join(map(str, frame.columns))})")
    code = present[0]
    names = tuple(c for c in frame.columns if c.endswith("_name"))
    ranges = ranges or {}
    values = tuple(c for c in frame.columns if c not in (code, *names, *ranges))
    checks = [Numeric(values)] + [Numeric((c,), lo, hi) for c, (lo, hi) in ranges.items()
                                  if c in frame.columns]
    return validate(frame, path, code_column=code, code_kind=kinds[code], required=names,
                    numeric=tuple(checks))


READERS = {
    "csv_by_code": csv_by_code,
    "support_places_csv": support_places_csv,
    "census_lsoa": census_lsoa,
    "census_ltla": census_ltla,
    "nomis_extract": nomis_extract,
    "proficiency_msoa": proficiency_msoa,
    "iod_csv": iod_csv,
    "uk_imd": uk_imd,
    "iod2019_workbook": iod2019_workbook,
    "ofcom_json": ofcom_json,
    "deri": deri,
    "iuc": iuc,
    "dpi": dpi,
    "libraries_csv": libraries_csv,
    "libraries_geojson": libraries_geojson,
    "lookup_lsoa11_lsoa21": lookup_lsoa11_lsoa21,
    "lookup_best_fit": lookup_best_fit,
    "lookup_ward": lookup_ward,
    "lookup_lsoa11_lad19": lookup_lsoa11_lad19,
    "boundaries": boundaries,
    "boundaries_geojson": boundaries_geojson,
}
