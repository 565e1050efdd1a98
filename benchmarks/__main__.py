"""One benchmark suite, side by side with the naive approach: prints one table, writes JSON.

    .venv/bin/python -m benchmarks [--out benchmarks/results/latest.json] [--repeats 5]
    .venv/bin/python -m benchmarks --smoke --out /tmp/smoke.json   # seconds, for the tests

Sections (each figure: median and min-max over the timed runs, one untimed warm-up first):

index     the default London index on the real build (``build_default``: index, 1,000-draw
          Monte Carlo, leave-one-out, roll-ups), the index alone on London and on all 33,755
          English LSOAs x 12 indicators (real table, see ``bench_data.england_table``), a London
          re-weight, 1,000 Monte Carlo draws on England; baseline: a pandas loop
data      ``mapping build`` cold (fresh folder, no cache) and cached rebuild: wall, CPU, peak RSS
          (the build process's own ``ru_maxrss``)
app       ``benchmarks/bench_app.py`` in a subprocess (server start, payloads, browser times,
          memory per session); when it cannot run, the table says "not run" and why
exports   ``mapping export`` of London LSOAs (size, time); baseline: ``folium.Choropleth`` of
          the unsimplified gen20 LSOAs (``export_size.naive``)
baseline  the naive map in a Panel ``Folium`` pane re-rendered on each weight change, against
          the app's recolour and re-weight, both measured in-process as Bokeh PATCH-DOC bytes
          and server time (``bench_naive``)

Smoke mode: small synthetic index tables and 40 draws, no cold build (one cached rebuild), one
borough for the maps, and the browser app benchmark left out (it has its own smoke test,
``tests/test_bench_app_smoke.py``; ``--app`` runs it anyway).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "latest.json"
BENCH_APP = ROOT / "benchmarks" / "bench_app.py"
SECTIONS = ("index", "data", "app", "exports", "baseline")


# ---- figures ------------------------------------------------------------------------------

def figure(section: str, name: str, unit: str, values, cpu=None, note: str = "",
           baseline: bool = False) -> dict:
    """One row: median and min-max of ``values`` (a number or a list of numbers)."""
    vals = [float(v) for v in (values if isinstance(values, list | tuple) else [values])]
    vals = [v for v in vals if v is not None and math.isfinite(v)]
    row = {"section": section, "figure": name, "unit": unit, "runs": len(vals),
           "median": statistics.median(vals) if vals else None,
           "min": min(vals) if vals else None, "max": max(vals) if vals else None,
           "values": vals, "note": note, "baseline": baseline}
    if cpu:
        row["cpu_median_s"] = statistics.median(cpu)
    return row


def timed(func, repeats: int, warmup: bool = True) -> tuple[list[float], list[float]]:
    """Wall and process CPU seconds of ``repeats`` calls after one untimed warm-up."""
    if warmup:
        func()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        func()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


# ---- sections -------------------------------------------------------------------------------

def index_section(build_dir: Path, smoke: bool, repeats: int, base_repeats: int) -> dict:
    from benchmarks.bench_index import naive_monte_carlo
    from mapping.index import build_default, build_index, load_default_spec, monte_carlo, reweight
    from mapping.index.default import PROCESSED_TABLE, read_unit_table
    from mapping.index.synthetic import synthetic_table

    spec = load_default_spec()
    draws = 40 if smoke else 1_000
    processed = build_dir / "processed"
    rows, info = [], {"draws": draws}
    if smoke:
        england_table = synthetic_table(3_000, n_groups=40, seed=1)
        info["england_table"] = "synthetic (3,000 units, smoke)"
    else:
        from benchmarks.bench_data import ENGLAND_SOURCE
        from benchmarks.bench_data import england_table as read_england

        t0 = time.perf_counter()
        england_table = read_england()
        info["england_table"] = ENGLAND_SOURCE
        rows.append(figure("index", "England table read from the data package (once)", "s",
                           time.perf_counter() - t0, note=f"{len(england_table):,} LSOAs"))
    london_table = read_unit_table(processed / PROCESSED_TABLE, spec)
    info["london_table"] = str(processed / PROCESSED_TABLE)
    england_spec = spec.with_frame("england")
    england = build_index(england_table, england_spec)
    london = build_index(london_table, spec)
    n_e, n_l = len(england.index), len(london.index)
    codes = spec.domain_codes  # the first domain gets 0.4, the others share 0.6
    new_weights = {c: (0.4 if i == 0 else 0.6 / (len(codes) - 1)) for i, c in enumerate(codes)}
    tag = "synthetic" if smoke else "real"
    cases = [
        ("full default build, London (index + 1,000 MC + LOO + roll-ups)",
         lambda: build_default(processed), repeats, f"real, {n_l:,} LSOAs", False),
        ("index only, London", lambda: build_index(london_table, spec), repeats,
         f"real, {n_l:,} LSOAs x {len(spec.indicators)}", False),
        ("index only, England", lambda: build_index(england_table, england_spec), repeats,
         f"{tag}, {n_e:,} LSOAs x {len(spec.indicators)}", False),
        ("re-weight, London", lambda: reweight(london, new_weights), repeats,
         f"real, {n_l:,} LSOAs", False),
        (f"Monte Carlo {draws:,} draws, England, all choices",
         lambda: monte_carlo(england, draws=draws), repeats,
         "weights, normalisation, aggregation, leave-one-out", False),
        (f"Monte Carlo {draws:,} draws, England, weights only (vectorised)",
         lambda: monte_carlo(england, draws=draws, normalisations=["minmax"],
                             aggregations=["arithmetic"], exclude_one_indicator=False),
         repeats, f"{tag}, {n_e:,} LSOAs", False),
        (f"Monte Carlo {draws:,} draws, England, weights only (naive pandas loop)",
         lambda: naive_monte_carlo(england, draws, seed=1), base_repeats,
         "baseline: per draw a weighted sum and Series.rank", True),
    ]
    for name, func, reps, note, base in cases:
        wall, cpu = timed(func, reps, warmup=not base)
        rows.append(figure("index", name, "s", wall, cpu, note, baseline=base))
    return {"status": "ok", "rows": rows, **info}


def data_section(build_dir: Path, smoke: bool, repeats: int) -> dict:
    from benchmarks.bench_data import build_figures

    cold_n, cached_n = (0, 1) if smoke else (max(2, repeats // 2), max(3, repeats // 2))
    res = build_figures(cold_n, cached_n, cache_from=build_dir if smoke else None)
    rows = []
    for kind, label in (("cold", "cold build (fresh folder, no cache)"),
                        ("cached", "cached rebuild (cache and previous build present)")):
        runs = res[kind]
        if not runs:
            continue
        rows.append(figure("data", f"{label}: wall", "s", [r["wall_s"] for r in runs],
                           cpu=[r["cpu_s"] for r in runs]))
        rows.append(figure("data", f"{label}: peak memory", "MiB",
                           [r["peak_rss_mib"] for r in runs], note="ru_maxrss of the build"))
    note = None
    if smoke:
        note = "smoke mode: cold build not run; " + (
            f"cache seeded from {res['cache_seeded_from']}" if res["cache_seeded_from"]
            else "no cache to seed from, so the 'cached' rebuild was cold")
    return {"status": "ok", "rows": rows, "note": note}


# bench_app.py figure name -> its raw list (for min-max); unknown names keep the median only
APP_RAW = {
    "server start -> first HTTP 200": "server_start_s",
    "page load -> document idle (browser, first visit)": "page_to_idle_s",
    "page load -> map drawn (second visit, assets cached)": "cached_page_to_drawn_s",
    "server CPU per new session (one at a time)": "session_cpu_s",
    "initial page HTML": "html_bytes",
    "initial websocket payload": "initial_ws_bytes",
    "recolour (measure) websocket bytes": "recolour_ws_bytes",
    "recolour (measure) server time": "recolour_server_s",
    "recolour (measure) browser round trip": "recolour_browser_s",
    "reweight server time": "reweight_server_s",
    "reweight websocket bytes": "reweight_ws_bytes",
    "weight change -> repainted map (browser, Playwright)": "reweight_browser_s",
    "weight change -> repainted map (timed in the page)": "reweight_client_s",
    "server memory per extra session": "session_rss_kib",
}


def app_section(build_dir: Path, smoke: bool, run_app: bool, repeats: int) -> dict:
    """Run ``bench_app.py`` (owned by the app work) in a subprocess and take its JSON."""
    if not BENCH_APP.is_file():
        return {"status": "not run", "reason": f"{BENCH_APP.relative_to(ROOT)} not found",
                "rows": []}
    if not run_app:
        return {"status": "not run", "rows": [],
                "reason": "smoke mode (browser benchmark has its own smoke test, "
                          "tests/test_bench_app_smoke.py; pass --app to include it)"}
    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp:
        out = Path(tmp) / "app.json"
        cmd = [sys.executable, str(BENCH_APP), "--out", str(out), "--out-dir", str(build_dir)]
        cmd += ["--smoke"] if smoke else ["--repeats", str(min(repeats, 3))]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)
        except subprocess.TimeoutExpired:
            return {"status": "not run", "reason": "bench_app.py ran past 20 minutes",
                    "rows": []}
        took = time.perf_counter() - t0
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()
            last = tail[-1] if tail else "(no output)"
            return {"status": "not run", "rows": [], "output": (proc.stdout + proc.stderr)[-4000:],
                    "reason": f"bench_app.py exited {proc.returncode}: {last[:200]}"}
        data = json.loads(out.read_text(encoding="utf-8"))
    raw = data.get("raw", {})
    rows = []
    for r in data.get("results", []):
        values = raw.get(APP_RAW.get(r["figure"], ""), None)
        if not isinstance(values, list) or not values:
            values = [r["median"]]
        unit = r.get("unit", "")
        note = f"target {r['target']}" if r.get("target") else ""
        rows.append(figure("app", r["figure"], unit, values, note=note))
    return {"status": "ok", "rows": rows, "seconds": took,
            "repeats": data.get("repeats"), "sessions": data.get("sessions")}


def exports_section(build_dir: Path, smoke: bool, repeats: int) -> dict:
    from benchmarks.export_size import naive
    from mapping.config import data_dir
    from mapping.maps.folium_map import ExportData, export_map, write_map
    from mapping.sources.readers import boundaries

    data = ExportData.open(build_dir / "processed")
    measure = data.default_measure("lsoa")
    data.frame("lsoa"), data.frame("borough"), data.libraries()  # load once, outside timings
    raw = boundaries(data_dir() / data.registry.sources["boundaries_lsoa21"].path)
    place, boroughs = ("Camden", ["Camden"]) if smoke else ("London", None)
    reps = 1 if smoke else max(3, repeats // 2)
    out = Path(tempfile.mkdtemp(prefix="bench-export-"))
    cases = [
        (f"mapping export, {place} LSOAs", False,
         lambda p: write_map(p, export_map(data, measure=measure, boroughs=boroughs))),
        (f"mapping export --offline, {place} LSOAs", False,
         lambda p: write_map(p, export_map(data, measure=measure, boroughs=boroughs),
                             offline=True)),
        (f"naive folium.Choropleth, {place} gen20 LSOAs", True,
         lambda p: naive(p, data, raw, measure, boroughs)),
    ]
    rows = []
    for i, (name, base, fn) in enumerate(cases):
        path = out / f"export-{i}.html"
        wall, cpu = timed(lambda fn=fn, path=path: fn(path), reps, warmup=False)
        note = "baseline" if base else ""
        rows.append(figure("exports", f"{name}: size", "bytes", path.stat().st_size,
                           note=note, baseline=base))
        rows.append(figure("exports", f"{name}: time", "s", wall, cpu, note=note,
                           baseline=base))
    for p in out.iterdir():
        p.unlink()
    out.rmdir()
    return {"status": "ok", "rows": rows, "measure": measure, "place": place}


def baseline_section(build_dir: Path, smoke: bool, repeats: int) -> dict:
    from benchmarks.bench_naive import app_inprocess, naive_pane

    boroughs = ["Camden"] if smoke else None
    updates = 1 if smoke else max(3, repeats)
    n = naive_pane(build_dir, updates, boroughs)
    a = app_inprocess(build_dir, 1 if smoke else max(3, repeats))
    where = f"{n['areas']:,} LSOAs" + (" (Camden, smoke)" if smoke else " (London)")
    rows = [
        figure("baseline", "naive folium in Panel pane: initial map payload", "bytes",
               n["initial_bytes"], note=where, baseline=True),
        figure("baseline", "naive folium in Panel pane: first render", "s", n["initial_s"],
               baseline=True),
        figure("baseline", "naive folium in Panel pane: payload per weight change", "bytes",
               n["update_bytes"], note="PATCH-DOC", baseline=True),
        figure("baseline", "naive folium in Panel pane: server time per weight change", "s",
               n["update_s"], note="pandas re-weight + folium map + pane", baseline=True),
        figure("baseline", "app map (in-process): initial map payload", "bytes",
               a["initial_bytes"], note="4,994 LSOAs; PULL-DOC-REPLY of the figure"),
        figure("baseline", "app map (in-process): first render", "s", a["initial_s"],
               note="AppData load + figure"),
        figure("baseline", "app map (in-process): payload per recolour", "bytes",
               a["recolour_bytes"], note="PATCH-DOC"),
        figure("baseline", "app map (in-process): server time per recolour", "s",
               a["recolour_s"]),
        figure("baseline", "app map (in-process): payload per weight change", "bytes",
               a["reweight_bytes"], note="PATCH-DOC"),
        figure("baseline", "app map (in-process): server time per weight change", "s",
               a["reweight_s"], note="re-weight + reclassify + patch"),
    ]
    return {"status": "ok", "rows": rows, "naive_areas": n["areas"],
            "naive_browser": "not measured: folium loads Leaflet from public CDNs, which these "
                             "machines cannot reach, so the naive map never paints here"}


# ---- ratios, table, JSON ------------------------------------------------------------------------

def _find(sections: dict, section: str, startswith: str) -> dict | None:
    for r in sections.get(section, {}).get("rows", []):
        if r["figure"].startswith(startswith) and r["median"] is not None:
            return r
    return None


def ratios(sections: dict) -> list[dict]:
    """Baseline / ours, from figures of this same run."""
    pairs = [
        ("payload per weight change, naive pane / app (in-process PATCH-DOC)",
         ("baseline", "naive folium in Panel pane: payload per weight change"),
         ("baseline", "app map (in-process): payload per weight change")),
        ("payload per update, naive pane / app recolour (in-process PATCH-DOC)",
         ("baseline", "naive folium in Panel pane: payload per weight change"),
         ("baseline", "app map (in-process): payload per recolour")),
        ("payload per update, naive pane / app re-weight websocket bytes (browser)",
         ("baseline", "naive folium in Panel pane: payload per weight change"),
         ("app", "reweight websocket bytes")),
        ("server time per weight change, naive pane / app (in-process)",
         ("baseline", "naive folium in Panel pane: server time per weight change"),
         ("baseline", "app map (in-process): server time per weight change")),
        ("server time per update, naive pane / app recolour (in-process)",
         ("baseline", "naive folium in Panel pane: server time per weight change"),
         ("baseline", "app map (in-process): server time per recolour")),
        ("initial map payload, naive pane / app (in-process)",
         ("baseline", "naive folium in Panel pane: initial map payload"),
         ("baseline", "app map (in-process): initial map payload")),
        ("Monte Carlo time, naive pandas loop / vectorised (weights only)",
         ("index", "Monte Carlo", "naive pandas loop"),
         ("index", "Monte Carlo", "(vectorised)")),
        ("export size, naive folium.Choropleth / mapping export",
         ("exports", "naive folium.Choropleth", ": size"),
         ("exports", "mapping export,", ": size")),
        ("export time, naive folium.Choropleth / mapping export",
         ("exports", "naive folium.Choropleth", ": time"),
         ("exports", "mapping export,", ": time")),
    ]
    out = []
    for name, num_key, den_key in pairs:
        num, den = _lookup(sections, num_key), _lookup(sections, den_key)
        if num is None or den is None or not den["median"]:
            missing = num_key if num is None else den_key
            status = sections.get(missing[0], {}).get("status", "missing")
            reason = sections.get(missing[0], {}).get("reason", "figure missing")
            out.append({"ratio": name, "value": None,
                        "reason": f"{missing[0]} {status}: {reason}"})
        else:
            entry = {"ratio": name, "value": num["median"] / den["median"],
                     "numerator": num["median"], "denominator": den["median"]}
            if num.get("cpu_median_s") and den.get("cpu_median_s"):
                entry["cpu_value"] = num["cpu_median_s"] / den["cpu_median_s"]
            out.append(entry)
    return out


def _lookup(sections: dict, key: tuple) -> dict | None:
    section, *parts = key
    for r in sections.get(section, {}).get("rows", []):
        if r["median"] is None:
            continue
        name = r["figure"]
        if name.startswith(parts[0]) and all(p in name for p in parts[1:]):
            return r
    return None


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "bytes":
        if value >= 1e6:
            return f"{value / 1e6:.2f} MB"
        return f"{value / 1e3:.1f} KB" if value >= 1e3 else f"{value:.0f} B"
    if unit == "KiB":
        return f"{value / 1024:.1f} MiB" if value >= 1024 else f"{value:.0f} KiB"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:,.3g} {unit}".strip()


def table_lines(result: dict) -> list[str]:
    lines = []
    rows: list[tuple] = []
    messages: dict[int, str] = {}  # row position -> a "not run — reason" line
    for name in SECTIONS:
        sec = result["sections"][name]
        if sec["status"] != "ok":
            messages[len(rows)] = f"{name} benchmarks: {sec['status']} — {sec['reason']}"
            continue
        for r in sec["rows"]:
            spread = ("" if r["runs"] < 2
                      else f"{fmt(r['min'], r['unit'])}–{fmt(r['max'], r['unit'])}")
            cpu = f"{r['cpu_median_s']:.2f} s" if "cpu_median_s" in r else ""
            label = r["figure"]
            if r.get("baseline") and not label.startswith("naive"):
                label = "[naive] " + label
            rows.append((name, label, fmt(r["median"], r["unit"]), spread, str(r["runs"]), cpu,
                         r.get("note") or ""))
    w = [max(len(str(x[i])) for x in rows + [("section", "figure", "median", "min–max", "n",
                                               "cpu", "note")]) for i in range(7)]
    w[1] = min(w[1], 72)
    head = ("section", "figure", "median", "min–max", "n", "cpu", "note")
    lines.append("  ".join(f"{h:<{w[i]}}" if i in (0, 1, 6) else f"{h:>{w[i]}}"
                           for i, h in enumerate(head)).rstrip())
    lines.append("-" * min(160, sum(w) + 12))
    for i, row in enumerate([*rows, None]):
        if i in messages:
            lines.append(messages[i])
        if row is None:
            break
        lines.append("  ".join(f"{str(c):<{w[i]}}" if i in (0, 1, 6) else f"{str(c):>{w[i]}}"
                               for i, c in enumerate(row)).rstrip())
    for name in SECTIONS:
        note = result["sections"][name].get("note")
        if note and result["sections"][name]["status"] == "ok":
            lines.append(f"{name} note: {note}")
    lines.append("")
    lines.append("ratios, naive baseline / this project (same run):")
    if result.get("smoke"):
        lines.append("  (smoke: the naive maps cover one borough, the app all of London, and "
                     "draws are few: these ratios only show the plumbing works)")
    for r in result["ratios"]:
        shown = f"{r['value']:.1f}x" if r["value"] is not None else f"n/a — {r['reason']}"
        if r.get("cpu_value"):
            shown += f" (CPU time {r['cpu_value']:.1f}x)"
        lines.append(f"  {r['ratio']:<78} {shown}")
    notes = [result["sections"]["baseline"].get("naive_browser")]
    if notes[0]:
        lines.append(f"  naive map browser time: {notes[0]}")
    return lines


def machine() -> dict:
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import numpy
    import pandas

    info = {"cpus": os.cpu_count(), "memory_gib": mem, "python": platform.python_version(),
            "platform": platform.platform(), "numpy": numpy.__version__,
            "pandas": pandas.__version__}
    try:
        import bokeh
        import folium
        import panel

        info.update(panel=panel.__version__, bokeh=bokeh.__version__, folium=folium.__version__)
    except ImportError:
        pass
    return info


def loadavg() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    from mapping.config import output_dir

    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure")
    parser.add_argument("--baseline-repeats", type=int, default=2,
                        help="timed runs of the slow naive Monte Carlo loop")
    parser.add_argument("--build-dir", type=Path, default=None,
                        help="build folder holding processed/ (default $MAPPING_OUTPUT_DIR "
                             "or ./data)")
    parser.add_argument("--smoke", action="store_true", help="seconds, not minutes")
    parser.add_argument("--app", dest="app", action="store_true", default=None,
                        help="run the browser app benchmark (default: yes, except in smoke)")
    parser.add_argument("--no-app", dest="app", action="store_false")
    parser.add_argument("--only", choices=SECTIONS, action="append",
                        help="run only these sections (repeatable)")
    args = parser.parse_args(argv)
    build_dir = (args.build_dir or output_dir()).resolve()
    if not (build_dir / "processed" / "manifest.json").is_file():
        print(f"no build in {build_dir / 'processed'}: run `mapping build` first "
              "(`make bench` does)", file=sys.stderr)
        return 2
    repeats = 1 if args.smoke else args.repeats
    base_repeats = 1 if args.smoke else args.baseline_repeats
    run_app = (not args.smoke) if args.app is None else args.app
    started = dt.datetime.now(dt.UTC)
    result = {"smoke": args.smoke, "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "machine": machine(), "load_before": loadavg(), "build_dir": str(build_dir),
              "repeats": repeats, "sections": {}}
    runners = {
        "index": lambda: index_section(build_dir, args.smoke, repeats, base_repeats),
        "data": lambda: data_section(build_dir, args.smoke, repeats),
        "app": lambda: app_section(build_dir, args.smoke, run_app, repeats),
        "exports": lambda: exports_section(build_dir, args.smoke, repeats),
        "baseline": lambda: baseline_section(build_dir, args.smoke, repeats),
    }
    failed = False
    for name in SECTIONS:
        if args.only and name not in args.only:
            result["sections"][name] = {"status": "not run", "reason": "not selected (--only)",
                                        "rows": []}
            continue
        print(f"[{name}] ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            result["sections"][name] = runners[name]()
        except Exception as exc:  # noqa: BLE001 - report the section as failed, run the rest
            failed = True
            traceback.print_exc()
            result["sections"][name] = {"status": "failed", "rows": [],
                                        "reason": f"{type(exc).__name__}: {exc}"[:300]}
        result["sections"][name]["seconds"] = time.perf_counter() - t0
        print(f"[{name}] {result['sections'][name]['status']} in "
              f"{result['sections'][name]['seconds']:.1f} s", file=sys.stderr, flush=True)
    result["ratios"] = ratios(result["sections"])
    result["load_after"] = loadavg()
    result["seconds"] = (dt.datetime.now(dt.UTC) - started).total_seconds()
    lines = table_lines(result)
    m = result["machine"]
    print(f"benchmarks {result['date']}{' (smoke)' if args.smoke else ''}: {m['cpus']} CPUs, "
          f"{m['memory_gib']} GiB, Python {m['python']}; load {result['load_before']} -> "
          f"{result['load_after']}; {result['seconds']:.0f} s")
    print("\n".join(lines))
    result["table"] = lines
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
