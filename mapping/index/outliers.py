"""Outlier treatment by the skewness/kurtosis rule of the JRC and COINr.

What is implemented (following COINr's ``Treat()`` defaults, ``f1 = "winsorise"``,
``f2 = "log_CT"``, ``f_pass = "check_SkewKurt"``):

1. **Check.** An indicator *fails* when ``|skew| > skew_threshold`` **and**
   ``kurtosis > kurtosis_threshold`` (defaults 2.0 and 3.5). Skewness and kurtosis are the
   bias-corrected sample statistics (Excel's ``SKEW``/``KURT``, e1071 type 2, COINr's
   ``skew``/``kurt``; kurtosis is *excess* kurtosis)::

       g1 = m3 / m2^1.5,  skew = g1 · sqrt(n(n-1)) / (n-2)
       g2 = m4 / m2^2 - 3, kurt = ((n+1) g2 + 6) · (n-1) / ((n-2)(n-3))

   with ``m_k`` the k-th central moment (divided by n).
2. **Winsorise.** While the indicator fails and fewer than ``max_points`` units have been
   changed: if ``skew >= 0`` every unit holding the current maximum is set to the next lower
   distinct value, else every unit holding the current minimum is set to the next higher
   value; then re-check. (Ties move together, so slightly more than ``max_points`` units can be
   changed in the last step, as in COINr.)
3. **If it still fails** (``on_failure``):

   - ``log`` (COINr's default): discard the winsorisation and apply the shifted log to the
     original values, ``x' = ln(x - min x + 0.01 (max x - min x))`` when ``skew >= 0``.
     *Deviation from COINr:* for a negatively skewed indicator we apply the mirrored form
     ``x' = -ln(max x - x + 0.01 (max x - min x))`` (COINr logs regardless of the sign, which
     makes negative skew worse). Both keep the order of units and the direction.
   - ``keep_winsorised``: keep the winsorised values even though the rule still fails.
   - ``original``: keep the original values.

The treatment is computed on the units of the reference frame (after imputation) and is
reported per indicator: skew/kurtosis before and after, points winsorised, and what was done.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mapping.errors import DataValidationError
from mapping.index.spec import OutlierSpec


def _moments(x: np.ndarray) -> tuple[float, float, float]:
    """(m2, m3, m4): central moments divided by n."""
    d = x - x.mean()
    d2 = d * d
    return float(d2.mean()), float((d2 * d).mean()), float((d2 * d2).mean())


def _skew_from(n: int, m2: float, m3: float) -> float:
    if m2 == 0:
        return 0.0
    return m3 / m2**1.5 * np.sqrt(n * (n - 1)) / (n - 2)


def _kurt_from(n: int, m2: float, m4: float) -> float:
    if m2 == 0:
        return 0.0
    g2 = m4 / m2**2 - 3.0
    return ((n + 1) * g2 + 6.0) * (n - 1) / ((n - 2) * (n - 3))


def _sized_moments(x: np.ndarray, at_least: int, what: str) -> tuple[int, float, float, float]:
    """(n, m2, m3, m4), once ``x`` has the ``at_least`` values ``what`` needs."""
    if x.size < at_least:
        raise ValueError(f"{what} at least {at_least} values")
    return (x.size, *_moments(x))


def skewness(x: np.ndarray) -> float:
    """Bias-corrected sample skewness ``g1 · sqrt(n(n-1)) / (n-2)`` (Excel SKEW)."""
    n, m2, m3, _ = _sized_moments(x, 3, "skewness needs")
    return float(_skew_from(n, m2, m3))


def kurtosis(x: np.ndarray) -> float:
    """Bias-corrected sample excess kurtosis (Excel KURT)."""
    n, m2, _, m4 = _sized_moments(x, 4, "kurtosis needs")
    return float(_kurt_from(n, m2, m4))


def skew_kurt(x: np.ndarray) -> tuple[float, float]:
    """Both statistics from one pass over the data (needs at least 4 values)."""
    n, m2, m3, m4 = _sized_moments(x, 4, "skewness and kurtosis need")
    return float(_skew_from(n, m2, m3)), float(_kurt_from(n, m2, m4))


def fails(x: np.ndarray, skew_threshold: float, kurtosis_threshold: float) -> bool:
    """The JRC/COINr rule: ``|skew| > skew_threshold and kurtosis > kurtosis_threshold``."""
    sk, ku = skew_kurt(x)
    return abs(sk) > skew_threshold and ku > kurtosis_threshold


def winsorise(
    x: np.ndarray, max_points: int, skew_threshold: float, kurtosis_threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Iterative winsorisation (step 2 of the module docstring).

    Returns
    -------
    (values, changed)
        A new array and a boolean mask of the units whose value was changed.
    """
    y = np.array(x, dtype=float, copy=True)
    changed = np.zeros(y.size, dtype=bool)
    while changed.sum() < max_points:
        sk, ku = skew_kurt(y)
        if not (abs(sk) > skew_threshold and ku > kurtosis_threshold):
            break
        # pull the most extreme value on the side of the skew in to the next one
        at = y == (y.max() if sk >= 0 else y.min())
        rest = y[~at]
        if rest.size == 0:
            break
        y[at] = rest.max() if sk >= 0 else rest.min()
        changed |= at
    return y, changed


def log_shift(x: np.ndarray) -> np.ndarray:
    """Shifted log, mirrored for negative skew (see module docstring, step 3)."""
    lo, hi = float(x.min()), float(x.max())
    pad = 0.01 * (hi - lo)
    if skewness(x) >= 0:
        return np.log(x - lo + pad)
    return -np.log(hi - x + pad)


def treat_outliers(frame: pd.DataFrame, spec: OutlierSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the outlier rule to every column of ``frame`` (complete numeric data).

    Returns
    -------
    (treated, details)
        A new frame, and one row per indicator with ``skew_before``, ``kurtosis_before``,
        ``failed``, ``action`` (``none``/``winsorised``/``log``/``kept_winsorised``/
        ``kept_original``), ``points_winsorised``, ``skew_after``, ``kurtosis_after``.
    """
    out = {}
    rows = []
    if len(frame) < 4:
        if spec.method != "none":
            raise DataValidationError.single(
                "outlier treatment",
                f"needs at least 4 units to test skew and kurtosis, "
                f"got {len(frame)} (set outliers.method = 'none')",
            )
        nan = float("nan")
        details = pd.DataFrame(
            [
                {
                    "indicator": c,
                    "skew_before": nan,
                    "kurtosis_before": nan,
                    "failed": False,
                    "action": "none",
                    "points_winsorised": 0,
                    "skew_after": nan,
                    "kurtosis_after": nan,
                }
                for c in frame.columns
            ]
        )
        return frame.copy(), details
    for col in frame.columns:
        x = frame[col].to_numpy(dtype=float)
        sk, ku = skew_kurt(x)
        failed = abs(sk) > spec.skew_threshold and ku > spec.kurtosis_threshold
        action, n_win, y = "none", 0, x.copy()
        if spec.method == "winsorise" and failed:
            w, changed = winsorise(x, spec.max_points, spec.skew_threshold, spec.kurtosis_threshold)
            n_win = int(changed.sum())
            if not fails(w, spec.skew_threshold, spec.kurtosis_threshold):
                action, y = "winsorised", w
            elif spec.on_failure == "log":
                action, y, n_win = "log", log_shift(x), 0
            elif spec.on_failure == "keep_winsorised":
                action, y = "kept_winsorised", w
            else:
                action, n_win = "kept_original", 0
        out[col] = y
        after = skew_kurt(y) if action != "none" else (sk, ku)
        rows.append(
            {
                "indicator": col,
                "skew_before": sk,
                "kurtosis_before": ku,
                "failed": bool(failed),
                "action": action,
                "points_winsorised": n_win,
                "skew_after": after[0],
                "kurtosis_after": after[1],
            }
        )
    treated = pd.DataFrame(out, index=frame.index.copy(), columns=list(frame.columns))
    return treated, pd.DataFrame(rows)
