"""``mapping index``: build a composite index from a table and a specification file."""

from __future__ import annotations

import argparse
from pathlib import Path

from mapping.errors import MappingError
from mapping.files import write_csv


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``index`` verb."""
    parser = subparsers.add_parser(
        "index",
        help="build a composite index from a units x indicators CSV and a spec (TOML)",
        description=(
            "Build the composite index described by SPEC on TABLE and write, per unit, the "
            "index score, each domain score, rank (1 = most at risk), decile and quintile. "
            "With --robustness N, also a Monte Carlo median rank, 5-95%% rank interval and an "
            "unstable flag from N draws."
        ),
    )
    parser.add_argument(
        "--data",
        required=True,
        metavar="TABLE.csv",
        help="one row per unit: the id column and every indicator in the spec",
    )
    parser.add_argument(
        "--spec",
        required=True,
        metavar="SPEC.toml",
        help="index specification (e.g. mapping/specs/london_default.toml)",
    )
    parser.add_argument("--out", required=True, metavar="OUT.csv", help="where to write results")
    parser.add_argument(
        "--robustness",
        type=int,
        default=0,
        metavar="N",
        help="Monte Carlo draws for rank intervals (default 0: none)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="random seed for --robustness (default: the spec's)"
    )
    parser.add_argument(
        "--boroughs",
        default=None,
        metavar="CODE,CODE",
        help="reference frame: only these group codes (overrides the spec)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the verb; user errors raise :class:`MappingError` subclasses."""
    from mapping.index import build_index, load_spec, monte_carlo, read_unit_table

    spec = load_spec(args.spec)
    if args.boroughs:
        codes = [c.strip() for c in args.boroughs.split(",") if c.strip()]
        spec = spec.with_frame("boroughs", codes)
    if args.robustness < 0:
        raise MappingError(f"--robustness must be >= 0, got {args.robustness}")
    table = read_unit_table(args.data, spec)
    result = build_index(table, spec, name=str(args.data))
    out = result.table()
    if args.robustness:
        mc = monte_carlo(result, draws=args.robustness, seed=args.seed)
        out = out.merge(
            mc.ranks.drop(columns=["nominal_rank"]).reset_index(),
            on=spec.unit_id,
            how="left",
            validate="one_to_one",
        )
    write_csv(Path(args.out), out)
    print(f"mapping index: wrote {len(out)} units to {args.out}")
    return 0
