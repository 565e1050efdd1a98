"""The support gap: how far residents are from the nearest place offering digital support.

Distances are **straight lines** in British National Grid metres (EPSG:27700), from an area's
centre to the nearest support place (a library, or a place from a user's list). An LSOA's
centre is a point inside its polygon (``shapely.point_on_surface``); the data package has no
population-weighted centroids, so this is the best centre it allows, and it is said so wherever
the figure is shown. A ward's or borough's distance is the population-weighted mean of its
LSOAs' distances. Real walking routes are longer than straight lines.

Pure functions over geometry arrays and frames (DR-0011).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

BNG = 27700


def nearest(points, places) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the distance (in the CRS's units) to the nearest place and its
    position in ``places``. Both are shapely geometry arrays in one projected CRS."""
    points = np.asarray(points)
    places = np.asarray(places)
    if len(places) == 0:
        return np.full(len(points), np.nan), np.full(len(points), -1)
    tree = shapely.STRtree(places)
    (src, dst), dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    out_d = np.full(len(points), np.nan)
    out_i = np.full(len(points), -1)
    out_d[src] = dist
    out_i[src] = dst
    return out_d, out_i


def residents_beyond(distance: pd.Series, population: pd.Series, high_risk: pd.Series,
                     walk_m: float) -> pd.Series:
    """Residents of high-risk areas whose centre is farther than ``walk_m`` from support,
    per area (0 where the area is not high risk or is within reach)."""
    far = (distance > walk_m) & high_risk.astype(bool)
    return population.where(far, 0).astype("int64")
