"""The app benchmark runs end to end in its smoke mode and writes its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.browser
def test_bench_app_smoke(tmp_path, build_root):
    out = tmp_path / "app.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_app.py"), "--smoke", "--out", str(out),
         "--out-dir", str(build_root)],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    figures = {r["figure"]: r["median"] for r in data["results"]}
    # the session's document, without the polygons (they are a static file of the build)
    assert 20_000 < figures["initial websocket payload"] < 400_000
    # a recolour sends a class and a value per area, never geometry
    assert figures["recolour (measure) websocket bytes"] < 120_000
    assert figures["server CPU per new session (one at a time)"] > 0


def test_panel_floor_benchmark_reports_its_figures():
    """The least-Panel-page benchmark (the floor a Panel session costs) runs and prints every
    figure it promises, from sessions that really opened."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks.panel_floor", "--open", "3"],
                          capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 of 3 opened at once" in proc.stdout
    for label in ("server CPU per session", "to the page p50/p95/p99", "to the document"):
        assert label in proc.stdout, proc.stdout
