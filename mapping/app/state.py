"""One browser session's choices, as ``param`` parameters: the app's state.

:class:`SessionState` holds what a person has chosen (measure, level, classes, boroughs,
weights, methods, selection, comparison, layers) and the rules that keep those choices
consistent (a borough-only measure shows boroughs; a level change carries the selection to the
area that holds it; the URL query reproduces the view). It derives no data: the store
(:class:`mapping.app.store.AppState`) does, and the views (:mod:`mapping.app.views`) draw it.
Widgets are made from these parameters (``Widget.from_param``), so a widget and the state
cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import param

from mapping.app.data import (
    AGGREGATIONS,
    INDEX_MEASURE,
    LEVELS,
    NORMALISATIONS,
    AppData,
    code_col,
    is_earlier,
    is_score,
)
from mapping.maps.classify import PALETTES, SCHEMES
from mapping.outputs.catalogue import LEVELS as CATALOGUE_LEVELS
from mapping.outputs.readmodel import SUPPORT_MEASURES


class SessionState(param.Parameterized):
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
    walk_m = param.Integer(default=800, bounds=(100, 5000),
                           doc="Walking distance (m, straight line) for the support gap")
    libraries = param.Boolean(default=False)
    tiles = param.Boolean(default=False)
    message = param.String(default="", doc="Problem with the last method choice, shown to the user")
    note = param.String(default="", doc="Why the measure or level was changed for the user")

    #: the parameters that change what the map shows (its values or its classes)
    VIEW = ("measure", "level", "scheme", "k", "palette", "weights", "normalisation",
            "aggregation", "rescale")
    #: the parameters that change the index (and so every score shown)
    METHOD = ("weights", "normalisation", "aggregation", "rescale")

    def __init__(self, data: AppData, **params):
        self._data = data
        self._fitting = False
        super().__init__(**params)
        self.param.measure.objects = list(data.measures())
        self.param.boroughs.objects = list(data.boroughs["borough_code"])
        if data.needs is not None and "walk_m" not in params:
            self.walk_m = int(data.needs.walk_m)
        if not self.weights:
            self.weights = self.default_weights()
        self.param.watch(self._carry_selection, "level")
        self.param.watch(self._fit_measure_to_level, ["measure", "level"])
        self._fit_measure_to_level()

    def _fit_measure_to_level(self, *events) -> None:
        """Borough-only indicators have values for boroughs only. Choosing one (from the list,
        a URL or a script) switches the map to boroughs; leaving the borough level while one is
        shown switches the measure back to the index. Either way :attr:`note` says why."""
        if self._fitting:
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
                         f"composite index for {CATALOGUE_LEVELS[self.level].plural}.")
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
        if is_score(m) or is_earlier(m):
            return "score"
        if m in SUPPORT_MEASURES:
            return SUPPORT_MEASURES[m][1]
        if m.startswith("need_") or m == "main_need":
            return "percentile"
        return str(self._data.indicators.get(m, {}).get("unit", ""))

    def higher_is_worse(self, measure: str | None = None) -> bool:
        m = measure or self.measure
        if is_score(m):
            return True
        return self._data.indicators.get(m, {}).get("direction",
                                                    "higher_is_worse") == "higher_is_worse"

    def frame_codes(self) -> tuple[str, ...]:
        return tuple(sorted(self.boroughs)) if (self.rescale and self.boroughs) else ()

    def borough_names(self, codes) -> list[str]:
        names = dict(zip(self._data.boroughs["borough_code"], self._data.boroughs["borough_name"],
                         strict=True))
        return [names.get(c, c) for c in codes]

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
