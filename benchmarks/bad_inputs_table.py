"""The table of bad inputs tried and what each produced (for the closing note of issue 8).

    .venv/bin/python -m benchmarks.bad_inputs_table [--build DIR] [--data-dir DIR]

Runs every case of ``tests/_bad_inputs.py`` through the real CLI (in this process) against a
copy of the data package and a copy of a previous build (``--build``, default a fresh build in
a temporary folder), and prints a Markdown table: case, verb, exit status, seconds, whether
the previous outputs and releases were byte-identical afterwards, and the message.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from mapping.config import data_dir
from mapping.pipeline.build import PROCESSED, BuildOptions, build
from tests._bad_inputs import (
    CASES,
    Context,
    first_message,
    run_case,
    seed_outputs,
    snapshot,
)
from tests.conftest import make_data_copy


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", help="a build output folder (holding processed/) to start from")
    ap.add_argument("--data-dir", help="the data package (default as for mapping build)")
    args = ap.parse_args(argv)
    data = data_dir(args.data_dir)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bad-inputs-") as tmp:
        tmp = Path(tmp)
        base = Path(args.build) if args.build else tmp / "base"
        if not args.build:
            build(BuildOptions(data_dir=data, out_dir=base, progress=False))
        london = pd.read_csv(base / PROCESSED / "lsoa21_indicators.csv",
                             usecols=["lsoa21_code"])["lsoa21_code"].tolist()
        for i, case in enumerate(CASES):
            work = tmp / f"case{i}"
            ctx = Context(make_data_copy(data, work / "data"), work / "user", london)
            ctx.user.mkdir()
            out = work / "out"
            seed_outputs(base / PROCESSED, out, base / "cache")
            before = snapshot(out)
            t0 = time.perf_counter()
            code, _, err = run_case(case, ctx, out)
            seconds = time.perf_counter() - t0
            message = first_message(err, case.expect).removeprefix("- ")
            message = message.replace(str(work) + "/", "")
            rows.append((case.what, case.verb, code, seconds, snapshot(out) == before, message))
    print("| input | verb | exit | s | outputs unchanged | message |")
    print("|---|---|---|---|---|---|")
    for what, verb, code, seconds, same, message in rows:
        print(f"| {what} | {verb} | {code} | {seconds:.1f} | {'yes' if same else 'NO'} | "
              f"{message.replace('|', '/')} |")
    return 0 if all(r[2] == 2 and r[4] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
