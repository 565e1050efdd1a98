"""Offline exports opened in real chromium: polygons drawn, tooltips on hover, hostile names shown
as text, layers toggled, and not one request leaving the machine."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from mapping.maps.folium_map import ExportData, export_map, write_map
from tests._export_pages import HOSTILE, hostile_data

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BACKGROUND = (0xF4, 0xF4, 0xF0)  # .leaflet-container background in the exports


@pytest.fixture
def page(browser):
    """A fresh context per test; any request that is not a local file fails the test."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    remote: list[str] = []

    def guard(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            remote.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.dialogs, pg.errors, pg.remote = dialogs, errors, remote
    yield pg
    context.close()
    assert remote == [], f"the offline page made network requests: {remote}"
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture(scope="module")
def data(processed_dir) -> ExportData:
    return ExportData.open(processed_dir)


def _open(pg, path: Path) -> str:
    pg.goto(path.as_uri())
    pg.wait_for_function("document.querySelectorAll('.leaflet-control-layers-selector').length")
    html = path.read_text(encoding="utf-8")
    name = re.search(r"var (map_\w+) = L\.map\(", html).group(1)
    pg.wait_for_timeout(300)  # canvas paints on the next animation frame
    return name


def _non_background_share(pg, selector: str = ".folium-map") -> float:
    from PIL import Image

    png = pg.locator(selector).screenshot()
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    differs = np.abs(pixels - np.array(BACKGROUND)).sum(axis=2) > 30
    return float(differs.mean())


def _hover_area(pg, map_name: str, frame, code: str) -> str:
    point = frame.loc[frame.iloc[:, 0] == code].geometry.iloc[0].representative_point()
    x, y = pg.evaluate(
        """([m, lat, lon]) => { const map = window[m];
            const p = map.latLngToContainerPoint([lat, lon]);
            const r = map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y]; }""",
        [map_name, point.y, point.x])
    pg.mouse.move(x - 3, y - 3)
    pg.mouse.move(x, y)
    tip = pg.locator(".leaflet-tooltip")
    tip.first.wait_for(state="visible", timeout=5000)
    return tip.first.inner_text()


def test_offline_london_map_draws_polygons_and_shows_tooltips(page, data, tmp_path):
    path = write_map(tmp_path / "london.html", export_map(data), offline=True)
    map_name = _open(page, path)
    share = _non_background_share(page)
    page.screenshot(path=str(tmp_path / "london.png"))
    assert share > 0.3, f"only {share:.0%} of the map is drawn"
    frame = data.frame("lsoa")
    camden = frame[frame["borough_code"] == "E09000007"]
    code = camden.loc[camden.to_crs(27700).area.idxmax(), "lsoa21_code"]  # largest: easy to hit
    page.get_by_label(re.compile(r"Libraries \(\d+\)")).uncheck()  # markers would be hovered
    text = _hover_area(page, map_name, frame, code)
    row = frame.set_index("lsoa21_code").loc[code]
    assert row["lsoa21_name"] in text and code in text
    assert "Borough: Camden" in text
    assert re.search(r"Rank [\d,]+ of 4,994 in London", text)


def test_hostile_names_are_shown_as_text_and_run_nothing(page, data, tmp_path):
    evil = hostile_data(data)
    first = next(iter(evil.manifest["indicators"]))  # its label is HOSTILE[0] + " label"
    m = export_map(evil, boroughs=["E09000007"], measure=first, title=HOSTILE[0] + HOSTILE[1])
    path = write_map(tmp_path / "hostile.html", m, offline=True)
    map_name = _open(page, path)
    frame = evil.frame("lsoa")
    camden = frame[frame["borough_code"] == "E09000007"]
    code = camden.loc[camden["lsoa21_name"] == HOSTILE[0], "lsoa21_code"].iloc[0]
    page.get_by_label(re.compile(r"Libraries \(\d+\)")).uncheck()
    text = _hover_area(page, map_name, frame, code)
    assert HOSTILE[0] in text and f"Borough: {HOSTILE[0]}" in text
    assert page.locator(".leaflet-tooltip img").count() == 0
    assert page.locator("h1").inner_text() == HOSTILE[0] + HOSTILE[1]
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any(HOSTILE[0] in t for t in labels), labels  # the layer name, as text
    assert page.locator("img[src=x]").count() == 0
    assert page.title() == HOSTILE[0] + HOSTILE[1]
    page.wait_for_timeout(300)
    assert page.dialogs == []
    assert page.evaluate("typeof window.alert") == "function"


def test_layers_toggle_and_borough_map_fills_the_view(page, data, tmp_path):
    path = write_map(tmp_path / "camden.html", export_map(data, boroughs=["Camden"]),
                     offline=True)
    _open(page, path)
    assert _non_background_share(page) > 0.3

    def red_pixels() -> int:
        from PIL import Image

        png = page.locator(".folium-map").screenshot()
        px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
        return int(((px[..., 0] > 180) & (px[..., 1] < 60) & (px[..., 2] < 60)).sum())

    before = red_pixels()
    assert before > 50  # library markers
    page.get_by_label(re.compile(r"Libraries \(\d+\)")).uncheck()
    page.wait_for_timeout(200)
    assert red_pixels() < before / 10
