"""Readers of the ONS geography lookups: LSOA 2011 → 2021 (exact and best fit), LSOA 2021 →
ward 2024, LSOA 2011 → LAD 2019. Each checks its code columns against the GSS patterns."""

from __future__ import annotations

from pathlib import Path

from mapping.errors import DataValidationError, Problem
from mapping.sources import tabular
from mapping.sources.tabular import CODE_PATTERNS, Numeric, Table, require_columns, validate


def _lookup(
    path: Path, code_column: str, extra_codes: dict[str, str], required=(), rename=None
) -> Table:
    frame = tabular.parse_csv(path, tabular.read_text(path))
    require_columns(frame, path, (code_column, *extra_codes, *required))
    problems = []
    for col, kind in {code_column: "lsoa", **extra_codes}.items():
        bad = ~frame[col].str.match(CODE_PATTERNS[kind])
        for line, value in frame[col][bad].head(50).items():
            problems.append(
                Problem(str(path), f"not a valid {kind.upper()} code", line, col, value)
            )
    if problems:
        raise DataValidationError(problems)
    out = frame.rename(columns=rename or {}).reset_index(drop=True)
    return Table(out, path)


def lookup_lsoa11_lsoa21(path: Path) -> Table:
    """ONS exact-fit LSOA 2011 → 2021 lookup with change codes U, S, M, X (one row per pair)."""
    table = _lookup(
        path,
        "lsoa11_code",
        {"lsoa21_code": "lsoa", "ltla22_code": "lad"},
        required=("change_code", "lsoa21_name"),
    )
    frame = table.frame
    bad = ~frame["change_code"].isin(["U", "S", "M", "X"])
    if bad.any():
        raise DataValidationError(
            [
                Problem(str(path), "change code must be U, S, M or X", int(i) + 2, "change_code", v)
                for i, v in frame.loc[bad, "change_code"].head(50).items()
            ]
        )
    pairs = frame.duplicated(["lsoa11_code", "lsoa21_code"], keep=False)
    if pairs.any():
        raise DataValidationError(
            [
                Problem(str(path), "duplicated LSOA 2011 → 2021 pair", int(i) + 2, "lsoa11_code", v)
                for i, v in frame.loc[pairs, "lsoa11_code"].head(50).items()
            ]
        )
    return Table(
        frame.rename(columns={"ltla22_code": "lad22_code", "ltla22_name": "lad22_name"}), path
    )


#: ONS column names -> the project's (geography vintage in every name)
BEST_FIT_COLUMNS = {"LSOA11CD": "lsoa11_code", "LSOA21CD": "lsoa21_code",
                    "LSOA11NM": "lsoa11_name", "LSOA21NM": "lsoa21_name",
                    "LAD22CD": "lad22_code", "LAD22NM": "lad22_name"}
LAD19_COLUMNS = {"LSOA11CD": "lsoa11_code", "LSOA11NM": "lsoa11_name",
                 "LAD19CD": "lad19_code", "LAD19NM": "lad19_name", "IMD19": "imd19_rank"}


def lookup_best_fit(path: Path) -> Table:
    """ONS best-fit LSOA 2011 → 2021 → LAD 2022 (UTF-8 with BOM)."""
    return _lookup(path, "LSOA11CD", {"LSOA21CD": "lsoa", "LAD22CD": "lad"},
                   rename=BEST_FIT_COLUMNS)


def lookup_ward(path: Path) -> Table:
    """LSOA 2021 → ward 2024 → LAD 2024 (one row per LSOA)."""
    table = validate(
        tabular.parse_csv(path, tabular.read_text(path)),
        path,
        code_column="lsoa21_code",
        code_kind="lsoa",
        required=("ward24_code", "ward24_name", "ltla24_code", "ltla24_name", "lsoa21_name"),
    )
    return table


def lookup_lsoa11_lad19(path: Path) -> Table:
    """ONS LSOA 2011 → LAD 2019 with the IMD 2019 rank."""
    return validate(tabular.parse_csv(path, tabular.read_text(path)), path, code_column="LSOA11CD",
                    code_kind="lsoa", required=("LAD19CD", "LAD19NM"),
                    numeric=(Numeric(("IMD19",), 1, 32844),), rename=LAD19_COLUMNS)
