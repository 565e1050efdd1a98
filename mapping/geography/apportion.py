"""MSOA 2021 → LSOA 2021 apportioning (decision record DR-0001).

LSOAs nest exactly in MSOAs (2021 geography), so nothing is cut:

* a **rate** published only at MSOA level is given unchanged to every LSOA in the MSOA (the
  best estimate without small-area data; it hides variation within the MSOA, which the area
  profile says);
* a **count** is split between the MSOA's LSOAs in proportion to their Census 2021 population.
"""

from __future__ import annotations

import pandas as pd

from mapping.errors import DataValidationError, Problem


def msoa_to_lsoa(
    frame: pd.DataFrame,
    lsoa_msoa: pd.DataFrame,
    *,
    rates: list[str] = (),
    counts: list[str] = (),
    pop21: pd.Series | None = None,
    source: str = "data",
) -> pd.DataFrame:
    """Apportion columns keyed by ``msoa21_code`` to the LSOAs in ``lsoa_msoa``
    (columns ``lsoa21_code, msoa21_code``). ``pop21`` is indexed by ``lsoa21_code``."""
    missing = sorted(set(lsoa_msoa["msoa21_code"]) - set(frame["msoa21_code"]))
    if missing:
        raise DataValidationError([Problem(source, "MSOA has no row in the data", None,
                                           "msoa21_code", m) for m in missing[:25]])
    merged = lsoa_msoa[["lsoa21_code", "msoa21_code"]].merge(
        frame, on="msoa21_code", how="left", validate="many_to_one")
    out = merged[["lsoa21_code"]].copy()
    for col in rates:
        out[col] = merged[col]
    if counts:
        if pop21 is None:
            raise ValueError("apportioning counts needs pop21")
        pop = merged["lsoa21_code"].map(pop21).astype(float)
        share = pop / pop.groupby(merged["msoa21_code"]).transform("sum")
        for col in counts:
            out[col] = merged[col] * share
    return out
