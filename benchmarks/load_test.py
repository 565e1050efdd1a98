"""Load test of the served app on loopback: many people opening it at once, then many sessions
changing it at once.

    .venv/bin/python -m benchmarks.load_test [--open 30 --open 100] [--browsers 10]
        [--crowd 30 --crowd-browsers 1 --rounds 10] [--sessions 40] [--first-visit 0]
        [--pages front|app|both] [--json FILE] [--out-dir DIR] [--quick]

It builds nothing: each part serves ``--out-dir`` (default ``data``) with ``mapping serve`` on a
free loopback port (a fresh server per part, warmed by one session that loads the build, then
stopped). Figures to read, not timed assertions; the machine's load average is recorded beside
them (a shared 2-core machine is noisy).

**Opening** (``--open N``, repeatable, default 30 and 100). N clients start at the same moment
(one asyncio loop in one thread, so that the load generator's own CPU stays small; it is
reported). Each one: an HTTP GET of the page (the server builds that person's Bokeh document
during the GET) - *to the page* is the time to the full HTML; then the websocket with the
session's token (``ws`` beside the page, token in the subprotocol header, as BokehJS does):
ACK, PULL-DOC-REQ, PULL-DOC-REPLY - *to the document* is the time from the start to the whole
reply. The reply is read as raw protocol fragments and never turned into Bokeh models
(``bokeh.client.pull_session`` would deserialise it in Python, slowly enough to dominate a load
test on the same machine). The static files the page names (``map-assets/`` - the map data -
and ``map-client/``) are fetched once and reported (bytes, ``Cache-Control``, encoding); with
``--first-visit F`` that fraction of the clients also fetches them, and every other script
and stylesheet the page names (BokehJS, Panel's bundles), between the page and the
websocket, as a browser with an empty cache does when nothing is in front of the app (the
deploy guide's nginx keeps them in its cache, so by default the app server does not serve
them). Every session stays open until all have finished; then: p50/p95/p99/max of both
times, errors (every message kept), server CPU seconds per new session (user + system time
of the ``panel serve`` process over the phase, divided by N), server RSS per open session
(the increase divided by N), wall time, and the error lines of the server's log.

**Browsers** (``--browsers M``, default 10; 0 skips it): one Debian chromium (headless),
M fresh contexts (empty caches: first visits, every static file fetched) opening the page at
once; *to a drawn map* is the time from the common start until
``Bokeh.documents[0].is_idle`` (with the map's LSOA source present) and one
``requestAnimationFrame`` after it. On a 2-core machine the browsers share the CPU with the
server (rendering M pages costs far more CPU than serving them), so this figure is
pessimistic: each real visitor renders on their own machine.

**Crowd** (``--crowd N``, default 30; 0 skips it): what one of N people opening the page at
the same moment waits for until the map is drawn. ``--rounds`` times (default 10), N - M of
them are raw HTTP clients that ask the server for everything a first visit does (the page,
every script and stylesheet it names, un-cached and straight from the app server, and for the
full app the session's document over the websocket), and M (``--crowd-browsers``, default 1)
are chromium pages in fresh contexts, timed from the common start to a drawn map as above.
The server carries the whole crowd while each timed browser has the machine's cores to
itself, as each real visitor has their own computer: this is the figure for issue 15's
"30 people opening the page at once: p95 <= 4 s to a drawn map" (p95 over the M x rounds
browsers). Also: p50/p95 to the page and to its files over the HTTP visitors, errors, server
CPU per person.

**Sessions** (``--sessions``, default 40; 0 skips it): ``run_load`` - each session
(``bokeh.client.pull_session`` in its own thread) changes the measure to an indicator, back to
the index, and one domain weight, waiting each time for the recoloured columns to arrive
(``cls``/``value`` of the map's source ``areas-lsoa``). One extra session sends a value no
widget accepts (a callback error on the server) and must not disturb the others. Reports:
server memory per session, recolour latency percentiles, errors, and whether every session
ended with its own map (its values compared with the index computed here for its own weights:
no state leaks between users).

``--quick`` is ``--open 10 --browsers 3 --crowd 10 --rounds 2 --sessions 5`` (flags given
explicitly win). Everything
printed is also written as JSON (``--json``, default ``benchmarks/results/load_test.json``).
The exit status is 1 on any error, a state leak or a faulty session that did not recover;
targets missed are printed, not failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
BAD_MEASURE = "no_such_measure"
RESULTS = REPO / "benchmarks" / "results" / "load_test.json"


@dataclass
class SessionResult:
    index: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    weights: list[float] | None = None
    values: np.ndarray | None = None


#: the pages a visitor opens: the static front page and the full app (mapping serve)
PAGES = {"front": "", "app": "main"}
TARGET_STARTUP_S = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(out_dir: Path, env_extra: dict | None = None, timeout: float = 120.0,
           log: Path | None = None, port: int | None = None):
    """``mapping serve`` on a free loopback port: yields (url of the front page ``/``, pid of
    the panel process, seconds to the first HTTP 200 there); the full app is at
    ``url + "main"``. The server's output goes to ``log`` if given."""
    import psutil

    port = port or free_port()
    env = {**os.environ, **(env_extra or {})}
    t0 = time.monotonic()
    sink = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "mapping", "serve", "--out-dir", str(out_dir),
                             "--port", str(port)], cwd=REPO, env=env,
                            stdout=sink, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_200(proc, url, t0, timeout, "mapping serve")
        startup = time.monotonic() - t0
        panels = [c for c in psutil.Process(proc.pid).children(recursive=True)
                  if "panel" in " ".join(c.cmdline())]
        pid = panels[0].pid if panels else proc.pid
        yield url, pid, startup
    finally:
        if log:
            sink.close()
        stop_group(proc)


def wait_for_200(proc: subprocess.Popen, url: str, t0: float, timeout: float,
                 what: str) -> None:
    """Poll ``url`` until it answers 200 (``what`` names the server in errors)."""
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"{what} did not answer in time")
        time.sleep(0.2)


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a server started in its own session, and everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


class Client:
    """One Bokeh client session of the app, with the models the load test drives."""

    def __init__(self, url: str):
        import panel  # noqa: F401  (registers Panel's Bokeh models for the client document)
        from bokeh.client import pull_session
        from bokeh.models import ColumnDataSource, Select, Slider

        self.session = pull_session(url=url)
        doc = self.session.document
        self.measure = next(m for m in doc.models if isinstance(m, Select)
                            and m.title == "Measure")
        # the domain-weight sliders (not the class count, not the support gap's walking distance)
        self.sliders = sorted((m for m in doc.models if isinstance(m, Slider)
                               and m.title != "Number of classes"
                               and not m.title.startswith("Walking distance")),
                              key=lambda m: m.id)
        self.source = doc.get_model_by_name("areas-lsoa")
        if not isinstance(self.source, ColumnDataSource) or "cls" not in self.source.data:
            raise RuntimeError("the document has no map source named areas-lsoa")
        self._changed = 0
        self.source.on_change("data", self._on_data)

    def _on_data(self, attr, old, new):
        self._changed += 1

    def wait_for_recolour(self, change, timeout: float) -> float:
        """Apply ``change`` (a callable) and wait for the map's columns to change; seconds."""
        conn = self.session._connection
        seen = self._changed
        t0 = time.perf_counter()
        change()
        timer = threading.Timer(timeout, lambda: conn._loop.add_callback(conn._loop.stop))
        timer.start()
        try:
            conn._loop_until(lambda: self._changed > seen)
        finally:
            timer.cancel()
        if self._changed <= seen:
            raise TimeoutError(f"no recolour within {timeout:.0f} s")
        return time.perf_counter() - t0

    def round_trip(self) -> None:
        self.session._connection.force_roundtrip()

    def close(self) -> None:
        self.session.close()


def weights_for(i: int, n_domains: int) -> tuple[int, float]:
    """Session i moves one slider to its own value (distinct across sessions)."""
    return i % n_domains, round(0.05 + 0.9 * ((i * 37) % 97) / 97, 4)


def run_session(i: int, url: str, measures: list[str], start: threading.Barrier,
                done: threading.Barrier, result: SessionResult, timeout: float) -> None:
    client = None
    try:
        client = Client(url)
        start.wait(timeout)
        measure = measures[i % len(measures)]
        steps = [lambda: setattr(client.measure, "value", measure),
                 lambda: setattr(client.measure, "value", "index")]
        slot, value = weights_for(i, len(client.sliders))
        slider = client.sliders[slot]

        def reweight():
            slider.value = value
            slider.set_from_json("value_throttled", value)

        steps.append(reweight)
        for step in steps:
            result.latencies.append(client.wait_for_recolour(step, timeout))
        result.weights = [float(s.value) for s in client.sliders]
        result.values = np.asarray(client.source.data["value"], dtype=np.float32)
        result.slider_titles = [s.title for s in client.sliders]
    except Exception as exc:  # counted and reported, never hidden
        result.errors.append(f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(threading.BrokenBarrierError):
            start.abort()
    finally:
        with contextlib.suppress(threading.BrokenBarrierError):
            done.wait(timeout)
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()


def faulty_session(url: str, timeout: float) -> dict:
    """A session whose event makes the server-side callback raise; then a valid change."""
    client = Client(url)
    try:
        client.measure.value = BAD_MEASURE  # not an option: the server-side update raises
        client.round_trip()
        latency = client.wait_for_recolour(
            lambda: setattr(client.measure, "value", "age_65_plus_pct"), timeout)
        return {"recovered": True, "latency_s": latency}
    except Exception as exc:
        return {"recovered": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        client.close()


def expected_values(processed: Path, titles: list[str], weights: list[float]) -> np.ndarray:
    """The index values a session with these slider weights should show (computed here)."""
    from mapping.app.data import app_data
    from mapping.app.store import AppState

    data = app_data(str(processed))
    state = AppState(data)
    order = list(data.domains.values())
    state.weights = [weights[titles.index(name)] for name in order]
    return state.view().values.astype(np.float32)


def run_load(url: str, pid: int, processed: Path, n_sessions: int = 25,
             timeout: float = 60.0) -> dict:
    from mapping.app.data import app_data

    data = app_data(str(processed))
    measures = [c for c in data.indicators if c in data.levels["lsoa"].table.columns
                and data.indicators[c].get("role") == "input"]
    warm = Client(url)  # the first session loads the build into the server process
    warm.close()
    time.sleep(1.0)
    rss_before = rss_mb(pid)
    results = [SessionResult(i) for i in range(n_sessions)]
    start = threading.Barrier(n_sessions)
    done = threading.Barrier(n_sessions + 1)
    threads = [threading.Thread(target=run_session, daemon=True,
                                args=(i, url, measures, start, done, results[i], timeout))
               for i in range(n_sessions)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    fault = {}
    faulty = threading.Thread(target=lambda: fault.update(faulty_session(url, timeout)),
                              daemon=True)
    faulty.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        done.wait(timeout * 4)  # every session has finished its steps and is still open
    rss_after = rss_mb(pid)
    for t in [*threads, faulty]:
        t.join(timeout)
    wall = time.perf_counter() - t0
    lat = np.array([x for r in results for x in r.latencies])
    errors = [f"session {r.index}: {e}" for r in results for e in r.errors]
    own = []
    for r in results:
        if r.values is None:
            continue
        exp = expected_values(processed, r.slider_titles, r.weights)
        own.append(bool(np.allclose(r.values, exp, equal_nan=True, rtol=1e-4, atol=1e-5)))
    distinct = len({tuple(r.weights) for r in results if r.weights is not None})
    return {
        "sessions": n_sessions,
        "wall_s": round(wall, 1),
        "recolours": int(lat.size),
        "latency_s": ({q: round(float(np.percentile(lat, p)), 3)
                       for q, p in (("p50", 50), ("p90", 90), ("p99", 99))}
                      | {"max": round(float(lat.max()), 3)}) if lat.size else {},
        "errors": errors,
        "server_rss_mb": {"before": round(rss_before, 1), "with_sessions": round(rss_after, 1),
                          "per_session": round((rss_after - rss_before) / n_sessions, 1)},
        "own_state": {"checked": len(own), "matching": int(sum(own)),
                      "distinct_weight_sets": distinct},
        "faulty_session": fault,
    }


def main(argv: list[str] | None = None) -> int:
    from benchmarks.load_open import (  # noqa: PLC0415 (they import this module)
        log_errors,
        print_assets,
        print_browsers,
        print_crowd,
        print_opening,
        run_browsers,
        run_crowd,
        run_opening,
        static_assets,
        warm_up,
    )

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--open", type=int, action="append", metavar="N",
                    help="clients opening the page at once; repeatable (default 30 and 100)")
    ap.add_argument("--browsers", type=int, help="chromium pages opening at once (default 10)")
    ap.add_argument("--crowd", type=int, help="people opening the page at once, one of them "
                    "in chromium (default 30; 0 skips it)")
    ap.add_argument("--crowd-browsers", type=int, default=1, metavar="M",
                    help="of the crowd, how many are chromium pages (default 1)")
    ap.add_argument("--rounds", type=int, help="times the crowd opens the page (default 10)")
    ap.add_argument("--sessions", type=int, help="concurrent recolouring sessions (default 40)")
    ap.add_argument("--first-visit", type=float, default=0.0, metavar="FRACTION",
                    help="fraction of the opening clients that also fetch the app's static "
                    "files (default 0: nginx serves them from its cache)")
    ap.add_argument("--pages", choices=[*PAGES, "both"], default="both",
                    help="open the static front page (/), the full app (/main) or both "
                    "(default)")
    ap.add_argument("--quick", action="store_true",
                    help="--open 10 --browsers 3 --crowd 10 --rounds 2 --sessions 5")
    ap.add_argument("--json", type=Path, default=RESULTS, help=f"default {RESULTS}")
    ap.add_argument("--out-dir", default="data", help="build folder holding processed/")
    ap.add_argument("--timeout", type=float, default=90.0, help="per step, seconds")
    args = ap.parse_args(argv)
    opens = args.open or ([10] if args.quick else [30, 100])
    n_browsers = args.browsers if args.browsers is not None else (3 if args.quick else 10)
    n_sessions = args.sessions if args.sessions is not None else (5 if args.quick else 40)
    n_crowd = args.crowd if args.crowd is not None else (10 if args.quick else 30)
    rounds = args.rounds if args.rounds is not None else (2 if args.quick else 10)
    out = Path(args.out_dir).resolve()
    report: dict = {"machine": {"cpus": os.cpu_count(), "load_average_start": os.getloadavg()},
                    "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "opening": [],
                    "startup_s": [], "static_files": {}, "browsers": [], "crowd": []}
    pages = list(PAGES) if args.pages == "both" else [args.pages]
    ok = True
    with tempfile.TemporaryDirectory(prefix="load-test-") as tmp:
        env = {"MAPPING_USAGE_DB": str(Path(tmp) / "usage.sqlite")}

        def server(name: str):
            return served(out, env, log=Path(tmp) / f"{name}.log")

        for n in opens:
            for name in pages:
                with server(f"open-{name}-{n}") as (root, pid, startup):
                    url = root + PAGES[name]
                    print(f"opening N={n}: {url} (panel pid {pid}), server up in {startup:.1f} s",
                          flush=True)
                    report["startup_s"].append(round(startup, 2))
                    report["static_files"].setdefault(name, static_assets(url, args.timeout))
                    phase = run_opening(url, pid, n, args.timeout, args.first_visit)
                    phase["server_log_errors"] = log_errors(Path(tmp) / f"open-{name}-{n}.log")
                report["opening"].append(phase)
                ok &= not phase["errors"]
        for name in pages if n_browsers else ():
            with server(f"browsers-{name}") as (root, pid, _):
                url = root + PAGES[name]
                print(f"browsers M={n_browsers}: {url}", flush=True)
                warm_up(url, args.timeout)
                b = run_browsers(url, n_browsers, args.timeout, pid)
                b["server_log_errors"] = log_errors(Path(tmp) / f"browsers-{name}.log")
            report["browsers"].append(b)
            ok &= not b["errors"]
        for name in pages if n_crowd else ():
            with server(f"crowd-{name}") as (root, pid, _):
                url = root + PAGES[name]
                print(f"crowd N={n_crowd} x {rounds}: {url}", flush=True)
                c = run_crowd(url, pid, n_crowd, args.crowd_browsers, rounds, args.timeout)
                c["server_log_errors"] = log_errors(Path(tmp) / f"crowd-{name}.log")
            report["crowd"].append(c)
            ok &= not c["errors"]
        if n_sessions:
            with server("sessions") as (root, pid, _):
                url = root + PAGES["app"]
                print(f"sessions S={n_sessions}: server {url}", flush=True)
                report["sessions"] = run_load(url, pid, out / "processed", n_sessions,
                                              args.timeout)
            # the faulty session's callback error is expected here
            report["sessions"]["server_log_errors"] = log_errors(Path(tmp) / "sessions.log")
            s = report["sessions"]
            ok &= bool(not s["errors"] and s["own_state"]["matching"] == n_sessions
                       and s["faulty_session"].get("recovered"))
    report["machine"]["load_average_end"] = os.getloadavg()
    for files in report["static_files"].values():
        print_assets(files)
    if report["startup_s"]:
        print(f"\nserver start -> first HTTP 200 at /: median "
              f"{np.median(report['startup_s']):.2f} s over {len(report['startup_s'])} starts "
              f"(target <= {TARGET_STARTUP_S:g} s)")
    if report["opening"]:
        print_opening(report["opening"])
    for b in report["browsers"]:
        print_browsers(b)
        for line in b["server_log_errors"]:
            print(f"  server log: {line}")
    for c in report["crowd"]:
        print_crowd(c)
        for line in c["server_log_errors"]:
            print(f"  server log: {line}")
    if "sessions" in report:
        print(f"\nSESSIONS: {n_sessions} concurrent sessions recolour (run_load)")
        for key, value in report["sessions"].items():
            if key != "server_log_errors":
                print(f"  {key:16s} {value}")
        logged = report["sessions"]["server_log_errors"]
        print(f"  server log: {len(logged)} distinct error-like lines (the faulty session's "
              "callback error is expected)" + "".join(f"\n    {x[:160]}" for x in logged[:4]))
    print(f"\nload average at start {report['machine']['load_average_start']}, "
          f"at end {report['machine']['load_average_end']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1, default=str))
    print(f"written {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
