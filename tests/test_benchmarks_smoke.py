"""``python -m benchmarks --smoke`` runs every section end to end and writes its JSON.

Figures are read, never asserted against targets: this only keeps the suite from rotting.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("index", "data", "app", "exports", "baseline")


def _number(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def test_benchmarks_smoke(tmp_path, build_root):
    out = tmp_path / "bench" / "latest.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(out), "--build-dir",
         str(build_root)],
        capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["smoke"] is True
    assert data["machine"]["cpus"] >= 1
    assert set(SECTIONS) <= set(data["sections"])
    for name in ("index", "data", "exports", "baseline"):
        section = data["sections"][name]
        assert section["status"] == "ok", (name, section)
        assert section["rows"], name
        for row in section["rows"]:
            assert row["runs"] >= 1, row
            assert all(_number(row[k]) for k in ("median", "min", "max")), row
            assert row["min"] <= row["median"] <= row["max"], row
            assert row["median"] > 0, row
    # the browser app benchmark is left out of smoke mode, and the table says so
    app = data["sections"]["app"]
    if app["status"] == "ok":
        assert all(_number(r["median"]) for r in app["rows"])
    else:
        assert app["reason"]
        assert "app benchmarks: not run — " in proc.stdout
    # the baseline runs beside ours: a naive and a project figure for each comparison
    baseline = [r for s in data["sections"].values() for r in s["rows"] if r.get("baseline")]
    assert {r["section"] for r in baseline} == {"index", "exports", "baseline"}
    ratios = {r["ratio"]: r["value"] for r in data["ratios"]}
    for key in ("payload per weight change", "server time per weight change",
                "Monte Carlo time", "export size"):
        value = next(v for k, v in ratios.items() if k.startswith(key))
        assert _number(value) and value > 0, (key, ratios)
    assert "ratios, naive baseline / this project" in proc.stdout
