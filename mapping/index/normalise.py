"""Normalisation: put indicators on a common scale where higher always means more at risk.

Direction alignment comes first: a ``higher_is_better`` indicator is multiplied by -1 (its sign),
so every method below works on *aligned* values ``a = sign · x`` and every output is
"higher = more at risk". The numeric kernels work column by column along axis 0 of a 2-D array
(units × columns) with no missing values; :func:`normalise` is the DataFrame wrapper used by the
engine, and the Monte Carlo analysis calls the same kernels on (units × draws) matrices, so the
two can never drift apart.

Methods (``n`` units, ``r`` the rank of ``a`` in ascending order, 1 = least at risk, ties given
the mean of the ranks they span):

========================= ==============================================================
``none``                  ``a``
``minmax``                ``lo + (hi - lo) · (a - min a) / (max a - min a)``
``zscore``                ``(a - mean a) / sd a`` (sample sd, ddof = 1)
``rank``                  ``r / n`` — the fractional rank, in (0, 1]
``percentile``            ``100 · r / n``, in (0, 100]
``distance_to_reference`` ``difference``: ``(a - a_ref) / (max a - min a)``;
                          ``ratio``: ``x / x_ref`` (higher is worse) or ``x_ref / x`` (higher
                          is better), which needs positive ``x`` and ``x_ref``
``exponential``           IMD transformation of ranks: ``R = r / n`` and
                          ``E = -23 · ln(1 - R · (1 - exp(-100/23)))``, 0 < E <= 100, the unit
                          most at risk scoring 100 (MHCLG, IoD technical report)
========================= ==============================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mapping.errors import DataValidationError, Problem

if TYPE_CHECKING:
    from mapping.index.spec import LevelSpec

EXP_CONSTANT = 23.0
_EXP_FACTOR = 1.0 - np.exp(-100.0 / EXP_CONSTANT)


def _names(names: Sequence[str] | None, m: int) -> list[str]:
    return list(names) if names is not None else [f"column {j}" for j in range(m)]


def _degenerate(where: str, names: list[str], bad: np.ndarray, why: str) -> DataValidationError:
    return DataValidationError([Problem(where, why, column=names[j]) for j in np.flatnonzero(bad)])


def average_ranks(a: np.ndarray) -> np.ndarray:
    """Ranks 1..n of each column of ``a`` (ascending), ties given the mean of their ranks.

    Vectorised over columns: one ``argsort`` of the transposed array, tie groups found from
    the sorted values with running max/min accumulations (no Python loop over columns).

    Parameters
    ----------
    a
        2-D array (n units × m columns) without NaN.

    Returns
    -------
    numpy.ndarray
        Float array of the same shape.
    """
    a = np.asarray(a, dtype=float)
    n, m = a.shape
    t = np.ascontiguousarray(a.T)
    order = np.argsort(t, axis=1, kind="stable")
    s = np.take_along_axis(t, order, axis=1)
    pos = np.arange(n)
    new = np.ones((m, n), dtype=bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    start = np.where(new, pos, 0)
    np.maximum.accumulate(start, axis=1, out=start)
    last = np.ones((m, n), dtype=bool)
    last[:, :-1] = new[:, 1:]
    end = np.where(last, pos, n - 1)[:, ::-1]
    end = np.minimum.accumulate(end, axis=1)[:, ::-1]
    avg = (start + end) / 2.0 + 1.0
    ranks = np.empty((m, n), dtype=float)
    np.put_along_axis(ranks, order, avg, axis=1)
    return ranks.T


def minmax(a: np.ndarray, lo: float = 0.0, hi: float = 1.0, names: Sequence[str] | None = None):
    """Min–max scaling of each column: ``lo + (hi - lo)(a - min)/(max - min)``.

    Raises
    ------
    DataValidationError
        If a column is constant (max = min), naming it.
    """
    mn = a.min(axis=0)
    mx = a.max(axis=0)
    span = mx - mn
    if np.any(span == 0):
        raise _degenerate(
            "min-max normalisation",
            _names(names, a.shape[1]),
            span == 0,
            "constant in the reference frame (max = min), cannot be min-max scaled",
        )
    return lo + (hi - lo) * (a - mn) / span


def zscore(a: np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
    """Standardisation of each column: ``(a - mean) / sd`` with the sample sd (ddof = 1)."""
    sd = a.std(axis=0, ddof=1)
    if np.any(~(sd > 0)):
        raise _degenerate(
            "z-score normalisation",
            _names(names, a.shape[1]),
            ~(sd > 0),
            "constant in the reference frame (sd = 0), cannot be standardised",
        )
    return (a - a.mean(axis=0)) / sd


def fractional_rank(a: np.ndarray) -> np.ndarray:
    """``r / n`` per column, with ``r`` the average-tie ascending rank: values in (0, 1]."""
    return average_ranks(a) / a.shape[0]


def exponential(a: np.ndarray) -> np.ndarray:
    """IMD exponential transformation of ranks, per column.

    ``R = r / n`` (fractional rank, ascending, so the unit most at risk has R = 1) and
    ``E = -23 · ln(1 - R · (1 - exp(-100/23)))``. E runs from just above 0 to 100, stretching
    the most-at-risk end of the distribution, as the IMD does before combining its domains.
    """
    r = fractional_rank(a)
    return -EXP_CONSTANT * np.log1p(-r * _EXP_FACTOR)


def distance_to_reference(
    a: np.ndarray,
    reference: np.ndarray,
    signs: np.ndarray,
    kind: str = "difference",
    names: Sequence[str] | None = None,
) -> np.ndarray:
    """Distance of each aligned column to an aligned reference value.

    ``difference``: ``(a - a_ref) / (max a - min a)`` (positive = more at risk than the
    reference, scale-free). ``ratio``: ``x / x_ref`` for higher-is-worse indicators and
    ``x_ref / x`` for higher-is-better ones, on the raw (unaligned) values, which must be > 0.
    """
    names_ = _names(names, a.shape[1])
    if kind == "difference":
        span = a.max(axis=0) - a.min(axis=0)
        if np.any(span == 0):
            raise _degenerate(
                "distance to reference",
                names_,
                span == 0,
                "constant in the reference frame, cannot be scaled",
            )
        return (a - reference) / span
    if kind == "ratio":
        raw = a * signs
        raw_ref = reference * signs
        bad = (raw <= 0).any(axis=0) | (raw_ref <= 0)
        if np.any(bad):
            raise _degenerate(
                "distance to reference (ratio)",
                names_,
                bad,
                "ratio distance needs positive values and a positive reference",
            )
        return np.where(signs > 0, raw / raw_ref, raw_ref / raw)
    raise ValueError(f"unknown distance {kind!r}")


def normalise_array(
    a: np.ndarray,
    level: LevelSpec,
    signs: np.ndarray | None = None,
    references: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    method: str | None = None,
) -> np.ndarray:
    """Apply ``level.normalisation`` (or ``method``) to the aligned 2-D array ``a``, through the
    registry of :mod:`mapping.index.methods`.

    ``signs`` (+1/-1 per column) are only needed for the ``ratio`` distance; ``references``
    are aligned per-column reference values (NaN = use ``level.reference``).
    """
    from mapping.index.methods import apply_normalisation  # noqa: PLC0415 (it imports this)

    return apply_normalisation(a, level, method, signs, references, names)


def normalise(
    frame: pd.DataFrame,
    level: LevelSpec,
    signs: Mapping[str, float] | None = None,
    references: Mapping[str, float | None] | None = None,
    method: str | None = None,
) -> pd.DataFrame:
    """Align directions and normalise every column of ``frame`` (units × indicators).

    Parameters
    ----------
    frame
        Complete numeric data (impute first); index = unit ids.
    level
        The level's settings (method, min–max range, reference, distance kind).
    signs
        +1 (higher is worse) or -1 (higher is better) per column; default all +1.
    references
        Per-column reference values in raw units for ``distance_to_reference`` (None = use the
        level's reference).
    method
        Override ``level.normalisation`` (used by the robustness analysis).

    Returns
    -------
    pandas.DataFrame
        A new frame, same index and columns, higher = more at risk.
    """
    cols = list(frame.columns)
    s = np.array([1.0 if signs is None else float(signs[c]) for c in cols])
    a = frame.to_numpy(dtype=float) * s
    if np.isnan(a).any():
        bad = [c for c in cols if frame[c].isna().any()]
        raise DataValidationError(
            [Problem("normalisation", "has missing values (impute first)", column=c) for c in bad]
        )
    refs = None
    if references is not None:
        refs = np.array(
            [
                np.nan if references.get(c) is None else s[j] * float(references[c])
                for j, c in enumerate(cols)
            ]
        )
    out = normalise_array(a, level, s, refs, cols, method)
    return pd.DataFrame(out, index=frame.index.copy(), columns=cols)
