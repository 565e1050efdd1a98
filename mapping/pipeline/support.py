"""Build step: need types and the support gap for every LSOA, ward and borough (DR-0011).

* **Support places** are the build's libraries plus every place of an analyst's own lists
  (sources with reader ``support_places_csv`` in a registry file passed with
  ``--indicators``), written as ``support_places.geojson`` with their type and notes.
* **Need types** come from :mod:`mapping.index.needs` over the full (unsuppressed) indicator
  table and the need table ``mapping/specs/needs.toml``.
* **The support gap** comes from :mod:`mapping.geography.support`: straight-line distance from
  each LSOA's centre to the nearest place, and residents of high-risk LSOAs (the need table's
  index quintile) beyond the walking distance (default 800 m).

Writes nothing itself: returns frames for :func:`mapping.pipeline.build.build` to publish.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapping.geography.rollup import weighted_rollup
from mapping.geography.support import BNG, nearest, residents_beyond
from mapping.index.needs import NONE_STANDS_OUT, NeedTable, main_needs, need_scores
from mapping.outputs.catalogue import LEVELS, SMALL_AREAS

SUPPORT_READER = "support_places_csv"
LIBRARY_TYPE = "library"


def support_places(libraries: gpd.GeoDataFrame, user_tables: list[tuple[str, pd.DataFrame]]
                   ) -> gpd.GeoDataFrame:
    """Libraries and the user's places in one layer: name, type, source, notes (WGS84)."""
    frames = [gpd.GeoDataFrame({"name": libraries["name"].astype(str), "type": LIBRARY_TYPE,
                                "source": libraries["source"].astype(str), "notes": ""},
                               geometry=libraries.geometry, crs=libraries.crs)]
    for source_id, table in user_tables:
        frames.append(gpd.GeoDataFrame(
            {"name": table["name"], "type": table["type"].replace("", "support place"),
             "source": source_id, "notes": table["notes"]},
            geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=4326))
    out = pd.concat(frames, ignore_index=True)
    out["geometry"] = shapely.set_precision(out.geometry.to_numpy(), 1e-5)
    return gpd.GeoDataFrame(out, crs=4326).sort_values(
        ["type", "name", "source"], kind="mergesort").reset_index(drop=True)


def need_and_support_tables(lsoa: pd.DataFrame, lsoa_geo_bng: gpd.GeoDataFrame,
                            quintile: pd.Series, places: gpd.GeoDataFrame, needs: NeedTable,
                            directions: dict[str, str]) -> dict[str, pd.DataFrame]:
    """``<level>_needs.csv`` for LSOAs, wards and boroughs.

    Parameters
    ----------
    lsoa
        The full LSOA indicator table (codes, ward and borough codes and names, population).
    lsoa_geo_bng
        LSOA polygons in British National Grid with ``lsoa21_code``.
    quintile
        The default index's quintile per ``lsoa21_code`` (1 = most at risk).
    places
        Support places (WGS84), from :func:`support_places`.
    """
    code = SMALL_AREAS.code
    table = lsoa.set_index(code)
    scores = need_scores(table, needs, directions)
    geo = lsoa_geo_bng.set_index(code).reindex(table.index)
    centres = shapely.point_on_surface(geo.geometry.to_numpy())
    pts = places.to_crs(BNG).geometry.to_numpy()
    dist, which = nearest(centres, pts)
    high = quintile.reindex(table.index) == needs.high_risk
    small = pd.DataFrame(index=table.index)
    for col in ("lsoa21_name", "ward24_code", "ward24_name", "borough_code", "borough_name",
                "population"):
        small[col] = table[col]
    for n in needs.needs:
        small[f"need_{n.code}"] = scores[n.code].round(2)
    small = small.join(main_needs(scores, needs))
    small["high_risk"] = high.to_numpy()
    small["nearest_support_m"] = np.round(dist, 0)
    names = places["name"].to_numpy()
    types = places["type"].to_numpy()
    small["nearest_support"] = np.where(which >= 0, names[np.maximum(which, 0)], "")
    small["nearest_support_type"] = np.where(which >= 0, types[np.maximum(which, 0)], "")
    small["residents_beyond_walk"] = residents_beyond(
        small["nearest_support_m"], small["population"], small["high_risk"], needs.walk_m)
    small["high_risk_residents"] = small["population"].where(small["high_risk"], 0)
    out = {SMALL_AREAS.file("needs.csv"): small.reset_index()}
    rates = [f"need_{n.code}" for n in needs.needs] + ["nearest_support_m"]
    counts = ["residents_beyond_walk", "high_risk_residents"]
    for level, key, name in (("ward", "ward24_code", "ward24_name"),
                             ("borough", "borough_code", "borough_name")):
        frame = small.reset_index()
        rolled = weighted_rollup(frame, [key], rates=rates, counts=counts)
        rolled.insert(1, name, rolled[key].map(frame.groupby(key)[name].first()))
        area_scores = rolled[[f"need_{n.code}" for n in needs.needs]].set_axis(
            [n.code for n in needs.needs], axis=1)
        rolled = rolled.join(main_needs(area_scores, needs))
        named = frame[frame["main_need"] != NONE_STANDS_OUT]
        counts_by = named.groupby([key, "main_need"]).size().rename("n").reset_index()
        counts_by = counts_by.sort_values([key, "n", "main_need"], ascending=[True, False, True],
                                          kind="mergesort").drop_duplicates(key)
        common = counts_by.set_index(key)
        rolled["most_common_need"] = rolled[key].map(common["main_need"]).fillna(
            NONE_STANDS_OUT)
        rolled["most_common_need_lsoas"] = rolled[key].map(common["n"]).fillna(0).astype(int)
        for col in rates:
            rolled[col] = rolled[col].round(2 if col.startswith("need_") else 0)
        out[LEVELS[level].file("needs.csv")] = rolled
    return out
