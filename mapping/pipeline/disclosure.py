"""Small-count disclosure control: the rule of decision record DR-0004, as pure functions.

The rule
--------
1. **Primary suppression** - a count of people or households below ``threshold`` (10 by
   default; zero included) is suppressed, and so is every rate or percentage built on it: a cell
   is suppressed when its numerator count, or its denominator count, is below the threshold.
2. **Secondary suppression** - a published total (a ward or borough sum of the cells) must not
   give a suppressed value back by differencing. Within every group whose total is published,
   a lone suppressed cell is joined by the smallest published cell of the same group. A final
   exact audit (linear algebra over every published total, :func:`recoverable`) repeats the step
   until no suppressed cell and no suppressed total can be worked out exactly from what is
   published; where no cell is left to suppress, the total itself is suppressed.
3. **Display** - a suppressed value is shown as the word ``"suppressed"``, never as 0 or blank
   (:func:`display_values`); in machine-readable tables it is an empty value beside a boolean
   ``<column>_suppressed`` flag (:func:`apply_suppression` gives the values).

Missing cells (``NaN``) are neither published nor protective: a total is taken to be the sum of
the cells that have values, so a missing cell cannot hide a suppressed one.

The audit covers exact recovery by adding and subtracting published figures. It does not claim
more: bounds (for example that a suppressed count lies between 0 and 9) remain inferable, as
with any cell-suppression scheme.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mapping.outputs.formatting import SUPPRESSED

#: What every page, table, tooltip and export shows in place of a suppressed value.
#: Counts below this are suppressed (DR-0004).
DEFAULT_THRESHOLD = 10


@dataclass(frozen=True)
class Suppression:
    """The outcome of :func:`suppress`.

    Attributes
    ----------
    cells
        Boolean Series on the input's index: ``True`` where the count, and every rate built on
        it, must not be published.
    primary
        Boolean Series: the cells suppressed because they are small (a subset of ``cells``).
    totals
        One boolean Series per grouping, indexed by group label: ``True`` where the group's
        total must not be published.
    """

    cells: pd.Series
    primary: pd.Series
    totals: tuple[pd.Series, ...]


def _as_float(series: pd.Series, name: str) -> np.ndarray:
    if not isinstance(series, pd.Series):
        raise TypeError(f"{name} must be a pandas Series")
    values = pd.to_numeric(series, errors="raise").to_numpy(dtype=float)
    if np.any(values[~np.isnan(values)] < 0):
        raise ValueError(f"{name} holds negative counts")
    return values


def suppress(
    counts: pd.Series,
    groupings: Sequence[pd.Series] = (),
    *,
    denominators: pd.Series | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> Suppression:
    """Decide which cells and group totals must be suppressed (DR-0004).

    Parameters
    ----------
    counts
        The count behind each published cell (e.g. residents aged 75+ per LSOA). ``NaN`` means
        missing. Fractional counts (apportioned from another geography) are allowed.
    groupings
        Zero or more Series on the same index as ``counts`` giving each cell's group for every
        published total, finest first (e.g. ``ward24_code``, then ``lad22_code``). A cell with a
        missing group label is in no group of that grouping.
    denominators
        Optional denominator counts of the rates built on ``counts``; a rate is suppressed when
        its denominator is below the threshold too.
    threshold
        Counts strictly below this are suppressed (default 10).

    Returns
    -------
    Suppression
        Masks for the cells and for each grouping's totals. The inputs are not modified.

    Raises
    ------
    ValueError
        If a grouping or the denominators are not on the index of ``counts``, or counts are
        negative.
    """
    values = _as_float(counts, "counts")
    eligible = ~np.isnan(values)
    primary = eligible & (values < threshold)
    if denominators is not None:
        if not denominators.index.equals(counts.index):
            raise ValueError("denominators must have the same index as counts")
        den = _as_float(denominators, "denominators")
        primary |= eligible & ~np.isnan(den) & (den < threshold)
    codes: list[np.ndarray] = []
    labels: list[pd.Index] = []
    for k, grouping in enumerate(groupings):
        if not isinstance(grouping, pd.Series) or not grouping.index.equals(counts.index):
            raise ValueError(f"grouping {k} must be a Series with the same index as counts")
        code, uniques = pd.factorize(grouping, sort=True)
        codes.append(code)
        labels.append(pd.Index(uniques, name=grouping.name))
    mask = primary.copy()
    total_masks = []
    for code, uniq in zip(codes, labels, strict=True):
        sums = np.bincount(code[(code >= 0) & eligible],
                           weights=values[(code >= 0) & eligible], minlength=len(uniq))
        total_masks.append(sums < threshold)

    _pair_lone_cells(values, eligible, mask, codes, total_masks)
    while True:
        leak_cells, leak_totals = _leaks(eligible, mask, codes, total_masks)
        if not leak_cells and not leak_totals:
            break
        before = (mask.sum(), sum(int(t.sum()) for t in total_masks))
        for j in leak_cells:
            _protect_cell(j, values, eligible, mask, codes, total_masks)
        for k, g in leak_totals:
            _protect_total(k, g, values, eligible, mask, codes, total_masks)
        _pair_lone_cells(values, eligible, mask, codes, total_masks)
        if (mask.sum(), sum(int(t.sum()) for t in total_masks)) == before:  # pragma: no cover
            raise RuntimeError("disclosure control made no progress: please report this input")

    index = counts.index
    return Suppression(
        cells=pd.Series(mask, index=index, name="suppressed"),
        primary=pd.Series(primary, index=index, name="suppressed_primary"),
        totals=tuple(pd.Series(t.copy(), index=u, name="total_suppressed")
                     for t, u in zip(total_masks, labels, strict=True)),
    )


def _smallest(candidates: np.ndarray, values: np.ndarray) -> int | None:
    if candidates.size == 0:
        return None
    order = np.argsort(values[candidates], kind="stable")
    return int(candidates[order[0]])


def _pair_lone_cells(values, eligible, mask, codes, total_masks) -> None:
    """Fast common case: no published group total may have exactly one suppressed cell."""
    changed = True
    while changed:
        changed = False
        for code, totals in zip(codes, total_masks, strict=True):
            in_group = (code >= 0) & eligible
            n_supp = np.bincount(code[in_group & mask], minlength=len(totals))
            for g in np.flatnonzero((n_supp == 1) & ~totals):
                members = np.flatnonzero(in_group & (code == g) & ~mask)
                pick = _smallest(members, values)
                if pick is None:
                    totals[g] = True
                else:
                    mask[pick] = True
                changed = True


def _protect_cell(j, values, eligible, mask, codes, total_masks) -> None:
    for code, totals in zip(codes, total_masks, strict=True):
        g = code[j]
        if g < 0 or totals[g]:
            continue
        pick = _smallest(np.flatnonzero((code == g) & eligible & ~mask), values)
        if pick is not None:
            mask[pick] = True
            return
        totals[g] = True
        return


def _protect_total(k, g, values, eligible, mask, codes, total_masks) -> None:
    members = (codes[k] == g) & eligible
    pick = _smallest(np.flatnonzero(members & ~mask), values)
    if pick is not None:
        mask[pick] = True
        return
    # Every cell is already suppressed: the total leaks through a larger published total, so
    # suppress the published totals of the other groupings that overlap it.
    for other, (code, totals) in enumerate(zip(codes, total_masks, strict=True)):
        if other == k:
            continue
        for h in np.unique(code[members & (code >= 0)]):
            totals[h] = True


def _leaks(eligible, mask, codes, total_masks) -> tuple[list[int], list[tuple[int, int]]]:
    """Suppressed cells and totals that published totals determine exactly."""
    hidden = np.flatnonzero(eligible & mask)
    position = np.full(eligible.shape, -1)
    position[hidden] = np.arange(hidden.size)
    rows = []
    for code, totals in zip(codes, total_masks, strict=True):
        for g in np.flatnonzero(~totals):
            members = hidden[code[hidden] == g]
            if members.size:
                row = np.zeros(hidden.size)
                row[position[members]] = 1.0
                rows.append(row)
    if hidden.size == 0:
        null = np.zeros((0, 0))
    elif rows:
        a = np.vstack(rows)
        _, s, vt = np.linalg.svd(a, full_matrices=True)
        tol = max(a.shape) * np.finfo(float).eps * (s[0] if s.size else 1.0) * 10
        rank = int((s > tol).sum())
        null = vt[rank:].T
    else:
        null = np.eye(hidden.size)
    eps = 1e-8
    cells = [int(hidden[i]) for i in range(hidden.size) if np.linalg.norm(null[i]) < eps]
    totals_out = []
    for k, (code, totals) in enumerate(zip(codes, total_masks, strict=True)):
        has_cells = np.bincount(code[(code >= 0) & eligible], minlength=len(totals)) > 0
        for g in np.flatnonzero(totals & has_cells):
            vec = np.zeros(hidden.size)
            vec[position[hidden[code[hidden] == g]]] = 1.0
            if hidden.size == 0 or np.linalg.norm(null.T @ vec) < eps:
                totals_out.append((k, int(g)))
    return cells, totals_out


def recoverable(
    counts: pd.Series,
    suppression: Suppression,
    groupings: Sequence[pd.Series] = (),
) -> list[object]:
    """Suppressed cells whose value published totals determine exactly (an audit).

    Parameters
    ----------
    counts
        The counts (used for which cells are missing).
    suppression
        The masks to audit (from :func:`suppress`, or any other).
    groupings
        The groupings whose totals are published, as passed to :func:`suppress`.

    Returns
    -------
    list
        Index labels of the suppressed cells that can be worked out exactly, followed by
        ``(grouping number, group label)`` for suppressed totals that can be; empty when the
        suppression is safe against differencing.
    """
    eligible = counts.notna().to_numpy()
    mask = suppression.cells.reindex(counts.index).fillna(False).to_numpy(dtype=bool)
    codes, total_masks, uniques = [], [], []
    for grouping, totals in zip(groupings, suppression.totals, strict=True):
        code, uniq = pd.factorize(grouping, sort=True)
        codes.append(code)
        uniques.append(uniq)
        total_masks.append(totals.reindex(uniq).fillna(False).to_numpy(dtype=bool))
    cells, totals = _leaks(eligible, mask, codes, total_masks)
    return [counts.index[j] for j in cells] + [(k, uniques[k][g]) for k, g in totals]


def apply_suppression(values: pd.Series, cells: pd.Series) -> pd.Series:
    """A copy of ``values`` with suppressed cells set to ``NaN`` (for machine-readable tables).

    Parameters
    ----------
    values
        Counts or rates, on the same index as ``cells``.
    cells
        The ``cells`` mask of a :class:`Suppression`.
    """
    if not values.index.equals(cells.index):
        raise ValueError("values and the suppression mask must share an index")
    return values.astype(float).mask(cells.astype(bool))


def display_values(
    values: pd.Series,
    cells: pd.Series,
    fmt: str = "{:.1f}",
    missing: str = "no data",
) -> pd.Series:
    """Text for tables, tooltips and exports: ``"suppressed"`` where suppressed, never 0 or blank.

    Parameters
    ----------
    values
        The values to show.
    cells
        The ``cells`` mask of a :class:`Suppression`, on the same index.
    fmt
        Format of a published value.
    missing
        Text for a value that is missing (not suppressed).
    """
    if not values.index.equals(cells.index):
        raise ValueError("values and the suppression mask must share an index")
    out = [
        SUPPRESSED if hidden else (missing if pd.isna(v) else fmt.format(v))
        for v, hidden in zip(values.tolist(), cells.astype(bool).tolist(), strict=True)
    ]
    return pd.Series(out, index=values.index, name=values.name, dtype=object)
