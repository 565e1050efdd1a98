"""The app's views: one :class:`MapApp` per browser session, wired to an :class:`AppState`.

The Bokeh figure is built once per session; every change after that updates a few columns of
one ColumnDataSource (``cls`` uint8, ``value`` float32) and the colour mapper's palette, so the
geometry crosses the websocket once. Everything shown in HTML is escaped here (``html.escape``)
and sanitised by the pane (``sanitize_html=True`` with an allow-list hook); Markdown panes render
with raw HTML disabled; Bokeh tooltips use ``@field`` only.
"""

from __future__ import annotations

import html
import io
import math
import os
import re
from functools import partial
from urllib.parse import urlencode

import nh3
import numpy as np
import panel as pn
from bokeh.models import HTMLTemplateFormatter

from mapping.app import a11y, about
from mapping.app.data import (
    AGGREGATIONS,
    DOMAIN_PREFIX,
    EARLIER_PREFIX,
    INDEX_MEASURE,
    LEVELS,
    NORMALISATIONS,
    AppData,
    code_col,
    default_app_data,
    name_col,
)
from mapping.app.state import PALETTE_LABELS, AppState, MapView
from mapping.app.usage import UsageCounter, usage_path
from mapping.disclosure import SUPPRESSED
from mapping.governance import render_report
from mapping.maps import bokeh_map as bm
from mapping.maps.classify import SCHEME_LABELS
from mapping.registry import unit_suffix

TITLE = "London digital exclusion map"
ASPECT = 1.35  # width / height of the map frame; ranges are fitted to it
MIN_SPAN = 4000.0  # metres (Web Mercator) shown at least when flying to a small area
DEFAULT_TILES = ("https://tile.openstreetmap.org/{Z}/{X}/{Y}.png",
                 "© OpenStreetMap contributors")
LEVEL_OF_PREFIX = {"E01": "lsoa", "E05": "ward", "E09": "borough"}

_SAFE_TAGS = {"a", "b", "strong", "em", "i", "p", "br", "span", "div", "ul", "ol", "li", "h2",
              "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "caption", "small",
              "abbr", "dl", "dt", "dd"}
_SAFE_ATTRS = {"*": {"class", "title", "aria-hidden", "aria-label", "role", "scope", "id"},
               "tr": {"data-code"},
               "span": {"style", "class", "aria-hidden", "title"}, "a": {"href"}}
_STYLE_PROPS = {"background", "background-color", "width", "height", "display"}

APP_CSS = """
.legend-row { display: flex; align-items: center; gap: .5em; margin: 2px 0; font-size: 14px; }
.swatch { display: inline-block; width: 22px; height: 16px; border: 1px solid #555; }
.legend-title { font-weight: 600; font-size: 15px; margin-bottom: 4px; }
.muted { color: #555; font-size: 13px; }
table.prof { border-collapse: collapse; width: 100%; font-size: 13px; }
table.prof th, table.prof td { border-bottom: 1px solid #ddd; padding: 3px 4px;
  text-align: left; vertical-align: top; }
table.prof td.num { text-align: right; white-space: nowrap; }
.note { background: #fff4ce; border-left: 4px solid #b35900; padding: 4px 8px; }
.big { font-size: 20px; font-weight: 700; }
#map-summary { font-size: 14px; margin: 2px 0 6px; }
"""
HEADER_CSS = """
.site-header { background: #0b4f9c; color: #ffffff; padding: 8px 16px; }
.site-header h1 { font-size: 22px !important; margin: 0 0 2px !important; }
.site-header p { margin: 0; font-size: 14px; }
"""


#: Tooltip formatters (CustomJSHover). The class column ``cls`` is the class (0 … k-1), k for
#: no data and k + 1 for a value blanked by the small-count rule: the tooltip says which in
#: words, never "NaN".
VALUE_JS = """
const k = mapper.palette.length - 1;
const c = src.data.cls[special_vars.index];
if (c > k) return "suppressed";
if (c == k || value == null || isNaN(value)) return "no data";
const text = Number(value).toLocaleString("en-GB", {maximumSignificantDigits: 4});
return unit == "%" ? text + " %" : text;
"""
CLASS_JS = """
const k = mapper.palette.length - 1;
if (value > k) return "none (value suppressed)";
if (value >= k) return "none (no data)";
return (value + 1) + " of " + k + (labels[value] ? " (" + labels[value] + ")" : "");
"""


def table_value(value: float, suppressed: bool) -> str:
    """The text of a value cell of the table view: the number, or why there is none."""
    if suppressed:
        return SUPPRESSED
    if value is None or math.isnan(value):
        return "no data"
    return f"{value:,.4f}"


def value_cell(indicator: dict) -> str:
    """An indicator's value in the area profile; "suppressed" when the disclosure rule blanked
    it."""
    if indicator.get("suppressed"):
        return SUPPRESSED
    return fmt(indicator["value"], indicator["unit"])


def sanitise(text: str) -> str:
    """Allow-list sanitiser for the app's own HTML (data strings inside are already escaped)."""
    return nh3.clean(text, tags=_SAFE_TAGS, attributes=_SAFE_ATTRS,
                     filter_style_properties=_STYLE_PROPS, url_schemes={"http", "https"})


def html_pane(text: str = "", **kw) -> pn.pane.HTML:
    return pn.pane.HTML(text, sanitize_html=True, sanitize_hook=sanitise,
                        stylesheets=[APP_CSS], **kw)


def markdown_pane(text: str = "", **kw) -> pn.pane.Markdown:
    return pn.pane.Markdown(text, renderer_options={"html": False}, **kw)


def e(value) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: float, unit: str = "") -> str:
    """A value with its registered unit (:func:`mapping.registry.unit_suffix`); plain text,
    escaped by the caller."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    a = abs(value)
    text = f"{value:,.0f}" if a >= 1000 else f"{value:.3g}" if a >= 1 or a == 0 else f"{value:.3f}"
    return text + unit_suffix(unit)


def level_of(code: str) -> str | None:
    return LEVEL_OF_PREFIX.get(code[:3])


def fit_ranges(bounds, aspect: float = ASPECT, pad: float = 0.06, min_span: float = MIN_SPAN):
    """x and y ranges showing ``bounds`` (minx, miny, maxx, maxy) in a frame of ``aspect``."""
    x0, y0, x1, y1 = bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w = max((x1 - x0) * (1 + 2 * pad), min_span)
    h = max((y1 - y0) * (1 + 2 * pad), min_span / aspect)
    if w / h > aspect:
        h = w / aspect
    else:
        w = h * aspect
    return (cx - w / 2, cx + w / 2), (cy - h / 2, cy + h / 2)


@pn.cache(max_items=4, ttl=600)
def governance_html(root: str, day: str) -> str:
    """The governance report (re-rendered at most every 10 minutes and once a day)."""
    from mapping.registry import load_registry

    return render_report(root, load_registry())


class MapApp:
    """One session's page: widgets and Bokeh models bound to a fresh :class:`AppState`."""

    def __init__(self, data: AppData | None = None, usage: UsageCounter | None = None,
                 query: dict | None = None):
        self.data = data or default_app_data()
        keys = set(self.data.measures()) | set(LEVELS) | set(self.data.boroughs["borough_code"])
        self.usage = usage or UsageCounter(usage_path(), keys)
        self.state = AppState(self.data)
        if query:
            self.state.from_query(query)
        self._syncing = False
        self._sources: dict[str, object] = {}
        self._renderers: dict[str, object] = {}
        self._class_formatters: list = []
        self._value_formatters: list = []
        self._build_figure()
        self._build_widgets()
        self._wire()
        self.recolour()
        self.update_profile()
        if self.state.selected:
            self._fly(self.state.area_bounds(self.state.level, self.state.selected), pad=0.6)
        elif self.state.boroughs:
            self._fly(self.state.focus_bounds())
        self.usage.add("page_load")
        self.usage.add("measure", self.state.measure)

    # -- figure ---------------------------------------------------------------------------------
    def _build_figure(self) -> None:
        xr, yr = fit_ranges(self._london_bounds())
        self._home = (xr, yr)
        fig = bm.map_figure(xr, yr)
        fig.toolbar_inner = True
        fig.aspect_ratio = ASPECT
        fig.sizing_mode = "scale_width"
        fig.height = None
        fig.width = 900
        self.fig = fig
        self.tiles = None  # added on first use: no tile requests unless asked for
        if self.state.tiles:
            self._add_tiles()
        self.water = bm.add_water(fig, *self.data.thames)
        self.mapper = bm.class_mapper(["#ffffff"] * self.state.k)
        self._ensure_level(self.state.level)
        b = self.data.boroughs
        self.outlines, self.labels = bm.add_outlines(
            fig, *self.data.borough_lines,
            labels={"x": b["label_x"].to_numpy(np.float32), "y": b["label_y"].to_numpy(np.float32),
                    "name": b["borough_name"].tolist()})
        lib = self.data.libraries
        self.lib_renderer = bm.add_points(
            fig, {"x": lib["x"].to_numpy(np.float32), "y": lib["y"].to_numpy(np.float32),
                  "name": lib["name"].tolist(), "source": lib["source"].tolist()},
            visible=self.state.libraries)
        self.map_pane = pn.pane.Bokeh(fig, sizing_mode="stretch_width", min_width=500,
                                      margin=(0, 5))

    def _london_bounds(self):
        bb = self.data.levels["borough"].bounds
        return (bb[:, 0].min(), bb[:, 1].min(), bb[:, 2].max(), bb[:, 3].max())

    def _ensure_level(self, level: str):
        """The renderer of a level, created (and its geometry sent) on first use."""
        if level in self._renderers:
            return self._renderers[level]
        lvl = self.data.levels[level]
        t = lvl.table
        from bokeh.models import ColumnDataSource, CustomJSHover

        n = len(t)
        src = ColumnDataSource({
            "xs": lvl.xs, "ys": lvl.ys,
            "code": t[code_col(level)].tolist(),
            "name": t[name_col(level)].astype(str).tolist(),
            "borough": t["borough_name"].astype(str).tolist(),
            "cls": np.zeros(n, dtype=np.uint8),
            "value": np.zeros(n, dtype=np.float32),
        })
        tooltips = [("Area", "@name"), ("Code", "@code")]
        if level != "borough":
            tooltips.append(("Borough", "@borough"))
        tooltips += [("Value", "@value{custom}"), ("Class", "@cls{custom}")]
        class_fmt = CustomJSHover(args={"mapper": self.mapper, "labels": []}, code=CLASS_JS)
        self._class_formatters.append(class_fmt)
        value_fmt = CustomJSHover(args={"src": src, "mapper": self.mapper,
                                        "unit": self.state.measure_unit()}, code=VALUE_JS)
        self._value_formatters.append(value_fmt)
        formatters = {"@value": value_fmt, "@cls": class_fmt}
        renderer = bm.add_choropleth(self.fig, src, self.mapper, tooltips,
                                     line_width=0.15 if level == "lsoa" else 0.4,
                                     fill_alpha=0.72 if self.state.tiles else 1.0,
                                     formatters=formatters)
        # keep areas under the outlines and labels drawn later
        self.fig.renderers.remove(renderer)
        first_overlay = next((i for i, r in enumerate(self.fig.renderers)
                              if r in (getattr(self, "outlines", None),
                                       getattr(self, "labels", None))), None)
        if first_overlay is None:
            self.fig.renderers.append(renderer)
        else:
            self.fig.renderers.insert(first_overlay, renderer)
        self.fig.renderers = list(self.fig.renderers)
        src.selected.on_change("indices", partial(self._on_tap, level))
        self._sources[level] = src
        self._renderers[level] = renderer
        return renderer

    # -- widgets --------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        s, d = self.state, self.data
        self.w_measure = pn.widgets.Select(label="Measure", groups=self._measure_groups(),
                                           value=s.measure,
                                           sizing_mode="stretch_width")
        self.w_level = pn.widgets.RadioButtonGroup(
            label="Areas", options={v: k for k, v in LEVELS.items()}, value=s.level,
            color="primary", variant="outline", sizing_mode="stretch_width",
            stylesheets=[a11y.BUTTON_GROUP_CSS])
        self.w_scheme = pn.widgets.Select(label="Classes", options={v: k for k, v in
                                                                   SCHEME_LABELS.items()},
                                          value=s.scheme, sizing_mode="stretch_width")
        self.w_k = pn.widgets.IntSlider(label="Number of classes", start=3, end=7, value=s.k,
                                        sizing_mode="stretch_width")
        self.w_palette = pn.widgets.Select(label="Colours", options={v: k for k, v in
                                                                    PALETTE_LABELS.items()},
                                           value=s.palette, sizing_mode="stretch_width")
        opts = dict(zip(d.boroughs["borough_name"], d.boroughs["borough_code"], strict=True))
        # Bokeh's MultiChoice (Choices.js, allowHTML on) renders option labels as HTML: escape
        self.w_boroughs = pn.widgets.MultiChoice(label="Focus on boroughs",
                                                 options={e(k): v for k, v in opts.items()},
                                                 value=list(s.boroughs),
                                                 placeholder="All of London",
                                                 sizing_mode="stretch_width")
        self.w_rescale = pn.widgets.Checkbox(
            label="Rescale the index to these boroughs", value=s.rescale)
        self.w_weights = [
            pn.widgets.FloatSlider(label=name, start=0.0, end=1.0, step=0.05, value=w,
                                   sizing_mode="stretch_width")
            for name, w in zip(d.domains.values(), s.weights, strict=True)]
        self.w_norm = pn.widgets.Select(label="Normalisation",
                                        options={v: k for k, v in NORMALISATIONS.items()},
                                        value=s.normalisation, sizing_mode="stretch_width")
        self.w_agg = pn.widgets.Select(label="Combine domains by",
                                       options={v: k for k, v in AGGREGATIONS.items()},
                                       value=s.aggregation, sizing_mode="stretch_width")
        self.w_reset = pn.widgets.Button(label="Reset to the published index",
                                         sizing_mode="stretch_width")
        self.weights_text = html_pane(sizing_mode="stretch_width")
        self.message = pn.pane.Alert("", alert_type="warning", visible=False,
                                     sizing_mode="stretch_width")
        self.w_search = pn.widgets.TextInput(
            label="Find an area", placeholder="LSOA code or name, ward, borough — press Enter",
            sizing_mode="stretch_width")
        self.w_results = pn.widgets.Select(label="Matches (choose one to go there)", options=[],
                                           size=6, visible=False, sizing_mode="stretch_width")
        self.search_note = html_pane(sizing_mode="stretch_width")
        self.w_libraries = pn.widgets.Checkbox(label="Show public libraries", value=s.libraries)
        self.w_tiles = pn.widgets.Checkbox(label="Basemap tiles (needs internet)", value=s.tiles)
        self.w_home = pn.widgets.Button(label="Zoom to London", sizing_mode="stretch_width")
        self.legend = html_pane(sizing_mode="stretch_width")
        self.heading = html_pane(sizing_mode="stretch_width", margin=(0, 10))
        self.summary = html_pane(sizing_mode="stretch_width", margin=(0, 10))
        self.profile = html_pane(sizing_mode="stretch_width",
                                 css_classes=["profile"])
        self.w_set_a = pn.widgets.Button(label="Compare as A", disabled=True)
        self.w_set_b = pn.widgets.Button(label="Compare as B", disabled=True)
        self.download = pn.widgets.FileDownload(
            callback=self._csv, filename="london-digital-exclusion.csv",
            label="Download this table (CSV with sources)", color="primary",
            embed=False, sizing_mode="stretch_width")
        self.table = pn.widgets.Tabulator(
            pagination="remote", page_size=20, show_index=False, disabled=True,
            header_filters=True, sizing_mode="stretch_width", selectable=1,
            layout="fit_data_table")
        self.table_caption = html_pane(sizing_mode="stretch_width")
        bopts = {"—": ""} | opts
        self.w_cmp_a = pn.widgets.Select(label="Borough A", options=bopts, value="")
        self.w_cmp_b = pn.widgets.Select(label="Borough B", options=bopts, value="")
        self.compare = html_pane(sizing_mode="stretch_width")
        self.borough_table = pn.widgets.Tabulator(
            show_index=False, disabled=True, sizing_mode="stretch_width", layout="fit_data_table",
            titles={"borough": "Borough", "score": "Index score (pop.-weighted)",
                    "rank": "Rank (1 = most at risk)",
                    "share_top10_pct": "% residents in London's most at-risk 10 %",
                    "share_top20_pct": "% residents in London's most at-risk 20 %",
                    "population": "Residents"},
            formatters={"score": {"type": "money", "precision": 3, "symbol": ""},
                        "share_top10_pct": {"type": "money", "precision": 1, "symbol": ""},
                        "share_top20_pct": {"type": "money", "precision": 1, "symbol": ""}},
            hidden_columns=["borough_code"])
        self.usage_pane = markdown_pane(sizing_mode="stretch_width")
        self.share = html_pane(sizing_mode="stretch_width")

    def _measure_groups(self) -> dict[str, dict[str, str]]:
        """The measure list for the current level: borough-only indicators in their own group,
        offered at the borough level only."""
        measures = self.state.measures()
        only = set(self.data.borough_only)
        groups = {
            "Composite index": {v: k for k, v in measures.items()
                                if k == INDEX_MEASURE or k.startswith(EARLIER_PREFIX)},
            "Domains": {v: k for k, v in measures.items() if k.startswith(DOMAIN_PREFIX)},
            "Indicators": {v: k for k, v in measures.items()
                           if k != INDEX_MEASURE and not k.startswith(DOMAIN_PREFIX)
                           and not k.startswith(EARLIER_PREFIX) and k not in only},
            "Borough-only indicators": {v: k for k, v in measures.items() if k in only},
        }
        return {name: g for name, g in groups.items() if g}

    # -- wiring ---------------------------------------------------------------------------------
    def _wire(self) -> None:
        s = self.state
        self.w_measure.param.watch(lambda ev: setattr(s, "measure", ev.new), "value")
        self.w_level.param.watch(self._on_level_widget, "value")
        self.w_scheme.param.watch(lambda ev: setattr(s, "scheme", ev.new), "value")
        self.w_k.param.watch(lambda ev: setattr(s, "k", ev.new), "value_throttled")
        self.w_palette.param.watch(lambda ev: setattr(s, "palette", ev.new), "value")
        self.w_boroughs.param.watch(lambda ev: setattr(s, "boroughs", sorted(ev.new)), "value")
        self.w_rescale.param.watch(lambda ev: setattr(s, "rescale", ev.new), "value")
        for w in self.w_weights:
            w.param.watch(self._on_weight_widget, "value_throttled")
        self.w_norm.param.watch(lambda ev: setattr(s, "normalisation", ev.new), "value")
        self.w_agg.param.watch(lambda ev: setattr(s, "aggregation", ev.new), "value")
        self.w_reset.on_click(lambda _: s.reset_method())
        self.w_search.param.watch(self._on_search, "value")
        self.w_results.param.watch(self._on_result, "value")
        self.w_libraries.param.watch(lambda ev: setattr(s, "libraries", ev.new), "value")
        self.w_tiles.param.watch(lambda ev: setattr(s, "tiles", ev.new), "value")
        self.w_home.on_click(lambda _: self._fly(self._london_bounds()))
        self.w_set_a.on_click(lambda _: setattr(s, "compare_a", s.selected))
        self.w_set_b.on_click(lambda _: setattr(s, "compare_b", s.selected))
        self.w_cmp_a.param.watch(lambda ev: ev.new and setattr(s, "compare_a", ev.new), "value")
        self.w_cmp_b.param.watch(lambda ev: ev.new and setattr(s, "compare_b", ev.new), "value")
        self.table.on_click(self._on_table_click)

        s.param.watch(self._on_view_change, ["measure", "level", "scheme", "k", "palette",
                                             "weights", "normalisation", "aggregation",
                                             "rescale"])
        s.param.watch(self._on_boroughs, "boroughs")
        s.param.watch(self._on_selected, "selected")
        s.param.watch(lambda _: self.update_compare(), ["compare_a", "compare_b"])
        s.param.watch(lambda ev: setattr(self.lib_renderer, "visible", ev.new), "libraries")
        s.param.watch(self._on_tiles, "tiles")
        s.param.watch(self._sync_widgets, ["measure", "level", "scheme", "k", "palette",
                                           "boroughs", "rescale", "weights", "normalisation",
                                           "aggregation", "libraries", "tiles"])
        s.param.watch(self._push_url, ["measure", "level", "scheme", "k", "palette", "boroughs",
                                       "rescale", "weights", "normalisation", "aggregation",
                                       "selected", "compare_a", "compare_b", "libraries"])
        s.param.watch(self._count, ["measure", "level", "boroughs", "weights"])

    def _on_level_widget(self, ev) -> None:
        self.state.level = ev.new

    def _on_weight_widget(self, _ev) -> None:
        self.state.weights = [float(w.value) for w in self.w_weights]

    def _sync_widgets(self, *_events) -> None:
        """Widgets follow the state (after a reset, a URL or a search changed it)."""
        s = self.state
        groups = self._measure_groups()
        if self.w_measure.groups != groups:
            self.w_measure.groups = groups
        pairs = [(self.w_measure, s.measure), (self.w_level, s.level), (self.w_scheme, s.scheme),
                 (self.w_k, s.k), (self.w_palette, s.palette),
                 (self.w_boroughs, list(s.boroughs)), (self.w_rescale, s.rescale),
                 (self.w_norm, s.normalisation), (self.w_agg, s.aggregation),
                 (self.w_libraries, s.libraries), (self.w_tiles, s.tiles)]
        pairs += list(zip(self.w_weights, s.weights, strict=True))
        for widget, value in pairs:
            if widget.value != value:
                widget.value = value

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
        self._update_share()

    def _update_share(self) -> None:
        self.share.object = ('<p class="muted">The address in your browser\'s address bar now '
                             'holds this view (measure, areas, boroughs, weights, selection): '
                             'copy it to share.</p>')

    # -- map updates ----------------------------------------------------------------------------
    def _on_view_change(self, *events) -> None:
        self.recolour()
        names = {ev.name for ev in events}
        if names & {"weights", "normalisation", "aggregation", "rescale", "level"}:
            self.update_profile()
            self.update_compare()

    def recolour(self) -> MapView:
        """Send the new class and value columns of the visible level (never the geometry)."""
        s = self.state
        view = s.view()
        self._ensure_level(s.level)
        src = self._sources[s.level]
        k = len(view.classes.colours)
        # class k = no data, k + 1 = suppressed (same colour; the tooltip says which)
        cls = np.where(view.is_suppressed() & (view.classes.classes == k), k + 1,
                       view.classes.classes)
        src.data.update(cls=cls.astype(np.uint8), value=view.values.astype(np.float32))
        bm.set_classes(self.mapper, view.classes.colours)
        for fmt_model in self._class_formatters:
            fmt_model.args = {**fmt_model.args, "labels": list(view.classes.labels)}
        for fmt_model in self._value_formatters:
            fmt_model.args = {**fmt_model.args, "unit": view.unit}
        for level, r in self._renderers.items():
            r.visible = level == s.level
        self._view = view
        self._render_legend(view)
        self.summary.object = (f'<p id="map-summary"><b>In words:</b> {e(s.summary(view))}</p>')
        self._render_weights()
        self.message.object = " ".join(m for m in (s.note, s.message) if m)
        self.message.visible = bool(s.note or s.message)
        self._sync_selection()
        self.update_table(view)
        return view

    def _render_legend(self, view: MapView) -> None:
        s = self.state
        rows = "".join(
            f'<div class="legend-row"><span class="swatch" style="background:{e(c)}" '
            f'aria-hidden="true"></span><span>{e(label)}</span></div>'
            for c, label in view.legend())
        unit = f" ({e(view.unit)})" if view.unit and view.unit != "score" else ""
        scope = ("within " + e(", ".join(s.borough_names(s.boroughs)))
                 if s.rescale and s.boroughs else "across London")
        note = "" if s.is_default_method() or not (
            s.measure == INDEX_MEASURE or s.measure.startswith(DOMAIN_PREFIX)) else \
            '<p class="note">Custom weights or methods: not the published index.</p>'
        if (s.measure == INDEX_MEASURE or s.measure.startswith(DOMAIN_PREFIX)) and \
                not s.index_exact():
            note += ('<p class="note">Recomputed from the published indicators, in which small '
                     'counts are suppressed: close to, not identical with, the full-data index.'
                     '</p>')
        direction = ""
        meta = self.data.indicators.get(s.measure)
        if meta is not None and meta.get("direction") == "higher_is_better":
            direction = ("<p class=\"muted\">Higher values mean <b>less</b> risk: the "
                         "lowest values are the most at risk.</p>")
        elif s.measure == INDEX_MEASURE or s.measure.startswith(DOMAIN_PREFIX):
            direction = "<p class=\"muted\">Higher score = more at risk of digital exclusion."\
                        "</p>"
        self.legend.object = (
            f'<div class="legend-title">{e(view.label)}{unit}</div>'
            f'<p class="muted">{e(LEVELS[view.level])}, {e(SCHEME_LABELS[s.scheme].lower())} '
            f'{scope}</p>{rows}{direction}{note}')
        self.heading.object = (
            f'<h2 style="margin:4px 0">{e(view.label)}</h2><p class="muted">'
            f'{e(LEVELS[view.level])} · {scope} · data build {e(self.data.build_version)} '
            f'({e(self.data.built_at)})</p>')

    def _render_weights(self) -> None:
        s = self.state
        parts = "".join(f"<li>{e(name)}: <b>{w:.0%}</b></li>"
                        for name, w in zip(self.data.domains.values(), s.normalised_weights(),
                                           strict=True))
        state = "published index (default)" if s.is_default_method() else "custom"
        self.weights_text.object = (f'<p class="muted">Weights now ({e(state)}), scaled to sum to'
                                    f' 100 %:</p><ul>{parts}</ul>')

    def _on_boroughs(self, ev) -> None:
        self._fly(self.state.focus_bounds())
        if self.state.rescale:
            self.recolour()
            self.update_profile()
        else:
            self.update_table(self._view)
        self._render_legend(self._view)

    def _add_tiles(self) -> None:
        url = os.environ.get("MAPPING_TILES_URL", DEFAULT_TILES[0])
        attribution = os.environ.get("MAPPING_TILES_ATTRIBUTION", DEFAULT_TILES[1])
        self.tiles = bm.add_tiles(self.fig, url, attribution, visible=True)
        # tiles go to the bottom of the stack (under the river and the areas)
        self.fig.renderers = [self.tiles, *[r for r in self.fig.renderers if r is not self.tiles]]

    def _on_tiles(self, ev) -> None:
        if self.tiles is None and ev.new:
            self._add_tiles()
        if self.tiles is not None:
            self.tiles.visible = ev.new
        for r in self._renderers.values():
            r.glyph.fill_alpha = 0.72 if ev.new else 1.0
            r.selection_glyph.fill_alpha = r.glyph.fill_alpha
            r.nonselection_glyph.fill_alpha = r.glyph.fill_alpha

    def _fly(self, bounds, pad: float = 0.06) -> None:
        if bounds is None:
            return
        (x0, x1), (y0, y1) = fit_ranges(bounds, pad=pad)
        self.fig.x_range.update(start=x0, end=x1)
        self.fig.y_range.update(start=y0, end=y1)

    # -- selection and profile ------------------------------------------------------------------
    def _on_tap(self, level, attr, old, new) -> None:
        if self._syncing or level != self.state.level:
            return
        codes = self.data.levels[level].codes
        self.state.selected = str(codes[new[0]]) if new else ""

    def _on_table_click(self, event) -> None:
        try:
            code = self.table.value.iloc[event.row]["code"]
        except (IndexError, KeyError, AttributeError, TypeError):
            return

        def select() -> None:
            self.state.selected = str(code)
            self._fly(self.state.area_bounds(self.state.level, self.state.selected), pad=0.6)

        self._with_document_lock(select)

    @staticmethod
    def _with_document_lock(fn) -> None:
        """Run ``fn`` now (no server) or on the session's next tick, under the document lock:
        a Panel widget event (search, table row) is handled outside the lock, and the raw
        Bokeh models ``fn`` changes (the map's selection and ranges) must be changed under it,
        exactly as a click on the map is."""
        doc = pn.state.curdoc
        session = getattr(getattr(doc, "session_context", None), "session", None)
        if doc is None or session is None:
            fn()
        else:
            doc.add_next_tick_callback(fn)

    def _sync_selection(self) -> None:
        s = self.state
        src = self._sources.get(s.level)
        if src is None:
            return
        codes = self.data.levels[s.level].codes
        idx = [int(i) for i in np.flatnonzero(codes == s.selected)] if s.selected else []
        if list(src.selected.indices) != idx:
            self._syncing = True
            try:
                src.selected.indices = idx
            finally:
                self._syncing = False

    def _on_selected(self, _ev) -> None:
        self._sync_selection()
        self.update_profile()

    def update_profile(self) -> None:
        s = self.state
        has = bool(s.selected)
        self.w_set_a.disabled = self.w_set_b.disabled = not has
        if not has:
            self.profile.object = (
                '<h3>Area profile</h3><p class="muted">Click an area on the map, or find one with '
                '"Find an area" (keyboard), to see its indicators, domain scores and rank.</p>')
            return
        p = s.profile(s.selected)
        if p is None:
            self.profile.object = "<p>That area is not in this build.</p>"
            return
        self.profile.object = self.profile_html(p)

    def profile_html(self, p: dict) -> str:
        lvl = p["level"]
        lines = [f'<h3 style="margin:2px 0" id="profile-name">{e(p["name"])}</h3>',
                 f'<p class="muted">{e(LEVELS[lvl])} <b>{e(p["code"])}</b>']
        if p.get("ward") and lvl == "lsoa":
            lines.append(f' · ward {e(p["ward"])} · MSOA {e(p["msoa"])}')
        if lvl != "borough":
            lines.append(f' · {e(p["borough"])} ({e(p["borough_code"])})')
        lines.append(f' · {p["population"]:,} residents (Census 2021)</p>')
        if p["index"] is not None and not math.isnan(p["index"]):
            lines.append(f'<p><span class="big" id="profile-index">{p["index"]:.3f}</span> index'
                         f' score · rank <b id="profile-rank">{p["rank"]:,}</b> of '
                         f'{p["n_ranked"]:,} ({e(LEVELS[lvl].split(" ")[0])}s, 1 = most at '
                         'risk)</p>')
        else:
            lines.append('<p class="muted">No index score: outside the selected boroughs.</p>')
        iv = p.get("interval")
        if iv:
            lines.append(f'<p>Monte Carlo rank interval (5–95 %): <b>{iv["p05"]:,.0f} to '
                         f'{iv["p95"]:,.0f}</b> of {iv["n"]:,} (published method).</p>')
            if iv["unstable"]:
                lines.append('<p class="note"><b>Unstable ranking</b>: this area\'s rank moves a '
                             'lot with reasonable changes of weights and methods. Treat it with '
                             'care.</p>')
        elif lvl == "lsoa":
            lines.append('<p class="muted">Rank interval (Monte Carlo): not in this build.</p>')
        if not p["default_method"]:
            lines.append('<p class="note">Scores use your custom weights or methods.</p>')
        rows = "".join(
            f'<tr><td>{e(dm["name"])}</td><td class="num">{dm["weight"]:.0%}</td>'
            f'<td class="num">{fmt(dm["score"])}</td><td class="num">'
            f'{"–" if math.isnan(dm["share"]) else format(dm["share"], ".0%")}</td></tr>'
            for dm in p["domains"])
        lines.append('<table class="prof"><caption class="muted" style="text-align:left">Domain '
                     'scores (higher = more at risk)</caption><thead><tr>'
                     '<th scope="col">Domain</th><th scope="col">Weight</th><th scope="col">'
                     'Score</th><th scope="col">Share of index</th></tr></thead>'
                     f'<tbody>{rows}</tbody></table>')
        rows = "".join(
            f'<tr data-code="{e(i["code"])}"><td>{e(i["label"])}'
            f'{" (validation)" if i["domain"] == "validation" else ""}</td>'
            f'<td class="num">{e(value_cell(i))}</td>'
            f'<td class="num">{SUPPRESSED if i.get("suppressed") else fmt(i["percentile"])}'
            f'</td><td>{e(i["vintage"])}</td></tr>'
            for i in p["indicators"])
        where = {"lsoa": "London LSOAs", "ward": "London wards", "borough": "boroughs"}[lvl]
        lines.append('<table class="prof" id="profile-indicators"><caption class="muted" '
                     f'style="text-align:left">Indicators (percentile among {where}: 100 = '
                     'highest value)</caption><thead><tr><th scope="col">Indicator</th>'
                     '<th scope="col">Value</th><th scope="col">Percentile</th>'
                     f'<th scope="col">Vintage</th></tr></thead><tbody>{rows}</tbody></table>')
        return "".join(lines)

    # -- search ---------------------------------------------------------------------------------
    def _on_search(self, ev) -> None:
        results = self.state.search(ev.new)
        self._results = {label: (lvl, code) for label, lvl, code in results}
        if not results:
            self.w_results.visible = False
            self.search_note.object = ('<p class="muted">No match.</p>' if ev.new.strip()
                                       else "")
            return
        self.w_results.options = ["", *self._results]
        self.w_results.value = ""
        self.w_results.visible = True
        self.search_note.object = f'<p class="muted">{len(results)} match(es).</p>'
        if len(results) == 1:
            self.w_results.value = results[0][0]

    def _on_result(self, ev) -> None:
        target = getattr(self, "_results", {}).get(ev.new)
        if not target:
            return

        def go() -> None:
            bounds = self.state.go_to(*target)
            self._fly(bounds, pad=0.06 if target[0] == "borough" else 0.6)

        self._with_document_lock(go)

    # -- table ----------------------------------------------------------------------------------
    def update_table(self, view: MapView | None = None) -> None:
        s = self.state
        t = s.table(view or self._view)
        # Tabulator sets column titles as HTML: the indicator label is escaped
        self.table.titles = {"code": "Code", "name": "Name", "ward": "Ward", "borough": "Borough",
                             "population": "Residents",
                             "value": e(self._view.label[:60]) + (
                                 f" ({e(self._view.unit)})" if self._view.unit
                                 and self._view.unit != "score" else ""),
                             "class": "Map class", "class_number": "Class (1 = lowest)",
                             "rank": "Rank (1 = most at risk)"}
        # the value cell shows the word "suppressed" (or "no data"), never blank or NaN
        t = t.assign(value_text=[table_value(v, sup) for v, sup in zip(
            t["value"], t["value_suppressed"], strict=True)])
        self.table.formatters = {"value": HTMLTemplateFormatter(template="<%- value_text %>")}
        self.table.hidden_columns = ["value_text", "value_suppressed"]
        self.table.value = t
        n = len(t)
        self.table_caption.object = (
            f'<p>{n:,} rows ({e(LEVELS[s.level])}), the same values and classes as the map '
            f'({e(self._view.label)}). Sort by a column heading; filter with the boxes under the '
            'headings. Click a row to show its profile on the map tab.</p>')
        self.download.filename = re.sub(r"[^a-z0-9_.-]+", "-", (
            f"london-digital-exclusion-{s.measure}-{s.level}.csv").lower())

    def _csv(self):
        self.usage.add("download")
        return io.StringIO(self.state.csv())

    # -- compare --------------------------------------------------------------------------------
    def update_compare(self) -> None:
        s = self.state
        for w, v in ((self.w_cmp_a, s.compare_a), (self.w_cmp_b, s.compare_b)):
            target = v if v in w.options.values() else ""
            if w.value != target:
                w.value = target
        tabs = getattr(self, "tabs", None)
        if tabs is not None and tabs.active == 2:
            self.borough_table.value = s.borough_table()
        profiles = []
        for code in (s.compare_a, s.compare_b):
            lvl = level_of(code) if code else None
            profiles.append(s.profile(code, lvl) if lvl else None)
        if not any(profiles):
            self.compare.object = ('<p class="muted">Choose two boroughs above, or select an area'
                                   ' on the map and press "Compare as A" / "Compare as B" in its '
                                   'profile.</p>')
            return
        self.compare.object = self.compare_html(*profiles)

    def compare_html(self, a: dict | None, b: dict | None) -> str:
        def cell(p, fn):
            return "<td>–</td>" if p is None else f'<td class="num">{fn(p)}</td>'

        def head(p):
            if p is None:
                return "<th>–</th>"
            return (f'<th scope="col">{e(p["name"])}<br><span class="muted">{e(p["code"])} · '
                    f'{e(LEVELS[p["level"]])}</span></th>')

        rows = [
            ("Residents", lambda p: f'{p["population"]:,}'),
            ("Index score", lambda p: fmt(p["index"])),
            ("Rank (1 = most at risk)",
             lambda p: f'{p["rank"]:,} of {p["n_ranked"]:,}' if p["rank"] else "–"),
        ]
        n_dom = len(self.data.domains)
        for j in range(n_dom):
            name = list(self.data.domains.values())[j]
            rows.append((f"Domain: {name}", lambda p, j=j: fmt(p["domains"][j]["score"])))
        base = a or b
        for ind in base["indicators"]:
            def value(p, code=ind["code"]):
                hit = [i for i in p["indicators"] if i["code"] == code]
                if not hit:
                    return "–"
                i = hit[0]
                if i.get("suppressed"):
                    return SUPPRESSED
                return (f'{e(fmt(i["value"], i["unit"]))} '
                        f'<span class="muted">(p{fmt(i["percentile"])})</span>')
            rows.append((ind["label"], value))
        body = "".join(f'<tr><th scope="row">{e(label)}</th>{cell(a, fn)}{cell(b, fn)}</tr>'
                       for label, fn in rows)
        return (f'<table class="prof" id="compare-table"><thead><tr><th></th>{head(a)}{head(b)}'
                f'</tr></thead><tbody>{body}</tbody></table><p class="muted">(pNN) = percentile '
                'among areas of the same level in London.</p>')

    # -- layout ---------------------------------------------------------------------------------
    def _on_tab(self, ev) -> None:
        if ev.new == 2:
            self.borough_table.value = self.state.borough_table()
            self.update_compare()
        elif ev.new == 5:
            self.usage_pane.object = about.usage_markdown(self.usage, self.data)

    def sidebar(self) -> list:
        return [
            self.w_measure, pn.pane.Markdown("**Areas**", margin=(0, 10)), self.w_level,
            self.w_search, self.search_note, self.w_results,
            self.w_boroughs, self.w_rescale,
            pn.Card(*self.w_weights, self.weights_text, self.w_norm, self.w_agg, self.w_reset,
                    title="Weights and method", collapsed=False, sizing_mode="stretch_width"),
            pn.Card(self.w_scheme, self.w_k, self.w_palette, title="Classes and colours",
                    collapsed=True, sizing_mode="stretch_width"),
            pn.Card(self.w_libraries, self.w_tiles, self.w_home, title="Layers and view",
                    collapsed=False, sizing_mode="stretch_width"),
            self.share,
        ]

    def main(self) -> pn.layout.Tabs:
        d = self.data
        attributions = "".join(f"<li>{e(a)}</li>" for a in d.outputs.manifest.get(
            "attributions", []))
        footer = html_pane(
            f'<p class="muted">Data build {e(d.build_version)}, built {e(d.built_at)}. Sources:'
            f'</p><ul class="muted">{attributions}<li>Boundaries: ONS, OGL v3.0; contains OS data '
            '© Crown copyright. Libraries: DCMS (2016) and © OpenStreetMap contributors.</li>'
            '</ul>', sizing_mode="stretch_width")
        map_tab = pn.Column(
            self.heading, self.summary,
            pn.Row(pn.Column(self.map_pane, sizing_mode="stretch_width"),
                   pn.Column(self.legend, self.message, self.profile,
                             pn.Row(self.w_set_a, self.w_set_b), width=400),
                   sizing_mode="stretch_width"),
            footer, sizing_mode="stretch_width", name="Map")
        table_tab = pn.Column(self.table_caption, self.download, self.table,
                              sizing_mode="stretch_width", name="Table")
        compare_tab = pn.Column(
            markdown_pane("## Compare two areas or boroughs"), pn.Row(self.w_cmp_a, self.w_cmp_b),
            self.compare, markdown_pane(
                "## All boroughs\nPopulation-weighted index score (current weights and methods, "
                "London frame), rank among the 33 boroughs, and the share of residents living in "
                "London's most at-risk 10 % and 20 % of LSOAs."),
            self.borough_table, sizing_mode="stretch_width", name="Compare")
        scatter = about.validation_scatter(d)
        method_tab = pn.Column(
            markdown_pane(about.methodology_markdown(d), sizing_mode="stretch_width"),
            markdown_pane(about.validation_markdown(d), sizing_mode="stretch_width"),
            *([pn.pane.Bokeh(scatter, sizing_mode="stretch_width")] if scatter else []),
            name="Methodology", sizing_mode="stretch_width")
        sources_tab = markdown_pane(about.sources_markdown(d), name="Sources",
                                    sizing_mode="stretch_width")
        gov = pn.pane.HTML(about.governance_iframe(
            governance_html(str(about.REPO_ROOT), str(np.datetime64("today")))),
            sizing_mode="stretch_width", name="gov")
        governance_tab = pn.Column(self.usage_pane, markdown_pane(
            "## Governance records\nThe ethics review record, decision log and registers from "
            "`governance/`, rendered with raw HTML disabled."), gov,
            sizing_mode="stretch_width", name="Governance")
        access_tab = markdown_pane(about.accessibility_markdown(d), name="Accessibility",
                                   sizing_mode="stretch_width")
        self.tabs = pn.Tabs(map_tab, table_tab, compare_tab, method_tab, sources_tab,
                            governance_tab, access_tab, dynamic=True,
                            sizing_mode="stretch_width")
        self.tabs.param.watch(self._on_tab, "active")
        return self.tabs

    def template(self):
        """The page: a header, the controls, then the tabs. A plain Panel layout rather than a
        ready-made template: the templates request Google Fonts (which fails offline), wrap
        the sidebar in a list that is not one, and add mouse-only buttons (WCAG 2.2 AA
        findings; see the Accessibility tab). The script of :mod:`mapping.app.a11y` fixes
        what the Bokeh widgets leave out."""
        header = html_pane(
            f'<div class="site-header"><h1>{e(TITLE)}</h1><p>Where London residents are most '
            'at risk of digital exclusion. Use the controls on the left, then the tabs: Map, '
            'Table (the same data as text), Compare, Methodology, Sources, Governance and '
            'Accessibility.</p></div>', sizing_mode="stretch_width", margin=0)
        header.stylesheets = [*header.stylesheets, HEADER_CSS]
        controls = pn.Column(*self.sidebar(), width=340, margin=(5, 10))
        page = pn.Column(header, pn.Row(controls, self.main(), sizing_mode="stretch_width"),
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
