"""``mapping validate``: check every input and the registry; write nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from mapping.commands.common import add_allow_outside_sources, add_data_dir, hash_notes
from mapping.config import data_dir
from mapping.errors import DataValidationError
from mapping.registry import load_registry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check the data package and the registry without writing anything",
        description="Load the registry, hash every source, read and validate every file, and "
        "derive every indicator, reporting all problems found. Writes nothing.",
    )
    add_data_dir(p)
    p.add_argument("--indicators", metavar="FILE", action="append", default=[],
                   help="an extra indicator registry file (TOML) to check too; repeatable")
    add_allow_outside_sources(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mapping.pipeline.build import Inputs, check_inputs  # noqa: PLC0415
    from mapping.pipeline.derive import indicator_tables  # noqa: PLC0415
    from mapping.sources import Table  # noqa: PLC0415

    root = data_dir(args.data_dir)
    registry = load_registry([Path(p) for p in args.indicators])
    record, problems = check_inputs(registry, root,
                                    allow_outside_sources=args.allow_outside_sources)
    inputs = Inputs(registry, root, cache_dir=None)
    for sid, src in registry.sources.items():
        if sid not in record:
            continue
        try:
            out = inputs.get(sid) if src.reader != "iod2019_workbook" else None
        except DataValidationError as exc:
            problems.extend(exc.problems)
            continue
        status = ("ok" if record[sid]["matches_registry"]
                  else "ok (no sha256 declared)" if not record[sid]["hash_declared"]
                  else "ok (hash differs from registry)")
        extra = ""
        if isinstance(out, Table) and out.missing:
            extra = f"; missing-value markers: {out.missing_total()}"
        print(f"{sid:34s} {status}{extra}")
    if not problems:
        try:
            _, _, _, missing = indicator_tables(inputs)
        except DataValidationError as exc:
            problems.extend(exc.problems)
        else:
            for line in indicator_report(inputs, missing):
                print(line)
    if problems:
        raise DataValidationError(problems)
    print(f"valid: {len(record)} sources, {len(registry.indicators)} indicators")
    for line in hash_notes(record):
        print(line)
    return 0


def indicator_report(inputs, missing: dict[str, int]) -> list[str]:
    """One line per indicator with something to report: missing values at the mapped geography
    with the markers found in the source (``[c]``, ``[x]``, ``blank``, ``NA``, ...), and rows
    outside London that were ignored (Welsh and other English codes)."""
    lines = []
    for ind in inputs.registry.indicators:
        parts = []
        n = missing.get(ind.code, 0)
        markers = inputs.markers(ind)
        if n or markers:
            text = f"{n} missing value(s)"
            if markers:
                text += " (markers in the source: " + ", ".join(
                    f"{m} {k}" for m, k in markers.items()) + ")"
            parts.append(text)
        note = inputs.notes.get(ind.code, {})
        if note.get("rows_outside_london"):
            welsh = note.get("of_which_welsh", 0)
            parts.append(f"{note['rows_outside_london']:,} row(s) outside London ignored"
                         + (f", {welsh:,} of them Welsh" if welsh else ""))
        if parts:
            lines.append(f"indicator {ind.code}: " + "; ".join(parts))
    return lines
