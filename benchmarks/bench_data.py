"""Data figures for the benchmark suite: ``mapping build`` wall time and peak memory, and a
real England-wide unit table for the index benchmarks.

Build timings run ``mapping build`` in a child process started by a small launcher, which
reports that build's own resource usage (peak resident memory ``ru_maxrss``, user + system
CPU), so several builds in one run do not mix their peaks and the benchmark process's own
memory is not counted.

    .venv/bin/python benchmarks/bench_data.py            # one cold and one cached build

The England table (:func:`england_table`) holds all 33,755 English LSOAs 2021 with the input
indicators of both built indexes (v1's twelve and v2's, DR-0009) read from the data package
through the project's own validated readers and indicator registry:

* every registered input at LSOA 2021 exactly as registered (IoD 2025 digital connectivity,
  adult skills, income, employment, health; Census 2021 age, disability, health, households,
  care, qualifications, work history, country of birth, density);
* ``deri_broadband_2011``: GMCA DERI v1.6 (LSOA 2011, England) brought to LSOA 2021 through
  the ONS exact-fit lookup as the unweighted mean of the parent 2011 LSOAs (the build weights
  by population from the London-only IoD 2019 workbook, which has no England counterpart);
* ``english_proficiency_low_pct``: the package has no England-wide LSOA→MSOA lookup, so each
  LSOA takes its local authority's Census 2021 TS029 rate (LSOAs of authorities renamed since
  2021 take the England rate);
* ``older_income_deprivation_pct``: the registered IoD 2019 rate is London-only, so this is
  the IoD 2025 IDAOPI numerator over Census 2021 residents aged 60+ (capped at 100 %).

The last three are England-scale stand-ins of the right size and shape for timing, not
published figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ENGLAND_SOURCE = ("real: 9 of 12 indicators as registered; DERI broadband (2011->2021 "
                  "unweighted), English proficiency (authority rate), older income deprivation "
                  "(IoD 2025 numerator / Census 60+) are England stand-ins")


# A small launcher runs the build and reports its rusage: the build must not be forked from
# this (large) process, because a forked child's peak RSS counts the pages it shared with its
# parent before exec.
_LAUNCHER = """
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as fh:
    json.dump({"rc": proc.returncode, "err": proc.stderr.decode(errors="replace")[-2000:],
               "cpu_s": u.ru_utime + u.ru_stime, "maxrss_kib": u.ru_maxrss}, fh)
"""


def run_build(out_dir: Path, data_dir: Path | None = None) -> dict:
    """Run ``mapping build --quiet --out-dir out_dir`` in a child process.

    Returns wall seconds, the build's CPU seconds (user + system) and its peak resident
    memory in MiB (``ru_maxrss`` of the build process alone, read by a small launcher).
    """
    cmd = [sys.executable, "-m", "mapping", "build", "--quiet", "--out-dir", str(out_dir)]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    with tempfile.TemporaryDirectory(prefix="bench-rusage-") as tmp:
        report = Path(tmp) / "rusage.json"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", _LAUNCHER, str(report), *cmd], cwd=ROOT,
                       check=True)
        wall = time.perf_counter() - start
        usage = json.loads(report.read_text(encoding="utf-8"))
    if usage["rc"] != 0:
        raise RuntimeError(f"mapping build failed ({usage['rc']}): {usage['err']}")
    return {"wall_s": wall, "cpu_s": usage["cpu_s"], "peak_rss_mib": usage["maxrss_kib"] / 1024}


def build_figures(cold_repeats: int, cached_repeats: int, cache_from: Path | None = None,
                  data_dir: Path | None = None) -> dict:
    """Cold builds (each into a fresh folder: no ``cache/``, no previous outputs) and cached
    rebuilds (into a folder that already holds a build and its ``cache/``).

    With ``cold_repeats == 0`` (smoke) the cached folder is seeded with ``cache_from/cache``
    when there is one, so no cold build is paid for.
    """
    cold, cached = [], []
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        for i in range(cold_repeats):
            cold.append(run_build(work / f"cold-{i}", data_dir))
        target = work / "cold-0" if cold_repeats else work / "cached"
        seeded = False
        if not cold_repeats and cache_from is not None and (cache_from / "cache").is_dir():
            shutil.copytree(cache_from / "cache", target / "cache")
            seeded = True
        for _ in range(cached_repeats):
            cached.append(run_build(target, data_dir))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"cold": cold, "cached": cached,
            "cache_seeded_from": str(cache_from / "cache") if seeded else None}


# ---- the England table ----------------------------------------------------------------------

def england_table(data_dir: Path | None = None) -> pd.DataFrame:
    """All 33,755 English LSOAs 2021 × the 12 default indicators (see the module docstring)."""
    from mapping.config import data_dir as default_data_dir
    from mapping.pipeline.build import Inputs
    from mapping.pipeline.derive import derive
    from mapping.registry import load_registry

    registry = load_registry()
    inputs = Inputs(registry, Path(data_dir) if data_dir else default_data_dir())
    wards = inputs.frame("lookup_lsoa21_ward24")
    wards = wards[wards["lsoa21_code"].str.startswith("E01")]
    units = pd.DataFrame({
        "lsoa21_code": wards["lsoa21_code"].to_numpy(),
        "lsoa21_name": wards["lsoa21_name"].to_numpy(),
        "ward24_code": wards["ward24_code"].to_numpy(),
        "ward24_name": wards["ward24_name"].to_numpy(),
        "borough_code": wards["ltla24_code"].to_numpy(),
        "borough_name": wards["ltla24_name"].to_numpy(),
    }).sort_values("lsoa21_code").reset_index(drop=True)
    age = inputs.frame("census2021_ts007a").set_index("lsoa21_code")
    units["population"] = units["lsoa21_code"].map(age["Age: Total"]).astype("int64")
    codes = units["lsoa21_code"]

    for ind in registry.select(role="input", geography="lsoa"):
        if ind.geography == "lsoa21":
            values = derive(ind, inputs).set_index("lsoa21_code")[ind.code]
            units[ind.code] = codes.map(values).to_numpy()
    # DERI broadband: LSOA 2011 -> 2021, unweighted mean of the parents
    deri = derive(registry.indicator("deri_broadband_2011"), inputs).set_index("lsoa11_code")
    lookup = inputs.frame("lookup_lsoa11_lsoa21")[["lsoa11_code", "lsoa21_code"]]
    pairs = lookup.assign(v=lookup["lsoa11_code"].map(deri["deri_broadband_2011"]))
    units["deri_broadband_2011"] = codes.map(pairs.groupby("lsoa21_code")["v"].mean()).to_numpy()
    # English proficiency: local authority rate (TS029)
    ts029 = inputs.frame("census2021_ts029_ltla").set_index("lad_code")
    prefix = "Proficiency in English language: "
    low = ts029[[f"{prefix}Main language is not English (English or Welsh in Wales): "
                 f"Cannot speak English{s}" for s in (" well", "")]].sum(axis=1)
    rate = 100 * low / ts029[f"{prefix}Total: All usual residents aged 3 years and over"]
    england_rate = 100 * low.filter(like="E", axis=0).sum() / ts029.loc[
        ts029.index.str.startswith("E"),
        f"{prefix}Total: All usual residents aged 3 years and over"].sum()
    units["english_proficiency_low_pct"] = (units["borough_code"].map(rate)
                                            .fillna(england_rate).to_numpy())
    # older income deprivation: IoD 2025 IDAOPI numerator / residents aged 60+
    iod = inputs.frame("iod2025_indicators").set_index("lsoa21_code")
    older = age[["Age: Aged 60 to 64 years", "Age: Aged 65 to 69 years",
                 "Age: Aged 70 to 74 years", "Age: Aged 75 to 79 years",
                 "Age: Aged 80 to 84 years", "Age: Aged 85 years and over"]].sum(axis=1)
    idaopi = iod["income_deprivation_affecting_older_people_index_idaopi_numerator"]
    units["older_income_deprivation_pct"] = np.clip(
        codes.map(100 * idaopi / older.reindex(idaopi.index)).to_numpy(dtype=float), 0, 100)
    return units


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=1)
    parser.add_argument("--cached", type=int, default=1)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    table = england_table()
    print(f"England table {table.shape} in {time.perf_counter() - t0:.1f} s; missing cells "
          f"{int(table.isna().sum().sum())}")
    for kind, runs in build_figures(args.cold, args.cached).items():
        if isinstance(runs, list):
            for r in runs:
                print(f"{kind:>6}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, "
                      f"{r['peak_rss_mib']:.0f} MiB peak")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
