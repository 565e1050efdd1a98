"""Screening and imputation of missing indicator values.

Screening comes first and is never optional: an indicator with no values in the reference frame,
or missing for more than ``max_missing_share`` of its units, is an error (an index silently
built on a fraction of the data would mislead).

Methods
-------
``none``
    Any missing value is an error naming the indicator and the first units affected.
``mean`` / ``median``
    A missing ``x_ij`` (unit ``i``, indicator ``j``) becomes the mean / median of indicator ``j``
    over the non-missing units of the reference frame (``within = "frame"``) or of unit ``i``'s
    group, e.g. its borough (``within = "group"``). A group with no value for an indicator is an
    error: there is no fallback to the frame value unless the specification asks for it.

Every imputed cell is flagged ``True`` in a boolean frame of the same shape, so outputs can say
what was imputed.
"""

from __future__ import annotations

import pandas as pd

from mapping.errors import DataValidationError, Problem
from mapping.index.spec import ImputationSpec


def screen(raw: pd.DataFrame, max_missing_share: float, where: str = "index data") -> None:
    """Raise if an indicator is all missing or missing for more than the allowed share.

    Raises
    ------
    DataValidationError
        One problem per failing indicator (column), with its missing count.
    """
    n = len(raw)
    problems = []
    if n == 0:
        raise DataValidationError.single(where, "no units in the reference frame")
    for col in raw.columns:
        missing = int(raw[col].isna().sum())
        if missing == n:
            problems.append(
                Problem(
                    where,
                    "indicator has no values in the reference frame (all missing)",
                    column=col,
                )
            )
        elif missing / n > max_missing_share:
            problems.append(
                Problem(
                    where,
                    f"indicator missing for {missing} of {n} units ({missing / n:.1%}), more "
                    f"than imputation.max_missing_share = {max_missing_share:g}",
                    column=col,
                )
            )
    if problems:
        raise DataValidationError(problems)


def impute(
    raw: pd.DataFrame,
    spec: ImputationSpec,
    groups: pd.Series | None = None,
    where: str = "index data",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill missing values by the specified method.

    Parameters
    ----------
    raw
        Units × indicators (index = unit ids), numeric, may contain NaN.
    spec
        Imputation settings.
    groups
        Group label per unit (same index as ``raw``), needed when ``spec.within == "group"``.
    where
        Name of the data, for error messages.

    Returns
    -------
    (imputed, flags)
        A new frame without NaN, and a boolean frame marking the imputed cells.
    """
    screen(raw, spec.max_missing_share, where)
    flags = raw.isna()
    if not flags.to_numpy().any():
        return raw.copy(), flags
    if spec.method == "none":
        problems = []
        for col in raw.columns:
            ids = list(raw.index[flags[col]])
            if ids:
                shown = ", ".join(map(str, ids[:5])) + (" …" if len(ids) > 5 else "")
                problems.append(
                    Problem(
                        where,
                        f"{len(ids)} missing value(s) (units {shown}) and "
                        "imputation.method = 'none'",
                        column=col,
                    )
                )
        raise DataValidationError(problems)
    if spec.within == "frame":
        fill = raw.mean() if spec.method == "mean" else raw.median()
        return raw.fillna(fill), flags
    if groups is None:
        raise ValueError("group imputation needs the groups")
    g = groups.reindex(raw.index)
    if g.isna().any():
        bad = list(raw.index[g.isna()])[:5]
        raise DataValidationError.single(where, f"units without a group: {bad}")
    fill = raw.groupby(g.to_numpy(), sort=False).transform(spec.method)
    still = fill.isna() & flags
    if still.to_numpy().any():
        problems = []
        for col in raw.columns:
            empty = sorted(set(g[still[col]]))
            if empty:
                problems.append(
                    Problem(where, f"group(s) {empty} have no value to impute from", column=col)
                )
        raise DataValidationError(problems)
    return raw.where(~flags, fill), flags
