"""The served app under load and under faults (loopback only, bounded in count and time).

* 25 concurrent Bokeh client sessions each change the measure and a weight: no errors, every
  session ends with its own map, one session whose server-side callback raises does not disturb
  the others and keeps working (``benchmarks/load_test.py`` is the full-size version).
* A damaged build: `mapping serve` refuses to start; a server whose build breaks gives every
  session a short error page, never a traceback.
* The server stops on SIGTERM and starts again on the same port.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from benchmarks.load_test import BAD_MEASURE, Client, free_port, run_load, served
from mapping.app.main import UNAVAILABLE
from mapping.cli import main
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_25_concurrent_sessions_each_see_their_own_state(build_root, tmp_path):
    log = tmp_path / "server.log"
    with served(build_root, {"MAPPING_USAGE_DB": str(tmp_path / "usage.sqlite")},
                log=log) as (url, pid, _):
        report = run_load(url + "main", pid, build_root / "processed", n_sessions=25,
                          timeout=90)
    print(json.dumps(report, indent=1))
    assert report["errors"] == []
    assert report["recolours"] == 75
    assert report["own_state"] == {"checked": 25, "matching": 25, "distinct_weight_sets": 25}
    assert report["faulty_session"]["recovered"] is True
    assert BAD_MEASURE in log.read_text(errors="replace")  # the callback did raise (and was logged)
    assert report["server_rss_mb"]["per_session"] < 50


def _damaged_copy(processed, tmp_path):
    out = tmp_path / "damaged"
    shutil.copytree(processed, out / "processed")
    with open(out / "processed" / "lsoa21_indicators.csv", "ab") as fh:
        fh.write(b"E01999999,tampered\n")
    return out


def test_serve_refuses_a_damaged_build(processed_dir, tmp_path, capsys):
    out = _damaged_copy(processed_dir, tmp_path)
    assert main(["serve", "--out-dir", str(out), "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "lsoa21_indicators.csv (hash does not match the manifest)" in err
    assert main(["serve", "--out-dir", str(tmp_path / "nothing")]) == 2
    assert "run `mapping build` first" in capsys.readouterr().err


def test_a_build_damaged_under_a_running_server_gives_an_error_page(processed_dir, tmp_path):
    out = _damaged_copy(processed_dir, tmp_path)
    port = free_port()
    log = tmp_path / "panel.log"
    env = {**os.environ, "MAPPING_PROCESSED_DIR": str(out / "processed"),
           "MAPPING_USAGE_DB": str(tmp_path / "usage.sqlite")}
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "panel", "serve", str(ROOT / "mapping" / "app" / "main.py"),
             "--address", "127.0.0.1", "--port", str(port), "--index", "main",
             "--allow-websocket-origin", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    assert resp.status == 200
                    body = resp.read().decode()
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        assert "Traceback" not in body
        import panel  # noqa: F401
        from bokeh.client import pull_session

        session = pull_session(url=url)
        try:
            texts = [getattr(m, "text", "") for m in session.document.models]
            assert any("The map is not available just now" in str(t) for t in texts)
            assert not any("Traceback" in str(t) or str(out) in str(t) for t in texts)
        finally:
            session.close()
        assert "hash does not match the manifest" in log.read_text(errors="replace")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    assert UNAVAILABLE.startswith("# London digital exclusion map")


def test_the_server_stops_on_sigterm_and_restarts_on_the_same_port(build_root, tmp_path):
    port = free_port()
    env = {"MAPPING_USAGE_DB": str(tmp_path / "usage.sqlite")}
    for _ in range(2):
        with served(build_root, env, port=port) as (url, _pid, _startup):
            client = Client(url + "main")  # a live session while the server is stopped
            assert client.source.data["cls"] is not None
        with pytest.raises(OSError):
            urllib.request.urlopen(url, timeout=2)
