"""Hostile and broken inputs through the real entry points (`mapping build`, `mapping validate`,
an analyst's indicator file passed with ``--indicators``), shared by ``tests/test_bad_inputs.py``
and ``benchmarks/bad_inputs_table.py`` (which prints the table of case → message).

Each :class:`Case` prepares a broken file in a writable copy of the data package (a symlink farm,
see ``tests/conftest.py``) or in an analyst's folder, names the verb to run and the text the
error must contain. Every case must end with exit status 2 and leave the previous outputs and
releases byte-identical.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mapping.cli import main

#: An analyst's registry file: one CSV source and one percentage indicator from it.
USER_REGISTRY = """
[[source]]
id = "borough_wifi_survey"
publisher = "Example borough"
title = "Households without home internet (survey estimate)"
release_date = "2026-10-01"
url = "https://example.org/survey"
licence = "OGL-UK-3.0"
attribution = "Example borough survey 2026, OGL v3.0."
path = "no_internet.csv"
reader = "csv_by_code"
geography = "{geography}"
personal_data = "aggregate"
refresh = "annual"
decision = "DR-0002"

[[indicator]]
code = "no_home_internet_pct"
label = "{label}"
domain = "connectivity"
unit = "%"
direction = "higher_is_worse"
geography = "{geography}"
vintage = "2026"
role = "input"
source = "borough_wifi_survey"
decision = "DR-0002"
description = "Survey estimate of households without a home internet connection."
range = [0, 100]
[indicator.value]
source = "borough_wifi_survey"
column = "no_internet_pct"
"""

CENSUS_TS067 = "census2021/lsoa21_ew/census2021-ts067-lsoa.csv"
WARD_LOOKUP = "lookups/lookup_lsoa21_ward24_ltla24.csv"
LSOA_LOOKUP = "lookups/lookup_lsoa11_lsoa21_ltla22.csv"


@dataclass(frozen=True)
class Context:
    """Where a case may write: ``data`` (the data package copy) and ``user`` (the analyst's
    folder), plus the London LSOA 2021 codes of the real build."""

    data: Path
    user: Path
    london: list[str]


def user_values(n: int) -> list[float]:
    return [(i * 7) % 40 + 0.5 for i in range(n)]


def write_user(ctx: Context, frame: pd.DataFrame, geography: str = "lsoa21",
               label: str = "Households without home internet",
               toml_edit: Callable[[str], str] = lambda text: text) -> list[str]:
    """Write the analyst's CSV and registry file (its text passed through ``toml_edit``);
    return the ``--indicators`` arguments."""
    frame.to_csv(ctx.user / "no_internet.csv", index=False)
    toml = ctx.user / "mine.toml"
    text = toml_edit(USER_REGISTRY.format(geography=geography, label=label))
    toml.write_text(text, encoding="utf-8")
    return ["--indicators", str(toml)]


def registry_line(text: str) -> int:
    """1-based line of ``text`` (a whole line) in the analyst's registry file."""
    return USER_REGISTRY.split("\n").index(text) + 1


def good_user_frame(ctx: Context) -> pd.DataFrame:
    return pd.DataFrame({"lsoa21_code": ctx.london,
                         "no_internet_pct": user_values(len(ctx.london))})


def london_2011_codes(data: Path, london21: list[str]) -> list[str]:
    lookup = pd.read_csv(data / LSOA_LOOKUP, dtype=str)
    return sorted(set(lookup.loc[lookup["lsoa21_code"].isin(london21), "lsoa11_code"]))


def replace(ctx: Context, relative: str, text: str | bytes) -> None:
    path = ctx.data / relative
    path.unlink()
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)


def edit(ctx: Context, relative: str, fn: Callable[[str], str]) -> None:
    replace(ctx, relative, fn((ctx.data / relative).read_text(encoding="utf-8-sig")))


# ---- the cases -----------------------------------------------------------------------------------

def renamed_column_user(ctx):
    f = good_user_frame(ctx).rename(columns={"no_internet_pct": "no_internet_percent"})
    return write_user(ctx, f)


def renamed_code_column_user(ctx):
    f = good_user_frame(ctx).rename(columns={"lsoa21_code": "LSOA code"})
    return write_user(ctx, f)


def renamed_column_census(ctx):
    edit(ctx, CENSUS_TS067, lambda t: t.replace(
        "Highest level of qualification: No qualifications",
        "Highest level of qualification: None", 1))
    return []


def missing_column_lookup(ctx):
    edit(ctx, WARD_LOOKUP, lambda t: t.replace("ward24_name", "WD24NM", 1))
    return []


def proportions_user(ctx):
    f = good_user_frame(ctx)
    f["no_internet_pct"] = f["no_internet_pct"] / 100
    return write_user(ctx, f)


def unknown_marker_user(ctx):
    f = good_user_frame(ctx).astype({"no_internet_pct": object})
    f.loc[3, "no_internet_pct"] = "n.a."
    f.loc[4, "no_internet_pct"] = "*"
    return write_user(ctx, f)


def lsoa11_codes_as_2021(ctx):
    codes = london_2011_codes(ctx.data, ctx.london)
    f = pd.DataFrame({"lsoa21_code": codes, "no_internet_pct": user_values(len(codes))})
    return write_user(ctx, f)


def only_welsh_and_other_codes(ctx):
    codes = [f"W01{i:06d}" for i in range(1, 1001)] + [f"E01{i:06d}" for i in range(20001, 21001)]
    f = pd.DataFrame({"lsoa21_code": codes, "no_internet_pct": user_values(len(codes))})
    return write_user(ctx, f)


def file_of_100_mb(ctx):
    """~100 MB: the London rows, then filler rows up to 100 MB (written in blocks)."""
    path = ctx.user / "no_internet.csv"
    args = write_user(ctx, good_user_frame(ctx))
    block = "".join(f"E01{i % 1000000:06d},{i % 97}.5\n" for i in range(50_000)).encode()
    with path.open("ab") as fh:
        while fh.tell() < 100 * 2**20:
            fh.write(block)
    return args


def latin1_user(ctx):
    f = good_user_frame(ctx)
    f["lsoa21_name"] = "Café"
    args = write_user(ctx, f)
    path = ctx.user / "no_internet.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    return args


def truncated_user(ctx):
    args = write_user(ctx, good_user_frame(ctx))
    path = ctx.user / "no_internet.csv"
    raw = path.read_bytes()
    cut = raw.index(b"\n", len(raw) // 2) + 6  # mid-way through a code
    path.write_bytes(raw[:cut])
    return args


def abc_and_105_user(ctx):
    f = good_user_frame(ctx).astype({"no_internet_pct": object})
    f.loc[4, "no_internet_pct"] = "abc"
    f.loc[8, "no_internet_pct"] = "105"
    return write_user(ctx, f)


def duplicate_user(ctx):
    f = good_user_frame(ctx)
    f = pd.concat([f.iloc[:3], f.iloc[[1]], f.iloc[3:]], ignore_index=True)
    return write_user(ctx, f)


def hostile_registry_toml(ctx):
    args = write_user(ctx, good_user_frame(ctx))
    toml = ctx.user / "mine.toml"
    toml.write_text(toml.read_text() + "\n[[indicator]\ncode = 'x'\n", encoding="utf-8")
    return args


def path_is_a_folder(ctx):
    args = write_user(ctx, good_user_frame(ctx))
    (ctx.user / "no_internet.csv").unlink()
    (ctx.user / "no_internet.csv").mkdir()
    return args


def _range(text: str) -> Callable[[str], str]:
    return lambda toml: toml.replace("range = [0, 100]", f"range = {text}")


def range_with_text_bound(ctx):
    return write_user(ctx, good_user_frame(ctx), toml_edit=_range('[0, "100"]'))


def range_of_words(ctx):
    return write_user(ctx, good_user_frame(ctx), toml_edit=_range('["a", "b"]'))


def range_not_a_list(ctx):
    return write_user(ctx, good_user_frame(ctx), toml_edit=_range('"0-100"'))


def infinite_values_user(ctx):
    f = good_user_frame(ctx).astype({"no_internet_pct": object})
    f.loc[3, "no_internet_pct"] = "inf"
    f.loc[7, "no_internet_pct"] = "-inf"
    f.loc[9, "no_internet_pct"] = "1e400"  # overflows to infinity
    return write_user(ctx, f, toml_edit=lambda t: t.replace("range = [0, 100]\n", ""))


def scaled_to_infinity_user(ctx):
    f = good_user_frame(ctx)
    f.loc[6, "no_internet_pct"] = 1e300  # finite, but not once scaled
    return write_user(ctx, f, toml_edit=lambda t: t.replace("range = [0, 100]\n",
                                                             "scale = 1e10\n"))


def duplicated_header_user(ctx):
    f = good_user_frame(ctx)
    f["second"] = f["no_internet_pct"] + 1
    f.columns = ["lsoa21_code", "no_internet_pct", "no_internet_pct"]
    return write_user(ctx, f)


def _user_path(path: str) -> Callable[[str], str]:
    return lambda toml: toml.replace('path = "no_internet.csv"', f"path = {path!r}")


def path_climbing_out(ctx):
    return write_user(ctx, good_user_frame(ctx),
                      toml_edit=_user_path("../" * 40 + "etc/passwd"))


def absolute_path_outside(ctx):
    return write_user(ctx, good_user_frame(ctx), toml_edit=_user_path("/etc/passwd"))


def symlink_pointing_outside(ctx):
    elsewhere = ctx.user.parent / "elsewhere"
    elsewhere.mkdir()
    args = write_user(ctx, good_user_frame(ctx))
    (ctx.user / "no_internet.csv").rename(elsewhere / "no_internet.csv")
    (ctx.user / "no_internet.csv").symlink_to(elsewhere / "no_internet.csv")
    return args


def user_file_missing(ctx):
    args = write_user(ctx, good_user_frame(ctx))
    (ctx.user / "no_internet.csv").unlink()
    return args


def dangling_link_user(ctx):
    args = write_user(ctx, good_user_frame(ctx))
    (ctx.user / "no_internet.csv").rename(ctx.user / "moved.csv")
    (ctx.user / "no_internet.csv").symlink_to(ctx.user / "gone.csv")
    return args


HUGE_CELL = "x" * 10_000
RANGE_LINE = registry_line("range = [0, 100]")
DIRECTION_LINE = registry_line('direction = "higher_is_worse"')
VALUE_COLUMN_LINE = registry_line('column = "no_internet_pct"')
PATH_LINE = registry_line('path = "no_internet.csv"')


def huge_cell_user(ctx):
    f = good_user_frame(ctx).astype({"no_internet_pct": object})
    f.loc[2, "no_internet_pct"] = HUGE_CELL
    return write_user(ctx, f)


def utf16_user(ctx):
    args = write_user(ctx, good_user_frame(ctx))
    path = ctx.user / "no_internet.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))  # with its BOM
    return args


def utf16_without_bom_user(ctx):
    args = write_user(ctx, good_user_frame(ctx))
    path = ctx.user / "no_internet.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16-le"))
    return args


def bad_direction_user(ctx):
    return write_user(ctx, good_user_frame(ctx), toml_edit=lambda t: t.replace(
        'direction = "higher_is_worse"', 'direction = "up"'))


def unknown_value_key_user(ctx):
    return write_user(ctx, good_user_frame(ctx), toml_edit=lambda t: t.replace(
        'column = "no_internet_pct"', 'column = "no_internet_pct"\ncolumm = "x"'))


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    verb: str
    prepare: Callable[[Context], list[str]]
    expect: tuple[str, ...]
    #: texts the error must not contain
    absent: tuple[str, ...] = ()


CASES = [
    Case("renamed_value_column", "analyst CSV: the registered value column renamed", "build",
         renamed_column_user, ("needs a column the file does not have",
                               "columns found: lsoa21_code, no_internet_percent")),
    Case("renamed_code_column", "analyst CSV: code column named 'LSOA code'", "build",
         renamed_code_column_user, ("needs exactly one code column",
                                    "columns found: LSOA code, no_internet_pct")),
    Case("renamed_census_column", "Census TS067: a derivation column renamed", "validate",
         renamed_column_census, ("census2021-ts067-lsoa.csv",
                                 "column 'Highest level of qualification: No qualifications'",
                                 "columns found:")),
    Case("missing_lookup_column", "ward lookup: ward24_name renamed WD24NM", "build",
         missing_column_lookup, ("lookup_lsoa21_ward24_ltla24.csv", "column 'ward24_name'",
                                 "missing column (columns found:", "'WD24NM'")),
    Case("proportions_for_percent", "analyst CSV: unit '%' but values 0.005–0.395", "build",
         proportions_user, ("lies between 0 and 1", "look like proportions",
                            "set scale = 100")),
    Case("unknown_missing_marker", "analyst CSV: 'n.a.' and '*' as missing markers", "build",
         unknown_marker_user, ("row 5, column 'no_internet_pct': not a number (value 'n.a.')",
                               "row 6, column 'no_internet_pct': not a number (value '*')")),
    Case("lsoa11_codes_for_lsoa21", "analyst CSV: LSOA 2011 codes under lsoa21_code", "build",
         lsoa11_codes_as_2021, ("are LSOA 2011 codes that no longer exist in 2021",
                                "geography = \"lsoa11\"", "London LSOA 2021 missing")),
    Case("only_non_london_codes", "analyst CSV: only Welsh and non-London English codes",
         "build", only_welsh_and_other_codes, ("London LSOA 2021 missing from the data",)),
    Case("file_100_mb", "analyst CSV of 100 MB", "build", file_of_100_mb,
         ("above the 64 MB limit", "MAPPING_MAX_INPUT_MB")),
    Case("latin1", "analyst CSV saved as Latin-1", "build", latin1_user,
         ("not UTF-8 text", "re-save the file as UTF-8")),
    Case("truncated", "analyst CSV cut off mid-line", "build", truncated_user,
         ("file looks truncated",)),
    Case("abc_and_105", "analyst CSV: 'abc' and '105' in one percentage column", "build",
         abc_and_105_user, ("row 6, column 'no_internet_pct': not a number (value 'abc')",
                            "row 10, column 'no_internet_pct': out of range [0.0, 100.0]")),
    Case("duplicated_code", "analyst CSV: one code twice", "build", duplicate_user,
         ("row 5, column 'lsoa21_code': duplicated code (also on row 3)",)),
    Case("broken_registry_file", "analyst registry file that is not valid TOML", "build",
         hostile_registry_toml, ("mine.toml", "not valid TOML")),
    Case("source_path_is_a_folder", "analyst registry: the source path names a folder",
         "build", path_is_a_folder,
         (f"mine.toml, row {PATH_LINE}, column 'path'", "is a folder, not a file",
          "no_internet.csv'")),
    Case("range_with_text_bound", "analyst registry: range = [0, \"100\"]", "build",
         range_with_text_bound,
         (f"mine.toml, row {RANGE_LINE}, column 'range'",
          "range must be [min, max] with two numbers, min < max", "(value [0, '100'])")),
    Case("range_of_words", "analyst registry: range = [\"a\", \"b\"]", "build", range_of_words,
         ("mine.toml", "column 'range'", "range must be [min, max] with two numbers",
          "(value ['a', 'b'])")),
    Case("range_line", "analyst registry: range = \"0-100\" (the line of the bad key)", "build",
         range_not_a_list,
         (f"mine.toml, row {RANGE_LINE}, column 'range'",
          "(value '0-100')")),
    Case("bad_direction_line", "analyst registry: direction = \"up\" (the line of the bad key)",
         "build", bad_direction_user,
         (f"mine.toml, row {DIRECTION_LINE}, "
          "column 'direction': must be one of higher_is_worse, higher_is_better (value 'up')",)),
    Case("unknown_value_key_line", "analyst registry: a misspelt key in [indicator.value]",
         "build", unknown_value_key_user,
         (f"mine.toml, row {VALUE_COLUMN_LINE + 1}, "
          "column 'columm': indicator 'no_home_internet_pct': unknown key(s) in [value]",)),
    Case("infinite_values", "analyst CSV: inf, -inf and 1e400 in a column with no range",
         "build", infinite_values_user,
         ("row 5, column 'no_internet_pct': not a finite number (value 'inf')",
          "row 9, column 'no_internet_pct': not a finite number (value '-inf')",
          "row 11, column 'no_internet_pct': not a finite number (value '1e400')")),
    Case("scaled_to_infinity", "analyst CSV: a value that overflows once scaled", "build",
         scaled_to_infinity_user,
         ("derived value of 'no_home_internet_pct' is not a finite number",
          "scale = 1e+10", ": inf')")),
    Case("duplicated_header", "analyst CSV: two no_internet_pct columns", "build",
         duplicated_header_user,
         ("no_internet.csv, row 1, column 'no_internet_pct': duplicated column header: columns 2 "
          "and 3 have the same name",)),
    Case("path_climbing_out", "analyst registry: path = \"../../…/etc/passwd\"", "build",
         path_climbing_out,
         (f"mine.toml, row {PATH_LINE}, column 'path'", "outside the registry file's folder",
          "resolves to /etc/passwd", "--allow-outside-sources")),
    Case("absolute_path_outside", "analyst registry: path = \"/etc/passwd\"", "build",
         absolute_path_outside,
         (f"mine.toml, row {PATH_LINE}, column 'path'", "outside the registry file's folder",
          "(value '/etc/passwd')", "--allow-outside-sources")),
    Case("symlink_pointing_outside", "analyst CSV is a link to a file outside its folder",
         "build", symlink_pointing_outside,
         (f"mine.toml, row {PATH_LINE}, column 'path'", "outside the registry file's folder",
          "elsewhere/no_internet.csv", "--allow-outside-sources")),
    Case("user_file_missing", "analyst CSV named in the registry file does not exist", "build",
         user_file_missing,
         (f"mine.toml, row {PATH_LINE}, column 'path'", "file not found",
          "relative to the registry file's folder", "no_internet.csv'"),
         absent=("in the data directory",)),
    Case("dangling_link", "analyst CSV is a link to a file that does not exist", "build",
         dangling_link_user,
         (f"mine.toml, row {PATH_LINE}, column 'path'", "is a symbolic link to",
          "gone.csv, which does not exist", "no_internet.csv'")),
    Case("huge_cell", "analyst CSV: a 10,000-character cell", "build", huge_cell_user,
         ("row 4, column 'no_internet_pct': not a number", "(10,000 characters)"),
         absent=(HUGE_CELL[:200],)),
    Case("utf16", "analyst CSV saved as UTF-16 (with its byte-order mark)", "build", utf16_user,
         ("no_internet.csv", "UTF-16", "save it as UTF-8"), absent=("Latin-1",)),
    Case("utf16_without_bom", "analyst CSV saved as UTF-16 without a byte-order mark", "build",
         utf16_without_bom_user, ("no_internet.csv", "UTF-16", "save it as UTF-8"),
         absent=("Latin-1", "missing column")),
]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Run ``mapping ARGV`` in this process; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def run_case(case: Case, ctx: Context, out_dir: Path) -> tuple[int, str, str]:
    extra = case.prepare(ctx)
    argv = [case.verb, "--data-dir", str(ctx.data), *extra]
    if case.verb == "build":
        argv += ["--out-dir", str(out_dir), "--quiet"]
    return run_cli(argv)


def first_message(stderr: str, expect: tuple[str, ...] = ()) -> str:
    """The problem line that best shows the case (the first holding an expected text)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for text in expect:
        for ln in lines:
            if text in ln:
                return ln
    return lines[0] if lines else ""


def seed_outputs(processed: Path, out: Path, cache: Path | None = None) -> None:
    """A previous build (and a fake release of it) in ``out``, with the workbook cache."""
    shutil.copytree(processed, out / "processed")
    shutil.copytree(processed, out / "releases" / "v1.0.0" / "processed")
    if cache is not None and cache.is_dir():
        shutil.copytree(cache, out / "cache")


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file under ``processed/`` and ``releases/`` (the workbook cache may change)."""
    return {str(p.relative_to(out)): p.read_bytes() for top in ("processed", "releases")
            for p in sorted((out / top).rglob("*")) if p.is_file()}
