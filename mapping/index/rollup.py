"""Roll small-area index results up to wards and boroughs, weighting by population.

Ranks are never averaged (the mean of ranks is not a rank of anything). For an area ``A`` made
of units ``i`` with population ``p_i``:

* each score ``s`` (index and domains): ``s_A = Σ p_i s_i / Σ p_i`` (population-weighted mean,
  by :func:`mapping.geography.rollup.weighted_rollup`, the one roll-up of the project);
* ``share_top10 = Σ_{i: decile_i = 1} p_i / Σ p_i`` — the share of residents living in the
  frame's (e.g. London's) most at-risk 10 % of units; ``share_top20`` likewise with quintile 1;
* ``n_units``, ``population``, ``n_units_top10`` and ``n_units_top20``;
* ``index_rank``: areas ranked by their population-weighted index score (1 = most at risk).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mapping.errors import DataValidationError, Problem
from mapping.geography.rollup import weighted_rollup
from mapping.index.engine import DECILE_COLUMN, INDEX_COLUMN, QUINTILE_COLUMN, rank_descending


def rollup(
    units: pd.DataFrame,
    area_column: str,
    population_column: str,
    score_columns: Sequence[str],
    area_name_column: str | None = None,
    decile_column: str = DECILE_COLUMN,
    quintile_column: str = QUINTILE_COLUMN,
    index_column: str = INDEX_COLUMN,
) -> pd.DataFrame:
    """Population-weighted roll-up of unit results to areas (see module docstring).

    Parameters
    ----------
    units
        One row per unit with the area code, population, score, decile and quintile columns
        (e.g. :meth:`IndexResult.table` joined with ward/borough columns).
    area_column, population_column
        Column names in ``units``.
    score_columns
        Scores to average with population weights (must include ``index_column``).
    area_name_column
        Optional display-name column carried through (first value per area).

    Returns
    -------
    pandas.DataFrame
        One row per area, sorted by area code.

    Raises
    ------
    DataValidationError
        Missing columns, missing area codes, missing/negative populations, or an area whose
        population sums to zero.
    """
    needed = [area_column, population_column, *score_columns, decile_column, quintile_column]
    if area_name_column:
        needed.append(area_name_column)
    missing = [c for c in needed if c not in units.columns]
    if missing:
        raise DataValidationError(
            [Problem("roll-up", "column not in the unit table", column=c) for c in missing]
        )
    if index_column not in score_columns:
        raise ValueError(f"score_columns must include {index_column!r}")
    pop = pd.to_numeric(units[population_column], errors="coerce")
    problems = []
    if units[area_column].isna().any():
        problems.append(
            Problem(
                "roll-up",
                f"{int(units[area_column].isna().sum())} unit(s) without an area code",
                column=area_column,
            )
        )
    if pop.isna().any() or (pop < 0).any():
        problems.append(
            Problem("roll-up", "missing or negative population", column=population_column)
        )
    if problems:
        raise DataValidationError(problems)

    frame = pd.DataFrame({"area": units[area_column].to_numpy(),
                          "p": pop.to_numpy(dtype=float)})
    for col in score_columns:
        frame[col] = units[col].to_numpy(dtype=float)
    # a unit in the most at-risk 10 % (20 %) is a rate of 1: its mean is the share of residents
    frame["share_top10"] = (units[decile_column].to_numpy() == 1).astype(float)
    frame["share_top20"] = (units[quintile_column].to_numpy() == 1).astype(float)
    frame["n_units_top10"] = frame["share_top10"].astype("int64")
    frame["n_units_top20"] = frame["share_top20"].astype("int64")
    frame["n_units"] = 1
    sums = weighted_rollup(frame, ["area"], rates=[*score_columns, "share_top10", "share_top20"],
                           weight="p", counts=["n_units", "n_units_top10", "n_units_top20"])
    zero = sums.loc[sums["p"] <= 0, "area"]
    if len(zero):
        raise DataValidationError.single(
            "roll-up", f"areas with zero population: {list(zero)[:5]}", column=area_column
        )
    sums = sums.set_index("area")
    out = pd.DataFrame(index=sums.index)
    out.index.name = area_column
    if area_name_column:
        names = units.groupby(area_column, sort=True)[area_name_column].first()
        out[area_name_column] = names
    out["n_units"] = sums["n_units"].astype("int64")
    out["population"] = sums["p"]
    for col in [*score_columns, "share_top10", "share_top20"]:
        out[col] = sums[col]
    out["n_units_top10"] = sums["n_units_top10"].astype("int64")
    out["n_units_top20"] = sums["n_units_top20"].astype("int64")
    out["index_rank"] = rank_descending(out[index_column])
    return out.reset_index()
