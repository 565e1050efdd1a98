"""The map repaints in the browser (mapclient.js) when a weight, the number of classes or the
palette changes, before any answer from the server, and the server then agrees with it to the
last area; the geometry is never in the session's document."""

from __future__ import annotations

import numpy as np
import pytest

from tests.app_browser import app_server, fresh_page, settle, wait_idle

pytestmark = pytest.mark.browser

CLS = "() => Array.from(__source('lsoa').data.cls)"
LAST = "() => window.__mappingLastRepaint ? window.__mappingLastRepaint.trigger : null"


@pytest.fixture(scope="module")
def app_url(build_root, tmp_path_factory):
    with app_server(build_root, tmp_path_factory) as url:
        yield url


@pytest.fixture
def page(browser):
    with fresh_page(browser) as pg:
        frames = []
        pg.on("websocket", lambda ws: ws.on("framereceived", lambda p: frames.append(p)))
        pg.frames_received = frames
        yield pg


def test_geometry_is_a_static_asset_not_session_data(page, app_url):
    page.goto(app_url)
    wait_idle(page)
    data = page.evaluate("() => Object.keys(__source('lsoa').data).sort()")
    assert data == ["cls", "value"]
    n = page.evaluate("() => MappingClient.data().levels.lsoa.xs.length")
    assert n == 4994
    first = sum(len(f) for f in page.frames_received)
    assert first < 400_000, f"the session's document is {first:,} bytes"


def test_weight_change_repaints_in_the_browser_and_the_server_agrees(page, app_url):
    page.goto(app_url)
    wait_idle(page)
    settle(page, 0.5)
    before = page.evaluate(CLS)
    handle = page.locator(".noUi-handle").first
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(LAST + " === 'weights'", timeout=5_000)
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
