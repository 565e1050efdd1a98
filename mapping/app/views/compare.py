"""Two areas side by side (boroughs, or any areas sent from their profiles), and the table of
all boroughs with their index score, rank and the share of residents in London's most at-risk
LSOAs."""

from __future__ import annotations

import panel as pn
import param

from mapping.app.data import LEVELS
from mapping.app.panes import LAYOUT_CSS, html, html_pane, markdown_pane
from mapping.app.store import AppState
from mapping.outputs.catalogue import level_of_code
from mapping.outputs.formatting import SUPPRESSED, percentile_text, shown_value

BOROUGH_TITLES = {"borough": "Borough", "score": "Index score (pop.-weighted)",
                  "rank": "Rank (1 = most at risk)",
                  "share_top10_pct": "% residents in London's most at-risk 10 %",
                  "share_top20_pct": "% residents in London's most at-risk 20 %",
                  "population": "Residents",
                  "beyond_walk": "High-risk residents beyond walking distance of support",
                  "common_need": "Most common main need of its LSOAs"}
BOROUGH_FORMATS = {"score": {"type": "money", "precision": 3, "symbol": ""},
                   "share_top10_pct": {"type": "money", "precision": 1, "symbol": ""},
                   "share_top20_pct": {"type": "money", "precision": 1, "symbol": ""}}
ALL_BOROUGHS = ("## All boroughs\nPopulation-weighted index score (current weights and methods, "
                "London frame), rank among the 33 boroughs, and the share of residents living in "
                "London's most at-risk 10 % and 20 % of LSOAs; the residents of London's most "
                "at-risk 20 % of LSOAs living beyond walking distance (800 m unless the need "
                "table says otherwise; straight line) of a support place, and the main need "
                "named most often among the borough's LSOAs (DR-0011).")


def compare_html(a: dict | None, b: dict | None, domains: dict[str, str]) -> str:
    """The comparison table of two area profiles (either may be missing), escaped."""
    profiles = (a, b)

    def row(label, fn):
        return (label, [None if p is None else {"text": fn(p)} for p in profiles])

    rows = [
        row("Residents", lambda p: f'{p["population"]:,}'),
        row("Index score", lambda p: shown_value(p["index"])),
        row("Rank (1 = most at risk)",
            lambda p: f'{p["rank"]:,} of {p["n_ranked"]:,}' if p["rank"] else "–"),
    ]
    for j, name in enumerate(domains.values()):
        rows.append(row(f"Domain: {name}", lambda p, j=j: shown_value(p["domains"][j]["score"])))
    for ind in (a or b)["indicators"]:
        cells = []
        for p in profiles:
            hit = None if p is None else next(
                (i for i in p["indicators"] if i["code"] == ind["code"]), None)
            if p is None:
                cells.append(None)
            elif hit is None:
                cells.append({"text": "–"})
            elif hit.get("suppressed"):
                cells.append({"text": SUPPRESSED})
            else:
                cells.append({"text": shown_value(hit["value"], hit["unit"]),
                              "pct": percentile_text(hit["percentile"])})
        rows.append((ind["label"], cells))
    heads = [None if p is None else {"name": p["name"], "code": p["code"],
                                     "level": LEVELS[p["level"]]} for p in profiles]
    return html("compare.html", heads=heads, rows=rows)


class Compare(pn.viewable.Viewer):
    """The comparison tab: two choices, their table, and the table of boroughs."""

    store = param.ClassSelector(class_=AppState, constant=True)
    #: whether the tab is shown (the borough table is only computed for a visible tab)
    active = param.Boolean(default=False)

    def __init__(self, **params):
        super().__init__(**params)
        s, d = self.store, self.store.data
        options = {"—": ""} | dict(zip(d.boroughs["borough_name"], d.boroughs["borough_code"],
                                       strict=True))
        # not made from the parameters: A and B may hold any area (sent from a profile), the
        # lists offer boroughs; choosing "—" keeps the current choice
        self.w_cmp_a = pn.widgets.Select(label="Borough A", options=options, value="")
        self.w_cmp_b = pn.widgets.Select(label="Borough B", options=options, value="")
        self.w_cmp_a.param.watch(lambda ev: ev.new and setattr(s, "compare_a", ev.new), "value")
        self.w_cmp_b.param.watch(lambda ev: ev.new and setattr(s, "compare_b", ev.new), "value")
        self.pane = html_pane(sizing_mode="stretch_width")
        self.borough_table = pn.widgets.Tabulator(
            show_index=False, disabled=True, sizing_mode="stretch_width",
            layout="fit_data_table", titles=BOROUGH_TITLES, formatters=BOROUGH_FORMATS,
            hidden_columns=["borough_code"])
        s.param.watch(self._update, ["compare_a", "compare_b", "level", "walk_m", *s.METHOD])
        self.param.watch(self._on_active, "active")  # first drawn when the tab is opened

    def __panel__(self):
        return pn.Column(
            markdown_pane("## Compare two areas or boroughs"),
            pn.Row(self.w_cmp_a, self.w_cmp_b, css_classes=["wrap-row"],
                   stylesheets=[LAYOUT_CSS]), self.pane, markdown_pane(ALL_BOROUGHS),
            self.borough_table, sizing_mode="stretch_width", name="Compare")

    def _on_active(self, ev) -> None:
        if ev.new:
            self.update()

    def _update(self, *_events) -> None:
        self.update()

    def update(self) -> None:
        s = self.store
        for w, v in ((self.w_cmp_a, s.compare_a), (self.w_cmp_b, s.compare_b)):
            target = v if v in w.options.values() else ""
            if w.value != target:
                w.value = target
        if self.active:
            self.borough_table.value = s.borough_table()
        profiles = []
        for code in (s.compare_a, s.compare_b):
            lvl = level_of_code(code) if code else None
            profiles.append(s.profile(code, lvl) if lvl else None)
        if not any(profiles):
            self.pane.object = html("compare_empty.html")
            return
        self.pane.object = compare_html(*profiles, s.data.domains)
