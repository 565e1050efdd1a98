"""The map's static layers in Web Mercator, from a build: the polygon lists of each level's
areas, the borough outlines, the river and the libraries. They go into the map data asset
(:mod:`mapping.app.assets`), never into a session's document."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from mapping.maps.bokeh_map import polygon_lists, to_mercator

__all__ = ["borough_lines", "libraries", "polygon_lists", "thames"]


def thames(lsoa_merc) -> tuple[list, list]:
    """The river as the gap the LSOAs leave: close the union by 700 m, subtract the union, keep
    the pieces of more than 0.2 km² (drops slivers and docks smaller than that)."""
    # the LSOAs are a coverage (shared edges are identical): coverage union is ~25x faster
    union = shapely.coverage_union_all(np.asarray(lsoa_merc))
    closed = shapely.buffer(shapely.buffer(union, 700.0, quad_segs=4), -700.0, quad_segs=4)
    gap = shapely.difference(closed, union)
    parts = [p for p in shapely.get_parts(gap) if p.area > 200_000]
    if not parts:
        return [], []
    river = shapely.simplify(shapely.MultiPolygon(parts), 25.0)
    xs, ys = polygon_lists([river])
    return xs[0], ys[0]


def borough_lines(boro_merc) -> tuple[list, list]:
    """Every borough's outline as lines (one per boundary part), x and y coordinate arrays."""
    xs, ys = [], []
    for geom in boro_merc:
        for line in shapely.get_parts(shapely.boundary(geom)):
            for part in shapely.get_parts(line):
                c = shapely.get_coordinates(part)
                xs.append(c[:, 0])
                ys.append(c[:, 1])
    return xs, ys


def libraries(model) -> pd.DataFrame:
    """The build's libraries: name, source, x and y (Web Mercator)."""
    lib = model.libraries()
    merc = to_mercator(lib)
    return pd.DataFrame({"name": lib["name"].astype(str), "source": lib["source"].astype(str),
                         "x": merc.geometry.x.to_numpy(), "y": merc.geometry.y.to_numpy()})
