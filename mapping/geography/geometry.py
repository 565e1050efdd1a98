"""Geometry checks and the light web geometry.

* :func:`check_geometry` requires a CRS, reports invalid geometries with their codes and, only
  when asked (``repair=True``), repairs them with ``make_valid``, reporting the area before
  and after.
* :func:`web_geometry` simplifies a polygon *coverage* with ``shapely.coverage_simplify`` (via
  GeoSeries.simplify_coverage), which keeps shared edges shared, so neighbouring areas never gap
  or overlap, then reprojects to WGS84 and rounds coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import shapely

from mapping.errors import DataValidationError, Problem


@dataclass(frozen=True)
class GeometryReport:
    n_features: int
    invalid: tuple[tuple[str, str], ...]  # (code, reason)
    repaired_area_change: tuple[tuple[str, float, float], ...] = ()  # (code, before, after) m²


def check_geometry(frame: gpd.GeoDataFrame, code_column: str, source: str,
                   repair: bool = False) -> tuple[gpd.GeoDataFrame, GeometryReport]:
    """Check CRS and validity. Invalid geometries raise unless ``repair`` is True."""
    if frame.crs is None:
        raise DataValidationError.single(source, "no coordinate reference system")
    valid = frame.geometry.is_valid
    invalid = tuple((str(code), shapely.is_valid_reason(geom))
                    for code, geom in zip(frame.loc[~valid, code_column],
                                          frame.geometry[~valid], strict=True))
    if invalid and not repair:
        raise DataValidationError([
            Problem(source, f"invalid geometry: {reason} (pass --repair-geometry to repair it "
                    "with make_valid)", int(i) + 1, "geometry", code)
            for i, (code, reason) in zip(frame.index[~valid], invalid, strict=True)])
    if not invalid:
        return frame, GeometryReport(len(frame), ())
    before = frame.geometry[~valid].area
    fixed = frame.copy()
    fixed.loc[~valid, "geometry"] = shapely.make_valid(frame.geometry[~valid].to_numpy())
    after = fixed.geometry[~valid].area
    changes = tuple((str(c), float(b), float(a)) for c, b, a in
                    zip(frame.loc[~valid, code_column], before, after, strict=True))
    return fixed, GeometryReport(len(frame), invalid, changes)


def web_geometry(frame: gpd.GeoDataFrame, tolerance_m: float = 20.0,
                 decimals: int = 5) -> gpd.GeoDataFrame:
    """Coverage-simplify (tolerance in metres, in EPSG:27700), reproject to EPSG:4326, round."""
    bng = frame.to_crs(27700)
    simplified = bng.geometry.simplify_coverage(tolerance_m)
    out = bng.set_geometry(simplified).to_crs(4326)
    out["geometry"] = shapely.set_precision(out.geometry.to_numpy(), 10.0 ** -decimals)
    return out
