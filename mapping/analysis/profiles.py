"""One borough's profile from a build: its index position, its indicators against London, and
its most at-risk small areas. Used by ``notebooks/05-borough-profiles.py`` for any borough (one
parameterised notebook, never a copy per borough)."""

from __future__ import annotations

import pandas as pd

from mapping.errors import MappingError
from mapping.geography.rollup import overall_rollup
from mapping.index.ranking import ranks
from mapping.outputs import Outputs
from mapping.outputs.catalogue import BOROUGHS, SMALL_AREAS
from mapping.registry import Registry


class ProfileError(MappingError):
    """Unknown borough."""


def find_borough(outputs: Outputs, borough: str) -> tuple[str, str]:
    """(code, name) of a borough given by code or name (any case)."""
    table = outputs.table(BOROUGHS.table)
    key = str(borough).strip().casefold()
    for code, name in table[["borough_code", "borough_name"]].itertuples(index=False):
        if key in (str(code).casefold(), str(name).casefold()):
            return str(code), str(name)
    names = ", ".join(sorted(table["borough_name"]))
    raise ProfileError(f"unknown borough {borough!r}; choose a code such as E09000005 or one "
                       f"of: {names}")


def borough_summary(outputs: Outputs, code: str) -> pd.DataFrame:
    """The borough's index score, rank among boroughs and shares of residents in London's most
    at-risk LSOAs (one row)."""
    b = outputs.table(BOROUGHS.index_table)
    row = b[b["borough_code"] == code].copy()
    row["boroughs"] = len(b)
    cols = ["borough_code", "borough_name", "population", "n_units", "index_score",
            "index_rank", "boroughs", "share_top10", "share_top20", "n_units_top10",
            "n_units_top20"]
    return row[[c for c in cols if c in row.columns]].reset_index(drop=True)


def indicator_profile(outputs: Outputs, registry: Registry, code: str) -> pd.DataFrame:
    """Every input indicator for the borough against London: the borough's value, London's
    population-weighted value, the borough's rank among the 33 (1 = most at risk), unit,
    direction and vintage."""
    table = outputs.table(BOROUGHS.table)
    rows = []
    for ind in registry.select(role="input"):
        if ind.code not in table.columns:
            continue
        values = pd.to_numeric(table[ind.code], errors="coerce")
        london = overall_rollup(table.assign(**{ind.code: values}), rates=[ind.code])
        here = table["borough_code"] == code
        rows.append({
            "indicator": ind.code, "label": ind.label, "domain": ind.domain, "unit": ind.unit,
            "borough": float(values[here].iloc[0]), "london": float(london[ind.code]),
            "rank_among_boroughs": ranks(values, ind.direction)[here].iloc[0],
            "direction": ind.direction, "vintage": ind.vintage,
        })
    return pd.DataFrame(rows)


def domain_profile(outputs: Outputs, code: str) -> pd.DataFrame:
    """Domain scores of the borough against London (population-weighted over LSOAs)."""
    b = outputs.table(BOROUGHS.index_table)
    lsoa = outputs.table(SMALL_AREAS.index_table)
    cols = [c for c in b.columns if c.endswith("_score")]
    london = overall_rollup(lsoa, rates=cols)
    here = b[b["borough_code"] == code].iloc[0]
    return pd.DataFrame([
        {"measure": c, "borough": float(here[c]), "london": float(london[c]),
         "rank_among_boroughs": int(ranks(b[c])[b["borough_code"] == code].iloc[0])}
        for c in cols
    ])


def top_areas(outputs: Outputs, code: str, n: int = 10) -> pd.DataFrame:
    """The borough's ``n`` LSOAs most at risk, with their London rank, decile, Monte Carlo
    rank interval and the unstable flag."""
    lsoa = outputs.table(SMALL_AREAS.index_table)
    sub = lsoa[lsoa["borough_code"] == code].sort_values("index_rank")
    cols = ["lsoa21_code", "lsoa21_name", "ward24_name", "population", "index_score",
            "index_rank", "index_decile", "rank_p05", "rank_p95", "unstable"]
    return sub[[c for c in cols if c in sub.columns]].head(n).reset_index(drop=True)
