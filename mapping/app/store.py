"""The session's store: everything the views show, derived from the state and the build.

:class:`AppState` is a session's :class:`~mapping.app.state.SessionState` (its parameters)
together with what follows from them and the shared, read-only build
(:class:`~mapping.app.data.AppData`): the values and classes the map shows (one
:class:`Choropleth`, computed once per change and shared by the map, legend, summary and
table), the table and its CSV, an area's profile, the borough comparison, the search. It holds
no widgets: tests drive it directly, no browser needed.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re

import numpy as np
import pandas as pd

from mapping.app.data import (
    DOMAIN_PREFIX,
    EARLIER_PREFIX,
    INDEX_MEASURE,
    LEVELS,
    code_col,
    index_table,
    is_earlier,
    is_score,
    name_col,
    score_column,
)
from mapping.app.state import SessionState
from mapping.app.store_needs import MAIN_NEED, NeedsMixin
from mapping.index.engine import INDEX_COLUMN
from mapping.index.ranking import ranks
from mapping.index.rollup import rollup
from mapping.index.spec import SpecError
from mapping.maps.classify import NO_DATA_COLOUR, SCHEME_LABELS, Classes, classify
from mapping.maps.summary import risk_summary
from mapping.outputs.catalogue import LEVELS as CATALOGUE_LEVELS
from mapping.outputs.formatting import SUPPRESSED, fmt, range_text, weight_text

MAX_SEARCH_RESULTS = 25
_CODE_RE = re.compile(r"^E0[0-9]{7}$")


@dataclasses.dataclass(frozen=True)
class Choropleth:
    """What the map shows: one value and class per area of the level, and the legend."""

    level: str
    measure: str
    label: str
    unit: str
    values: np.ndarray  # float, NaN = no data / outside the frame
    classes: Classes
    n_areas: int
    #: True where the value is blank because of the small-count disclosure rule (DR-0004)
    suppressed: np.ndarray | None = None

    def is_suppressed(self) -> np.ndarray:
        if self.suppressed is None:
            return np.zeros(len(self.values), dtype=bool)
        return self.suppressed

    def legend(self) -> list[tuple[str, str]]:
        """(colour, text) per class, then the no-value entry when some area has no value,
        saying in words why (suppressed small count, or no data / outside the selection)."""
        rows = list(zip(self.classes.colours, self.classes.labels, strict=True))
        blank = np.isnan(self.values)
        sup = blank & self.is_suppressed()
        reasons = []
        if sup.any():
            reasons.append(f"{SUPPRESSED} (small count, {int(sup.sum()):,} areas)")
        if (blank & ~sup).any():
            reasons.append("no data or outside the selection")
        if reasons:
            rows.append((NO_DATA_COLOUR, "No value: " + "; ".join(reasons)))
        return rows


def csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas in a data string (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_safe_comment(line: str) -> str:
    return line.replace("\r", " ").replace("\n", " ")


class AppState(NeedsMixin, SessionState):
    """One session's store: its state parameters and the data derived from them."""

    def __init__(self, data, **params):
        self._last_good: pd.DataFrame | None = None
        self._view_cache: tuple[tuple, Choropleth] | None = None
        super().__init__(data, **params)

    # -- the index ------------------------------------------------------------------------------
    def _index(self, frame: tuple[str, ...]) -> pd.DataFrame:
        root = str(self._data.outputs.root)
        w = tuple(round(x, 6) for x in self.normalised_weights())
        return index_table(root, w, self.normalisation, self.aggregation, frame)

    def index_lsoa(self) -> pd.DataFrame:
        """LSOA index results for the current weights, methods and frame. An invalid method
        combination keeps the last good result and sets :attr:`message`."""
        try:
            out = self._index(self.frame_codes())
        except SpecError as exc:
            problems = [p for p in exc.problems if not p.startswith("robustness")]
            self.message = ("That combination of methods is not allowed, so the map still "
                            "shows the last valid index: " + "; ".join(problems or exc.problems))
            if self._last_good is None:
                spec = self._data.spec
                self._last_good = index_table(str(self._data.outputs.root),
                                              tuple(spec.domain_weights().values()),
                                              spec.indicator_level.normalisation,
                                              spec.domain_level.aggregation, ())
            return self._last_good
        if self.message:
            self.message = ""
        self._last_good = out
        return out

    def index_exact(self) -> bool:
        """False when the index shown was rebuilt from the published (small-count suppressed)
        indicators rather than from the build's full-data domain scores."""
        return bool(self.index_lsoa()["exact"].iloc[0])

    def index_london(self) -> pd.DataFrame:
        """The index with the current weights and methods over all of London (for London-wide
        shares such as "residents in London's most at-risk 10 %")."""
        if not self.frame_codes():
            return self.index_lsoa()
        try:
            return self._index(())
        except SpecError:
            return self.index_lsoa()

    # -- values per level -----------------------------------------------------------------------
    def values(self, measure: str | None = None, level: str | None = None) -> np.ndarray:
        """The measure's value for every area of the level (geometry order); NaN = no data or
        outside the selected boroughs when rescaled."""
        measure = measure or self.measure
        level = level or self.level
        lvl = self._data.levels[level]
        if is_score(measure):
            col = score_column(measure)
            vals = self._at_level(self.index_lsoa()[[col]], col, level)
        elif is_earlier(measure):
            earlier = self._data.earlier[measure[len(EARLIER_PREFIX):]]
            vals = self._at_level(earlier[[INDEX_COLUMN]], INDEX_COLUMN, level)
        elif measure == MAIN_NEED:
            # the value of the categorical map: the score of the area's highest need
            cols = [f"need_{n.code}" for n in self._data.needs.needs]
            vals = lvl.table[cols].max(axis=1).to_numpy(dtype=float)
        elif measure in lvl.table.columns:
            vals = lvl.table[measure].to_numpy(dtype=float)
        else:
            vals = np.full(len(lvl.table), np.nan)
        if self.rescale and self.boroughs:
            vals = np.where(self.in_focus(level), vals, np.nan)
        return vals

    def _at_level(self, lsoa_vals: pd.DataFrame, col: str, level: str) -> np.ndarray:
        """LSOA scores (geometry order) as they are, or rolled up to wards or boroughs."""
        if level == "lsoa":
            return lsoa_vals[col].to_numpy(dtype=float)
        rolled = self._data.model.rollup(lsoa_vals, level)
        table = self._data.levels[level].table
        return (table[[code_col(level)]].merge(rolled, on=code_col(level), how="left")
                [col].to_numpy(dtype=float))

    def in_focus(self, level: str | None = None) -> np.ndarray:
        """True for areas in the chosen boroughs (all True when none are chosen)."""
        table = self._data.levels[level or self.level].table
        if not self.boroughs:
            return np.ones(len(table), dtype=bool)
        return table["borough_code"].isin(self.boroughs).to_numpy()

    def _view_key(self) -> tuple:
        return (self.measure, self.level, self.scheme, self.k, self.palette,
                tuple(self.weights), self.normalisation, self.aggregation, self.rescale,
                tuple(sorted(self.boroughs)) if self.rescale else ())

    def view(self) -> Choropleth:
        """Values and classes for the map (and the legend, summary and table, which show the
        same); computed once per change of the choices."""
        key = self._view_key()
        if self._view_cache is not None and self._view_cache[0] == key:
            return self._view_cache[1]
        vals = self.values()
        if self.measure == MAIN_NEED:
            classes = self._need_classes(vals)
        else:
            classes = classify(vals, self.scheme, self.k, self.palette, fmt="{:.3g}",
                               higher_is_worse=self.higher_is_worse())
        unit = self.measure_unit()
        if unit == "%":
            labels = tuple(range_text(*lab.split(" to "), unit) for lab in classes.labels)
            classes = dataclasses.replace(classes, labels=labels)
        view = Choropleth(self.level, self.measure, self.measure_label(), unit, vals, classes,
                          len(vals), self.suppressed_mask())
        self._view_cache = (key, view)
        return view

    def suppressed_mask(self, measure: str | None = None, level: str | None = None) -> np.ndarray:
        """True for the areas whose value of ``measure`` the disclosure rule blanked (the
        published ``<code>_suppressed`` column); all False for the index and domain scores."""
        measure = measure or self.measure
        table = self._data.levels[level or self.level].table
        col = f"{measure}_suppressed"
        if col not in table.columns:
            return np.zeros(len(table), dtype=bool)
        return table[col].fillna(False).astype(bool).to_numpy()

    def summary(self, view: Choropleth | None = None) -> str:
        """The map's text alternative (plain text): where the areas most at risk are."""
        view = view or self.view()
        t = self._data.levels[self.level].table
        focus = self.in_focus()
        if self.measure == MAIN_NEED:
            shown = np.array(view.classes.labels + ("No data",), dtype=object)[
                view.classes.classes[focus]]
            counts = pd.Series(shown).value_counts()
            parts = [f"{label}: {int(counts.get(label, 0)):,}" for label in view.classes.labels]
            return (f"Main need of the {int(focus.sum()):,} "
                    f"{CATALOGUE_LEVELS[self.level].plural} shown (an area's need is named when "
                    "it is in London's top quarter for it): " + "; ".join(parts) + ".")
        names = t[name_col(self.level)].astype(str).to_numpy()
        boroughs = None if self.level == "borough" else \
            t["borough_name"].astype(str).to_numpy()[focus]
        unit = self.measure_unit()
        return risk_summary(view.values[focus], names[focus], boroughs,
                            measure=self.measure_label(),
                            areas=CATALOGUE_LEVELS[self.level].plural,
                            higher_is_worse=self.higher_is_worse(),
                            value_text=lambda v: fmt(v, unit, with_unit=False),
                            suppressed=view.is_suppressed()[focus])

    # -- zoom -----------------------------------------------------------------------------------
    def focus_bounds(self) -> tuple[float, float, float, float]:
        """Web Mercator bounds of the chosen boroughs (all London when none)."""
        b = self._data.levels["borough"]
        mask = b.table["borough_code"].isin(self.boroughs).to_numpy() if self.boroughs else \
            np.ones(len(b.table), dtype=bool)
        bb = b.bounds[mask]
        return (float(bb[:, 0].min()), float(bb[:, 1].min()), float(bb[:, 2].max()),
                float(bb[:, 3].max()))

    def area_bounds(self, level: str, code: str) -> tuple[float, float, float, float] | None:
        lvl = self._data.levels[level]
        idx = np.flatnonzero(lvl.codes == code)
        if not len(idx):
            return None
        return tuple(float(v) for v in lvl.bounds[idx[0]])

    def context_bounds(self, level: str, code: str) -> tuple[float, float, float, float] | None:
        """What the map shows around a selected area, so that it is seen in its context: the
        area's borough (an LSOA or a ward), or the boroughs in focus, all London when none (a
        borough). ``None`` for an unknown area."""
        area = self.area_bounds(level, code)
        if area is None:
            return None
        if level == "borough":
            outer = self.focus_bounds()
        else:
            t = self._data.levels[level].table
            borough = t.loc[self._data.levels[level].codes == code, "borough_code"]
            outer = self.area_bounds("borough", str(borough.iloc[0])) if len(borough) else None
        if outer is None:
            return area
        return (min(area[0], outer[0]), min(area[1], outer[1]), max(area[2], outer[2]),
                max(area[3], outer[3]))

    # -- table view -----------------------------------------------------------------------------
    def table(self, view: Choropleth | None = None) -> pd.DataFrame:
        """The rows the map shows (areas of the level, in the chosen boroughs if any), with the
        same values and class labels; sorted most at risk first."""
        view = view or self.view()
        t = self._data.levels[self.level].table
        out = pd.DataFrame({"code": t[code_col(self.level)], "name": t[name_col(self.level)]})
        if self.level == "lsoa":
            out["ward"] = t["ward24_name"]
        if self.level != "borough":
            out["borough"] = t["borough_name"]
        out["population"] = t["population"]
        out["value"] = view.values
        labels = np.array([*view.classes.labels, "No data"], dtype=object)
        out["class"] = labels[view.classes.classes]
        sup = view.is_suppressed() & np.isnan(view.values)
        out.loc[sup, "class"] = f"No value: {SUPPRESSED} (small count)"
        out["value_suppressed"] = sup
        out["class_number"] = np.where(view.classes.classes < len(view.classes.labels),
                                       view.classes.classes + 1, 0)
        # London (or frame) rank of the value: 1 = most at risk
        direction = "higher_is_worse" if self.higher_is_worse() else "higher_is_better"
        out["rank"] = ranks(pd.Series(view.values), direction).to_numpy()
        out = out[self.in_focus()]
        return out.sort_values(["rank", "code"], na_position="last").reset_index(drop=True)

    def csv(self) -> str:
        """The table as CSV with a ``#`` header block: what it shows, the method, the build
        version and every data attribution."""
        table = self.table()
        needs = self._data.needs
        t = self._data.levels[self.level].table.set_index(code_col(self.level))
        if needs is not None and "main_need" in t.columns:
            # the need types and support gap of every area shown (DR-0011)
            table["main_need"] = table["code"].map(t["main_need"]).map(
                lambda c: needs.label(c, none="none stands out"))
            table["nearest_support_m"] = table["code"].map(t["nearest_support_m"])
            if self.level == "lsoa":
                table["nearest_support"] = table["code"].map(t["nearest_support"])
            table["high_risk_residents_beyond_walk"] = table["code"].map(
                self.beyond_walk(self.level)).fillna(0).astype("int64")
        for col in ("code", "name", "ward", "borough", "class", "main_need", "nearest_support"):
            if col in table.columns:
                table[col] = table[col].astype(str).map(csv_safe)
        d = self._data
        domains = ", ".join(f"{name} {weight_text(w)}" for name, w in zip(
            d.domains.values(), self.normalised_weights(), strict=True))
        lines = [
            "# London digital exclusion map: data export",
            f"# Measure: {self.measure_label()} ({self.measure}); unit: {self.measure_unit()}",
            f"# Level: {LEVELS[self.level]}",
            "# Boroughs: " + (", ".join(self.borough_names(sorted(self.boroughs)))
                              or "all of London"),
            f"# Index method: weights {domains}; normalisation {self.normalisation}; "
            f"aggregation {self.aggregation}; reference frame "
            f"{'selected boroughs' if self.frame_codes() else 'London'}",
            f"# Classes: {SCHEME_LABELS[self.scheme]}, {self.k} classes",
            f"# Build version: {d.build_version}; built {d.built_at}",
            "# Rank: 1 = most at risk within the areas shown",
            *([f"# Need types and support gap (DR-0011): main need = the need type in whose "
               f"London top quarter the area is, highest first; distance = straight line from a "
               f"point inside each LSOA to the nearest support place (wards, boroughs: "
               f"population-weighted mean); high-risk residents beyond {self.walk_m} m = "
               f"residents of London's most at-risk 20 % of LSOAs farther than that"]
              if needs is not None else []),
            "# Sources:",
            *(f"#   {a}" for a in d.outputs.manifest.get("attributions", [])),
        ]
        buf = io.StringIO()
        buf.write("\n".join(csv_safe_comment(line) for line in lines) + "\n")
        table.to_csv(buf, index=False, float_format="%.6g", lineterminator="\n")
        return buf.getvalue()

    # -- boroughs -------------------------------------------------------------------------------
    def borough_table(self) -> pd.DataFrame:
        """Per borough: population-weighted index score, rank (1 = most at risk), and the share
        of residents living in London's most at-risk 10 % and 20 % of LSOAs (current weights and
        methods, London frame)."""
        idx = self.index_london()
        lsoa = self._data.levels["lsoa"].table
        units = pd.DataFrame({"borough_code": lsoa["borough_code"].to_numpy(),
                              "population": lsoa["population"].to_numpy(),
                              INDEX_COLUMN: idx[INDEX_COLUMN].to_numpy(dtype=float),
                              "index_decile": idx["index_decile"].to_numpy(dtype=float),
                              "index_quintile": idx["index_quintile"].to_numpy(dtype=float)})
        g = rollup(units, "borough_code", "population", [INDEX_COLUMN])
        out = pd.DataFrame({
            "borough_code": g["borough_code"],
            "score": g[INDEX_COLUMN].to_numpy(),
            "share_top10_pct": (100 * g["share_top10"]).to_numpy(),
            "share_top20_pct": (100 * g["share_top20"]).to_numpy(),
            "population": g["population"].astype("int64").to_numpy(),
            "rank": g["index_rank"].to_numpy(),
        })
        names = self._data.boroughs.set_index("borough_code")["borough_name"]
        out.insert(1, "borough", out["borough_code"].map(names))
        needs, boro = self._data.needs, self._data.levels["borough"].table
        if needs is not None and "residents_beyond_walk" in boro.columns:
            b = boro.set_index("borough_code")
            out["beyond_walk"] = out["borough_code"].map(self.beyond_walk("borough")).fillna(
                0).astype("int64")
            out["common_need"] = out["borough_code"].map(b["most_common_need"]).map(
                lambda c: needs.label(c, none="none stands out"))
        return out.sort_values("rank").reset_index(drop=True)

    # -- profile --------------------------------------------------------------------------------
    def profile(self, code: str, level: str | None = None) -> dict | None:
        """Everything the profile panel shows for one area (plain data; the view escapes it)."""
        level = level or self.level
        lvl = self._data.levels[level]
        rows = np.flatnonzero(lvl.codes == code)
        if not len(rows):
            return None
        i = int(rows[0])
        row = lvl.table.iloc[i]
        d = self._data
        info = {"level": level, "code": code, "name": str(row[name_col(level)]),
                "borough": str(row.get("borough_name", "")),
                "borough_code": str(row.get("borough_code", "")),
                "population": int(row["population"])}
        if level == "lsoa":
            info["ward"] = f"{row['ward24_name']} ({row['ward24_code']})"
            info["msoa"] = str(row["msoa21_code"])
        elif level == "ward":
            info["ward"] = f"{row['ward24_name']} ({code})"
        info["indicators"] = self._profile_indicators(lvl, row, i)
        # index and domains at this level
        idx_vals = self.values(INDEX_MEASURE, level)
        score = float(idx_vals[i])
        info["index"] = score
        rank = ranks(pd.Series(idx_vals))[i]
        info["rank"] = None if pd.isna(rank) else int(rank)
        info["n_ranked"] = int(np.sum(~np.isnan(idx_vals)))
        domains = []
        for (dcode, dname), w in zip(d.domains.items(), self.normalised_weights(), strict=True):
            dv = float(self.values(DOMAIN_PREFIX + dcode, level)[i])
            contrib = w * dv if self.aggregation == "arithmetic" else float("nan")
            domains.append({"code": dcode, "name": dname, "weight": w, "score": dv,
                            "contribution": contrib,
                            "share": contrib / score if score and not math.isnan(contrib)
                            and not math.isnan(score) else float("nan")})
        info["domains"] = domains
        info["interval"] = None
        if level == "lsoa" and d.robustness is not None and code in d.robustness.index:
            r = d.robustness.loc[code]
            info["interval"] = {"p05": float(r["rank_p05"]), "p95": float(r["rank_p95"]),
                                "unstable": bool(r["unstable"]),
                                "n": int(len(d.robustness))}
        info["default_method"] = self.is_default_method()
        info["support"] = self._profile_support(row, level)
        return info

    def _profile_indicators(self, lvl, row, i: int) -> list[dict]:
        d = self._data
        out = []
        for ind_code, meta in d.indicators.items():
            if ind_code not in lvl.table.columns:
                continue
            v = float(row[ind_code]) if pd.notna(row[ind_code]) else float("nan")
            sup_col = f"{ind_code}_suppressed"
            suppressed = bool(row[sup_col]) if sup_col in lvl.table.columns and pd.notna(
                row[sup_col]) else False
            pct = lvl.percentiles[ind_code].iloc[i] if ind_code in lvl.percentiles else np.nan
            out.append({"code": ind_code, "label": meta["label"], "unit": meta["unit"],
                        "domain": d.domains.get(meta.get("domain", ""), meta.get("domain", "")),
                        "value": v, "percentile": float(pct),
                        "suppressed": suppressed and math.isnan(v),
                        "direction": meta["direction"], "vintage": d.vintage(ind_code)})
        return out

    # -- search ---------------------------------------------------------------------------------
    def search(self, text: str) -> list[tuple[str, str, str]]:
        """Areas matching ``text`` (LSOA code or name, ward name, borough name), best first:
        ``(label, level, code)``. Case-insensitive substring match; at most 25 results."""
        q = " ".join(str(text).split()).lower()[:80]
        if len(q) < 2:
            return []
        out: list[tuple[int, str, str, str]] = []
        b = self._data.boroughs
        for code, name in zip(b["borough_code"], b["borough_name"], strict=True):
            if q in name.lower() or q == code.lower():
                out.append((0 if name.lower().startswith(q) else 1, f"{name} (borough)",
                            "borough", code))
        w = self._data.levels["ward"].table
        hit = w["ward24_name"].str.lower().str.contains(q, regex=False) | (
            w["ward24_code"].str.lower() == q)
        for _, r in w[hit].iterrows():
            out.append((2 if r["ward24_name"].lower().startswith(q) else 3,
                        f"{r['ward24_name']}, {r['borough_name']} (ward)", "ward",
                        r["ward24_code"]))
        lsoa = self._data.levels["lsoa"].table
        hit = (lsoa["lsoa21_code"].str.lower().str.startswith(q)
               | lsoa["lsoa21_name"].str.lower().str.contains(q, regex=False))
        for _, r in lsoa[hit].head(MAX_SEARCH_RESULTS).iterrows():
            out.append((4, f"{r['lsoa21_name']} – {r['lsoa21_code']} (LSOA, {r['ward24_name']})",
                        "lsoa", r["lsoa21_code"]))
        out.sort(key=lambda t: (t[0], t[1]))
        return [(lab, lvl, code) for _, lab, lvl, code in out[:MAX_SEARCH_RESULTS]]

    def go_to(self, level: str, code: str) -> tuple[float, float, float, float] | None:
        """Select a search result: boroughs focus the map; wards and LSOAs switch to their
        level and are selected. Returns the bounds to fly to (a ward or an LSOA in its
        borough: :meth:`context_bounds`)."""
        if level == "borough":
            self.param.update(boroughs=[code], selected="" if self.level != "borough" else code)
            return self.focus_bounds()
        self.param.update(level=level, selected=code)
        return self.context_bounds(level, code)
