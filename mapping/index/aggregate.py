"""Aggregation: combine normalised columns into one score with weights that sum to one.

With inputs ``x_1 … x_m`` (higher = more at risk) and weights ``w_i >= 0`` rescaled so that
``Σ w_i = 1``:

``arithmetic``
    ``A = Σ w_i x_i``. Fully compensatory: a low value on one input is offset by a high one.
``geometric``
    ``G = exp(Σ w_i ln(x_i + δ)) - δ`` with the offset ``δ`` (``geometric_offset``) shifting
    zeros off the log's singularity and back again, so equal inputs ``c`` give ``G = c``. The
    inputs must satisfy ``x_i + δ > 0``; min–max 0–1 data with the default ``δ = 0.01`` (1 %
    of the range) are fine; z-scores are not (the specification rejects that combination).
    Less compensatory than ``A`` (``G <= A``, AM–GM inequality).
``imd``
    The IMD's combination: each input is replaced by its exponential transformation of ranks
    (see :func:`mapping.index.normalise.exponential`, 0–100, most at risk 100), then
    ``I = Σ w_i E(x_i)``. Limits compensation: a unit very high on one input stays high.

Weights may be a vector (one score per unit) or an (m × k) matrix whose columns are k weight
draws (k scores per unit, used by the Monte Carlo analysis).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from mapping.errors import DataValidationError, Problem
from mapping.index.normalise import exponential


def _unit_weights(w: np.ndarray) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError(f"weights must be finite and non-negative, got {w!r}")
    total = w.sum(axis=0)
    if np.any(total <= 0):
        raise ValueError("weights must not all be zero")
    return w / total


def weighted_arithmetic(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``Σ w_i x_i`` row-wise, weights rescaled to sum to one."""
    return x @ _unit_weights(w)


def weighted_geometric(x: np.ndarray, w: np.ndarray, offset: float = 0.01) -> np.ndarray:
    """``exp(Σ w_i ln(x_i + δ)) - δ`` row-wise, weights rescaled to sum to one.

    Raises
    ------
    DataValidationError
        If some ``x_i + δ <= 0`` (a log of a non-positive number).
    """
    shifted = x + offset
    if np.any(~(shifted > 0)):
        raise DataValidationError.single(
            "geometric aggregation",
            f"needs every value + offset ({offset:g}) > 0; the smallest value is "
            f"{float(np.min(x)):g}: normalise to a non-negative scale or raise geometric_offset",
        )
    return np.exp(np.log(shifted) @ _unit_weights(w)) - offset


def imd_sum(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """IMD-style ``Σ w_i E(x_i)``: exponential transformation of each column's ranks, summed."""
    return exponential(x) @ _unit_weights(w)


def aggregate_array(x: np.ndarray, w: np.ndarray, method: str, offset: float = 0.01) -> np.ndarray:
    """Dispatch to the aggregation ``method`` of :mod:`mapping.index.methods`."""
    from mapping.index.methods import aggregation  # noqa: PLC0415 (it imports this module)

    return aggregation(method).apply(x, w, offset)


def aggregate(
    frame: pd.DataFrame, weights: Mapping[str, float], method: str, offset: float = 0.01
) -> pd.Series:
    """Aggregate the columns of ``frame`` named in ``weights`` into one score per row.

    Returns
    -------
    pandas.Series
        Indexed like ``frame``.
    """
    cols = list(weights)
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataValidationError(
            [Problem("aggregation", "weighted column not in the data", column=c) for c in missing]
        )
    w = np.array([weights[c] for c in cols], dtype=float)
    out = aggregate_array(frame[cols].to_numpy(dtype=float), w, method, offset)
    return pd.Series(out, index=frame.index.copy())
