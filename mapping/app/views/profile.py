"""The selected area's profile: index score and rank, rank interval, domain scores and every
indicator with its percentile and vintage; and the buttons that put it in the comparison."""

from __future__ import annotations

import math

import panel as pn
import param

from mapping.app.data import LEVELS
from mapping.app.panes import html, html_pane
from mapping.app.store import AppState
from mapping.outputs.formatting import percentile_text, shown_value, weight_text

#: what a percentile is computed among, per level
AMONG = {"lsoa": "London LSOAs", "ward": "London wards", "borough": "boroughs"}


def profile_html(p: dict) -> str:
    """The profile panel of one area (see :meth:`AppState.profile`), escaped."""
    lvl = p["level"]
    has_index = p["index"] is not None and not math.isnan(p["index"])
    iv = p.get("interval")
    interval = None if not iv else {
        "p05": f"{iv['p05']:,.0f}", "p95": f"{iv['p95']:,.0f}", "n": f"{iv['n']:,}",
        "unstable": iv["unstable"]}
    domains = [{"name": d["name"], "weight": weight_text(d["weight"]),
                "score": shown_value(d["score"]),
                "share": "–" if math.isnan(d["share"]) else weight_text(d["share"])}
               for d in p["domains"]]
    indicators = [{"code": i["code"],
                   "label": i["label"] + (" (validation)" if i["domain"] == "validation"
                                          else ""),
                   "value": shown_value(i["value"], i["unit"], i.get("suppressed", False)),
                   "percentile": percentile_text(i["percentile"], i.get("suppressed", False)),
                   "vintage": i["vintage"]} for i in p["indicators"]]
    sup = p.get("support")
    support = None if not sup else {
        **sup, "distance": "no data" if math.isnan(sup["distance_m"])
        else f"{sup['distance_m']:,.0f} m", "walk": f"{sup['walk_m']:,.0f} m",
        "beyond_text": f"{sup.get('beyond', 0):,}",
        "high_risk_text": f"{sup.get('high_risk_residents', 0):,}",
        "far": not math.isnan(sup["distance_m"]) and sup["distance_m"] > sup["walk_m"]}
    return html("profile.html", p=p, level=LEVELS[lvl], population=f"{p['population']:,}",
                support=support,
                index=f"{p['index']:.3f}" if has_index else "",
                rank=f"{p['rank']:,}" if has_index else "",
                n_ranked=f"{p['n_ranked']:,}",
                areas=f"{LEVELS[lvl].split(' ')[0]}s", interval=interval,
                domains=domains, indicators=indicators, where=AMONG[lvl])


class Profile(pn.viewable.Viewer):
    """The profile of the area selected in the store, beside the map."""

    store = param.ClassSelector(class_=AppState, constant=True)

    def __init__(self, **params):
        super().__init__(**params)
        s = self.store
        self.pane = html_pane(sizing_mode="stretch_width", css_classes=["profile"])
        self.w_set_a = pn.widgets.Button(label="Compare as A", disabled=True)
        self.w_set_b = pn.widgets.Button(label="Compare as B", disabled=True)
        self.w_set_a.on_click(lambda _: setattr(s, "compare_a", s.selected))
        self.w_set_b.on_click(lambda _: setattr(s, "compare_b", s.selected))
        s.param.watch(self._update, ["selected", "level", "walk_m", *s.METHOD])
        s.param.watch(self._on_boroughs, "boroughs")
        self.update()

    def parts(self) -> list:
        """The profile and its buttons, to lay out in a column beside the map."""
        return [self.pane, pn.Row(self.w_set_a, self.w_set_b)]

    def __panel__(self):
        return pn.Column(*self.parts())

    def _update(self, *_events) -> None:
        self.update()

    def _on_boroughs(self, _ev) -> None:
        if self.store.rescale:
            self.update()

    def update(self) -> None:
        s = self.store
        has = bool(s.selected)
        self.w_set_a.disabled = self.w_set_b.disabled = not has
        if not has:
            self.pane.object = html("profile_empty.html")
            return
        p = s.profile(s.selected)
        if p is None:
            self.pane.object = html("note.html", text="That area is not in this build.")
            return
        self.pane.object = profile_html(p)

