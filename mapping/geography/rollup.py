"""Roll-ups from LSOA 2021 to ward 2024 and borough: population-weighted means for rates.

``rate(area) = Σ rate(lsoa) · pop(lsoa) / Σ pop(lsoa)`` over the LSOAs with a value; counts
are summed. Ranks are never averaged: rank the rolled-up values instead.
"""

from __future__ import annotations

import pandas as pd


def weighted_rollup(
    frame: pd.DataFrame, by: list[str], *, rates: list[str], weight: str = "population",
    counts: list[str] = (),
) -> pd.DataFrame:
    """Population-weighted mean of ``rates`` and sum of ``counts`` (and of ``weight``) by ``by``."""
    pop = frame[weight].astype(float)
    out = frame.groupby(by, sort=True)[[weight, *counts]].sum().reset_index()
    keys = pd.MultiIndex.from_frame(out[by]) if len(by) > 1 else out[by[0]]
    grouper = [frame[b] for b in by]
    for col in rates:
        valid = frame[col].notna()
        num = (frame[col].where(valid, 0.0) * pop).groupby(grouper).sum()
        den = pop.where(valid, 0.0).groupby(grouper).sum()
        out[col] = (num / den.where(den > 0)).reindex(keys).to_numpy()
    return out


def overall_rollup(frame: pd.DataFrame, *, rates: list[str],
                   weight: str = "population") -> pd.Series:
    """The population-weighted mean of each of ``rates`` over all rows (e.g. London as a
    whole), by the same rule as :func:`weighted_rollup`."""
    whole = weighted_rollup(frame.assign(_all=0), ["_all"], rates=rates, weight=weight)
    return whole[rates].iloc[0]
