"""Need types: which kinds of need drive an area's risk, and the support that fits them.

The rule (DR-0011), for every LSOA:

* each indicator of a need type (``mapping/specs/needs.toml``) is turned into its London
  percentile, 0–100, so that higher means more need (``higher_is_better`` indicators reversed);
* a need's **score** is the mean of its indicators' percentiles;
* the **main need** is the need with the highest score, named only when that score is at least
  ``stands_out`` (default 75: the area is in London's top quarter for that need); otherwise
  "no single need stands out";
* **needs** lists every need at or above ``stands_out``, highest first.

Wards and boroughs take the population-weighted mean of their LSOAs' need scores and the same
rule. Percentiles rather than index weights, because a support decision needs the kind of
need even where the index gives it no weight (connection and language, DR-0009).

Pure functions over frames; the need table is data (TOML) a borough can edit.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mapping.errors import DataValidationError, Problem
from mapping.index.ranking import percentiles
from mapping.index.spec import SPECS_DIR

NEEDS_FILE = SPECS_DIR / "needs.toml"
NONE_STANDS_OUT = "none"
NONE_LABEL = "No single need stands out"


@dataclass(frozen=True)
class Need:
    code: str
    label: str
    indicators: tuple[str, ...]
    support: tuple[str, ...]


@dataclass(frozen=True)
class Support:
    code: str
    label: str
    description: str


@dataclass(frozen=True)
class NeedTable:
    needs: tuple[Need, ...]
    support: dict[str, Support]
    stands_out: float
    high_risk: int
    walk_m: float
    source: str

    @property
    def codes(self) -> set[str]:
        return {n.code for n in self.needs}

    def label(self, code: object, none: str = NONE_LABEL) -> str:
        """The label of a need code; ``none`` for ``none`` (or anything not in the table)."""
        return next((n.label for n in self.needs if n.code == code), none)

    def labels(self, codes: object, skip: object = None) -> list[str]:
        """Labels of the known codes in a ``;``-separated list (the build's ``needs``),
        leaving out ``skip``."""
        return [self.label(c) for c in str(codes).split(";") if c in self.codes and c != skip]

    def support_for(self, code: object) -> list[Support]:
        """The kinds of support that fit a need (none for ``none`` or an unknown code)."""
        need = next((n for n in self.needs if n.code == code), None)
        return [self.support[s] for s in need.support] if need else []

    @property
    def indicators(self) -> list[str]:
        return list(dict.fromkeys(i for n in self.needs for i in n.indicators))


def load_needs(path: str | Path = NEEDS_FILE, known: set[str] | None = None) -> NeedTable:
    """Read and check a need table; every problem is reported at once, naming the key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataValidationError.single(path, "need table not found") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataValidationError.single(path, f"not a valid TOML need table: {exc}") from None
    problems: list[Problem] = []
    where = str(path)
    settings = data.get("settings", {})

    def number(key: str, default: float, lo: float, hi: float) -> float:
        value = settings.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            problems.append(Problem(where, f"settings.{key} must be a number from {lo:g} to "
                                    f"{hi:g}", column=f"settings.{key}", value=str(value)))
            return default
        return float(value)

    stands_out = number("stands_out", 75, 0, 100)
    high_risk = number("high_risk", 1, 1, 5)
    walk_m = number("walk_m", 800, 1, 50_000)
    support = {}
    for n, s in enumerate(data.get("support", []), start=1):
        code = str(s.get("code", ""))
        if not code or code in support:
            problems.append(Problem(where, f"support {n}: missing or duplicated code",
                                    column="support.code", value=code))
        support[code] = Support(code, str(s.get("label", code)), str(s.get("description", "")))
    needs, seen = [], set()
    for n, entry in enumerate(data.get("need", []), start=1):
        code = str(entry.get("code", ""))
        if not code or code in seen or code == NONE_STANDS_OUT:
            problems.append(Problem(where, f"need {n}: missing, duplicated or reserved code",
                                    column="need.code", value=code))
        seen.add(code)
        inds = tuple(entry.get("indicators", ()))
        if not inds:
            problems.append(Problem(where, f"need {code!r}: no indicators",
                                    column="need.indicators"))
        for i in inds:
            if known is not None and i not in known:
                problems.append(Problem(where, f"need {code!r}: unknown indicator",
                                        column="need.indicators", value=str(i)))
        sups = tuple(entry.get("support", ()))
        for s in sups:
            if s not in support:
                problems.append(Problem(where, f"need {code!r}: support not declared in "
                                        "[[support]]", column="need.support", value=str(s)))
        needs.append(Need(code, str(entry.get("label", code)), inds, sups))
    if not needs:
        problems.append(Problem(where, "no [[need]] tables", column="need"))
    if problems:
        raise DataValidationError(problems)
    return NeedTable(tuple(needs), support, stands_out, int(high_risk), walk_m, where)


def need_percentiles(values: pd.DataFrame, directions: dict[str, str]) -> pd.DataFrame:
    """London percentile (0–100, ties take the highest) of each column, turned so that higher
    means more need (:func:`mapping.index.ranking.percentiles` of the aligned values)."""
    signs = pd.Series({c: -1.0 if directions.get(c) == "higher_is_better" else 1.0
                       for c in values.columns})
    return percentiles(values.astype(float) * signs)


def need_scores(values: pd.DataFrame, table: NeedTable,
                directions: dict[str, str]) -> pd.DataFrame:
    """Per unit, each need's score: the mean percentile of its indicators (NaN cells, e.g.
    suppressed ones, are left out of the mean)."""
    pct = need_percentiles(values[table.indicators], directions)
    return pd.DataFrame({n.code: pct[list(n.indicators)].mean(axis=1, skipna=True)
                         for n in table.needs}, index=values.index)


def main_needs(scores: pd.DataFrame, table: NeedTable) -> pd.DataFrame:
    """``main_need`` (code, or ``none``) and ``needs`` (``;``-separated codes at or above the
    threshold, highest first) for each row of need scores."""
    arr = scores.to_numpy(dtype=float)
    filled = np.where(np.isnan(arr), -np.inf, arr)
    best = filled.argmax(axis=1)
    top = filled[np.arange(len(arr)), best]
    codes = np.array(scores.columns)
    main = np.where(top >= table.stands_out, codes[best], NONE_STANDS_OUT)
    listed = []
    for row in filled:
        order = np.argsort(-row, kind="stable")
        listed.append(";".join(codes[i] for i in order if row[i] >= table.stands_out))
    return pd.DataFrame({"main_need": main, "needs": listed}, index=scores.index)
