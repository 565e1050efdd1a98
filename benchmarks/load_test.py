"""Load test of the served app: many concurrent Bokeh client sessions, loopback only.

    .venv/bin/python -m benchmarks.load_test [--sessions 40] [--out-dir DIR] [--url URL]

Each session (``bokeh.client.pull_session`` in its own thread) pulls the page, then changes the
measure to an indicator, back to the index, and one domain weight, waiting each time for the
recoloured columns to arrive (``cls``/``value`` of the map's ColumnDataSource). One extra
session sends a value no widget accepts (a callback error on the server) and must not disturb
the others. Reports: server memory per session (RSS of the ``panel serve`` process, before and
after the sessions connect, divided by their number), recolour latency percentiles, errors, and
whether every session ended with its own map (its values compared with the index computed here
for its own weights: no state leaks between users).

Without ``--url`` it builds nothing: it serves ``--out-dir`` (default ``data``) with
``mapping serve`` on a free loopback port and stops it afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
BAD_MEASURE = "no_such_measure"


@dataclass
class SessionResult:
    index: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    weights: list[float] | None = None
    values: np.ndarray | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(out_dir: Path, env_extra: dict | None = None, timeout: float = 120.0,
           log: Path | None = None, port: int | None = None):
    """``mapping serve`` on a free loopback port: yields (url, pid of the panel process,
    seconds to the first HTTP 200). The server's output goes to ``log`` if given."""
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
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mapping serve exited with {proc.returncode}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("mapping serve did not answer in time")
            time.sleep(0.2)
        startup = time.monotonic() - t0
        panels = [c for c in psutil.Process(proc.pid).children(recursive=True)
                  if "panel" in " ".join(c.cmdline())]
        pid = panels[0].pid if panels else proc.pid
        yield url, pid, startup
    finally:
        if log:
            sink.close()
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
        self.source = next(m for m in doc.models if isinstance(m, ColumnDataSource)
                           and "cls" in m.data)
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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--out-dir", default="data", help="build folder holding processed/")
    ap.add_argument("--timeout", type=float, default=90.0, help="per step, seconds")
    args = ap.parse_args(argv)
    out = Path(args.out_dir).resolve()
    with served(out, {"MAPPING_USAGE_DB": str(out / "load-test-usage.sqlite")}) as (url, pid,
                                                                                     startup):
        print(f"server: {url} (panel pid {pid}), first HTTP 200 after {startup:.1f} s")
        report = run_load(url, pid, out / "processed", args.sessions, args.timeout)
    for key, value in report.items():
        print(f"{key:16s} {value}")
    ok = (not report["errors"] and report["own_state"]["matching"] == args.sessions
          and report["faulty_session"].get("recovered"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
