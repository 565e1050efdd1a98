"""Validation of a risk index against observed behaviour.

A digital exclusion *risk* index should rank areas the way independent evidence of exclusion
does. Here that evidence is a set of reference columns (for London: the GMCA DERI v1.6 score
and the share of residents in the IUC 2018 groups least engaged online), compared by
Spearman's rank correlation::

    rho = Pearson correlation of the average-tie ranks of (index, reference)

over the units where both are present. The references are never index inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from mapping.errors import DataValidationError, Problem


def spearman_validation(index: pd.Series, references: pd.DataFrame) -> pd.DataFrame:
    """Spearman correlation of ``index`` with each column of ``references``.

    Parameters
    ----------
    index
        Index scores (higher = more at risk), indexed by unit id.
    references
        Reference columns indexed by unit id (aligned on the index; units missing from either
        side, or with a missing value, are left out of that pair).

    Returns
    -------
    pandas.DataFrame
        One row per reference: ``reference``, ``n`` (pairs used), ``spearman_rho``,
        ``p_value`` (two-sided, t approximation as in :func:`scipy.stats.spearmanr`).

    Raises
    ------
    DataValidationError
        If a reference has fewer than 3 pairs or is constant.
    """
    refs = references.reindex(index.index)
    rows, problems = [], []
    x_all = index.to_numpy(dtype=float)
    for col in refs.columns:
        y_all = pd.to_numeric(refs[col], errors="coerce").to_numpy(dtype=float)
        ok = ~(np.isnan(x_all) | np.isnan(y_all))
        x, y = x_all[ok], y_all[ok]
        if ok.sum() < 3:
            problems.append(
                Problem("validation", f"only {int(ok.sum())} units with both values", column=col)
            )
            continue
        if np.ptp(y) == 0 or np.ptp(x) == 0:
            problems.append(
                Problem("validation", "constant values, no rank correlation", column=col)
            )
            continue
        res = stats.spearmanr(x, y)
        rows.append(
            {
                "reference": col,
                "n": int(ok.sum()),
                "spearman_rho": float(res.statistic),
                "p_value": float(res.pvalue),
            }
        )
    if problems:
        raise DataValidationError(problems)
    return pd.DataFrame(rows, columns=["reference", "n", "spearman_rho", "p_value"])


def disagreement(index: pd.Series, reference: pd.Series) -> pd.DataFrame:
    """Where an index and a reference disagree, unit by unit (for a map).

    Both are turned into percentile ranks ``100 · r / n`` (average ties, higher = more at risk)
    over the units where both are present; ``difference = index_percentile -
    reference_percentile`` is positive where the index rates an area as more at risk than the
    reference does.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit id: ``index_percentile``, ``reference_percentile``, ``difference``.
    """
    both = pd.DataFrame({"i": index, "r": reference.reindex(index.index)}).dropna()
    pi = both["i"].rank(method="average", pct=True) * 100
    pr = both["r"].rank(method="average", pct=True) * 100
    return pd.DataFrame(
        {"index_percentile": pi, "reference_percentile": pr, "difference": pi - pr},
        index=both.index,
    )


def validation_table(measures: pd.DataFrame, kinds: dict[str, str], references: pd.DataFrame,
                     groups: pd.Series) -> pd.DataFrame:
    """Spearman ρ of every measure with every reference, London-wide and within each group.

    Parameters
    ----------
    measures
        One column per measure (the index, its domains, single indicators, a comparator),
        indexed by unit id.
    kinds
        Measure column -> kind (``index``, ``domain``, ``indicator``, ``comparator``).
    references
        The validation references (observed behaviour), indexed by unit id.
    groups
        Unit id -> group code (borough); each group gets its own ρ.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per measure, reference and scope: ``measure``, ``kind``,
        ``reference``, ``scope`` (``london`` or the group code), ``n``, ``spearman_rho``
        (NaN where a scope has fewer than 3 pairs or a constant side).
    """
    refs = references.reindex(measures.index)
    grp = groups.reindex(measures.index).astype(str)
    scopes = [("london", np.ones(len(measures), dtype=bool))]
    scopes += [(g, (grp == g).to_numpy()) for g in sorted(grp.unique())]
    rows = []
    for col in measures.columns:
        x_all = pd.to_numeric(measures[col], errors="coerce").to_numpy(dtype=float)
        for ref in refs.columns:
            y_all = pd.to_numeric(refs[ref], errors="coerce").to_numpy(dtype=float)
            for scope, mask in scopes:
                ok = mask & ~(np.isnan(x_all) | np.isnan(y_all))
                x, y = x_all[ok], y_all[ok]
                rho = (float(stats.spearmanr(x, y).statistic)
                       if ok.sum() >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0 else float("nan"))
                rows.append({"measure": col, "kind": kinds.get(col, "indicator"),
                             "reference": ref, "scope": scope, "n": int(ok.sum()),
                             "spearman_rho": rho})
    return pd.DataFrame(rows, columns=["measure", "kind", "reference", "scope", "n",
                                       "spearman_rho"])
