"""Per-session app state (``param``) and everything derived from it, without Panel widgets.

One :class:`AppState` per browser session. It holds the choices (measure, level, classes,
boroughs, weights, methods, selection) and answers the questions the views ask: the values and
classes the map shows, the table that matches it, an area's profile, the borough comparison, a
search, and the URL query that reproduces the view. Tests drive it directly, no browser needed.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import param

from mapping.app.data import (
    AGGREGATIONS,
    DOMAIN_PREFIX,
    EARLIER_PREFIX,
    INDEX_MEASURE,
    LEVELS,
    NORMALISATIONS,
    AppData,
    code_col,
    index_table,
    name_col,
    rollup,
)
from mapping.disclosure import SUPPRESSED
from mapping.index.engine import INDEX_COLUMN, domain_column
from mapping.index.spec import SpecError
from mapping.maps.classify import (
    NO_DATA_COLOUR,
    PALETTES,
    SCHEME_LABELS,
    SCHEMES,
    Classes,
    classify,
)
from mapping.maps.summary import risk_summary

PALETTE_LABELS = {"viridis": "Viridis (colour-blind safe)", "cividis": "Cividis (colour-blind "
                  "safe)", "ylorrd": "Yellow–orange–red", "ylgnbu": "Yellow–green–blue"}
MAX_SEARCH_RESULTS = 25
_PLURAL = {"lsoa": "LSOAs", "ward": "wards", "borough": "boroughs"}
_CODE_RE = re.compile(r"^E0[0-9]{7}$")


@dataclasses.dataclass(frozen=True)
class MapView:
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


def _fmt(value: float, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    text = f"{value:,.3g}" if abs(value) >= 1 else f"{value:.3g}"
    return f"{text} %" if unit == "%" else text


def csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas in a data string (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class AppState(param.Parameterized):
    """One session's choices. Parameters double as the widgets' source and the URL state."""

    measure = param.Selector(default=INDEX_MEASURE, objects=[INDEX_MEASURE])
    level = param.Selector(default="lsoa", objects=list(LEVELS))
    scheme = param.Selector(default="quantiles", objects=list(SCHEMES))
    k = param.Integer(default=5, bounds=(3, 7))
    palette = param.Selector(default="viridis", objects=list(PALETTES))
    boroughs = param.ListSelector(default=[], objects=[])
    rescale = param.Boolean(default=False, doc="Recompute the index within the chosen boroughs")
    weights = param.List(default=[], doc="Domain weights, in the order of the specification")
    normalisation = param.Selector(default="minmax", objects=list(NORMALISATIONS))
    aggregation = param.Selector(default="arithmetic", objects=list(AGGREGATIONS))
    selected = param.String(default="", doc="Code of the selected area at the current level")
    compare_a = param.String(default="")
    compare_b = param.String(default="")
    libraries = param.Boolean(default=False)
    tiles = param.Boolean(default=False)
    message = param.String(default="", doc="Problem with the last method choice, shown to the user")
    note = param.String(default="", doc="Why the measure or level was changed for the user")

    def __init__(self, data: AppData, **params):
        self._data = data
        super().__init__(**params)
        self.param.measure.objects = list(data.measures())
        self.param.boroughs.objects = list(data.boroughs["borough_code"])
        if not self.weights:
            self.weights = self.default_weights()
        self._last_good: pd.DataFrame | None = None
        self.param.watch(self._carry_selection, "level")
        self.param.watch(self._fit_measure_to_level, ["measure", "level"])
        self._fit_measure_to_level()

    def _fit_measure_to_level(self, *events) -> None:
        """Borough-only indicators have values for boroughs only. Choosing one (from the list,
        a URL or a script) switches the map to boroughs; leaving the borough level while one is
        shown switches the measure back to the index. Either way :attr:`note` says why."""
        if getattr(self, "_fitting", False):
            return
        names = {ev.name for ev in events}
        if names and self.note:
            self.note = ""
        if self.level in self._data.measure_levels(self.measure):
            return
        label = self.measure_label()
        self._fitting = True
        try:
            if "level" in names and "measure" not in names:
                self.param.update(
                    measure=INDEX_MEASURE,
                    note=f"{label} is published for boroughs only, so the map now shows the "
                         f"composite index for {_PLURAL[self.level]}.")
            else:
                self.param.update(level="borough",
                                  note=f"{label} is published for boroughs only, so the map "
                                       "shows boroughs.")
        finally:
            self._fitting = False

    def _carry_selection(self, ev) -> None:
        """On a level change, select the new level's area that holds the old selection."""
        if self.selected and self.selected not in set(self._data.levels[ev.new].codes):
            self.selected = self.carry_selection(ev.old, ev.new)

    # -- basics ---------------------------------------------------------------------------------
    @property
    def data(self) -> AppData:
        return self._data

    def default_weights(self) -> list[float]:
        return [float(d.weight) for d in self._data.spec.domains]

    def normalised_weights(self) -> list[float]:
        total = sum(self.weights)
        if total <= 0:
            return [1.0 / len(self.weights)] * len(self.weights)
        return [w / total for w in self.weights]

    def reset_method(self) -> None:
        """Back to the published index: default weights and methods, London frame."""
        lv = self._data.spec
        self.param.update(weights=self.default_weights(),
                          normalisation=lv.indicator_level.normalisation,
                          aggregation=lv.domain_level.aggregation, rescale=False)

    def is_default_method(self) -> bool:
        """True when the index shown is the published one (default weights and methods,
        London frame)."""
        spec = self._data.spec
        return (bool(np.allclose(self.normalised_weights(), list(spec.domain_weights().values())))
                and self.normalisation == spec.indicator_level.normalisation
                and self.aggregation == spec.domain_level.aggregation
                and not self.frame_codes())

    def measures(self, level: str | None = None) -> dict[str, str]:
        """The measures offered at ``level`` (default: the current level): key -> label."""
        return self._data.measures(level or self.level)

    def measure_label(self, measure: str | None = None) -> str:
        return self._data.measures()[measure or self.measure]

    def measure_unit(self, measure: str | None = None) -> str:
        m = measure or self.measure
        if m == INDEX_MEASURE or m.startswith((DOMAIN_PREFIX, EARLIER_PREFIX)):
            return "score"
        return str(self._data.indicators.get(m, {}).get("unit", ""))

    def frame_codes(self) -> tuple[str, ...]:
        return tuple(sorted(self.boroughs)) if (self.rescale and self.boroughs) else ()

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
                self._last_good = index_table(str(self._data.outputs.root),
                                              tuple(self._data.spec.domain_weights().values()),
                                              self._data.spec.indicator_level.normalisation,
                                              self._data.spec.domain_level.aggregation, ())
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
    def _index_column(self, measure: str) -> str:
        if measure == INDEX_MEASURE:
            return INDEX_COLUMN
        return domain_column(measure[len(DOMAIN_PREFIX):])

    def values(self, measure: str | None = None, level: str | None = None) -> np.ndarray:
        """The measure's value for every area of the level (geometry order); NaN = no data or
        outside the selected boroughs when rescaled."""
        measure = measure or self.measure
        level = level or self.level
        lvl = self._data.levels[level]
        if measure == INDEX_MEASURE or measure.startswith(DOMAIN_PREFIX):
            col = self._index_column(measure)
            vals = self._at_level(self.index_lsoa()[[col]], col, level)
        elif measure.startswith(EARLIER_PREFIX):
            earlier = self._data.earlier[measure[len(EARLIER_PREFIX):]]
            vals = self._at_level(earlier[[INDEX_COLUMN]], INDEX_COLUMN, level)
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
        rolled = rollup(self._data.levels["lsoa"].table, lsoa_vals, level)
        table = self._data.levels[level].table
        return (table[[code_col(level)]].merge(rolled, on=code_col(level), how="left")
                [col].to_numpy(dtype=float))

    def in_focus(self, level: str | None = None) -> np.ndarray:
        """True for areas in the chosen boroughs (all True when none are chosen)."""
        table = self._data.levels[level or self.level].table
        if not self.boroughs:
            return np.ones(len(table), dtype=bool)
        return table["borough_code"].isin(self.boroughs).to_numpy()

    def view(self) -> MapView:
        """Values and classes for the map (and the table, which shows the same)."""
        vals = self.values()
        fmt = "{:.3g}"
        classes = classify(vals, self.scheme, self.k, self.palette, fmt=fmt,
                           higher_is_worse=self.higher_is_worse())
        unit = self.measure_unit()
        if unit == "%":
            classes = dataclasses.replace(
                classes, labels=tuple(lab.replace(" to ", " % to ") + " %"
                                      for lab in classes.labels))
        return MapView(self.level, self.measure, self.measure_label(), unit, vals, classes,
                       len(vals), self.suppressed_mask())

    def suppressed_mask(self, measure: str | None = None, level: str | None = None) -> np.ndarray:
        """True for the areas whose value of ``measure`` the disclosure rule blanked (the
        published ``<code>_suppressed`` column); all False for the index and domain scores."""
        measure = measure or self.measure
        table = self._data.levels[level or self.level].table
        col = f"{measure}_suppressed"
        if col not in table.columns:
            return np.zeros(len(table), dtype=bool)
        return table[col].fillna(False).astype(bool).to_numpy()

    def higher_is_worse(self, measure: str | None = None) -> bool:
        m = measure or self.measure
        if m == INDEX_MEASURE or m.startswith(DOMAIN_PREFIX):
            return True
        return self._data.indicators.get(m, {}).get("direction",
                                                    "higher_is_worse") == "higher_is_worse"

    def summary(self, view: MapView | None = None) -> str:
        """The map's text alternative (plain text): where the areas most at risk are."""
        view = view or self.view()
        t = self._data.levels[self.level].table
        focus = self.in_focus()
        areas = _PLURAL[self.level]
        names = t[name_col(self.level)].astype(str).to_numpy()
        boroughs = None if self.level == "borough" else \
            t["borough_name"].astype(str).to_numpy()[focus]
        unit = self.measure_unit()
        return risk_summary(view.values[focus], names[focus], boroughs,
                            measure=self.measure_label(), areas=areas,
                            higher_is_worse=self.higher_is_worse(),
                            value_text=lambda v: _fmt(v, unit),
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

    # -- table view -----------------------------------------------------------------------------
    def table(self, view: MapView | None = None) -> pd.DataFrame:
        """The rows the map shows (areas of the level, in the chosen boroughs if any), with the
        same values and class labels; sorted most at risk first."""
        view = view or self.view()
        lvl = self._data.levels[self.level]
        t = lvl.table
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
        higher_is_worse = self.higher_is_worse()
        ranks = pd.Series(view.values).rank(ascending=not higher_is_worse, method="min")
        out["rank"] = ranks.astype("Int64").to_numpy()
        out = out[self.in_focus()]
        return out.sort_values(["rank", "code"], na_position="last").reset_index(drop=True)

    def csv(self) -> str:
        """The table as CSV with a ``#`` header block: what it shows, the method, the build
        version and every data attribution."""
        table = self.table()
        for col in ("code", "name", "ward", "borough", "class"):
            if col in table.columns:
                table[col] = table[col].astype(str).map(csv_safe)
        d = self._data
        domains = ", ".join(f"{name} {w:.0%}" for name, w in zip(
            d.domains.values(), self.normalised_weights(), strict=True))
        lines = [
            "# London digital exclusion map: data export",
            f"# Measure: {self.measure_label()} ({self.measure}); unit: {self.measure_unit()}",
            f"# Level: {LEVELS[self.level]}",
            "# Boroughs: " + (", ".join(self.borough_names(self.boroughs)) or "all of London"),
            f"# Index method: weights {domains}; normalisation {self.normalisation}; "
            f"aggregation {self.aggregation}; reference frame "
            f"{'selected boroughs' if self.frame_codes() else 'London'}",
            f"# Classes: {SCHEME_LABELS[self.scheme]}, {self.k} classes",
            f"# Build version: {d.build_version}; built {d.built_at}",
            "# Rank: 1 = most at risk within the areas shown",
            "# Sources:",
            *(f"#   {a}" for a in d.outputs.manifest.get("attributions", [])),
        ]
        buf = io.StringIO()
        buf.write("\n".join(csv_safe_comment(line) for line in lines) + "\n")
        table.to_csv(buf, index=False, float_format="%.6g", lineterminator="\n")
        return buf.getvalue()

    def borough_names(self, codes) -> list[str]:
        names = dict(zip(self._data.boroughs["borough_code"], self._data.boroughs["borough_name"],
                         strict=True))
        return [names.get(c, c) for c in codes]

    # -- boroughs -------------------------------------------------------------------------------
    def borough_table(self) -> pd.DataFrame:
        """Per borough: population-weighted index score, rank (1 = most at risk), and the share
        of residents living in London's most at-risk 10 % and 20 % of LSOAs (current weights and
        methods, London frame)."""
        idx = self.index_london()
        lsoa = self._data.levels["lsoa"].table
        frame = pd.DataFrame({"borough_code": lsoa["borough_code"],
                              "population": lsoa["population"].astype(float),
                              "score": idx[INDEX_COLUMN].to_numpy(dtype=float),
                              "decile": idx["index_decile"].to_numpy(dtype=float)})
        frame["top10"] = frame["population"] * (frame["decile"] == 1)
        frame["top20"] = frame["population"] * (frame["decile"] <= 2)
        frame["weighted"] = frame["score"] * frame["population"]
        g = frame.groupby("borough_code").sum(numeric_only=True)
        out = pd.DataFrame({
            "borough_code": g.index,
            "score": (g["weighted"] / g["population"]).to_numpy(),
            "share_top10_pct": (100 * g["top10"] / g["population"]).to_numpy(),
            "share_top20_pct": (100 * g["top20"] / g["population"]).to_numpy(),
            "population": g["population"].astype("int64").to_numpy(),
        })
        out["rank"] = out["score"].rank(ascending=False, method="min").astype("int64")
        names = self._data.boroughs.set_index("borough_code")["borough_name"]
        out.insert(1, "borough", out["borough_code"].map(names))
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
        indicators = []
        for ind_code, meta in d.indicators.items():
            if ind_code not in lvl.table.columns:
                continue
            v = float(row[ind_code]) if pd.notna(row[ind_code]) else float("nan")
            sup_col = f"{ind_code}_suppressed"
            suppressed = bool(row[sup_col]) if sup_col in lvl.table.columns and pd.notna(
                row[sup_col]) else False
            pct = lvl.percentiles[ind_code].iloc[i] if ind_code in lvl.percentiles else np.nan
            indicators.append({"code": ind_code, "label": meta["label"], "unit": meta["unit"],
                               "domain": d.domains.get(meta.get("domain", ""), meta.get(
                                   "domain", "")),
                               "value": v, "percentile": float(pct),
                               "suppressed": suppressed and math.isnan(v),
                               "direction": meta["direction"], "vintage": d.vintage(ind_code)})
        info["indicators"] = indicators
        # index and domains at this level
        n_frame = int(np.sum(~np.isnan(self.values(INDEX_MEASURE, level))))
        idx_vals = self.values(INDEX_MEASURE, level)
        score = float(idx_vals[i])
        info["index"] = score
        info["rank"] = (int(np.sum(idx_vals > score)) + 1) if not math.isnan(score) else None
        info["n_ranked"] = n_frame
        weights = self.normalised_weights()
        domains = []
        for (dcode, dname), w in zip(d.domains.items(), weights, strict=True):
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
        return info

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
        level and are selected. Returns the bounds to fly to."""
        if level == "borough":
            self.param.update(boroughs=[code], selected="" if self.level != "borough" else code)
            return self.focus_bounds()
        self.param.update(level=level, selected=code)
        return self.area_bounds(level, code)

    def carry_selection(self, old_level: str, new_level: str) -> str:
        """The area at ``new_level`` containing the area selected at ``old_level`` (or "")."""
        if not self.selected or old_level == new_level:
            return self.selected
        t = self._data.levels[old_level].table
        row = t[t[code_col(old_level)] == self.selected]
        key = code_col(new_level)
        if len(row) and key in row.columns:
            return str(row.iloc[0][key])
        return ""

    # -- URL state ------------------------------------------------------------------------------
    def to_query(self) -> dict[str, str]:
        """The view as URL query parameters (defaults left out)."""
        q: dict[str, str] = {}
        if self.measure != INDEX_MEASURE:
            q["measure"] = self.measure
        if self.level != "lsoa":
            q["level"] = self.level
        if self.scheme != "quantiles":
            q["classes"] = self.scheme
        if self.k != 5:
            q["k"] = str(self.k)
        if self.palette != "viridis":
            q["palette"] = self.palette
        if self.boroughs:
            q["boroughs"] = ",".join(sorted(self.boroughs))
        if self.rescale:
            q["rescale"] = "1"
        if not np.allclose(self.weights, self.default_weights()):
            q["weights"] = ",".join(f"{w:.4g}" for w in self.weights)
        if self.normalisation != self._data.spec.indicator_level.normalisation:
            q["norm"] = self.normalisation
        if self.aggregation != self._data.spec.domain_level.aggregation:
            q["agg"] = self.aggregation
        if self.selected:
            q["area"] = self.selected
        if self.compare_a:
            q["a"] = self.compare_a
        if self.compare_b:
            q["b"] = self.compare_b
        if self.libraries:
            q["libraries"] = "1"
        return q

    def from_query(self, query: Mapping[str, str]) -> None:
        """Apply URL query parameters; anything unknown or malformed is ignored (never trusted)."""
        def one(key):
            v = query.get(key)
            if isinstance(v, list | tuple):
                v = v[0] if v else None
            return None if v is None else str(v)[:2000]

        upd: dict = {}
        for key, name in (("measure", "measure"), ("level", "level"), ("classes", "scheme"),
                          ("palette", "palette"), ("norm", "normalisation"),
                          ("agg", "aggregation")):
            v = one(key)
            if v is not None and v in self.param[name].objects:
                upd[name] = v
        v = one("k")
        if v is not None and v.isdigit() and 3 <= int(v) <= 7:
            upd["k"] = int(v)
        v = one("boroughs")
        if v:
            codes = [c for c in v.split(",") if c in self.param.boroughs.objects]
            upd["boroughs"] = sorted(set(codes))
        for key in ("rescale", "libraries"):
            v = one(key)
            if v is not None:
                upd[key] = v in ("1", "true", "yes")
        v = one("weights")
        if v:
            try:
                w = [float(x) for x in v.split(",")]
            except ValueError:
                w = []
            if (len(w) == len(self.weights) and all(math.isfinite(x) and 0 <= x <= 1 for x in w)
                    and sum(w) > 0):
                upd["weights"] = w
        level = upd.get("level", self.level)
        if level not in self._data.measure_levels(upd.get("measure", self.measure)):
            level = "borough"  # a borough-only measure shows boroughs (_fit_measure_to_level)
        codes = set(self._data.levels[level].codes)
        every = set().union(*(set(lv.codes) for lv in self._data.levels.values()))
        for key, name, valid in (("area", "selected", codes), ("a", "compare_a", every),
                                 ("b", "compare_b", every)):
            v = one(key)
            if v and v in valid:
                upd[name] = v
        self.param.update(**upd)


def csv_safe_comment(line: str) -> str:
    return line.replace("\r", " ").replace("\n", " ")
