"""The floor of a Panel session on this machine: what the least Panel page costs the server.

Issue 15 asks for at most 50 ms of server CPU per new session and a p95 of at most 2 s to the
page when 30 people open it at once. This serves a page that is almost nothing (a heading, one
slider and a one-point Bokeh figure) with ``panel serve`` and opens it N times at once with the
load test's own client (:func:`benchmarks.load_open.run_opening`: the page over HTTP, then the
session's document over the Bokeh websocket). Whatever it measures, the map app cannot go below
while every person gets a Panel session when they open the page.

    .venv/bin/python -m benchmarks.panel_floor [--open 30]

The figure's source is named ``areas-lsoa`` only so that the load test's check that a document
arrived (it looks for that name) applies unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.load_open import TARGET_CPU_MS, TARGET_PAGE_P95_S, run_opening
from benchmarks.load_test import free_port, stop_group, wait_for_200

APP = '''
import panel as pn
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

fig = figure(height=200, width=300)
fig.scatter("x", "y", source=ColumnDataSource({"x": [1], "y": [1]}, name="areas-lsoa"))
pn.Column(pn.pane.Markdown("# The least Panel page"),
          pn.widgets.FloatSlider(name="weight", value=0.5), pn.pane.Bokeh(fig)
          ).servable(title="floor")
'''


@contextlib.contextmanager
def floor_server(timeout: float = 60.0):
    """``panel serve`` of the least page on a free loopback port: yields (url, pid)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "floor.py"
        app.write_text(APP, encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "panel", "serve", str(app), "--address", "127.0.0.1",
             "--port", str(port), "--allow-websocket-origin", f"127.0.0.1:{port}"],
            env={**os.environ, "BOKEH_RESOURCES": "server"}, stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}/floor"
        try:
            wait_for_200(proc, url, time.monotonic(), timeout, "panel serve")
            yield url, proc.pid
        finally:
            stop_group(proc)

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--open", type=int, default=30, metavar="N", help="people at once (30)")
    args = ap.parse_args(argv)
    with floor_server() as (url, pid):
        r = run_opening(url, pid, args.open)
    page, doc = r["to_page_s"], r["to_document_s"]
    alone = r["one_session_alone"]
    print(f"the least Panel page, {r['ok']} of {r['clients']} opened at once "
          f"(load average before {r['load_average_before']:.2f}):")
    print(f"  server CPU per session      {r['server_cpu_ms_per_session']:.0f} ms "
          f"(target for the map app: <= {TARGET_CPU_MS:.0f} ms)")
    print(f"  one session alone           page {alone['cpu_ms_page']:.0f} ms CPU, "
          f"document {alone['cpu_ms_document']:.0f} ms CPU")
    print(f"  to the page p50/p95/p99     {page['p50']:.2f} / {page['p95']:.2f} / "
          f"{page['p99']:.2f} s (target p95 <= {TARGET_PAGE_P95_S:.0f} s)")
    print(f"  to the document p50/p95     {doc['p50']:.2f} / {doc['p95']:.2f} s")
    print(f"  document                    {r['document_kb']:.1f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
