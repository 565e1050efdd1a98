"""Validated reading of tabular files: one pass, every problem reported with file, row,
column and value.

Row numbers are the line numbers a text editor shows (the header is line ``header_line``).
Missing-value markers (``[c]``, ``[x]``, ``[z]``, ``..``, ``:``, ``-``, blank, ``NA``) become NaN
and are *counted per column*, never silently dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mapping.errors import DataValidationError, Problem

MISSING_MARKERS = (
    "",
    "[c]",
    "[x]",
    "[z]",
    "[low]",
    "..",
    ":",
    "-",
    "NA",
    "N/A",
    "n/a",
    "NaN",
    "nan",
)

CODE_PATTERNS = {
    "lsoa": re.compile(r"^[EW]01\d{6}$"),
    "msoa": re.compile(r"^[EW]02\d{6}$"),
    "ward": re.compile(r"^[EWSN]05\d{6}$"),
    "lad": re.compile(r"^([EW]0[6-9]|S12|N09)\d{6}$"),
}
LONDON_LAD = re.compile(r"^E09\d{6}$")

#: Largest text input read, in MB (``MAPPING_MAX_INPUT_MB`` overrides). The biggest file of the
#: data package is under 6 MB and a London LSOA table about 1 MB; a file far above this is almost
#: certainly the wrong file (all of England at a finer level, a database dump), and reading it
#: whole would take gigabytes of memory. The limit is checked before reading.
DEFAULT_MAX_INPUT_MB = 64


def max_input_bytes() -> int:
    raw = os.environ.get("MAPPING_MAX_INPUT_MB", "")
    try:
        mb = float(raw) if raw.strip() else DEFAULT_MAX_INPUT_MB
    except ValueError:
        mb = DEFAULT_MAX_INPUT_MB
    return int(mb * 1024 * 1024)


def marker_name(marker: str) -> str:
    """How a missing-value marker is reported (the empty cell as ``blank``)."""
    return marker if marker else "blank"


@dataclass
class Table:
    """A validated table and what was found while reading it."""

    frame: pd.DataFrame
    path: Path
    missing: dict[str, int] = field(default_factory=dict)
    #: column -> {marker ("[c]", "[x]", "blank", "NA", ...): count}, for the numeric columns
    markers: dict[str, dict[str, int]] = field(default_factory=dict)

    def missing_total(self) -> int:
        return int(sum(self.missing.values()))


@dataclass(frozen=True)
class Numeric:
    """Columns that must be numbers, optionally within [lo, hi]."""

    columns: tuple[str, ...] | str  # "*" = every column not named elsewhere
    lo: float | None = None
    hi: float | None = None


def read_text(path: Path) -> str:
    """Read a text file as UTF-8 (a BOM is tolerated), with clear errors otherwise."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataValidationError.single(path, "file not found") from None
    limit = max_input_bytes()
    if size > limit:
        raise DataValidationError.single(
            path,
            f"file is {size / 2**20:,.1f} MB, above the {limit / 2**20:,.0f} MB limit for one "
            "input file (a London LSOA table is about 1 MB): keep only the rows and columns "
            "needed, or raise the limit with MAPPING_MAX_INPUT_MB if the file really is this "
            "large",
        )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataValidationError.single(path, "file not found") from None
    if not raw.strip():
        raise DataValidationError.single(path, "file is empty")
    _refuse_utf16(path, raw)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start : exc.start + 1]
        raise DataValidationError.single(
            path,
            f"not UTF-8 text: byte 0x{bad.hex()} at offset {exc.start} cannot be decoded "
            "(is it Latin-1/Windows-1252? re-save the file as UTF-8)",
            row=line,
        ) from None


SAVE_AS_UTF8 = ("save it as UTF-8 (in Excel: Save As, 'CSV UTF-8 (Comma delimited)'; in a text "
                "editor: encoding UTF-8)")


def _refuse_utf16(path: Path, raw: bytes) -> None:
    """UTF-16 (and UTF-32) text, as Excel's "Unicode text" and some Windows tools write it, is
    named as such: with its byte-order mark, or without one when NUL bytes show it (a NUL byte
    never occurs in a UTF-8 text file, but is every other byte of ASCII text in UTF-16)."""
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                      (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if raw.startswith(bom):
            raise DataValidationError.single(
                path, f"the file is {name} text (it starts with a {name} byte-order mark), not "
                f"UTF-8: {SAVE_AS_UTF8}")
    nul = raw.find(b"\0")
    if nul >= 0:
        guess = ("it looks like UTF-16 text without a byte-order mark"
                 if raw[:200].count(b"\0") * 3 >= min(len(raw), 200) else "is it a text file?")
        raise DataValidationError.single(
            path, f"not UTF-8 text: NUL byte at offset {nul} ({guess}): {SAVE_AS_UTF8}",
            row=raw[:nul].count(b"\n") + 1)


def _check_truncated(path: Path, text: str, n_header_fields: int) -> None:
    if text.endswith("\n"):
        return
    last = text.rsplit("\n", 1)[-1]
    fields = next(csv.reader([last]), [])
    if len(fields) < n_header_fields:
        line = text.count("\n") + 1
        raise DataValidationError.single(
            path,
            f"file looks truncated: the last line has {len(fields)} of {n_header_fields} "
            "fields and no line ending",
            row=line,
            value=last[:80],
        )


def _check_header(path: Path, names: list[str], header_line: int) -> None:
    """Two columns with one name are refused (pandas would rename the second ``name.1`` and the
    registry would silently read the first). Names are compared exactly, as pandas does (the
    Census TS027 table has two headers differing by a trailing space: two columns); blank
    names (trailing commas) are not names."""
    first: dict[str, int] = {}
    problems = []
    for position, name in enumerate(names, start=1):
        if not name.strip():
            continue
        if name in first:
            problems.append(Problem(str(path), f"duplicated column header: columns "
                                    f"{first[name]} and {position} have the same name",
                                    header_line, name))
        else:
            first[name] = position
    if problems:
        raise DataValidationError(problems)


def parse_csv(path: Path, text: str, header_line: int = 1) -> pd.DataFrame:
    """Parse CSV text into strings (no type guessing); header at 1-based ``header_line``."""
    body = text.split("\n", header_line - 1)[-1] if header_line > 1 else text
    first = next(csv.reader([body.split("\n", 1)[0]]), [])
    if not any(c.strip() for c in first):
        raise DataValidationError.single(path, "no header row", row=header_line)
    _check_header(path, first, header_line)
    _check_truncated(path, text, len(first))
    try:
        frame = pd.read_csv(
            io.StringIO(body),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        row = int(m.group(1)) + header_line - 1 if m else None
        raise DataValidationError.single(path, f"malformed CSV: {exc}", row=row) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError.single(path, "file is empty") from None
    if frame.empty:
        raise DataValidationError.single(path, "header but no data rows", row=header_line)
    frame.index = pd.RangeIndex(header_line + 1, header_line + 1 + len(frame))  # file line numbers
    return frame


def _overflows(text: str) -> bool:
    """A number too large for a float ("1e400"), which pandas leaves unparsed."""
    try:
        return math.isinf(float(text))
    except ValueError:
        return False


def validate(
    frame: pd.DataFrame,
    path: Path,
    *,
    code_column: str,
    code_kind: str,
    required: tuple[str, ...] = (),
    numeric: tuple[Numeric, ...] = (),
    rename: dict[str, str] | None = None,
    allow_non_english: bool = True,
) -> Table:
    """Check a string frame (index = file line numbers) and convert its numeric columns.

    Problems found: missing columns (listing the columns found), codes not matching the
    geography's pattern, duplicated codes (both lines named), non-numeric values, values out of
    range. All are collected and raised together.
    """
    problems: list[Problem] = []
    file = str(path)
    wanted = (code_column, *required)
    missing_cols = [c for c in wanted if c not in frame.columns]
    if missing_cols:
        found = ", ".join(repr(c) for c in frame.columns[:40])
        raise DataValidationError(
            [
                Problem(file, f"missing column (columns found: {found})", column=c)
                for c in missing_cols
            ]
        )
    codes = frame[code_column].str.strip()
    pattern = CODE_PATTERNS[code_kind]
    bad = ~codes.str.match(pattern)
    for line, value in codes[bad].head(50).items():
        problems.append(
            Problem(file, f"not a valid {code_kind.upper()} code", line, code_column, value)
        )
    if not allow_non_english:
        welsh = codes.str.startswith("W") & ~bad
        for line, value in codes[welsh].head(50).items():
            problems.append(
                Problem(
                    file, "a Welsh code where English codes are expected", line, code_column, value
                )
            )
    dup = codes.duplicated(keep=False) & ~bad
    if dup.any():
        first_line: dict[str, int] = {}
        for line, value in codes[dup].items():
            if value in first_line:
                problems.append(
                    Problem(
                        file,
                        f"duplicated code (also on row {first_line[value]})",
                        line,
                        code_column,
                        value,
                    )
                )
            else:
                first_line[value] = line
    out = frame.copy()
    out[code_column] = codes
    missing_counts: dict[str, int] = {}
    marker_counts: dict[str, dict[str, int]] = {}
    named = set(wanted)
    for spec in numeric:
        cols = [c for c in frame.columns if c not in named] if spec.columns == "*" else spec.columns
        for col in cols:
            if col not in frame.columns:
                problems.append(Problem(file, "missing numeric column", column=col))
                continue
            raw = frame[col].str.strip()
            is_missing = raw.isin(MISSING_MARKERS)
            values = pd.to_numeric(raw.where(~is_missing), errors="coerce")
            not_number = values.isna() & ~is_missing
            for line, value in raw[not_number].head(50).items():
                problems.append(Problem(file, "not a finite number" if _overflows(value)
                                        else "not a number", line, col, value))
            infinite = np.isinf(values)  # "inf", "-Infinity", "1e400": never data
            for line, value in raw[infinite].head(50).items():
                problems.append(Problem(file, "not a finite number", line, col, value))
            values = values.where(~infinite)
            if spec.lo is not None or spec.hi is not None:
                lo = -np.inf if spec.lo is None else spec.lo
                hi = np.inf if spec.hi is None else spec.hi
                out_of_range = (values < lo) | (values > hi)
                for line, value in raw[out_of_range].head(50).items():
                    problems.append(
                        Problem(file, f"out of range [{spec.lo}, {spec.hi}]", line, col, value)
                    )
            if is_missing.any():
                missing_counts[col] = int(is_missing.sum())
                counts = raw[is_missing].value_counts()
                marker_counts[col] = {marker_name(str(k)): int(v)
                                      for k, v in sorted(counts.items())}
            out[col] = values
    if problems:
        raise DataValidationError(problems)
    if rename:
        out = out.rename(columns=rename)
        missing_counts = {rename.get(k, k): v for k, v in missing_counts.items()}
        marker_counts = {rename.get(k, k): v for k, v in marker_counts.items()}
    return Table(out.reset_index(drop=True), path, missing_counts, marker_counts)


def require_columns(frame: pd.DataFrame, path: Path, columns, first_only: bool = False) -> None:
    """Raise one problem per column of ``columns`` that ``frame`` lacks (only the first with
    ``first_only``), each listing the columns found."""
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return
    found = "missing column (columns found: " + ", ".join(frame.columns) + ")"
    raise DataValidationError([Problem(str(path), found, column=c)
                               for c in missing[:1 if first_only else None]])
