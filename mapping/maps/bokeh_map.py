"""Bokeh choropleth of polygons: geometry sent once, recoloured by changing one column.

Coordinates are Web Mercator (so optional tiles line up), as float32 arrays or, for the app,
whole metres in plain lists (:func:`polygon_lists`, the lighter payload); each area is one entry
of a ``MultiPolygons`` glyph's column data source. Colour comes from an integer class
column (``cls``, uint8) through a :class:`~bokeh.models.LinearColorMapper` whose palette holds
the class colours and, last, the no-data colour: a recolour sends that column, the value column
shown in tooltips, and the palette — a few KB — never the geometry.

No Panel here: the app wraps these figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
from bokeh.models import (
    ColumnDataSource,
    HoverTool,
    LinearColorMapper,
    Range1d,
    TapTool,
    WMTSTileSource,
)
from bokeh.plotting import figure
from shapely.geometry import MultiPolygon, Polygon

from mapping.maps.classify import NO_DATA_COLOUR

WATER_COLOUR = "#c6dbef"
OUTLINE_COLOUR = "#1a1a1a"
#: borough names: dark text on a white box at this opacity, over any class colour
LABEL_COLOUR = "#111111"
LABEL_BOX_COLOUR = "#ffffff"
LABEL_BOX_ALPHA = 0.72


def to_mercator(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.to_crs(3857)


def polygon_columns(geoms: Iterable) -> tuple[list, list]:
    """``xs``/``ys`` for ``multi_polygons``: per area, per polygon, per ring, a float32 array."""
    xs, ys = [], []
    for geom in geoms:
        polys = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
        px, py = [], []
        for poly in polys:
            if not isinstance(poly, Polygon) or poly.is_empty:
                continue
            rings = [poly.exterior, *poly.interiors]
            px.append([np.asarray(r.xy[0], dtype=np.float32) for r in rings])
            py.append([np.asarray(r.xy[1], dtype=np.float32) for r in rings])
        xs.append(px)
        ys.append(py)
    return xs, ys


def polygon_lists(geoms: Iterable) -> tuple[list, list]:
    """Like :func:`polygon_columns`, but whole metres in plain lists.

    A London LSOA map has ~5,000 rings: as NumPy arrays each becomes its own binary buffer with
    a ~110-byte JSON header (and its own websocket frame), which costs more than the
    coordinates. Whole-metre integers in JSON are ~25 % smaller in total and one message.
    Rounding is per vertex, so neighbours' shared edges stay identical (no gaps)."""
    xs, ys = polygon_columns(geoms)

    def ints(nested):
        return [[np.rint(ring).astype(np.int64).tolist() for ring in poly] for poly in nested]

    return [ints(a) for a in xs], [ints(a) for a in ys]


def polygon_source(frame: gpd.GeoDataFrame, columns: list[str]) -> ColumnDataSource:
    """A ColumnDataSource of Web Mercator multipolygons plus the given attribute columns."""
    xs, ys = polygon_columns(to_mercator(frame).geometry)
    data = {"xs": xs, "ys": ys}
    for col in columns:
        data[col] = frame[col].tolist()
    return ColumnDataSource(data)


def class_mapper(colours: Sequence[str]) -> LinearColorMapper:
    """Maps class ``i`` (0 … k-1) to ``colours[i]`` and classes ``k`` (no data) and ``k + 1``
    (suppressed, told apart in tooltips) to the no-data colour."""
    palette = [*colours, NO_DATA_COLOUR]
    return LinearColorMapper(palette=palette, low=0, high=len(palette),
                             high_color=NO_DATA_COLOUR)


def set_classes(mapper: LinearColorMapper, colours: Sequence[str]) -> None:
    """Point ``mapper`` at new class colours (k may change)."""
    palette = [*colours, NO_DATA_COLOUR]
    mapper.update(palette=palette, high=len(palette))


def map_figure(x_range: tuple[float, float], y_range: tuple[float, float], *,
               height: int = 620, title: str = "") -> figure:
    """An empty pan/zoom map figure in Web Mercator (axes hidden)."""
    fig = figure(title=title, height=height, sizing_mode="stretch_width",
                 x_range=Range1d(*x_range), y_range=Range1d(*y_range),
                 tools="pan,wheel_zoom,box_zoom,reset,save", active_scroll="wheel_zoom",
                 x_axis_type="mercator", y_axis_type="mercator", match_aspect=True,
                 toolbar_location="right", background_fill_color="#f7f7f7",
                 border_fill_color="#ffffff", min_border=0)
    fig.axis.visible = False
    fig.grid.visible = False
    fig.outline_line_color = None
    return fig


def add_choropleth(fig, source: ColumnDataSource, mapper: LinearColorMapper,
                   tooltips: list[tuple[str, str]], *, line_width: float = 0.15,
                   fill_alpha: float = 1.0, visible: bool = True,
                   formatters: dict | None = None, tools: bool = True, xs="xs", ys="ys"):
    """Draw ``source`` filled through ``mapper`` from its ``cls`` column; hover and tap on it
    (with ``tools=False`` the caller brings its own, see :func:`area_tools`).

    Tooltips must use ``@field`` references only (Bokeh escapes them); never ``{safe}``.
    """
    check_tooltips(tooltips)
    renderer = fig.multi_polygons(
        xs=xs, ys=ys, source=source, fill_color={"field": "cls", "transform": mapper},
        fill_alpha=fill_alpha, line_color="#ffffff", line_width=line_width, line_alpha=0.6,
        selection_line_color="#000000", selection_line_width=3, selection_fill_alpha=fill_alpha,
        nonselection_fill_alpha=fill_alpha, nonselection_line_alpha=0.6,
        hover_line_color="#000000", hover_line_width=2,
        hover_fill_color={"field": "cls", "transform": mapper}, visible=visible)
    if tools:
        fig.add_tools(HoverTool(renderers=[renderer], tooltips=tooltips, visible=False,
                                formatters=formatters or {}))
        fig.add_tools(TapTool(renderers=[renderer]))
    return renderer


def check_tooltips(tooltips: list[tuple[str, str]]) -> None:
    """Refuse a tooltip that would show a data string unescaped."""
    for _, spec in tooltips:
        if "{safe}" in spec:
            raise ValueError("tooltips must not use {safe}: data strings must stay escaped")


def area_tools(fig) -> tuple[HoverTool, TapTool]:
    """One hover and one tap tool for a figure that draws one of several layers of areas at a
    time: the caller points both at the visible layer (``renderers=[...]``). A tool per layer
    would grow the toolbar with every layer, and only one tap tool can be active."""
    hover = HoverTool(renderers=[], tooltips=[], visible=False)
    tap = TapTool(renderers=[])
    fig.add_tools(hover, tap)
    fig.toolbar.active_tap = tap
    return hover, tap


def add_water(fig, source: ColumnDataSource, xs="xs", ys="ys"):
    """The river (drawn under the areas' fills, over the background); ``xs``/``ys`` are
    columns of ``source`` or specs computed from them."""
    return fig.multi_polygons(xs=xs, ys=ys, source=source, fill_color=WATER_COLOUR,
                              line_color=None, level="underlay")


def add_outlines(fig, source: ColumnDataSource, xs="xs", ys="ys",
                 label_source: ColumnDataSource | None = None, x="x", y="y", text="name"):
    """Borough outlines and (from ``label_source``) names on top of the fills."""
    lines = fig.multi_line(xs=xs, ys=ys, source=source, line_color=OUTLINE_COLOUR,
                           line_width=1.1, line_alpha=0.9)
    labels = None
    if label_source is not None:
        # dark names on a light, mostly opaque box: readable on every class colour (at least
        # 9:1 on the darkest). No text outline: Bokeh strokes it over the letters, which
        # turns dark names white.
        labels = fig.text(x=x, y=y, text=text, source=label_source, text_font_size="10px",
                        text_align="center", text_baseline="middle", text_color=LABEL_COLOUR,
                        text_font_style="bold", text_outline_color=None,
                        background_fill_color=LABEL_BOX_COLOUR,
                        background_fill_alpha=LABEL_BOX_ALPHA, padding=1, border_radius=2)
    return lines, labels


def add_points(fig, source: ColumnDataSource, x="x", y="y", *, visible: bool = False,
               tooltips=(("Library", "@name"), ("Listed by", "@source")),
               formatters: dict | None = None):
    """Point overlay (libraries), with tooltips (field references: Bokeh escapes them)."""
    check_tooltips(list(tooltips))
    renderer = fig.scatter(x=x, y=y, source=source, size=7, marker="circle",
                           fill_color="#ffffff", line_color="#d7301f", line_width=2,
                           visible=visible)
    fig.add_tools(HoverTool(renderers=[renderer], tooltips=list(tooltips),
                            formatters=formatters or {}))
    return renderer


def add_tiles(fig, url: str, attribution: str, *, visible: bool = False):
    """Basemap tiles from ``url`` (an XYZ template). Missing tiles (offline) leave the
    background showing; the map still draws."""
    tiles = WMTSTileSource(url=url, attribution=attribution)
    return fig.add_tile(tiles, visible=visible, level="underlay")
