"""The index benchmark runs end to end in its smoke mode and writes its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_index_smoke(tmp_path):
    out = tmp_path / "index.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_index.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "naive loop / vectorised" in proc.stdout
    data = json.loads(out.read_text())
    assert data["smoke"] is True
    assert [r["case"].split(",")[0] for r in data["results"]][:2] == ["full index", "re-weight"]
    assert all(
        r["median_s"] > 0 and r["min_s"] <= r["median_s"] <= r["max_s"] for r in data["results"]
    )
    assert data["naive_over_vectorised"] > 0
