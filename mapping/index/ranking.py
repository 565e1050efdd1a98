"""Ranks: the one ranker of the project (index, indicators, areas, boroughs).

``rank = 1 + #(areas more at risk)``: rank 1 is the area most at risk (the highest value when
a higher value is worse, the lowest when it is better), ties share the best rank (the "min"
method), and an area without a value has no rank. Deciles and quintiles are bands of ranks,
``band = floor((rank - 1) · k / n) + 1``, so band 1 holds the 1/k of areas most at risk (the
IMD's convention).
"""

from __future__ import annotations

import pandas as pd

HIGHER_IS_WORSE = "higher_is_worse"
HIGHER_IS_BETTER = "higher_is_better"


def ranks(values: pd.Series, direction: str = HIGHER_IS_WORSE) -> pd.Series:
    """Rank 1 = most at risk (see the module docstring); no value, no rank (``Int64``)."""
    if direction not in (HIGHER_IS_WORSE, HIGHER_IS_BETTER):
        raise ValueError(f"unknown direction {direction!r}")
    ascending = direction == HIGHER_IS_BETTER
    return pd.Series(values).rank(method="min", ascending=ascending,
                                  na_option="keep").astype("Int64")


def rank_descending(scores: pd.Series) -> pd.Series:
    """:func:`ranks` of scores that all have a value, higher is worse, as ``int64`` (the
    engine's and the Monte Carlo's hot path: no nullable integers)."""
    return scores.rank(method="min", ascending=False).astype("int64")


def rank_bands(rank: pd.Series, k: int) -> pd.Series:
    """``floor((rank - 1) · k / n) + 1``: band 1 holds the 1/k of units most at risk."""
    n = len(rank)
    bands = ((rank.to_numpy(dtype="int64") - 1) * k) // n + 1
    return pd.Series(bands, index=rank.index.copy(), dtype="int64")


def percentiles(frame: pd.DataFrame) -> pd.DataFrame:
    """Each column's percentile among the rows, 0–100 (100 = the highest value; ties take the
    highest percentile they span); no value, no percentile."""
    return frame.rank(pct=True, method="max") * 100.0
