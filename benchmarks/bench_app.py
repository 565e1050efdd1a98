"""Speed of the map app (figures to read, not timed tests). Targets from issue 4:

1. ``mapping serve`` start -> first HTTP 200
2. initial payload: the page's HTML and the websocket bytes until the document is idle
   (geometry included; aim < 2 MB for London LSOAs)
3. recolour (change of measure): websocket bytes (aim < 50 KB) and server time (aim < 50 ms,
   measured in-process on a session's models)
4. browser time from a weight change (keyboard on the first slider) to the repainted map
5. server memory (RSS) per additional open session
6. the static front page (``/``, issue 15): first and cached visit to a drawn map, the
   server's CPU for each, and a weight key press to the repainted map

    .venv/bin/python benchmarks/bench_app.py [--repeats 5] [--out benchmarks/results/app.json]
    .venv/bin/python benchmarks/bench_app.py --smoke      # one run of each, fewer sessions

Needs a build (``mapping build``) and Debian chromium at /usr/bin/chromium. Prints a table of
medians and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.app_browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    serve_app,
    settle,
    wait_idle,
)

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "app.json"


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its children (KiB), from /proc."""
    total = 0
    pids = [pid]
    try:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            pids.append(int(child))
    except OSError:
        pass
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) that process ``pid`` has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pid(port: int) -> int | None:
    """The ``panel serve`` process listening on ``port`` (a child of ``mapping serve``)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"panel" in cmd and b"serve" in cmd and str(port).encode() in cmd:
            return int(proc.name)
    return None


def time_server_start(out_dir: Path, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with serve_app(out_dir, {"MAPPING_USAGE_DB": "off"}):
            times.append(time.perf_counter() - t0)
    return times


def recolour_server_time(processed: Path, repeats: int) -> tuple[list[float], list[float]]:
    """In-process: seconds to recolour one session (measure change; weight change)."""
    from bokeh.document import Document

    from mapping.app.data import app_data
    from mapping.app.page import MapApp
    from mapping.app.usage import UsageCounter

    data = app_data(str(processed))
    app = MapApp(data, UsageCounter(None))
    doc = Document()
    doc.add_root(app.fig)
    measures = ["age_65_plus_pct", "disability_pct", "index", "no_qualifications_pct"]
    m_times, w_times = [], []
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        app.state.measure = measures[i % len(measures)]
        m_times.append(time.perf_counter() - t0)
    app.state.measure = "index"
    for i in range(repeats + 1):
        w = list(app.state.weights)
        w[0] = 0.25 + 0.05 * ((i % 5) + 1)
        t0 = time.perf_counter()
        app.state.weights = w
        w_times.append(time.perf_counter() - t0)
    return m_times[1:], w_times[1:]


def browser_figures(url: str, repeats: int, sessions: int) -> dict:
    from playwright.sync_api import sync_playwright

    pid = server_pid(urlparse(url).port)
    out: dict = {"initial_ws_bytes": [], "html_bytes": [], "page_to_idle_s": [],
                 "recolour_ws_bytes": [], "recolour_browser_s": [], "reweight_browser_s": [],
                 "reweight_ws_bytes": [], "session_rss_kib": [], "session_cpu_s": [],
                 "cached_page_to_drawn_s": [], "reweight_client_s": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for r in range(repeats):
            ctx = browser.new_context(viewport={"width": 1400, "height": 950})
            page = ctx.new_page()
            received = []
            page.on("websocket", lambda ws, received=received: ws.on(
                "framereceived", lambda payload: received.append(
                    len(payload) if isinstance(payload, bytes | str) else 0)))
            t0 = time.perf_counter()
            resp = page.goto(url)
            html = resp.body() if resp else b""
            wait_idle(page)
            out["page_to_idle_s"].append(time.perf_counter() - t0)
            settle(page, 0.3)
            out["html_bytes"].append(len(html))
            out["initial_ws_bytes"].append(sum(received))
            # recolour: change the measure
            n0 = len(received)
            target = ["Residents aged 75 and over", "Residents aged 65 and over"][r % 2]
            before = page.evaluate("() => Array.from(__source('lsoa').data.cls).join()")
            t0 = time.perf_counter()
            page.locator("select").first.select_option(label=target)
            page.wait_for_function(
                "b => Bokeh.documents[0].is_idle && Array.from(__source('lsoa').data.cls)"
                ".join() !== b", arg=before, timeout=30_000)
            page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
            out["recolour_browser_s"].append(time.perf_counter() - t0)
            out["recolour_ws_bytes"].append(sum(received[n0:]))
            page.locator("select").first.select_option(label="Digital exclusion risk index "
                                                       "(composite)")
            settle(page, 0.5)
            # reweight: keyboard on the first weight slider's handle, until the map changed
            before = page.evaluate("() => Array.from(__source('lsoa').data.cls).join()")
            n0 = len(received)
            handle = page.locator(".noUi-handle").first
            handle.focus()
            t0 = time.perf_counter()
            page.keyboard.press("ArrowRight" if r % 2 == 0 else "ArrowLeft")
            page.wait_for_function(
                "b => Bokeh.documents[0].is_idle && Array.from(__source('lsoa').data.cls)"
                ".join() !== b", arg=before, timeout=30_000)
            page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
            out["reweight_browser_s"].append(time.perf_counter() - t0)
            out["reweight_ws_bytes"].append(sum(received[n0:]))
            # the same change timed in the page: key press -> the browser's own repaint
            # (mapclient.js) -> the next frame drawn
            out["reweight_client_s"].append(page.evaluate("""() => new Promise(done => {
                const h = __deep('.noUi-handle')[0]; h.focus();
                const t0 = performance.now();
                const before = window.__mappingLastRepaint;
                h.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
                const wait = () => (window.__mappingLastRepaint !== before)
                    ? requestAnimationFrame(() => done((performance.now() - t0) / 1000))
                    : requestAnimationFrame(wait);
                wait(); })"""))
            settle(page, 0.5)
            # a second visit: the map data and the client code come from the browser's cache
            t0 = time.perf_counter()
            page.goto(url)
            wait_idle(page)
            page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
            out["cached_page_to_drawn_s"].append(time.perf_counter() - t0)
            ctx.close()
        if pid is not None:
            contexts = []
            base = rss_kib(pid)
            for _ in range(sessions):
                ctx = browser.new_context()
                page = ctx.new_page()
                cpu0 = cpu_s(pid)
                page.goto(url)
                wait_idle(page)
                settle(page, 0.3)
                out["session_cpu_s"].append(cpu_s(pid) - cpu0)
                contexts.append(ctx)
                now = rss_kib(pid)
                out["session_rss_kib"].append(now - base)
                base = now
            for ctx in contexts:
                ctx.close()
        browser.close()
    return out


#: key press (captured) -> the front page's repaint -> the next frame, in the page (ms)
FRONT_KEY_JS = """() => { window.__keyWait = new Promise((done) => {
  const painted = () => (window.__frontPainted || {at: -1}).at;
  const before = painted();
  const wait = () => (painted() > before && window.__keyAt !== undefined)
    ? requestAnimationFrame((t) => done(t - window.__keyAt)) : requestAnimationFrame(wait);
  wait(); }); }"""


def front_figures(root: str, repeats: int) -> dict:
    """The static front page (``/``): first visit (every file from the app server) and second
    visit (files from the browser's cache) to a painted map, the server's CPU for each, and a
    weight change (keyboard, first slider) to the repainted map's next frame."""
    from playwright.sync_api import sync_playwright

    pid = server_pid(urlparse(root).port)
    out: dict = {"front_first_visit_s": [], "front_cached_visit_s": [], "front_reweight_s": [],
                 "front_cpu_first_visit_s": [], "front_cpu_cached_visit_s": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for r in range(repeats):
            ctx = browser.new_context(viewport={"width": 1400, "height": 950})
            page = ctx.new_page()
            for key in ("first", "cached"):
                cpu0 = cpu_s(pid) if pid else 0.0
                t0 = time.perf_counter()
                page.goto(root)
                page.wait_for_function("() => window.__frontPainted", timeout=60_000)
                page.wait_for_function(
                    "() => new Promise(r => requestAnimationFrame(() => r(true)))")
                out[f"front_{key}_visit_s"].append(time.perf_counter() - t0)
                if pid:
                    out[f"front_cpu_{key}_visit_s"].append(cpu_s(pid) - cpu0)
            page.evaluate("() => addEventListener('keydown', () => "
                          "{ window.__keyAt = performance.now(); }, true)")
            for i in range(3):
                page.focus("input[type=range]")
                page.evaluate(FRONT_KEY_JS)
                page.keyboard.press("ArrowRight" if (r + i) % 2 == 0 else "ArrowLeft")
                out["front_reweight_s"].append(page.evaluate("() => window.__keyWait") / 1000)
            ctx.close()
        browser.close()
    return out


def med(values):
    return statistics.median(values) if values else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure")
    parser.add_argument("--sessions", type=int, default=5, help="extra sessions for memory")
    parser.add_argument("--out-dir", type=Path, default=Path(os.environ.get(
        "MAPPING_OUTPUT_DIR", ROOT / "data")), help="build folder (holding processed/)")
    parser.add_argument("--smoke", action="store_true", help="one run of each, two sessions")
    args = parser.parse_args(argv)
    repeats = 1 if args.smoke else args.repeats
    sessions = 2 if args.smoke else args.sessions
    processed = args.out_dir.resolve() / "processed"
    if not (processed / "manifest.json").exists():
        print(f"no build in {processed}: run `mapping build` first", file=sys.stderr)
        return 2
    start = time_server_start(args.out_dir, 1 if args.smoke else min(repeats, 3))
    m_server, w_server = recolour_server_time(processed, max(repeats, 3))
    with serve_app(args.out_dir, {"MAPPING_USAGE_DB": "off"}) as url:
        b = browser_figures(url, repeats, sessions)
        b.update(front_figures(url.removesuffix("main"), repeats))
    rows = [
        ("server start -> first HTTP 200", "s", med(start), "< 3"),
        ("page load -> document idle (browser, first visit)", "s", med(b["page_to_idle_s"]),
         "< 2"),
        ("page load -> map drawn (second visit, assets cached)", "s",
         med(b["cached_page_to_drawn_s"]), "< 2"),
        ("server CPU per new session (one at a time)", "s", med(b["session_cpu_s"]), "< 0.05"),
        ("initial page HTML", "bytes", med(b["html_bytes"]), ""),
        ("initial websocket payload", "bytes", med(b["initial_ws_bytes"]), "< 2 MB"),
        ("recolour (measure) websocket bytes", "bytes", med(b["recolour_ws_bytes"]), "< 50 KB"),
        ("recolour (measure) server time", "s", med(m_server), "< 0.05"),
        ("recolour (measure) browser round trip", "s", med(b["recolour_browser_s"]), ""),
        ("reweight server time", "s", med(w_server), "< 0.05"),
        ("reweight websocket bytes", "bytes", med(b["reweight_ws_bytes"]), "< 50 KB"),
        ("weight change -> repainted map (browser, Playwright)", "s",
         med(b["reweight_browser_s"]), ""),
        ("weight change -> repainted map (timed in the page)", "s",
         med(b["reweight_client_s"]), "< 0.1"),
        ("server memory per extra session", "KiB", med(b["session_rss_kib"]), ""),
        ("front page (/): first visit -> map drawn", "s", med(b["front_first_visit_s"]), "< 2"),
        ("front page (/): second visit (cached) -> map drawn", "s",
         med(b["front_cached_visit_s"]), "< 2"),
        ("front page (/): server CPU, first visit (every file)", "s",
         med(b["front_cpu_first_visit_s"]), ""),
        ("front page (/): server CPU, second visit (the page only)", "s",
         med(b["front_cpu_cached_visit_s"]), "< 0.05"),
        ("front page (/): weight key -> repainted map, next frame", "s",
         med(b["front_reweight_s"]), "< 0.1"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'median':>12}  unit   target")
    for name, unit, value, target in rows:
        shown = f"{value:,.3f}" if unit == "s" else f"{value:,.0f}"
        print(f"{name:<{width}}  {shown:>12}  {unit:<5}  {target}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "smoke": args.smoke, "repeats": repeats, "sessions": sessions,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "results": [{"figure": n, "unit": u, "median": v, "target": t} for n, u, v, t in rows],
        "raw": {"server_start_s": start, "recolour_server_s": m_server,
                "reweight_server_s": w_server, **b},
    }, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
