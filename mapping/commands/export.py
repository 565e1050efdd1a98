"""``mapping export``: standalone HTML maps (folium) of a build, for London or by borough."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mapping.errors import MappingError
from mapping.maps.classify import PALETTES, SCHEMES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a standalone HTML map (all of London, some boroughs, or one per borough)",
        description="Write a map of one measure of the build as a single HTML file that opens "
        "in a web browser without Python: a legend labelled in text, tooltips with area, "
        "borough, value and rank, a libraries layer, and the attribution of every source used. "
        "No basemap tiles unless --tiles is given.",
    )
    p.add_argument("--out", metavar="FILE", help="the HTML file to write")
    p.add_argument("--all-boroughs", metavar="DIR",
                   help="instead of --out: one file per borough in DIR plus DIR/index.html")
    p.add_argument("--boroughs", metavar="CODE_OR_NAME", nargs="+",
                   help="only these boroughs (codes such as E09000007 or names such as Camden)")
    p.add_argument("--level", choices=("lsoa", "ward", "borough"), default="lsoa",
                   help="areas to colour (default: lsoa)")
    p.add_argument("--measure", metavar="CODE",
                   help="index_score, a domain score (<domain>_score) or an indicator code "
                   "(default: the index when built, else the first indicator)")
    p.add_argument("--scheme", choices=tuple(SCHEMES), default="quantiles",
                   help="classification scheme (default: quantiles)")
    p.add_argument("--classes", type=int, default=5, metavar="K",
                   help="number of classes, 2 to 9 (default: 5)")
    p.add_argument("--palette", choices=PALETTES, default="viridis",
                   help="colour-blind-safe palette (default: viridis)")
    p.add_argument("--class-breaks-from", choices=("london", "selection"), default="london",
                   dest="class_frame",
                   help="compute class breaks from all London areas (default, the same colours "
                   "in every borough's map) or from the areas shown")
    p.add_argument("--no-libraries", action="store_true", help="leave out the libraries layer")
    p.add_argument("--tiles", choices=("none", "osm"), default="none",
                   help="basemap tiles: none (default, works offline) or OpenStreetMap")
    p.add_argument("--offline", action="store_true",
                   help="inline the JavaScript/CSS (from node_modules, installed by `make "
                   "setup`) so the file opens with no internet")
    p.add_argument("--title", help="a title instead of the default (measure: place)")
    p.add_argument("--date", help="the date to show (default: the build's date)")
    p.add_argument("--processed-dir", metavar="DIR",
                   help="the build to map (default: $MAPPING_PROCESSED_DIR or ./data/processed)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mapping.maps.folium_map import (  # noqa: PLC0415  (folium is slow to import)
        ExportData,
        export_map,
        write_all_boroughs,
        write_map,
    )

    if bool(args.out) == bool(args.all_boroughs):
        raise MappingError("give exactly one of --out FILE or --all-boroughs DIR")
    if args.all_boroughs and args.boroughs:
        raise MappingError("--boroughs and --all-boroughs cannot be combined")
    start = time.perf_counter()
    data = ExportData.open(args.processed_dir)
    options = dict(measure=args.measure, level=args.level, scheme=args.scheme, k=args.classes,
                   palette=args.palette, class_frame=args.class_frame,
                   libraries=not args.no_libraries,
                   tiles="OpenStreetMap" if args.tiles == "osm" else None,
                   title=args.title, date=args.date)
    if args.all_boroughs:
        paths = write_all_boroughs(args.all_boroughs, data, offline=args.offline, **options)
        total = sum(p.stat().st_size for p in paths)
        print(f"wrote {len(paths) - 1} borough maps and {paths[-1]} "
              f"({total / 1e6:.1f} MB in all) in {time.perf_counter() - start:.1f} s")
        return 0
    m = export_map(data, boroughs=args.boroughs, **options)
    path = write_map(Path(args.out), m, offline=args.offline)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) in "
          f"{time.perf_counter() - start:.1f} s")
    return 0
