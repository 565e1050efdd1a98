"""What a person sees: the served app in headless Debian chromium (Playwright).

One ``mapping serve`` per test session on a free loopback port, a fresh browser context per
test, and every assertion after ``Bokeh.documents[0].is_idle``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.app_browser import (
    app_server,
    free_port,
    fresh_page,
    serve_app,
    settle,
    wait_idle,
)

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")

AREA = "E01004200"  # Tower Hamlets 005A


@pytest.fixture(scope="session")
def app_url(build_root, tmp_path_factory):
    with app_server(build_root, tmp_path_factory) as url:
        yield url


@pytest.fixture
def page(browser):
    with fresh_page(browser) as pg:
        yield pg


@pytest.fixture(scope="session")
def state_data(processed_dir):
    from mapping.app.data import app_data

    return app_data(str(processed_dir))


def open_app(page, url, query=""):
    page.goto(url + query)
    wait_idle(page)


def map_pixels(page) -> np.ndarray:
    from PIL import Image

    box = page.evaluate("() => { const r = __plot().canvas_view.el.getBoundingClientRect();"
                        " return [r.left, r.top, r.width, r.height]; }")
    png = page.screenshot(clip={"x": box[0], "y": box[1], "width": box[2], "height": box[3]})
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def palette_share(pixels: np.ndarray, colours: list[str]) -> dict[str, float]:
    flat = pixels.reshape(-1, 3).astype(int)
    out = {}
    for c in colours:
        rgb = np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)])
        out[c] = float((np.abs(flat - rgb).sum(axis=1) < 12).mean())
    return out


def source_column(page, level, column):
    return page.evaluate(f"() => Array.from(__source('{level}').data['{column}'])")


def test_page_loads_and_map_draws(page, app_url):
    open_app(page, app_url)
    assert "London digital exclusion map" in page.title()
    palette = page.evaluate("() => { for (const m of Bokeh.documents[0].all_models)"
                            " if (m.type === 'LinearColorMapper') return m.palette; }")
    shares = palette_share(map_pixels(page), palette[:-1])
    # every class colour is painted, and together they cover a good part of the frame
    assert all(s > 0.01 for s in shares.values()), shares
    assert sum(shares.values()) > 0.12, shares
    assert page.get_by_text("Higher score = more at risk").first.is_visible()


def test_changing_the_measure_recolours(page, app_url):
    open_app(page, app_url)
    before_cls = source_column(page, "lsoa", "cls")
    before_px = map_pixels(page)
    page.locator("select").first.select_option(label="Residents aged 75 and over")
    page.wait_for_function("() => Bokeh.documents[0].is_idle")
    settle(page, 1.0)
    after_cls = source_column(page, "lsoa", "cls")
    assert before_cls != after_cls
    diff = np.abs(map_pixels(page).astype(int) - before_px.astype(int)).sum(axis=2) > 30
    assert diff.mean() > 0.05
    assert "measure=age_75_plus_pct" in page.url


def test_clicking_an_area_shows_its_profile(page, app_url, state_data):
    import shapely

    from mapping.app.store import AppState

    open_app(page, app_url)
    lvl = state_data.levels["lsoa"]
    i = int(np.flatnonzero(lvl.codes == AREA)[0])
    poly = shapely.polygons(np.c_[lvl.xs[i][0][0], lvl.ys[i][0][0]])
    pt = shapely.point_on_surface(poly)
    x, y = page.evaluate(f"() => __toScreen({pt.x}, {pt.y})")
    page.mouse.click(x, y)
    page.wait_for_function("() => document.body.innerHTML.length > 0")
    settle(page, 1.0)
    name = page.locator("#profile-name")
    name.wait_for(timeout=10_000)
    assert name.inner_text() == "Tower Hamlets 005A"
    expected = AppState(state_data).profile(AREA)
    assert page.locator("#profile-index").inner_text() == f"{expected['index']:.3f}"
    assert page.locator("#profile-rank").inner_text() == f"{expected['rank']:,}"
    row = page.locator('#profile-indicators tr[data-code="age_65_plus_pct"]')
    value = next(i for i in expected["indicators"] if i["code"] == "age_65_plus_pct")["value"]
    assert row.locator("td").nth(1).inner_text() == f"{value:.1f} %"  # one decimal, as all %
    assert f"area={AREA}" in page.url


def test_table_matches_the_map(page, app_url):
    open_app(page, app_url)
    page.get_by_text("Table", exact=True).first.click()
    settle(page, 1.0)
    page.locator(".tabulator-row").first.wait_for(timeout=15_000)
    rows = page.locator(".tabulator-row")
    codes = page.evaluate("() => Array.from(MappingClient.data().levels.lsoa.code)")
    values = source_column(page, "lsoa", "value")
    classes = source_column(page, "lsoa", "cls")
    by_code = {c: (v, k) for c, v, k in zip(codes, values, classes, strict=True)}
    n = rows.count()
    assert n >= 10
    for r in range(n):
        row = rows.nth(r)

        def cell(field, row=row):
            return row.locator(f'.tabulator-cell[tabulator-field="{field}"]').inner_text()

        code = cell("code")
        value = float(cell("value").replace(",", ""))
        class_number = int(cell("class_number"))
        map_value, map_class = by_code[code]
        assert value == pytest.approx(map_value, rel=1e-3, abs=1e-4)
        assert class_number == map_class + 1


def test_download_has_attributions_and_version(page, app_url, state_data):
    open_app(page, app_url, "?measure=age_65_plus_pct&boroughs=E09000012")
    page.get_by_text("Table", exact=True).first.click()
    settle(page, 1.0)
    with page.expect_download() as info:
        page.get_by_text("Download this table").first.click()
    path = info.value.path()
    text = Path(path).read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any(state_data.build_version in line for line in header)
    assert any("Hackney" in line for line in header)
    for a in state_data.outputs.manifest["attributions"]:
        assert any(a in line for line in header)
    body = pd.read_csv(io.StringIO(text), comment="#")
    hackney = state_data.levels["lsoa"].table["borough_code"].eq("E09000012").sum()
    assert len(body) == hackney
    assert info.value.suggested_filename.endswith(".csv")


def test_shared_url_restores_the_view(page, app_url, state_data):
    ward = "E05009331"
    open_app(page, app_url,
             f"?measure=age_65_plus_pct&level=ward&boroughs=E09000030&area={ward}&k=4")
    settle(page, 0.5)
    assert page.locator("#profile-name").inner_text() == state_data.levels["ward"].table.set_index(
        "ward24_code").loc[ward, "ward24_name"]
    assert "Residents aged 65 and over" in page.locator("select").first.evaluate(
        "s => s.options[s.selectedIndex].text")
    palette = page.evaluate("() => { for (const m of Bokeh.documents[0].all_models)"
                            " if (m.type === 'LinearColorMapper') return m.palette; }")
    assert len(palette) == 5  # four classes + no data
    x0, x1, y0, y1 = page.evaluate("() => __ranges()")
    bx0, by0, bx1, by1 = state_data.levels["ward"].bounds[
        int(np.flatnonzero(state_data.levels["ward"].codes == ward)[0])]
    assert x0 <= bx0 and x1 >= bx1 and y0 <= by0 and y1 >= by1
    assert (x1 - x0) < 25_000  # zoomed in on the ward, not all of London


def test_basemap_tiles_that_cannot_load_leave_the_map_working(browser, build_root,
                                                             tmp_path_factory):
    """Tiles switched on with no network (a tile server that refuses connections on
    loopback): the tile layer is added, its requests fail, and the areas still paint."""
    dead = f"http://127.0.0.1:{free_port()}/{{Z}}/{{X}}/{{Y}}.png"
    usage = tmp_path_factory.mktemp("usage-tiles") / "usage.sqlite"
    env = {"MAPPING_TILES_URL": dead, "MAPPING_USAGE_DB": str(usage)}
    with serve_app(build_root, env) as url, fresh_page(browser) as page:
        failed: list[str] = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        open_app(page, url)
        page.get_by_label("Basemap tiles (needs internet)").check()
        page.wait_for_function("() => Bokeh.documents[0].is_idle")
        settle(page, 2.0)
        sources = page.evaluate("() => [...Bokeh.documents[0].all_models]"
                                ".filter(m => m.type === 'WMTSTileSource').map(m => m.url)")
        assert sources == [dead]
        assert any(u.startswith(dead.split("{")[0]) for u in failed), failed[:3]
        # the areas are drawn semi-transparent over the (missing) tiles: count coloured pixels
        pixels = map_pixels(page).astype(int)
        chroma = pixels.max(axis=2) - pixels.min(axis=2)
        assert (chroma > 40).mean() > 0.2


# -- the map repaints in the browser (mapclient.js) when a weight, the number of classes or the
# palette changes, before any answer from the server, and the server then agrees with it to the
# last area; the geometry is never in the session's document

CLS = "() => Array.from(__source('lsoa').data.cls)"
LAST = "() => window.__mappingLastRepaint ? window.__mappingLastRepaint.trigger : null"


def test_geometry_is_a_static_asset_not_session_data(page, app_url):
    frames = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: frames.append(p)))
    page.goto(app_url)
    wait_idle(page)
    data = page.evaluate("() => Object.keys(__source('lsoa').data).sort()")
    assert data == ["cls", "value"]
    n = page.evaluate("() => MappingClient.data().levels.lsoa.xs.length")
    assert n == 4994
    first = sum(len(f) for f in frames)
    assert first < 400_000, f"the session's document is {first:,} bytes"


def test_weight_change_repaints_in_the_browser_and_the_server_agrees(page, app_url):
    page.goto(app_url)
    wait_idle(page)
    settle(page, 0.5)
    before = page.evaluate(CLS)
    handle = page.locator(".noUi-handle").first
    handle.focus()
    # one press: one client repaint, one server recolour (with several, the browser's last
    # repaint and the server's echo of an earlier press can cross)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(LAST + " === 'weights'", timeout=5_000)
    page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
    client = page.evaluate(CLS)
    assert client != before
    settle(page, 1.5)  # the server's own recolour for the new weights arrives
    server = page.evaluate(CLS)
    assert np.array_equal(client, server)
    assert "custom" in page.get_by_text("Weights now").first.inner_text()


def test_classes_and_palette_repaint_in_the_browser(page, app_url):
    page.goto(app_url + "?measure=age_75_plus_pct")
    wait_idle(page)
    page.get_by_text("Classes and colours").first.click()
    settle(page, 0.5)
    page.evaluate("() => { window.__mappingLastRepaint = null; }")
    page.locator("select", has=page.locator("option", has_text="Yellow–orange–red")).first \
        .select_option(label="Yellow–orange–red")
    page.wait_for_function(LAST + " === 'palette'", timeout=5_000)
    client = page.evaluate(CLS)
    colours = page.evaluate("() => { const m = __plot().model.renderers.find(r => r.visible &&"
                            " r.data_source && r.data_source.name === 'areas-lsoa')"
                            ".glyph.fill_color.transform; return Array.from(m.palette); }")
    settle(page, 1.5)
    assert np.array_equal(client, page.evaluate(CLS))
    assert colours[0].lower() == "#ffffb2" and len(colours) == 6  # 5 classes + no data
