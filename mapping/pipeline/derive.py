"""Deriving every registered indicator from the validated sources, at London LSOA 2021, ward
2024 and borough level, and the published copies of those tables with the small-count rule
applied.

Each indicator is derived at its source geography (a column, or a numerator over a
denominator of columns), then brought to LSOA 2021 (``lsoa11`` converted through the ONS
lookup, ``msoa21`` apportioned; see :mod:`mapping.geography`), checked against its registered
range, and rolled up to wards and boroughs with population weights; borough-only indicators are
added at borough level. Rows outside London are counted, never an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mapping.errors import DataValidationError, Problem
from mapping.geography.apportion import msoa_to_lsoa
from mapping.geography.rollup import weighted_rollup
from mapping.geography.vintage import convert_lsoa11_to_lsoa21, pair_shares
from mapping.pipeline.disclosure import suppress
from mapping.registry import Indicator

if TYPE_CHECKING:
    from mapping.pipeline.build import Inputs

ID_COLUMNS = ["lsoa21_code", "lsoa21_name", "msoa21_code", "ward24_code", "ward24_name",
              "borough_code", "borough_name", "population"]


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
