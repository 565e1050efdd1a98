"""LSOA 2011 → LSOA 2021 through the ONS exact-fit lookup (decision record DR-0001).

The lookup has one row per (2011, 2021) pair with a change code:

U  unchanged        the 2021 LSOA takes the 2011 value.
S  split            one 2011 LSOA became several 2021 LSOAs.
M  merged           several 2011 LSOAs became one 2021 LSOA.
X  complex          many-to-many redrawing.

All four are handled by one rule. Each pair gets a *share* ``s(p, c)``: the fraction of the 2011
parent ``p`` that lies in the 2021 child ``c``, estimated by the child's Census 2021 population
over the population of all of ``p``'s children (equal shares when populations are missing).
Then, for a 2021 LSOA ``c``:

* **counts** are apportioned and summed: ``count(c) = Σ_p count(p) · s(p, c)``;
* **rates** (percentages, scores) are population-weighted means:
  ``rate(c) = Σ_p rate(p) · w(p) · s(p, c) / Σ_p w(p) · s(p, c)``, with ``w(p)`` the 2011-era
  population of the parent (London: mid-2015 population from the IoD 2019 workbook).

So U copies; S copies a rate to each child and splits a count by population; M sums counts and
population-weights rates; X combines both. A 2011 code missing from the lookup is an error, never
silently dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mapping.errors import DataValidationError, Problem


def pair_shares(lookup: pd.DataFrame, pop21: pd.Series | None = None) -> pd.DataFrame:
    """Return ``lsoa11_code, lsoa21_code, change_code, share`` from the exact-fit lookup.

    ``pop21`` is a Series of 2021 population indexed by ``lsoa21_code``.
    """
    pairs = lookup[["lsoa11_code", "lsoa21_code", "change_code"]].copy()
    if pop21 is None:
        weight = pd.Series(1.0, index=pairs.index)
    else:
        weight = pairs["lsoa21_code"].map(pop21).astype(float)
        weight = weight.fillna(0.0)
    total = weight.groupby(pairs["lsoa11_code"]).transform("sum")
    n_children = pairs.groupby("lsoa11_code")["lsoa21_code"].transform("count")
    share = np.where(total > 0, weight / total.where(total > 0, 1.0), 1.0 / n_children)
    return pairs.assign(share=share)


def convert_lsoa11_to_lsoa21(
    frame: pd.DataFrame,
    shares: pd.DataFrame,
    *,
    rates: list[str] = (),
    counts: list[str] = (),
    pop11: pd.Series | None = None,
    source: str = "data",
) -> pd.DataFrame:
    """Convert columns of a frame keyed by ``lsoa11_code`` to LSOA 2021.

    Parameters
    ----------
    frame
        One row per LSOA 2011, with ``lsoa11_code`` and the value columns.
    shares
        Output of :func:`pair_shares` (restricted to the area of interest, e.g. London).
    rates, counts
        Columns converted as rates (weighted mean) and counts (apportioned sum).
    pop11
        2011-era population indexed by ``lsoa11_code``, the weight of a parent in a rate; equal
        weights when None.
    source
        Name used in error messages.

    Returns
    -------
    DataFrame with ``lsoa21_code`` and the converted columns, one row per 2021 LSOA in ``shares``.
    A 2021 LSOA whose parents all lack a value gets NaN for that column.
    """
    missing_parents = sorted(set(shares["lsoa11_code"]) - set(frame["lsoa11_code"]))
    if missing_parents:
        raise DataValidationError([
            Problem(source, "LSOA 2011 code in the lookup has no row in the data (cannot convert "
                    "to 2021)", column="lsoa11_code", value=code) for code in missing_parents[:25]])
    merged = shares.merge(frame, on="lsoa11_code", how="left", validate="many_to_one")
    parent_weight = (merged["lsoa11_code"].map(pop11).astype(float) if pop11 is not None
                     else pd.Series(1.0, index=merged.index))
    if parent_weight.isna().any():
        codes = merged.loc[parent_weight.isna(), "lsoa11_code"].unique()[:25]
        raise DataValidationError([Problem(source, "no 2011 population for LSOA (needed to "
                                           "weight a merged rate)", column="lsoa11_code", value=c)
                                   for c in codes])
    out = pd.DataFrame({"lsoa21_code": sorted(merged["lsoa21_code"].unique())})
    groups = merged["lsoa21_code"]
    for col in counts:
        part = (merged[col] * merged["share"]).groupby(groups).sum(min_count=1)
        out[col] = out["lsoa21_code"].map(part)
    for col in rates:
        w = parent_weight * merged["share"]
        valid = merged[col].notna()
        num = (merged[col].where(valid, 0.0) * w).groupby(groups).sum()
        den = w.where(valid, 0.0).groupby(groups).sum()
        out[col] = out["lsoa21_code"].map(num / den.where(den > 0))
    return out
