"""The app: one :class:`MapApp` per browser session, composing the views around its store.

Panel's roles, one module each: the build (:mod:`mapping.app.data`, shared and read-only), the
session's state (:mod:`mapping.app.state`, ``param`` parameters), the store that derives what
is shown (:mod:`mapping.app.store`), and the views (:mod:`mapping.app.views`). This module
lays the views out in a page with tabs (found by their titles, never by position), keeps the
address bar in step with the state, and counts use without personal data.
"""

from __future__ import annotations

from urllib.parse import urlencode

import panel as pn

from mapping.app import a11y
from mapping.app.data import LEVELS, AppData, default_app_data
from mapping.app.panes import (  # noqa: F401 (sanitise: part of this API)
    HEADER_CSS,
    LAYOUT_CSS,
    html,
    html_pane,
    sanitise,
)
from mapping.app.store import AppState, Choropleth
from mapping.app.usage import UsageCounter, usage_path
from mapping.app.views.about import (
    GovernancePage,
    accessibility_page,
    methodology_page,
    sources_page,
)
from mapping.app.views.compare import Compare, compare_html
from mapping.app.views.controls import Controls
from mapping.app.views.legend import Legend
from mapping.app.views.map import (  # noqa: F401 (the tooltip code and fit: part of this API)
    VALUE_JS,
    MapPanel,
    fit_ranges,
)
from mapping.app.views.profile import Profile, profile_html
from mapping.app.views.table import TableView, table_value  # noqa: F401

TITLE = "London digital exclusion map"
SIDEBAR_WIDTH = 360  # px: the controls (340) and their margins
TABS = ("Map", "Table", "Compare", "Methodology", "Sources", "Governance", "Accessibility")
#: the state parameters the address bar holds
URL_STATE = ("measure", "level", "scheme", "k", "palette", "boroughs", "rescale", "weights",
             "normalisation", "aggregation", "selected", "compare_a", "compare_b", "libraries")


def _part(view: str, attr: str, doc: str) -> property:
    """A read-only attribute of the app that is an attribute of one of its views."""
    return property(lambda self: getattr(getattr(self, view), attr), doc=doc)


class MapApp:
    """One session's page: its store and the views that draw it."""

    def __init__(self, data: AppData | None = None, usage: UsageCounter | None = None,
                 query: dict | None = None):
        self.data = data or default_app_data()
        keys = set(self.data.measures()) | set(LEVELS) | set(self.data.boroughs["borough_code"])
        self.usage = usage or UsageCounter(usage_path(), keys)
        self.state = AppState(self.data)
        if query:
            self.state.from_query(query)
        s = self.state
        self.map = MapPanel(store=s)
        self.legend_view = Legend(store=s)
        self.controls = Controls(store=s, map=self.map)
        self.table_view = TableView(store=s, map=self.map,
                                    on_download=lambda: self.usage.add("download"))
        self.profile_view = Profile(store=s)
        self.compare_view = Compare(store=s)
        self.governance_view = GovernancePage(data=self.data, usage=self.usage)
        self.tabs: pn.layout.Tabs | None = None
        s.param.watch(self._push_url, list(URL_STATE))
        s.param.watch(self._count, ["measure", "level", "boroughs", "weights"])
        if s.selected:
            self.map.fly_to_area(s.level, s.selected)
        elif s.boroughs:
            self.map.fly(s.focus_bounds())
        self.usage.add("page_load")
        self.usage.add("measure", s.measure)

    # -- the parts the tests and benchmarks look at ---------------------------------------
    fig = _part("map", "fig", "The Bokeh figure of the map.")
    mapper = _part("map", "mapper", "The colour mapper of the map's classes.")
    _sources = _part("map", "sources", "The map's column data source per level.")
    legend = _part("legend_view", "legend", "The legend pane.")
    summary = _part("legend_view", "summary", "The map's summary in words.")
    weights_text = _part("controls", "weights_text", "The weights now, in words.")
    w_measure = _part("controls", "w_measure", "The measure list.")
    profile = _part("profile_view", "pane", "The area profile pane.")
    compare = _part("compare_view", "pane", "The comparison pane.")
    table = _part("table_view", "table", "The table of the table view.")

    @property
    def _view(self) -> Choropleth:
        return self.state.view()

    @staticmethod
    def profile_html(p: dict) -> str:
        return profile_html(p)

    def compare_html(self, a: dict | None, b: dict | None) -> str:
        return compare_html(a, b, self.data.domains)

    # -- state to the address bar and to the usage counts ---------------------------------
    def _count(self, *events) -> None:
        for ev in events:
            if ev.name == "measure":
                self.usage.add("measure", ev.new)
            elif ev.name == "level":
                self.usage.add("level", ev.new)
            elif ev.name == "boroughs":
                for code in set(ev.new) - set(ev.old or []):
                    self.usage.add("borough", code)
            elif ev.name == "weights":
                self.usage.add("reweight")

    def _push_url(self, *_events) -> None:
        loc = pn.state.location
        if loc is None:
            return
        q = self.state.to_query()
        search = ("?" + urlencode(q)) if q else ""
        if loc.search != search:
            loc.search = search
        self.controls.show_share_note()

    # -- layout ---------------------------------------------------------------------------
    def _on_tab(self, ev) -> None:
        title = TABS[ev.new]
        self._open_page(title)
        if title == "Table":
            self.table_view.reveal()
        self.compare_view.active = title == "Compare"
        self.governance_view.active = title == "Governance"

    def _open_page(self, title: str) -> None:
        """Put a tab's content in the page the first time the tab is shown. From then on it
        stays in the document, hidden (``display: none``, so nothing in it takes the focus)
        while another tab is shown: going back to a tab (the map above all, with its
        geometry) re-sends nothing."""
        if title not in self._shown:
            self._shown[title] = pn.Column(self._builders[title](), sizing_mode="stretch_width",
                                           margin=0)
            self._pages[title].objects = [self._shown[title]]
        for other, content in self._shown.items():
            content.visible = other == title

    def main(self) -> pn.layout.Tabs:
        d = self.data
        footer = html_pane(html("footer.html", version=d.build_version, built=d.built_at,
                                attributions=d.outputs.manifest.get("attributions", [])),
                           sizing_mode="stretch_width")
        lv = self.legend_view
        # the map, its legend and its summary in words on the left; the profile of the
        # selected area beside them, wide enough that its tables do not run down the page.
        # On a narrow screen the two columns stack (layout.css): the map first.
        map_tab = pn.Column(
            lv.heading, lv.message,
            pn.Row(pn.Column(self.map, lv.legend, lv.summary, sizing_mode="stretch_width",
                             css_classes=["map-column"]),
                   pn.Column(*self.profile_view.parts(), sizing_mode="stretch_width",
                             css_classes=["profile-column"]),
                   sizing_mode="stretch_width", css_classes=["map-row"],
                   stylesheets=[LAYOUT_CSS]),
            footer, sizing_mode="stretch_width")
        self._builders = {"Table": lambda: self.table_view, "Compare": lambda: self.compare_view,
                          "Methodology": lambda: methodology_page(d),
                          "Sources": lambda: sources_page(d),
                          "Governance": lambda: self.governance_view,
                          "Accessibility": lambda: accessibility_page(d)}
        self._shown = {"Map": map_tab}
        self._pages = {title: pn.Column(sizing_mode="stretch_width", name=title, margin=0)
                       for title in self._builders}
        pages = {"Map": pn.Column(map_tab, sizing_mode="stretch_width", margin=0), **self._pages}
        # not dynamic: Panel's dynamic tabs take a hidden tab's models out of the document
        # and send them all again when it is shown (2.4 MB for the map); the pages are made
        # on first use instead (_open_page)
        self.tabs = pn.Tabs(*((title, pages[title]) for title in TABS), dynamic=False,
                            sizing_mode="stretch_width", stylesheets=[LAYOUT_CSS])
        self.tabs.param.watch(self._on_tab, "active")
        return self.tabs

    def sidebar(self) -> pn.Column:
        """The controls, and the button that shows and hides them on a narrow screen (on a
        wide one the button is hidden and the controls always shown: layout.css)."""
        self.controls_toggle = pn.widgets.Toggle(
            label="Controls", value=False, css_classes=["controls-toggle"], color="primary",
            width=SIDEBAR_WIDTH - 20, margin=(5, 10))
        body = pn.Column(self.controls, css_classes=["controls-body"], margin=0,
                         stylesheets=[LAYOUT_CSS])
        self.controls_toggle.param.watch(
            lambda ev: setattr(body, "css_classes",
                               ["controls-body", *(["open"] if ev.new else [])]), "value")
        return pn.Column(self.controls_toggle, body, css_classes=["sidebar"],
                         stylesheets=[LAYOUT_CSS], margin=0, width=SIDEBAR_WIDTH)

    def template(self):
        """The page: a header, the controls, then the tabs. A plain Panel layout rather than a
        ready-made template: the templates request Google Fonts (which fails offline), wrap
        the sidebar in a list that is not one, and add mouse-only buttons (WCAG 2.2 AA
        findings; see the Accessibility tab). The script of :mod:`mapping.app.a11y` fixes
        what the Bokeh widgets leave out."""
        header = html_pane(html("header.html", title=TITLE), sizing_mode="stretch_width",
                           margin=0)
        header.stylesheets = [*header.stylesheets, HEADER_CSS]
        page = pn.Column(header, pn.Row(self.sidebar(), self.main(), sizing_mode="stretch_width",
                                        css_classes=["page-row"], stylesheets=[LAYOUT_CSS]),
                         sizing_mode="stretch_width")
        doc = pn.state.curdoc
        if doc is not None:
            a11y.install(doc)
        return page


def session_query() -> dict[str, str]:
    """The request's query arguments (decoded, first value of each), from the session."""
    args = getattr(pn.state, "session_args", None) or {}
    out = {}
    for key, values in args.items():
        if values:
            v = values[0]
            out[str(key)] = v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
    return out


def make_page():
    """Build one session's page (called by ``main.py`` for every session)."""
    app = MapApp(query=session_query())
    return app.template()
