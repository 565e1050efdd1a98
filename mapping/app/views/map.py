"""The map: a Bokeh figure built once per session and recoloured from the store.

The geometry never enters a session's document. Every static layer (the areas' polygons, codes
and names, the borough outlines and labels, the river, the libraries) is read in the browser
from the build's map data asset (:mod:`mapping.app.assets`, loaded once and cached): a glyph's
coordinates are a ``CustomJSTransform`` of a small per-session column that returns the asset's
arrays. A level's ColumnDataSource holds only ``cls`` (uint8) and ``value`` (float64, so that
the browser can re-classify exactly as the server does). Changes of weights, classes and
colours are repainted in the browser first (``mapclient.js``, :meth:`MapPanel.link_client`);
the server still follows every change (legend, summary, table, profile) and sends the same
columns. Tooltips use ``@field`` references and formatters only (Bokeh escapes both), and say
"no data" or "suppressed" in words, never "NaN".
"""

from __future__ import annotations

import os
from functools import partial

import numpy as np
import panel as pn
import param
from bokeh.core.property.vectorization import Field
from bokeh.models import ColumnDataSource, CustomJS, CustomJSHover, CustomJSTransform

from mapping.app.store import AppState, Choropleth
from mapping.maps import bokeh_map as bm

ASPECT = 1.35  # width / height of the map frame; ranges are fitted to it
MIN_SPAN = 4000.0  # metres (Web Mercator) shown at least when flying to a small area
DEFAULT_TILES = ("https://tile.openstreetmap.org/{Z}/{X}/{Y}.png",
                 "© OpenStreetMap contributors")

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
#: The area's name, code and borough come from the map data asset (format "area", "code",
#: "borough"), its class from the session's ``cls`` column (format "class").
CLASS_JS = """
if (format != "class") {
  const col = format == "area" ? "name" : format;
  return String(MappingClient.data().levels[level][col][special_vars.index]);
}
const k = mapper.palette.length - 1;
if (value > k) return "none (value suppressed)";
if (value >= k) return "none (no data)";
return (value + 1) + " of " + k + (labels[value] ? " (" + labels[value] + ")" : "");
"""
#: A glyph property read from the map data asset: ``path`` names the array in it. When the
#: asset or the client code did not load (a network fault, a server missing its files), the
#: page says so in words at its top instead of showing an empty map; the glyph gets no shapes.
STATIC_JS = """
let d;
try {
  d = MappingClient.data();
} catch (err) {
  if (!document.getElementById("map-missing")) {
    const box = document.createElement("div");
    box.id = "map-missing";
    box.setAttribute("role", "alert");
    box.textContent = "The map's files did not load, so the map cannot be drawn. Reload "
      + "the page; if this happens again, the server is missing the map's files.";
    box.style.cssText = "background:#fff4ce;color:#1b1b1b;border-left:6px solid #b35900;"
      + "padding:10px 14px;font:16px system-ui,sans-serif;";
    document.body.prepend(box);
  }
  return Array.from(xs, () => []);
}
for (const p of path) d = d[p];
return d;
"""
#: A library's name and who lists it, from the map data asset.
LIBRARY_JS = """
return String(MappingClient.data().libraries[format][special_vars.index]);
"""
#: The repaint in the browser (mapclient.js) on a change of weights, method or classes.
#: (``WEIGHTS`` is filled in: one argument per slider). A level's source is found by its name
#: (``areas-<level>``): a level's source is made when the level is first shown.
REPAINT_JS = """
if (!globalThis.MappingClient) return;
MappingClient.repaint({level: level, measure: measure, scheme: scheme, k: k,
  palette: palette, normalisation: normalisation, aggregation: aggregation, rescale: rescale,
  weights: [WEIGHTS], mapper: mapper,
  source: (lv) => mapper.document.get_model_by_name("areas-" + lv)}, trigger);
"""


#: LSOA outlines are drawn only once the map shows less than this width (Web Mercator metres,
#: about 15 km on the ground in London): London-wide, 4,994 hairline outlines blur into the
#: fills, yet stroking them is a fifth of every repaint; closer in, they separate neighbours
#: of the same class. (Ward and borough outlines are always drawn.)
LSOA_OUTLINE_SPAN = 25_000.0
LSOA_OUTLINE_ALPHA = 0.6
#: Shows or hides the LSOA outlines as the map's x range changes (``glyphs``: the renderer's
#: glyph and its non-selection glyph; selection and hover outlines are their own glyphs).
OUTLINE_JS = """
const alpha = (cb_obj.end - cb_obj.start) < span ? shown : 0;
for (const g of glyphs) if (g.line_alpha.value !== alpha) g.line_alpha = alpha;
"""


def lsoa_outline_alpha(x_range) -> float:
    """The LSOA outlines' alpha for a map showing ``x_range`` (see :data:`OUTLINE_JS`)."""
    return LSOA_OUTLINE_ALPHA if x_range.end - x_range.start < LSOA_OUTLINE_SPAN else 0.0


def static_field(path: str, column: str = "i") -> Field:
    """A glyph property computed in the browser from the map data asset (``path``: dotted keys,
    e.g. ``levels.lsoa.xs``), keyed on the session's ``column`` (one row per item)."""
    return Field(column, transform=CustomJSTransform(args={"path": path.split(".")},
                                                     v_func=STATIC_JS))


def static_source(n: int) -> ColumnDataSource:
    """A source of ``n`` rows and no data but their numbers: the rows of a static layer."""
    return ColumnDataSource({"i": np.arange(n, dtype=np.uint16)})


def tooltips(level: str) -> list[tuple[str, str]]:
    """The hover text of an area of ``level`` (field references through formatters only:
    Bokeh escapes what they return)."""
    rows = [("Area", "@cls{area}"), ("Code", "@cls{code}")]
    if level != "borough":
        rows.append(("Borough", "@cls{borough}"))
    return [*rows, ("Value", "@value{custom}"), ("Class", "@cls{class}")]


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


def with_document_lock(fn) -> None:
    """Run ``fn`` now (no server) or on the session's next tick, under the document lock: a
    Panel widget event (search, table row) is handled outside the lock, and the raw Bokeh models
    ``fn`` changes (the map's selection and ranges) must be changed under it, exactly as a click
    on the map is."""
    doc = pn.state.curdoc
    session = getattr(getattr(doc, "session_context", None), "session", None)
    if doc is None or session is None:
        fn()
    else:
        doc.add_next_tick_callback(fn)


class MapPanel(pn.viewable.Viewer):
    """The session's map: areas coloured by the store's :class:`Choropleth`, borough outlines
    and names, the river, libraries and (on request) basemap tiles."""

    store = param.ClassSelector(class_=AppState, constant=True)

    def __init__(self, **params):
        super().__init__(**params)
        s, d = self.store, self.store.data
        self.sources: dict[str, ColumnDataSource] = {}
        self.renderers: dict[str, object] = {}
        self._syncing = False
        xr, yr = fit_ranges(self.london_bounds())
        fig = bm.map_figure(xr, yr)
        fig.toolbar_inner = True
        fig.aspect_ratio = ASPECT
        fig.sizing_mode = "scale_width"
        fig.height = None
        fig.width = 900
        self.fig = fig
        self.tiles = None  # added on first use: no tile requests unless asked for
        if s.tiles:
            self._add_tiles()
        self.water = bm.add_water(fig, static_source(1), static_field("river.xs"),
                                  static_field("river.ys"))
        self.mapper = bm.class_mapper(["#ffffff"] * s.k)
        # one hover and one tap tool, pointed at the level shown (never one per level)
        self.hover, self.tap = bm.area_tools(fig)
        self.class_fmt = CustomJSHover(args={"mapper": self.mapper, "labels": [],
                                             "level": s.level}, code=CLASS_JS)
        self.value_fmt = CustomJSHover(args={"src": None, "mapper": self.mapper,
                                             "unit": s.measure_unit()}, code=VALUE_JS)
        self.hover.formatters = {"@value": self.value_fmt, "@cls": self.class_fmt}
        self._tools_level = ""
        self._add_level(s.level)
        self.outlines, self.labels = bm.add_outlines(
            fig, static_source(len(d.borough_lines[0])), static_field("outlines.xs"),
            static_field("outlines.ys"), label_source=static_source(len(d.boroughs)),
            x=static_field("labels.x"), y=static_field("labels.y"),
            text=static_field("labels.name"))
        self.lib_renderer = bm.add_points(
            fig, static_source(len(d.libraries)), static_field("libraries.x"),
            static_field("libraries.y"), visible=s.libraries,
            tooltips=[("Library", "@i{name}"), ("Listed by", "@i{source}")],
            formatters={"@i": CustomJSHover(code=LIBRARY_JS)})
        self.pane = pn.pane.Bokeh(fig, sizing_mode="stretch_width", min_width=280, margin=(0, 5))
        s.param.watch(self._on_view, list(s.VIEW))
        s.param.watch(self._on_boroughs, "boroughs")
        s.param.watch(self._on_level, "level")
        s.param.watch(lambda _: self.sync_selection(), "selected")
        s.param.watch(lambda ev: setattr(self.lib_renderer, "visible", ev.new), "libraries")
        s.param.watch(self._on_tiles, "tiles")
        self.recolour()

    def __panel__(self):
        return self.pane

    # -- geometry ---------------------------------------------------------------------------
    def london_bounds(self):
        bb = self.store.data.levels["borough"].bounds
        return (bb[:, 0].min(), bb[:, 1].min(), bb[:, 2].max(), bb[:, 3].max())

    def _add_level(self, level: str) -> None:
        """The source and renderer of a level's areas, made when the level is first shown: two
        small columns (class and value); the polygons, codes and names are read in the
        browser from the map data asset."""
        if level in self.sources:
            return
        n = len(self.store.data.levels[level].table)
        src = ColumnDataSource({"cls": np.zeros(n, dtype=np.uint8),
                                "value": np.full(n, np.nan)}, name=f"areas-{level}")
        renderer = bm.add_choropleth(self.fig, src, self.mapper, tooltips(level),
                                     line_width=0.15 if level == "lsoa" else 0.4,
                                     fill_alpha=0.72 if self.store.tiles else 1.0,
                                     tools=False, visible=level == self.store.level,
                                     xs=static_field(f"levels.{level}.xs", "cls"),
                                     ys=static_field(f"levels.{level}.ys", "cls"))
        # keep areas under the outlines and labels drawn later: one reassignment, so that the
        # renderer never leaves the document in between (it would be sent twice)
        overlays = (getattr(self, "outlines", None), getattr(self, "labels", None))
        others = [r for r in self.fig.renderers if r is not renderer]
        first = next((i for i, r in enumerate(others) if r in overlays), len(others))
        self.fig.renderers = [*others[:first], renderer, *others[first:]]
        src.selected.on_change("indices", partial(self._on_tap, level))
        self.sources[level] = src
        self.renderers[level] = renderer
        if level == "lsoa":  # outlines closer in only: the browser follows its own zooming
            self._outline_lsoa()
            self.fig.x_range.js_on_change("end", CustomJS(
                args={"glyphs": [renderer.glyph, renderer.nonselection_glyph],
                      "span": LSOA_OUTLINE_SPAN, "shown": LSOA_OUTLINE_ALPHA},
                code=OUTLINE_JS))

    def _outline_lsoa(self) -> None:
        """The LSOA outlines for the range the server has set (see :data:`OUTLINE_JS`)."""
        r = self.renderers.get("lsoa")
        if r is not None:
            alpha = lsoa_outline_alpha(self.fig.x_range)
            r.glyph.line_alpha = r.nonselection_glyph.line_alpha = alpha

    def _point_tools(self, level: str) -> None:
        """The hover and tap tools act on the level shown, and only on it."""
        if self._tools_level == level:
            return
        self._tools_level = level
        renderer = self.renderers[level]
        self.hover.update(renderers=[renderer], tooltips=tooltips(level))
        self.tap.renderers = [renderer]
        self.value_fmt.args = {**self.value_fmt.args, "src": self.sources[level]}
        self.class_fmt.args = {**self.class_fmt.args, "level": level}

    # -- colours ----------------------------------------------------------------------------
    def _on_view(self, *_events) -> None:
        self.recolour()

    def _on_boroughs(self, _ev) -> None:
        self.fly(self.store.focus_bounds())
        if self.store.rescale:
            self.recolour()

    def recolour(self) -> Choropleth:
        """Send the new class and value columns of the visible level (never the geometry)."""
        s = self.store
        view = s.view()
        self._add_level(s.level)
        src = self.sources[s.level]
        k = len(view.classes.colours)
        # class k = no data, k + 1 = suppressed (same colour; the tooltip says which)
        cls = np.where(view.is_suppressed() & (view.classes.classes == k), k + 1,
                       view.classes.classes)
        src.data.update(cls=cls.astype(np.uint8), value=view.values.astype(np.float64))
        bm.set_classes(self.mapper, view.classes.colours)
        labels = list(view.classes.labels)
        if self.class_fmt.args.get("labels") != labels:
            self.class_fmt.args = {**self.class_fmt.args, "labels": labels}
        # (a change of arguments re-walks the document: only when they change)
        if self.value_fmt.args.get("unit") != view.unit:
            self.value_fmt.args = {**self.value_fmt.args, "unit": view.unit}
        for level, r in self.renderers.items():
            r.visible = level == s.level
        self._point_tools(s.level)
        self.sync_selection()
        return view

    # -- the repaint in the browser --------------------------------------------------------
    def link_client(self, *, level, measure, scheme, k, palette, normalisation, aggregation,
                    rescale, weights) -> None:
        """Repaint the map in the browser when a weight, the way domains are combined, the
        classes or the colours change (``mapclient.js``); the widgets' changes still reach the
        server, which updates everything else and sends the same colours."""
        args = {"level": level, "measure": measure, "scheme": scheme, "k": k,
                "palette": palette, "normalisation": normalisation, "aggregation": aggregation,
                "rescale": rescale, "mapper": self.mapper,
                **{f"w{i}": w for i, w in enumerate(weights)}}
        code = REPAINT_JS.replace("WEIGHTS", ", ".join(f"w{i}" for i in range(len(weights))))
        for widget, trigger in ((scheme, "scheme"), (k, "k"), (palette, "palette"),
                                (aggregation, "aggregation"), *((w, "weights") for w in weights)):
            widget.jscallback(value=code, args={**args, "trigger": trigger})

    # -- tiles and view -----------------------------------------------------------------------
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
        for r in self.renderers.values():
            r.glyph.fill_alpha = 0.72 if ev.new else 1.0
            r.selection_glyph.fill_alpha = r.glyph.fill_alpha
            r.nonselection_glyph.fill_alpha = r.glyph.fill_alpha

    def fly(self, bounds, pad: float = 0.06) -> None:
        """Show ``bounds`` (Web Mercator), padded."""
        if bounds is None:
            return
        (x0, x1), (y0, y1) = fit_ranges(bounds, pad=pad)
        self.fig.x_range.update(start=x0, end=x1)
        self.fig.y_range.update(start=y0, end=y1)
        self._outline_lsoa()

    def fly_to_area(self, level: str, code: str) -> None:
        """Show the area ``code`` of ``level`` in its context (its borough; a borough among
        the boroughs in focus): never zoomed into the area alone."""
        self.fly(self.store.context_bounds(level, code))

    def _on_level(self, ev) -> None:
        """A level change shows the (carried) selection in its context at the new level: not
        the zoom of the old selection, which at a coarser level shows one enlarged area."""
        if self.store.selected:
            self.fly_to_area(ev.new, self.store.selected)

    def home(self) -> None:
        self.fly(self.london_bounds())

    # -- selection --------------------------------------------------------------------------
    def _on_tap(self, level, attr, old, new) -> None:
        if self._syncing or level != self.store.level:
            return
        codes = self.store.data.levels[level].codes
        self.store.selected = str(codes[new[0]]) if new else ""

    def sync_selection(self) -> None:
        s = self.store
        src = self.sources.get(s.level)
        if src is None:
            return
        codes = s.data.levels[s.level].codes
        idx = [int(i) for i in np.flatnonzero(codes == s.selected)] if s.selected else []
        if list(src.selected.indices) != idx:
            self._syncing = True
            try:
                src.selected.indices = idx
            finally:
                self._syncing = False
