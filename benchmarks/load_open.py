"""Opening the app at once: N people (raw HTTP and the Bokeh protocol, one asyncio loop)
and M real chromium pages. Part of :mod:`benchmarks.load_test` (see its docstring)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

import numpy as np

from benchmarks.load_test import rss_mb

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: the issue's targets (2-core machine, 30 people opening the page at once)
TARGET_PAGE_P95_S = 2.0
TARGET_DRAWN_P95_S = 4.0
TARGET_CPU_MS = 50.0
TOKEN_RE = re.compile(r'"token":"([^"]+)"')
APP_ASSET_RE = re.compile(r'<script[^>]*\ssrc="((?:map-assets|map-client)/[^"]+)"')
#: the static front page (mapping/app/front.py): no session, so no websocket to open
FRONT_RE = re.compile(r'src="map-assets/front-[0-9a-f]+\.js')
#: the scripts' and stylesheets' addresses in a page
PAGE_FILE_RE = re.compile(r'<(?:script|link)[^>]*\s(?:src|href)="([^"]+)"')


# -- opening: N people open the page at once (raw HTTP and Bokeh protocol, one asyncio loop) ---

@dataclass
class OpenResult:
    index: int
    page_s: float | None = None  # start -> the whole HTML of the page
    assets_s: float | None = None  # start -> the app's static files (first visits only)
    ack_s: float | None = None  # start -> the websocket open and its ACK received
    doc_s: float | None = None  # start -> the whole PULL-DOC-REPLY
    page_bytes: int = 0
    doc_bytes: int = 0
    error: str | None = None


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of the server process so far (all its threads)."""
    import psutil

    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def ws_url(url: str) -> str:
    """The Bokeh websocket beside the page (``/ws`` for the page at ``/``), as BokehJS makes it."""
    u = urlparse(url)
    return f"{'wss' if u.scheme == 'https' else 'ws'}://{u.netloc}{u.path.rstrip('/')}/ws"


def http_client(n: int):
    from tornado.httpclient import AsyncHTTPClient

    # tornado's default allows 10 requests at a time and queues the rest: allow every client's
    return AsyncHTTPClient(force_instance=True, max_clients=max(10, 3 * n))


async def read_message(ws, deadline: float) -> tuple[dict, str, int]:
    """One Bokeh protocol message as fragments: (header, content text, bytes). Only the small
    header is parsed; the content (the document) is kept as text, never made into models."""

    async def fragment():
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError("no message before the deadline")
        frag = await asyncio.wait_for(ws.read_message(), left)
        if frag is None:
            raise ConnectionError(f"websocket closed by the server (code {ws.close_code}, "
                                  f"{ws.close_reason!r})")
        return frag

    header_text = await fragment()
    header = json.loads(header_text)
    metadata, content = await fragment(), await fragment()
    size = len(header_text) + len(metadata) + len(content)
    for _ in range(2 * header.get("num_buffers", 0)):  # each buffer: a header, then its bytes
        size += len(await fragment())
    return header, content, size


def page_files(html: str) -> list[str]:
    """Every script and stylesheet of this server the page names (what a browser with an empty
    cache asks the server for before it can draw; images and files a script loads later are
    left out)."""
    if not APP_ASSET_RE.search(html):
        raise RuntimeError("the page names no map-assets/ or map-client/ script")
    return [p for p in PAGE_FILE_RE.findall(html)
            if not re.match(r"(?:[a-z]+:)?//", p) and p.split("?")[0].endswith((".js", ".css"))]


async def fetch_assets(http, url: str, html: str, timeout: float) -> int:
    """The files the page names (:func:`page_files`), at once, as a browser with an empty cache
    fetches them. Returns the bytes received."""
    paths = page_files(html)
    replies = await asyncio.gather(*(http.fetch(urljoin(url, p), request_timeout=timeout,
                                                raise_error=False) for p in paths))
    for p, r in zip(paths, replies, strict=True):
        if r.code != 200:
            raise RuntimeError(f"HTTP {r.code} for {p}: {r.reason}")
    return sum(len(r.body) for r in replies)


async def open_one(i: int, url: str, http, go: asyncio.Event, timeout: float,
                   first_visit: bool, on_page=None) -> tuple[OpenResult, object]:
    """One person opening the app: the page, then the session's document over the websocket
    (none for the static front page: it opens no session). Returns the result and the
    websocket (left open: the caller closes it). ``on_page`` is called once the page has
    arrived."""
    from bokeh.protocol import Protocol
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    res, ws = OpenResult(i), None
    await go.wait()
    t0 = time.perf_counter()
    deadline = t0 + timeout
    try:
        page = await http.fetch(url, request_timeout=timeout, raise_error=False)
        res.page_s = time.perf_counter() - t0
        if page.code != 200:
            raise RuntimeError(f"HTTP {page.code} for the page: {page.reason} {page.error or ''}")
        html = page.body.decode()
        res.page_bytes = len(page.body)
        if on_page is not None:
            on_page()
        token = TOKEN_RE.search(html)
        if token is None and not FRONT_RE.search(html):
            raise RuntimeError("no session token in the page")
        if first_visit:
            await fetch_assets(http, url, html, timeout)
            res.assets_s = time.perf_counter() - t0
        if token is None:  # the front page: everything else is static files
            return res, None
        u = urlparse(url)
        request = HTTPRequest(ws_url(url), headers={"Origin": f"{u.scheme}://{u.netloc}"},
                              connect_timeout=timeout, request_timeout=timeout)
        ws = await asyncio.wait_for(
            websocket_connect(request, subprotocols=["bokeh", token.group(1)],
                              max_message_size=256 * 2**20),
            max(0.1, deadline - time.perf_counter()))
        header, content, _ = await read_message(ws, deadline)
        if header.get("msgtype") != "ACK":
            raise RuntimeError(f"expected ACK, got {header.get('msgtype')}: {content[:200]}")
        res.ack_s = time.perf_counter() - t0
        req = Protocol().create("PULL-DOC-REQ")
        for text in (req.header_json, req.metadata_json, req.content_json):
            await ws.write_message(text)
        while True:  # skip anything sent before the reply (none expected)
            header, content, size = await read_message(ws, deadline)
            if header.get("msgtype") == "PULL-DOC-REPLY":
                break
            if header.get("msgtype") == "ERROR":
                raise RuntimeError(f"server ERROR message: {content[:300]}")
        res.doc_s = time.perf_counter() - t0
        res.doc_bytes = size
        if '"areas-lsoa"' not in content:
            raise RuntimeError("the document has no map source areas-lsoa (an error page?)")
    except Exception as exc:  # counted and reported, never hidden
        res.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return res, ws


def percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    a = np.asarray(values)
    return {q: round(float(np.percentile(a, p)), 3)
            for q, p in (("p50", 50), ("p95", 95), ("p99", 99))} | {"max": round(float(a.max()), 3)}


def log_errors(log: Path | None) -> list[str]:
    """The error-like lines of the server's log (Bokeh's log lines carry no level name), each
    once, with how many times it occurred."""
    if log is None or not log.exists():
        return []
    seen: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        if re.search(r"error|traceback|exception|cannot|refus|fail", line, re.IGNORECASE):
            text = re.sub(r"^\d{4}-\d\d-\d\d [\d:,]+ ", "", line.strip())
            seen[text] = seen.get(text, 0) + 1
    return [f"{n} x {text}" for text, n in list(seen.items())[:20]]


async def _warm_up(url: str, timeout: float) -> None:
    http = http_client(1)
    warm, ws = await open_one(-1, url, http, _set_event(), timeout, first_visit=False)
    if ws is not None:
        ws.close()
    http.close()
    if warm.error:
        raise RuntimeError(f"the warm-up session failed: {warm.error}")
    await asyncio.sleep(1.0)


async def _alone(url: str, pid: int, timeout: float, settle: float) -> dict:
    """One session on its own (after the warm-up): the server's CPU for the page (the
    session's document built) and for the document sent, in milliseconds."""
    http, marks = http_client(1), []
    cpu0 = server_cpu_s(pid)
    res, ws = await open_one(-2, url, http, _set_event(), timeout, False,
                             on_page=lambda: marks.append(server_cpu_s(pid)))
    cpu_doc = server_cpu_s(pid)
    await asyncio.sleep(settle)
    cpu_end = server_cpu_s(pid)
    if ws is not None:
        ws.close()
    http.close()
    if res.error or not marks:
        return {"error": res.error}
    return {"page_s": round(res.page_s, 3),
            "document_s": None if res.doc_s is None else round(res.doc_s, 3),
            "cpu_ms_page": round(1000 * (marks[0] - cpu0), 1),
            "cpu_ms_document": round(1000 * (cpu_doc - marks[0]), 1),
            "cpu_ms_after": round(1000 * (cpu_end - cpu_doc), 1)}


def warm_up(url: str, timeout: float = 60.0) -> None:
    """One session (page and document), closed: the server process loads the build."""
    asyncio.run(_warm_up(url, timeout))


async def _open_phase(url: str, pid: int, n: int, timeout: float, first_visit: float,
                      settle: float) -> dict:
    await _warm_up(url, timeout)
    alone = await _alone(url, pid, timeout, settle)
    await asyncio.sleep(0.5)
    http = http_client(n)
    go = _set_event(False)
    n_first = round(first_visit * n)
    tasks = [asyncio.ensure_future(open_one(i, url, http, go, timeout, i < n_first))
             for i in range(n)]
    await asyncio.sleep(0.05)  # every client is waiting on the event
    load = os.getloadavg()[0]
    rss0, cpu0, own0 = rss_mb(pid), server_cpu_s(pid), time.process_time()
    t0 = time.perf_counter()
    go.set()
    pairs = await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    await asyncio.sleep(settle)  # work the server does just after the reply (next-tick callbacks)
    rss1, cpu1, own1 = rss_mb(pid), server_cpu_s(pid), time.process_time()
    results = [r for r, _ in pairs]
    for _, ws in pairs:  # every session stayed open until all had finished
        if ws is not None:
            ws.close()
    http.close()
    ok = [r for r in results if r.error is None]
    return {
        "clients": n,
        "first_visits": n_first,
        "ok": len(ok),
        "errors": [f"client {r.index}: {r.error}" for r in results if r.error],
        "to_page_s": percentiles([r.page_s for r in results if r.page_s is not None]),
        "to_ack_s": percentiles([r.ack_s for r in results if r.ack_s is not None]),
        "to_document_s": percentiles([r.doc_s for r in ok if r.doc_s is not None]),
        "to_assets_s": percentiles([r.assets_s for r in results if r.assets_s is not None]),
        "wall_s": round(wall, 2),
        "page_kb": round(float(np.mean([r.page_bytes for r in ok])) / 1024, 1) if ok else None,
        "document_kb": round(float(np.mean([r.doc_bytes for r in ok])) / 1024, 1) if ok else None,
        "page": urlparse(url).path,
        "server_cpu_s": round(cpu1 - cpu0, 2),
        "server_cpu_ms_per_session": round(1000 * (cpu1 - cpu0) / n, 1),
        "server_rss_mb": {"before": round(rss0, 1), "with_sessions": round(rss1, 1),
                          "per_session": round((rss1 - rss0) / n, 2)},
        "load_generator_cpu_s": round(own1 - own0, 2),
        "load_average_before": round(load, 2),
        "one_session_alone": alone,
    }


def _set_event(is_set: bool = True) -> asyncio.Event:
    ev = asyncio.Event()
    if is_set:
        ev.set()
    return ev


def run_opening(url: str, pid: int, n: int, timeout: float = 60.0, first_visit: float = 0.0,
                settle: float = 1.0) -> dict:
    """N clients open the app at the same moment (see the module's docstring); the server at
    ``url`` (its process ``pid``) is warmed by one session first."""
    return asyncio.run(_open_phase(url, pid, n, timeout, first_visit, settle))


async def _static_assets(url: str, timeout: float) -> list[dict]:
    from tornado.httpclient import AsyncHTTPClient

    http = AsyncHTTPClient(force_instance=True)
    page = await http.fetch(url, request_timeout=timeout)
    out = [{"path": urlparse(url).path or "/", "status": page.code, "kb": len(page.body) / 1024,
            "cache_control": page.headers.get("Cache-Control")}]
    for path in APP_ASSET_RE.findall(page.body.decode()):
        t0 = time.perf_counter()
        r = await http.fetch(urljoin(url, path), request_timeout=timeout, raise_error=False,
                             decompress_response=False, headers={"Accept-Encoding": "gzip"})
        out.append({"path": path.split("?")[0], "status": r.code,
                    "kb": round(len(r.body or b"") / 1024, 1),
                    "encoding": r.headers.get("Content-Encoding", "identity"),
                    "cache_control": r.headers.get("Cache-Control"),
                    "s": round(time.perf_counter() - t0, 3)})
    http.close()
    out[0]["kb"] = round(out[0]["kb"], 1)
    return out


def static_assets(url: str, timeout: float = 60.0) -> list[dict]:
    """The page and the app's static files it names, once: bytes on the wire (gzip asked
    for), Content-Encoding and Cache-Control."""
    return asyncio.run(_static_assets(url, timeout))


# -- a few real browsers opening the page at once ----------------------------------------------

#: the full app: its document idle with the map's source; the front page: painted by front.js
DRAWN_JS = """() => window.__frontPainted || (window.Bokeh && Bokeh.documents.length > 0
  && Bokeh.documents[0].is_idle && Bokeh.documents[0].get_model_by_name('areas-lsoa') !== null)"""
FRAME_JS = "() => new Promise(r => requestAnimationFrame(() => r(performance.now())))"
CHECK_JS = """() => ({cls: Bokeh.documents[0].get_model_by_name('areas-lsoa').data.cls.length,
  client: !!globalThis.MappingClient})"""


async def draw_one(i: int, page, url: str, go: asyncio.Event, timeout: float,
                   errors: list[str]) -> tuple[float | None, float | None]:
    """One chromium page opening ``url`` once ``go`` is set: seconds from then to a drawn map,
    and from the page's own navigation start (None, None on an error, kept in ``errors``)."""
    await go.wait()
    t0 = time.perf_counter()
    try:
        await page.goto(url, timeout=timeout * 1000)
        await page.wait_for_function(DRAWN_JS, timeout=timeout * 1000)
        in_page = await page.evaluate(FRAME_JS)
        drawn = time.perf_counter() - t0
        check = await page.evaluate(CHECK_JS)
        if not check["cls"] or not check["client"]:
            raise RuntimeError(f"map not drawn: {check}")
        return drawn, in_page / 1000
    except Exception as exc:
        errors.append(f"page {i}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return None, None


async def new_page(browser, i: int, errors: list[str]):
    """A page in a fresh context (an empty cache: a first visit), its script errors kept."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 950})
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"page {i}: {e}"))
    page.on("console", lambda msg: errors.append(f"page {i} console: {msg.text}")
            if msg.type == "error" else None)
    return page


async def _browsers(url: str, m: int, timeout: float, pid: int | None) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            errors: list[str] = []
            pages = [await new_page(browser, i, errors) for i in range(m)]
            go = _set_event(False)
            tasks = [asyncio.ensure_future(draw_one(i, pg, url, go, timeout, errors))
                     for i, pg in enumerate(pages)]
            await asyncio.sleep(0.05)
            load = os.getloadavg()[0]
            cpu0 = server_cpu_s(pid) if pid else 0.0
            t0 = time.perf_counter()
            go.set()
            times = await asyncio.gather(*tasks)
            wall = time.perf_counter() - t0
            cpu = (server_cpu_s(pid) - cpu0) if pid else None
        finally:
            await browser.close()
    drawn = [d for d, _ in times if d is not None]
    return {"pages": m, "page": urlparse(url).path, "ok": len(drawn), "errors": errors,
            "to_drawn_map_s": percentiles(drawn),
            "in_page_s": percentiles([x for _, x in times if x is not None]),
            "wall_s": round(wall, 2), "load_average_before": round(load, 2),
            "server_cpu_ms_per_page": round(1000 * cpu / m, 1) if cpu is not None else None}


def run_browsers(url: str, m: int, timeout: float = 90.0, pid: int | None = None) -> dict:
    """M chromium pages (one browser, M fresh contexts) opening the app at once: seconds from
    the common start to a drawn map (see the module's docstring: pessimistic on 2 cores)."""
    if not Path(CHROMIUM).exists():
        return {"pages": m, "ok": 0, "errors": [f"Debian chromium is needed at {CHROMIUM}"]}
    return asyncio.run(_browsers(url, m, timeout, pid))


# -- a crowd: N people open the page at once, one of them in a real browser -----------------

async def _crowd(url: str, pid: int, n: int, m: int, rounds: int, timeout: float) -> dict:
    from playwright.async_api import async_playwright

    await _warm_up(url, timeout)
    errors: list[str] = []
    drawn: list[float] = []
    to_page: list[float] = []
    to_files: list[float] = []
    cpu_total = 0.0
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        http = http_client(n)
        try:
            for r in range(rounds):
                pages = [await new_page(browser, i, errors) for i in range(m)]
                go = _set_event(False)
                visitors = [asyncio.ensure_future(open_one(i, url, http, go, timeout, True))
                            for i in range(n - m)]
                draws = [asyncio.ensure_future(draw_one(i, pg, url, go, timeout, errors))
                         for i, pg in enumerate(pages)]
                await asyncio.sleep(0.05)
                cpu0 = server_cpu_s(pid)
                go.set()
                pairs = await asyncio.gather(*visitors)
                times = await asyncio.gather(*draws)
                cpu_total += server_cpu_s(pid) - cpu0
                for res, ws in pairs:
                    if ws is not None:
                        ws.close()
                    if res.error:
                        errors.append(f"round {r} visitor {res.index}: {res.error}")
                    if res.page_s is not None:
                        to_page.append(res.page_s)
                    if res.assets_s is not None:
                        to_files.append(res.assets_s)
                drawn += [d for d, _ in times if d is not None]
                for pg in pages:
                    await pg.context.close()
                await asyncio.sleep(1.0)  # the sessions of this round closed
        finally:
            http.close()
            await browser.close()
    return {"people": n, "browsers": m, "rounds": rounds, "page": urlparse(url).path,
            "errors": errors, "ok_drawn": len(drawn),
            "to_drawn_map_s": percentiles(drawn),
            "to_page_s": percentiles(to_page), "to_files_s": percentiles(to_files),
            "server_cpu_ms_per_person": round(1000 * cpu_total / (n * rounds), 1)}


def run_crowd(url: str, pid: int, n: int = 30, m: int = 1, rounds: int = 10,
              timeout: float = 90.0) -> dict:
    """``rounds`` times: N people open the page at the same moment, N - M of them as raw
    HTTP clients doing all a first-time visitor asks of the server (the page, every script and
    stylesheet it names, the session's document for the full app) and M in chromium (a fresh
    context each round), timed to a drawn map. The server carries the whole crowd while each
    timed browser has the machine's cores, as a visitor has their own computer."""
    if not Path(CHROMIUM).exists():
        return {"people": n, "browsers": m, "rounds": rounds, "ok_drawn": 0,
                "errors": [f"Debian chromium is needed at {CHROMIUM}"]}
    if not 0 < m <= n:
        raise ValueError(f"the crowd's browsers must be 1 to {n}, not {m}")
    return asyncio.run(_crowd(url, pid, n, m, rounds, timeout))


# -- the report -------------------------------------------------------------------------------

def _fmt(d: dict, key: str, scale: float = 1.0, digits: int = 2) -> str:
    v = d.get(key)
    return "-" if v is None else f"{v * scale:.{digits}f}"


def print_opening(phases: list[dict]) -> None:
    cols = [f"{p.get('page', '')} N={p['clients']}" for p in phases]
    rows: list[tuple[str, list[str], str]] = []
    for label, key in (("to the page", "to_page_s"), ("to the document", "to_document_s")):
        for q in ("p50", "p95", "p99", "max"):
            target = ""
            if q == "p95" and key == "to_page_s":
                target = f"<= {TARGET_PAGE_P95_S:g} s at N=30"
            rows.append((f"{label} {q} (s)", [_fmt(p[key], q) for p in phases], target))
    rows.insert(4, ("to the websocket's ACK p50 / max (s)",
                    [f"{_fmt(p['to_ack_s'], 'p50')} / {_fmt(p['to_ack_s'], 'max')}"
                     for p in phases], ""))
    if any(p["first_visits"] for p in phases):
        rows.append(("first visits: to the static files p95 (s)",
                     [_fmt(p["to_assets_s"], "p95") for p in phases], ""))
    alone = [p.get("one_session_alone", {}) for p in phases]
    rows += [
        ("one session alone: server CPU page / doc / after (ms)",
         [f"{a.get('cpu_ms_page', '-')} / {a.get('cpu_ms_document', '-')} / "
          f"{a.get('cpu_ms_after', '-')}" for a in alone], ""),
        ("one session alone: to the page / doc (s)",
         [f"{a.get('page_s', '-')} / {a.get('document_s', '-')}" for a in alone], ""),
        ("errors", [str(len(p["errors"])) for p in phases], "0"),
        ("wall, all documents received (s)", [f"{p['wall_s']:.2f}" for p in phases], ""),
        ("server CPU per new session (ms)",
         [f"{p['server_cpu_ms_per_session']:.1f}" for p in phases], f"<= {TARGET_CPU_MS:g} ms"),
        ("server CPU over the phase (s)", [f"{p['server_cpu_s']:.2f}" for p in phases], ""),
        ("server RSS per open session (MB)",
         [f"{p['server_rss_mb']['per_session']:.2f}" for p in phases], ""),
        ("server RSS before -> with sessions (MB)",
         [f"{p['server_rss_mb']['before']:.0f} -> {p['server_rss_mb']['with_sessions']:.0f}"
          for p in phases], ""),
        ("page / document (KB)", [f"{p['page_kb']} / {p['document_kb']}" for p in phases], ""),
        ("load generator CPU (s)", [f"{p['load_generator_cpu_s']:.2f}" for p in phases], ""),
        ("load average before", [f"{p['load_average_before']:.2f}" for p in phases], ""),
    ]
    width = max(len(r[0]) for r in rows)
    col = 2 + max(len(v) for r in rows for v in r[1])
    print("\nOPENING: N clients open the page at once (HTTP GET + websocket PULL-DOC)")
    print(f"  {'':{width}s}" + "".join(f"{c:>{col}s}" for c in cols) + "   target")
    for label, values, target in rows:
        print(f"  {label:{width}s}" + "".join(f"{v:>{col}s}" for v in values) + f"   {target}")
    for p in phases:
        for e in p["errors"][:10]:
            print(f"  error N={p['clients']}: {e}")
        if len(p["errors"]) > 10:
            print(f"  ... and {len(p['errors']) - 10} more errors at N={p['clients']}")
        for line in p.get("server_log_errors", []):
            print(f"  server log N={p['clients']}: {line}")


def print_assets(assets: list[dict]) -> None:
    print("\nSTATIC FILES (fetched once, gzip accepted)")
    for a in assets:
        print(f"  {a['path']:36s} HTTP {a['status']}  {a['kb']:>8.1f} KB  "
              f"{a.get('encoding', ''):9s} Cache-Control: {a['cache_control']}")


def print_browsers(b: dict) -> None:
    print(f"\nBROWSERS: {b['pages']} chromium pages open {b.get('page', '')} at once "
          "(share the 2 cores with the server: pessimistic)")
    for label, key in (("to a drawn map, from the common start (s)", "to_drawn_map_s"),
                       ("  the same, from each page's navigation start (s)", "in_page_s")):
        d = b.get(key, {})
        print(f"  {label:50s} p50 {_fmt(d, 'p50')}  p95 {_fmt(d, 'p95')}  max {_fmt(d, 'max')}"
              + (f"   target p95 <= {TARGET_DRAWN_P95_S:g} s" if key == "to_drawn_map_s" else ""))
    print(f"  drawn {b['ok']}/{b['pages']}, errors {len(b['errors'])}, server CPU per page "
          f"{b.get('server_cpu_ms_per_page')} ms (until drawn), "
          f"load average before {b.get('load_average_before')}")
    for e in b["errors"][:10]:
        print(f"  error: {e}")


def print_crowd(c: dict) -> None:
    print(f"\nCROWD: {c['people']} people open {c.get('page', '')} at once, {c['rounds']} "
          f"times; {c['people'] - c['browsers']} HTTP visitors fetch all a first visit asks "
          f"of the server, {c['browsers']} chromium timed to a drawn map")
    d, pg, fl = c.get("to_drawn_map_s", {}), c.get("to_page_s", {}), c.get("to_files_s", {})
    print(f"  chromium: to a drawn map (s)        p50 {_fmt(d, 'p50')}  p95 {_fmt(d, 'p95')}  "
          f"max {_fmt(d, 'max')}   target p95 <= {TARGET_DRAWN_P95_S:g} s")
    print(f"  HTTP visitors: to the page (s)      p50 {_fmt(pg, 'p50')}  p95 {_fmt(pg, 'p95')}  "
          f"max {_fmt(pg, 'max')}   target p95 <= {TARGET_PAGE_P95_S:g} s")
    print(f"  HTTP visitors: to its files (s)     p50 {_fmt(fl, 'p50')}  p95 {_fmt(fl, 'p95')}  "
          f"max {_fmt(fl, 'max')}")
    print(f"  drawn {c['ok_drawn']}/{c['browsers'] * c['rounds']}, errors {len(c['errors'])}, "
          f"server CPU per person {c.get('server_cpu_ms_per_person')} ms")
    for e in c["errors"][:10]:
        print(f"  error: {e}")
