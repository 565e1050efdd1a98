"""Readers of the vector files of the data package: boundary layers (shapefile, GeoJSON) and
the OpenStreetMap libraries, read with pyogrio and checked (features, CRS, geometry type, code
column)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from mapping.errors import DataValidationError
from mapping.sources.tabular import validate


def read_geo(path: Path, expect_geom: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector file with pyogrio; a CRS is required."""
    if not Path(path).exists():
        raise DataValidationError.single(path, "file not found")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise DataValidationError.single(path, f"cannot read as a vector file: {exc}") from None
    if frame.empty:
        raise DataValidationError.single(path, "no features")
    if frame.crs is None:
        raise DataValidationError.single(
            path,
            "no coordinate reference system (a .prj file or a crs member is required; "
            "expected British National Grid EPSG:27700 or WGS84 EPSG:4326)",
        )
    if expect_geom and not (frame.geom_type == expect_geom).all():
        bad = frame.geom_type[frame.geom_type != expect_geom]
        raise DataValidationError.single(
            path,
            f"expected {expect_geom} geometries",
            row=int(bad.index[0]) + 1,
            column="geometry",
            value=bad.iloc[0],
        )
    return frame


_BOUNDARY_CODES = [
    ("LSOA21CD", "lsoa21_code", "lsoa"),
    ("LSOA11CD", "lsoa11_code", "lsoa"),
    ("MSOA21CD", "msoa21_code", "msoa"),
    ("LAD22CD", "lad_code", "lad"),
    ("GSS_CODE", "lad_code", "lad"),
    ("code", "lsoa21_code", "lsoa"),
]


def boundaries(path: Path) -> gpd.GeoDataFrame:
    """Boundary layer: code column checked (pattern, duplicates) and named by vintage.

    Invalid geometries are *not* repaired here: :func:`mapping.geography.geometry.check_geometry`
    reports them, and repairs only when asked.
    """
    frame = read_geo(path)
    for source_col, target, kind in _BOUNDARY_CODES:
        if source_col in frame.columns:
            codes = pd.DataFrame(
                {source_col: frame[source_col].astype(str).to_numpy()},
                index=pd.RangeIndex(1, len(frame) + 1),
            )
            validate(codes, path, code_column=source_col, code_kind=kind)
            return frame.rename(columns={source_col: target})
    raise DataValidationError.single(
        path,
        "no known code column (expected one of "
        + ", ".join(c for c, _, _ in _BOUNDARY_CODES)
        + "; found "
        + ", ".join(map(str, frame.columns))
        + ")",
    )


boundaries_geojson = boundaries


def libraries_geojson(path: Path) -> gpd.GeoDataFrame:
    """OpenStreetMap libraries (points, EPSG:4326) with a ``name``."""
    frame = read_geo(path, expect_geom="Point")
    if "name" not in frame.columns:
        raise DataValidationError.single(path, "missing property", column="name")
    return frame
