"""The browser's repaint (``mapping/app/static/mapclient.js``) gives the same classes and
colours as the Python engine, on the real build, to the last area: re-weighted index at every
level (arithmetic and geometric), quantiles and equal intervals, every number of classes, every
palette, and a re-classified indicator with suppressed cells. Runs the client under Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mapping.app.assets import CLIENT_DIR, CLIENT_FILE, asset_dir, ensure_assets
from mapping.app.data import app_data
from mapping.app.store import AppState
from mapping.maps.classify import PALETTES

SCRIPT = Path(__file__).parent / "js" / "classify_cases.js"

WEIGHTS = [None, [1, 1, 1, 1], [1, 0, 0, 0], [0.05, 0.9, 0.35, 0.2], [0.15, 0.15, 0.85, 0.5],
           [0, 0, 0, 0]]


@pytest.fixture(scope="module")
def built(processed_dir):
    assets = ensure_assets(processed_dir)
    return app_data(str(processed_dir)), asset_dir(processed_dir) / assets.map_file


def run_client(asset: Path, cases: list[dict]) -> list[dict]:
    node = shutil.which("node")
    assert node, "Node.js is needed (it installs the front-end packages in `make setup`)"
    out = subprocess.run([node, str(SCRIPT), str(asset), str(CLIENT_DIR / CLIENT_FILE)],
                         input=json.dumps(cases), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def expected(data, **choices):
    s = AppState(data)
    s.param.update(**choices)
    view = s.view()
    return view


def test_reweighted_index_matches_the_engine_at_every_level(built):
    data, asset = built
    cases, views = [], []
    for i, w in enumerate(WEIGHTS):
        for level in ("lsoa", "ward", "borough"):
            for aggregation in ("arithmetic", "geometric"):
                for scheme in ("quantiles", "equal_interval"):
                    k = 3 + (i + len(cases)) % 5
                    pal = PALETTES[(i + len(cases)) % len(PALETTES)]
                    choices = {"level": level, "aggregation": aggregation, "scheme": scheme,
                               "k": k, "palette": pal}
                    if w is not None:
                        choices["weights"] = [float(x) for x in w]
                    view = expected(data, **choices)
                    views.append(view)
                    cases.append({"level": level, "aggregation": aggregation, "scheme": scheme,
                                  "k": k, "palette": pal, "measure": "index",
                                  "weights": choices.get("weights",
                                                         AppState(data).default_weights())})
    results = run_client(asset, cases)
    assert len(results) == len(cases) == 6 * 3 * 2 * 2
    for case, view, got in zip(cases, views, results, strict=True):
        assert got is not None, case
        np.testing.assert_allclose(np.array(got["values"], dtype=float), view.values,
                                   rtol=1e-12, atol=1e-15, err_msg=str(case))
        assert got["colours"] == list(view.classes.colours), case
        assert got["labels"] == list(view.classes.labels), case  # the legend's text
        diff = np.flatnonzero(np.array(got["classes"]) != view.classes.classes)
        assert diff.size == 0, (case, diff[:10])


def test_reclassified_indicator_matches_including_suppressed_cells(built):
    data, asset = built
    s = AppState(data)
    measures = [m for m in s.measures("lsoa") if m in data.indicators]
    with_suppressed = [m for m in measures if s.suppressed_mask(m, "lsoa").any()]
    better = [m for m in measures if not s.higher_is_worse(m)]
    assert with_suppressed and better, "the real build has suppressed and higher-is-better " \
        "indicators"
    cases, views = [], []
    for m in (with_suppressed[0], better[0], "age_65_plus_pct"):
        for level in ("lsoa", "borough"):
            for scheme, k in (("quantiles", 7), ("equal_interval", 4)):
                view = expected(data, measure=m, level=level, scheme=scheme, k=k,
                                palette="cividis")
                views.append(view)
                cases.append({"values": [None if np.isnan(v) else float(v) for v in view.values],
                              "scheme": scheme, "k": k, "palette": "cividis", "measure": m})
    for case, view, got in zip(cases, views, run_client(asset, cases), strict=True):
        assert got["colours"] == list(view.classes.colours)
        assert np.array_equal(np.array(got["classes"]), view.classes.classes), case["scheme"]


def test_legend_numbers_are_formatted_as_python_formats_them(built):
    """``formatG`` is ``format(x, ".3g")``: ties on the exact binary value go to even (1.125
    -> 1.12, where JavaScript's toPrecision gives 1.13), exponents from 1e-4 down and 1e3 up,
    trailing zeros dropped, carries into a new digit."""
    rng = np.random.default_rng(15)
    numbers = [0.0, -0.0, 1.125, 1.135, 0.0625, 2.5e-5, 0.0001, 0.00012345, 999.5, 999.4,
               1000.0, 12345.678, -0.0672, 0.25, 9.995, 99.95, 0.5, 1e-300, 1.7976931348623157e308,
               *rng.normal(0, 1, 200).tolist(), *(10.0 ** rng.uniform(-6, 6, 200)).tolist(),
               *(np.round(rng.uniform(0, 10, 100), 3)).tolist()]
    for p in (3, 4):
        got = run_client(built[1], {"format": numbers, "p": p})
        assert got == [format(x, f".{p}g") for x in numbers], p


def test_map_data_rows_are_the_apps_rows(built):
    """Every level's areas in the asset are the app's areas, in the same order (the sources'
    rows are matched by position)."""
    data, asset = built
    text = asset.read_text(encoding="utf-8")
    raw = json.loads(text[text.index("=") + 1:].rstrip().rstrip(";"))
    for level, lvl in data.levels.items():
        assert raw["levels"][level]["code"] == [str(c) for c in lvl.codes]
        assert len(raw["levels"][level]["xs"]) == len(lvl.codes)
    assert raw["index"]["domains"] == list(data.spec.domain_codes)
