"""Helpers for the app's real-browser tests (Playwright driving Debian chromium)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def app_server(out_dir: Path, tmp_path_factory):
    """``mapping serve`` on the build in ``out_dir`` with its own usage database; yields the URL."""
    if not Path(CHROMIUM).exists():
        raise AssertionError(f"Debian chromium is needed at {CHROMIUM} (apt-get install chromium)")
    usage = tmp_path_factory.mktemp("usage") / "usage.sqlite"
    with serve_app(out_dir, {"MAPPING_USAGE_DB": str(usage)}) as url:
        yield url


@contextlib.contextmanager
def fresh_page(browser, record_dialogs: bool = False, width: int = 1400, height: int = 950):
    """A page in a fresh browser context (1400 × 950 unless told, downloads accepted); with
    ``record_dialogs`` every JavaScript dialog is dismissed and its message kept in
    ``page.dialogs``."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = ctx.new_page()
    if record_dialogs:
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    try:
        yield page
    finally:
        ctx.close()


@contextlib.contextmanager
def launch_chromium():
    """Debian chromium driven by Playwright's sync API, stopped on exit. Use it in fixtures of
    module scope at most: a running sync Playwright holds the thread's event loop."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    if not Path(CHROMIUM).exists():
        raise AssertionError(f"Debian chromium is needed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()

#: Finds the map's Bokeh PlotView (walking the view tree) and exposes helpers on window.
JS_HELPERS = """() => {
  function walk(v, pred) {
    if (!v) return null;
    if (pred(v)) return v;
    const kids = [];
    try { for (const c of v.child_views || []) kids.push(c); } catch (e) {}
    if (v.renderer_views) for (const c of v.renderer_views.values()) kids.push(c);
    for (const c of kids) { const r = walk(c, pred); if (r) return r; }
    return null;
  }
  window.__plot = () => {
    for (const root of Object.values(Bokeh.index)) {
      const r = walk(root, v => v.model && v.model.type === 'Figure');
      if (r) return r;
    }
    return null;
  };
  window.__toScreen = (x, y) => {
    const pv = window.__plot();
    const rect = pv.canvas_view.el.getBoundingClientRect();
    return [rect.left + pv.frame.x_scale.compute(x), rect.top + pv.frame.y_scale.compute(y)];
  };
  window.__source = (level) => Bokeh.documents[0].get_model_by_name('areas-' + level);
  window.__ranges = () => {
    const pv = window.__plot();
    return [pv.model.x_range.start, pv.model.x_range.end, pv.model.y_range.start,
            pv.model.y_range.end];
  };
  window.__deep = (selector) => {
    const out = [];
    (function visit(root) {
      root.querySelectorAll(selector).forEach((e) => out.push(e));
      root.querySelectorAll("*").forEach((e) => { if (e.shadowRoot) visit(e.shadowRoot); });
    })(document);
    return out;
  };
  return true;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(out_dir: Path, env_extra: dict[str, str] | None = None, timeout: float = 60.0):
    """Run ``mapping serve`` on the build in ``out_dir`` on a free loopback port; yield the URL
    of the full app (``/main``; the static front page is at ``/``); stop it afterwards."""
    port = free_port()
    env = {**os.environ, **(env_extra or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mapping", "serve", "--out-dir", str(out_dir), "--address",
         "127.0.0.1", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    root = f"http://127.0.0.1:{port}/"  # the static front page: ready with the server
    t0 = time.monotonic()
    try:
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"mapping serve exited with {proc.returncode}:\n{out}")
            try:
                with urllib.request.urlopen(root, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("mapping serve did not answer in time")
            time.sleep(0.2)
        yield root + "main"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        if proc.stdout:
            proc.stdout.close()


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until the Bokeh document is idle (content arrives over the websocket)."""
    page.wait_for_function(
        "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle",
        timeout=timeout)
    page.evaluate(JS_HELPERS)


def settle(page, seconds: float = 0.4) -> None:
    """Let a server round trip finish: wait briefly, then for the document to be idle."""
    page.wait_for_timeout(seconds * 1000)
    page.wait_for_function("() => Bokeh.documents[0].is_idle")
