"""``mapping build``: sources → validated indicator tables → outputs + manifest."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mapping.commands.common import (
    add_allow_outside_sources,
    add_data_dir,
    add_out_dir,
    add_wait,
    hash_notes,
)
from mapping.config import data_dir, output_dir


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build",
        help="build the processed data (indicator tables, geometry, index, manifest)",
        description="Read and validate the open data package, derive every registered "
        "indicator at LSOA 2021, roll up to wards and boroughs, build the index, and write "
        "everything with a manifest of input and output hashes under OUT/processed. The "
        "previous outputs are replaced only when the whole build succeeds.",
    )
    add_data_dir(p)
    add_out_dir(p)
    p.add_argument("--indicators", metavar="FILE", action="append", default=[],
                   help="an extra indicator registry file (TOML) to include; repeatable")
    p.add_argument("--repair-geometry", action="store_true",
                   help="repair invalid boundary geometries with make_valid (reported in the "
                   "manifest) instead of failing")
    p.add_argument("--needs", metavar="FILE", default=None,
                   help="a need table (TOML) of need types, their indicators and the support "
                   "that fits them (default mapping/specs/needs.toml; DR-0011)")
    add_allow_outside_sources(p)
    add_wait(p, "building")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mapping.pipeline.build import PROCESSED, BuildOptions, build  # noqa: PLC0415 (fast --help)

    start = time.perf_counter()
    opts = BuildOptions(
        data_dir=data_dir(args.data_dir),
        out_dir=output_dir(args.out_dir),
        indicator_files=tuple(Path(p) for p in args.indicators),
        repair_geometry=args.repair_geometry,
        progress=not args.quiet,
        allow_outside_sources=args.allow_outside_sources,
        lock_wait_s=args.wait,
        needs_file=Path(args.needs) if args.needs else None,
    )
    manifest = build(opts)
    counts = ", ".join(f"{k} {v}" for k, v in manifest["row_counts"].items())
    print(f"built {opts.out_dir / PROCESSED} in {time.perf_counter() - start:.1f} s ({counts})")
    for line in hash_notes(manifest["inputs"]):
        print(line)
    return 0
