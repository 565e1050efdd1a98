"""A short text summary of what a map shows, computed from the data (the map's text alternative).

:func:`risk_summary` answers "where are the areas most at risk on this measure?" in a sentence or
two, e.g. *"The 10 % of LSOAs most at risk (499 of 4,994) are concentrated in a few boroughs:
top five boroughs by share of their LSOAs in that 10 %: Tower Hamlets 35 % (50 of 144), …"*.
It is used by the app (above the map) and by the folium exports (in the side panel), so both
say the same thing. Plain text: callers escape it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mapping.outputs.formatting import number_text, prose_share

TOP_SHARE = 0.10
N_BOROUGHS = 5


@dataclass(frozen=True)
class BoroughShare:
    borough: str
    n_top: int
    n_areas: int

    @property
    def share(self) -> float:
        return self.n_top / self.n_areas if self.n_areas else 0.0


def most_at_risk(values: Sequence[float], higher_is_worse: bool = True,
                 share: float = TOP_SHARE) -> np.ndarray:
    """Boolean mask of the ``share`` of areas (with a value) most at risk; ties at the cut-off
    are all included. NaN is never in the mask."""
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    n = int(ok.sum())
    out = np.zeros(v.shape, dtype=bool)
    if n == 0:
        return out
    n_top = max(1, math.ceil(share * n))
    risk = v if higher_is_worse else -v
    cut = np.sort(risk[ok])[::-1][n_top - 1]
    out[ok] = risk[ok] >= cut
    return out


def borough_shares(values: Sequence[float], boroughs: Sequence[str],
                   higher_is_worse: bool = True, share: float = TOP_SHARE) -> list[BoroughShare]:
    """Per borough: how many of its areas (with a value) are in the ``share`` most at risk,
    sorted by that share (then by count, then name)."""
    v = np.asarray(values, dtype=float)
    top = most_at_risk(v, higher_is_worse, share)
    frame = pd.DataFrame({"borough": list(boroughs), "top": top, "ok": ~np.isnan(v)})
    g = frame.groupby("borough", sort=True)[["top", "ok"]].sum()
    rows = [BoroughShare(str(b), int(r["top"]), int(r["ok"])) for b, r in g.iterrows()]
    return sorted(rows, key=lambda r: (-r.share, -r.n_top, r.borough))


def risk_summary(values: Sequence[float], names: Sequence[str], boroughs: Sequence[str] | None,
                 *, measure: str, areas: str, higher_is_worse: bool = True,
                 share: float = TOP_SHARE, n_boroughs: int = N_BOROUGHS,
                 value_text=None, suppressed: Sequence[bool] | None = None) -> str:
    """A text summary of a map of ``values`` (one per area; NaN = no value).

    Parameters
    ----------
    values, names
        The value and the display name of every area shown.
    boroughs
        The borough name of every area, or ``None`` when the areas are boroughs.
    measure, areas
        Labels: the measure (``"Digital exclusion risk index"``) and the areas in the plural
        (``"LSOAs"``, ``"wards"``, ``"boroughs"``).
    higher_is_worse
        Direction of the measure.
    value_text
        Formats a value for the text (default: :func:`mapping.outputs.formatting.number_text`).
    suppressed
        True where a value is blank because of the small-count disclosure rule.
    """
    fmt = value_text or number_text
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    n, n_ok = len(v), int(ok.sum())
    if n_ok == 0:
        return f"{measure}: no {areas} shown have a value."
    n_sup = int((np.asarray(suppressed, dtype=bool) & ~ok).sum()) if suppressed is not None else 0
    why = ("suppressed small counts" if n_sup == n - n_ok else
           f"{n_sup:,} suppressed small counts, the others no data" if n_sup else "no data")
    missing = (f" {n - n_ok:,} of the {n:,} {areas} shown have no value ({why})."
               if n_ok < n else "")
    order = np.argsort(-v[ok] if higher_is_worse else v[ok], kind="stable")
    ranked = [str(names[i]) for i in np.flatnonzero(ok)[order]]
    direction = "highest" if higher_is_worse else "lowest"
    if boroughs is None or n_ok < 20 or len(set(boroughs)) < 3:
        top = [f"{ranked[j]} ({fmt(v[ok][order][j])})" for j in range(min(n_boroughs, n_ok))]
        low = ranked[-1]
        return (f"{measure}: the {len(top)} {areas} most at risk (the {direction} values) "
                f"are {', '.join(top)}. Least at risk: {low} ({fmt(v[ok][order][-1])})."
                f"{missing}")
    top_mask = most_at_risk(v, higher_is_worse, share)
    n_top = int(top_mask.sum())
    shares = borough_shares(v, boroughs, higher_is_worse, share)
    lead = [s for s in shares if s.n_top > 0][:n_boroughs]
    in_lead = sum(s.n_top for s in lead)
    n_with = sum(1 for s in shares if s.n_top > 0)
    pct = prose_share
    parts = ", ".join(f"{s.borough} {pct(s.share)} ({s.n_top} of {s.n_areas})" for s in lead)
    return (f"{measure}: the {pct(share)} of {areas} most at risk ({n_top:,} of {n_ok:,}, the "
            f"{direction} values) are in {n_with} of {len(shares)} boroughs; "
            f"{pct(in_lead / n_top)} of them are in the {len(lead)} boroughs listed here. "
            f"Top {len(lead)} boroughs by share of their {areas} in that {pct(share)}: {parts}."
            f"{missing}")
