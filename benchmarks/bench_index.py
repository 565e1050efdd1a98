"""Speed of the index engine (figures to read, not timed tests).

Cases (targets from issue 3):

1. full index, 33,755 synthetic English units x 12 indicators, England frame    < 0.2 s
2. re-weight of the London index, 4,994 units (real processed table if present) < 20 ms
3. Monte Carlo, 1,000 draws on 33,755 units (weights, normalisation, aggregation,
   leave-one-out; ranks, quantiles, sensitivity)                               < 3 s
4. Monte Carlo over weights only (min-max, arithmetic): vectorised vs a naive pandas loop
   (one weighted sum and one ``Series.rank`` per draw), with the ratio

    .venv/bin/python benchmarks/bench_index.py [--repeats 5] [--out benchmarks/results/index.json]
    .venv/bin/python benchmarks/bench_index.py --smoke     # small sizes, a few seconds

Prints a table of the median and min-max wall time over the runs, with the median process CPU
time (all threads), and writes the figures as JSON. Run it on a quiet machine: the targets are
wall-clock times on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapping.files import write_json  # noqa: E402
from mapping.index import build_index, load_default_spec, monte_carlo, reweight  # noqa: E402
from mapping.index.default import PROCESSED_TABLE, read_unit_table  # noqa: E402
from mapping.index.synthetic import synthetic_table  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "index.json"


def timed(func: Callable[[], object], repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds of ``repeats`` calls (after one untimed warm-up).

    CPU time (all threads) is reported beside wall time because these machines are shared: a
    busy neighbour inflates wall time, while CPU time stays near the work done.
    """
    func()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        func()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def naive_monte_carlo(result, draws: int, seed: int) -> pd.DataFrame:
    """The loop an analyst would write: per draw, a weighted sum and a pandas rank."""
    spec = result.spec
    rng = np.random.default_rng(seed)
    conc = spec.robustness.concentration
    norm = result.normalised
    ranks = {}
    for d in range(draws):
        dw = rng.dirichlet([conc * w for w in spec.domain_weights().values()])
        index = pd.Series(0.0, index=norm.index)
        for dom, wd in zip(spec.domains, dw, strict=True):
            iw = (
                rng.dirichlet([conc * i.weight for i in dom.indicators])
                if len(dom.indicators) > 1
                else [1.0]
            )
            score = sum(w * norm[i.code] for i, w in zip(dom.indicators, iw, strict=True))
            index = index + wd * score
        ranks[d] = index.rank(ascending=False, method="first")
    frame = pd.DataFrame(ranks)
    return frame.quantile([0.05, 0.5, 0.95], axis=1).T


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case")
    parser.add_argument(
        "--baseline-repeats", type=int, default=2, help="timed runs of the slow naive baseline"
    )
    parser.add_argument("--smoke", action="store_true", help="small sizes, one run each")
    args = parser.parse_args(argv)

    n_england, n_london, draws = 33_755, 4_994, 1_000
    repeats, base_repeats = args.repeats, args.baseline_repeats
    if args.smoke:
        n_england, n_london, draws, repeats, base_repeats = 3_000, 1_000, 40, 1, 1

    spec = load_default_spec()
    england_table = synthetic_table(n_england, n_groups=max(40, n_england // 110), seed=1)
    england_spec = spec.with_frame("england")
    england = build_index(england_table, england_spec)

    processed = ROOT / "data" / "processed" / PROCESSED_TABLE
    if processed.is_file() and not args.smoke:
        london_table, london_source = read_unit_table(processed, spec), str(processed)
    else:
        london_table = synthetic_table(n_london, seed=2)
        london_source = f"synthetic ({n_london} units)"
    london = build_index(london_table, spec)
    codes = spec.domain_codes  # the first domain gets 0.4, the others share 0.6
    new_weights = {c: (0.4 if i == 0 else 0.6 / (len(codes) - 1)) for i, c in enumerate(codes)}

    cases = [
        (
            "full index, England frame",
            len(england.index),
            0.2,
            lambda: build_index(england_table, england_spec),
            repeats,
        ),
        (
            "re-weight, London",
            len(london.index),
            0.02,
            lambda: reweight(london, new_weights),
            repeats,
        ),
        (
            f"Monte Carlo {draws} draws, all choices",
            len(england.index),
            3.0,
            lambda: monte_carlo(england, draws=draws),
            repeats,
        ),
        (
            f"Monte Carlo {draws} draws, weights only (vectorised)",
            len(england.index),
            None,
            lambda: monte_carlo(
                england,
                draws=draws,
                normalisations=["minmax"],
                aggregations=["arithmetic"],
                exclude_one_indicator=False,
            ),
            repeats,
        ),
        (
            f"Monte Carlo {draws} draws, weights only (naive pandas loop)",
            len(england.index),
            None,
            lambda: naive_monte_carlo(england, draws, seed=1),
            base_repeats,
        ),
    ]
    rows = []
    for name, units, target, func, reps in cases:
        times, cpu = timed(func, reps)
        rows.append(
            {
                "case": name,
                "cpu_median_s": statistics.median(cpu),
                "units": units,
                "runs": len(times),
                "median_s": statistics.median(times),
                "min_s": min(times),
                "max_s": max(times),
                "target_s": target,
                "meets_target": None if target is None else statistics.median(times) < target,
            }
        )
    ratio = rows[4]["median_s"] / rows[3]["median_s"]

    width = max(len(r["case"]) for r in rows)
    print(f"{'case':<{width}}  {'units':>6}  {'median':>9}  {'min-max':>19}  {'cpu':>8}  target")
    for r in rows:
        target = (
            ""
            if r["target_s"] is None
            else (f"< {r['target_s']:g} s {'ok' if r['meets_target'] else 'MISSED'}")
        )
        spread = f"{r['min_s']:.4f}-{r['max_s']:.4f}s"
        print(
            f"{r['case']:<{width}}  {r['units']:>6}  {r['median_s']:>8.4f}s  {spread:>19}  "
            f"{r['cpu_median_s']:>7.3f}s  {target}"
        )
    print(f"naive loop / vectorised (weights only): {ratio:.1f}x")

    write_json(
        args.out,
        {
            "smoke": args.smoke,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "numpy": np.__version__,
                "pandas": pd.__version__,
                "platform": platform.platform(),
            },
            "london_table": london_source,
            "draws": draws,
            "results": rows,
            "naive_over_vectorised": ratio if math.isfinite(ratio) else None,
        },
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
