"""A real reverse proxy: Debian's nginx in front of two `mapping serve` processes on loopback.

Checks through the proxy: the page loads, the Bokeh websocket connects for the allowed origin,
a foreign Origin is refused with 403, the security headers are present, admin paths are closed,
and behind the app's sign-in nginx's cache never serves a file to someone not signed in.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from mapping.app.deploy import ProxySettings, nginx_config

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.exists(NGINX),
                                 reason="Debian nginx is needed (.ci/run installs it)")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def proxied(build_root, prefix, n_apps: int, serve_args: tuple[str, ...] = (),
            ready: str = "/"):
    """nginx (the generated configuration) in front of ``n_apps`` ``mapping serve`` processes
    on loopback; yields the proxy's host:port once ``ready`` answers 200 through it."""
    public = f"127.0.0.1:{free_port()}"
    app_ports = tuple(free_port() for _ in range(n_apps))
    procs = []
    try:
        for port in app_ports:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "mapping", "serve", "--out-dir", str(build_root),
                 "--port", str(port), "--allow-websocket-origin", public, *serve_args],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_config(ProxySettings(listen=public, app_ports=app_ports),
                                     standalone_prefix=str(prefix)))
        procs.append(subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in app_ports:
            wait_http(f"http://127.0.0.1:{port}{ready}")
        wait_http(f"http://{public}{ready}")
        yield public
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def proxy(build_root, tmp_path_factory):
    prefix = tmp_path_factory.mktemp("nginx")
    with proxied(build_root, prefix, 2) as public:
        yield public, prefix


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), ""


def session_token(public: str) -> str:
    status, _, body = get(f"http://{public}/main")
    assert status == 200
    match = re.search(r'"token":\s*"([^"]+)"', body) or re.search(r"token=([\w.-]+)", body)
    assert match, "the page carries a Bokeh session token"
    return match.group(1)


def websocket_handshake(public: str, origin: str, token: str) -> int:
    """Send a websocket upgrade request through the proxy; return the HTTP status
    (101 = switched protocols, i.e. the websocket is open)."""
    host, port = public.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request("GET", "/main/ws", headers={
            "Upgrade": "websocket", "Connection": "Upgrade", "Origin": origin,
            "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": base64.b64encode(
                os.urandom(16)).decode(), "Sec-WebSocket-Protocol": f"bokeh, {token}"})
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/", "/main"])
def test_page_loads_through_the_proxy_with_security_headers(proxy, path):
    """The front page (static) and the full app (a session) through the proxy."""
    proxy = proxy[0]
    status, headers, body = get(f"http://{proxy}{path}")
    assert status == 200 and "London digital exclusion map" in body
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "nginx/" not in headers.get("Server", "")
    assert ('"token"' in body) == (path == "/main"), "only the full app opens a session"


def test_websocket_connects_for_the_allowed_origin(proxy):
    proxy = proxy[0]
    assert websocket_handshake(proxy, f"http://{proxy}", session_token(proxy)) == 101


def test_foreign_origin_is_refused_with_403(proxy):
    proxy = proxy[0]
    assert websocket_handshake(proxy, "http://evil.example", session_token(proxy)) == 403


def test_static_files_are_cached_by_nginx_and_browsers(proxy):
    """The map data asset, the front page's figure and the client code (script and
    stylesheet): addressed by content hash, long-cached by browsers (Cache-Control from the app
    server), kept by nginx after the first request, and compressed when the browser accepts
    it."""
    public, prefix = proxy
    pattern = r'(?:src|href)="([^"]*(?:map-(?:assets|client)|static/js)/[^"]+)"'
    app_urls = re.findall(pattern, get(f"http://{public}/main")[2])
    assert len([u for u in app_urls if "map-" in u]) == 2, \
        "the app loads the map data and the client code as static files"
    front_urls = re.findall(pattern, get(f"http://{public}/")[2])
    names = sorted(re.sub(r"-[0-9a-f]{16}\.", ".", u.split("?")[0]) for u in front_urls)
    assert names == ["map-assets/front.js", "map-assets/map.js", "map-client/front.css",
                     "map-client/front.js", "map-client/mapclient.js", "static/js/bokeh.min.js"]
    for url in sorted(set(app_urls) | set(front_urls)):
        full = f"http://{public}/{url.lstrip('./').lstrip('/')}"
        req = urllib.request.Request(full, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 200
            assert "max-age=315360000" in resp.headers["Cache-Control"]
            assert resp.headers.get("Content-Encoding") == "gzip"
            body = gzip.decompress(resp.read()).decode("utf-8")
        assert "Mapping" in body or "Bokeh" in body or ".legend" in body
    cached = [p for p in (prefix / "cache").rglob("*") if p.is_file()]
    assert len(cached) >= 6, "nginx keeps a copy of each static file"


def test_admin_and_debug_paths_are_not_exposed(proxy):
    proxy = proxy[0]
    for path in ("/admin", "/liveness", "/metrics"):
        assert get(f"http://{proxy}{path}")[0] == 404


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_behind_sign_in_nginx_never_serves_a_cached_file_to_someone_not_signed_in(
        build_root, tmp_path_factory):
    """With the app's --basic-auth, the map data reaches a signed-in person (and is cached
    for them), while a request without the sign-in cookie is sent to the login page even
    after the file is in nginx's cache."""
    import http.cookiejar

    prefix = tmp_path_factory.mktemp("nginx-auth")
    with proxied(build_root, prefix, 1, ("--basic-auth", "not-a-real-password",
                                         "--cookie-secret", "x" * 32), ready="/login") as public:
        jar = http.cookiejar.CookieJar()
        signed_in = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = urllib.parse.urlencode({"username": "analyst",
                                       "password": "not-a-real-password"}).encode()
        with signed_in.open(f"http://{public}/login", data=form, timeout=60) as resp:
            resp.read()
        assert any(c.name == "user" for c in jar), "the sign-in sets the user cookie"
        with signed_in.open(f"http://{public}/", timeout=60) as resp:
            front = resp.read().decode()
        asset = re.search(r'src="(map-assets/map-[0-9a-f]+\.js[^"]*)"', front).group(1)
        for _ in range(2):  # the second answer comes from nginx's cache
            with signed_in.open(f"http://{public}/{asset}", timeout=60) as resp:
                assert resp.status == 200 and b"MappingStaticRaw" in resp.read()
        assert [p for p in (prefix / "cache").rglob("*") if p.is_file()]
        anonymous = urllib.request.build_opener(_NoRedirect)
        for path in (asset, "", "main"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                anonymous.open(f"http://{public}/{path}", timeout=60)
            refused.value.close()
            assert refused.value.code == 302, path
            assert "login" in refused.value.headers["Location"], path
