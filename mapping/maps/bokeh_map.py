"""Bokeh choropleth of polygons: geometry sent once, recoloured by changing one column.

Coordinates are Web Mercator (so optional tiles line up) as float32 arrays; each area is one
entry of a ``MultiPolygons`` glyph's column data source.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure
from shapely.geometry import MultiPolygon, Polygon


def _multipolygon_columns(geoms) -> tuple[list, list]:
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


def polygon_source(frame: gpd.GeoDataFrame, columns: list[str]) -> ColumnDataSource:
    """A ColumnDataSource of Web Mercator multipolygons plus the given attribute columns."""
    merc = frame.to_crs(3857)
    xs, ys = _multipolygon_columns(merc.geometry)
    data = {"xs": xs, "ys": ys}
    for col in columns:
        data[col] = frame[col].tolist()
    return ColumnDataSource(data)


def choropleth_figure(source: ColumnDataSource, *, fill: str = "fill", title: str = "",
                      tooltips: list[tuple[str, str]] | None = None, height: int = 640):
    """A pan/zoom figure drawing ``source`` filled by its ``fill`` colour column."""
    fig = figure(title=title, match_aspect=True, height=height, sizing_mode="stretch_width",
                 tools="pan,wheel_zoom,box_zoom,reset,tap", active_scroll="wheel_zoom",
                 x_axis_type="mercator", y_axis_type="mercator")
    fig.axis.visible = False
    fig.grid.visible = False
    renderer = fig.multi_polygons("xs", "ys", source=source, fill_color=fill,
                                  line_color="#ffffff", line_width=0.2)
    if tooltips:
        fig.add_tools(HoverTool(renderers=[renderer], tooltips=tooltips))
    return fig, renderer
