"""Size and time of `mapping export` against a naive folium export of the same areas.

Naive = ``folium.Choropleth`` of the unsimplified LSOA 2021 gen20 boundaries of the data package
at full float precision (WGS84), with a ``GeoJsonTooltip`` of area name, borough and value (the
only properties kept).

    .venv/bin/python benchmarks/export_size.py [--borough Camden] [--measure CODE] [--repeat 3]

Prints one line per case; writes the pages under a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import folium

from mapping.config import data_dir
from mapping.maps.folium_map import ExportData, export_map, select_boroughs, write_map
from mapping.sources.readers import boundaries


def naive(path: Path, data: ExportData, raw, measure: str, boroughs: list[str] | None) -> None:
    # Only what the tooltip shows, so that the comparison is about geometry and encoding.
    table = data.frame("lsoa")[["lsoa21_code", "lsoa21_name", "borough_code", "borough_name",
                                measure]]
    gdf = raw[["lsoa21_code", "geometry"]].to_crs(4326).merge(table, on="lsoa21_code")
    if boroughs:
        gdf = gdf[gdf["borough_code"].isin(select_boroughs(table, boroughs))]
    m = folium.Map(tiles=None)
    layer = folium.Choropleth(gdf, data=gdf, columns=["lsoa21_code", measure],
                              key_on="feature.properties.lsoa21_code", fill_color="YlOrRd",
                              name=measure).add_to(m)
    folium.GeoJsonTooltip(["lsoa21_name", "borough_name", measure]).add_to(layer.geojson)
    m.fit_bounds(m.get_bounds())
    m.save(str(path))


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borough", default="Camden")
    parser.add_argument("--measure", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    data = ExportData.open()
    measure = args.measure or data.default_measure("lsoa")
    data.frame("lsoa"), data.frame("borough"), data.libraries()  # load once, outside timings
    load = time.perf_counter() - start
    start = time.perf_counter()
    raw = boundaries(data_dir() / data.registry.sources["boundaries_lsoa21"].path)
    read = time.perf_counter() - start
    print(f"loading the build (hash checks, tables, web geometry): {load:.2f} s; reading the "
          f"gen20 shapefile for the naive export: {read:.2f} s (both outside the timings below)")
    out = Path(tempfile.mkdtemp(prefix="export-bench-"))
    print(f"measure {measure}; pages in {out}")
    for place, boroughs in (("London", None), (args.borough, [args.borough])):
        cases = {
            "naive folium.Choropleth, gen20 full precision": lambda p, b=boroughs: naive(
                p, data, raw, measure, b),
            "mapping export": lambda p, b=boroughs: write_map(
                p, export_map(data, measure=measure, boroughs=b)),
            "mapping export --offline": lambda p, b=boroughs: write_map(
                p, export_map(data, measure=measure, boroughs=b), offline=True),
        }
        sizes = {}
        for name, fn in cases.items():
            path = out / f"{place}-{len(sizes)}.html"
            seconds = timed(lambda fn=fn, path=path: fn(path), args.repeat)
            sizes[name] = path.stat().st_size
            print(f"{place:>8} | {name:<48} | {sizes[name] / 1e6:6.2f} MB | {seconds:5.2f} s")
        base = sizes["naive folium.Choropleth, gen20 full precision"]
        for name in list(cases)[1:]:
            print(f"{place:>8} | ratio naive / {name:<34} | {base / sizes[name]:6.1f} ×")


if __name__ == "__main__":
    main()
