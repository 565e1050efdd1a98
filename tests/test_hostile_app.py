"""Hostile data never runs: a real build whose LSOA, ward and borough names (boundary file, ward
lookup) and an analyst's indicator label carry script-injection attempts, served by the app and
exported with folium. The names show as literal text in the tooltip, profile, legend, heading,
table, comparison, CSV download and export; no dialog opens; the page title stays the same.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from mapping.app.page import TITLE
from mapping.cli import main
from tests._export_pages import HOSTILE, Page, script_count
from tests._hostile_build import BOROUGH, INDICATOR, LABEL, hostile_build
from tests.app_browser import JS_HELPERS, app_server, fresh_page, settle, wait_idle
from tests.conftest import make_data_copy

pytestmark = [pytest.mark.slow, pytest.mark.browser]

playwright_api = pytest.importorskip("playwright.sync_api")

#: what the page must never contain as markup (each would run or load something)
PWNED = "img[src='x'], script:not([src]):has-text('alert(')"


@pytest.fixture(scope="module")
def hostile_out(data_dir, build_root, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    data = make_data_copy(data_dir, root / "data")
    (root / "user").mkdir()
    out = root / "out"
    if (build_root / "cache").is_dir():
        import shutil

        shutil.copytree(build_root / "cache", out / "cache")
    return hostile_build(data, root / "user", out)


@pytest.fixture(scope="module")
def hostile_table(hostile_out) -> pd.DataFrame:
    lsoa = pd.read_csv(hostile_out / "processed" / "lsoa21_indicators.csv")
    return lsoa[lsoa["borough_code"] == BOROUGH].reset_index(drop=True)


@pytest.fixture(scope="module")
def app_url(hostile_out, tmp_path_factory):
    with app_server(hostile_out, tmp_path_factory) as url:
        yield url


@pytest.fixture
def page(browser):
    with fresh_page(browser, record_dialogs=True) as pg:
        yield pg


def assert_inert(page) -> None:
    assert page.dialogs == []
    assert page.title() == TITLE
    assert page.locator(PWNED).count() == 0
    assert page.evaluate("typeof window.alert") == "function"


def hover_area(page, area: str):
    """Hover the LSOA ``area`` on the map (its first ring's mean vertex): its screen point and
    the tooltip, once visible."""
    xy = page.evaluate(f"""() => {{
        const s = MappingClient.data().levels.lsoa; const i = s.code.indexOf('{area}');
        const xs = s.xs[i][0][0], ys = s.ys[i][0][0];
        let x = 0, y = 0; for (let k = 0; k < xs.length; k++) {{ x += xs[k]; y += ys[k]; }}
        return __toScreen(x / xs.length, y / ys.length); }}""")
    page.mouse.move(xy[0] - 3, xy[1] - 3)
    page.mouse.move(xy[0], xy[1])
    tip = page.locator(".bk-tooltip-content").first
    tip.wait_for(state="visible", timeout=10_000)
    return xy, tip


def test_names_are_literal_text_in_the_map_page(page, app_url, hostile_table):
    area = hostile_table.loc[hostile_table["lsoa21_name"] == HOSTILE[0], "lsoa21_code"].iloc[0]
    page.goto(f"{app_url}?measure={INDICATOR}&boroughs={BOROUGH}&area={area}")
    wait_idle(page)
    settle(page, 1.0)
    assert page.locator("#profile-name").first.inner_text() == HOSTILE[0]
    profile = page.locator("#profile-name").first.locator("xpath=..").inner_text()
    assert HOSTILE[0] in profile  # the ward and borough names too
    assert LABEL in page.locator(".legend-title").first.inner_text()
    assert LABEL in page.locator("h2").first.inner_text()
    # the borough chosen in "Focus on boroughs" (Choices.js renders labels as HTML)
    assert HOSTILE[0] in page.locator(".choices__list--multiple .choices__item").first.inner_text()
    # the Bokeh tooltip: hover the selected area
    names = page.evaluate("() => Array.from(MappingClient.data().levels.lsoa.name)")
    assert HOSTILE[2] in names  # sent as data (the map data asset), not markup
    xy, tip = hover_area(page, area)
    assert page.locator("div.bk-tooltip-row-value").first.inner_text() == HOSTILE[0]
    assert f"Borough:\t{HOSTILE[0]}" in tip.inner_text()
    assert_inert(page)


def test_names_are_literal_text_on_the_front_page(page, app_url, hostile_table):
    """The static front page at / (front.js): table, legend, tooltip and clicked area."""
    area = hostile_table.loc[hostile_table["lsoa21_name"] == HOSTILE[0], "lsoa21_code"].iloc[0]
    page.goto(app_url.removesuffix("main"))
    page.wait_for_function("() => window.__frontPainted", timeout=60_000)
    page.evaluate(JS_HELPERS)
    page.locator("#table-box summary").click()
    page.wait_for_selector("#table tbody tr")
    cells = page.locator("#table tbody td").all_inner_texts()
    assert HOSTILE[0] in cells and HOSTILE[1] in cells and HOSTILE[2] in cells
    xy, tip = hover_area(page, area)
    assert page.locator("div.bk-tooltip-row-value").first.inner_text() == HOSTILE[0]
    page.mouse.click(xy[0], xy[1])
    page.locator("#selection a").wait_for(timeout=10_000)
    assert page.locator("#selection b").inner_text() == HOSTILE[0]
    assert_inert(page)


def test_names_are_literal_in_the_table_and_the_download(page, app_url, hostile_table):
    page.goto(f"{app_url}?measure={INDICATOR}&boroughs={BOROUGH}")
    wait_idle(page)
    page.get_by_text("Table", exact=True).first.click()
    settle(page, 1.5)
    headers = " ".join(page.locator(".tabulator-col-title").all_inner_texts())
    assert LABEL[:40] in headers  # escaped: Tabulator titles are HTML
    cells = page.locator(".tabulator-cell").all_inner_texts()
    assert HOSTILE[0] in cells and HOSTILE[1] in cells
    with page.expect_download() as info:
        page.get_by_text("Download this table").first.click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    body = pd.read_csv(io.StringIO(text), comment="#", keep_default_na=False)
    assert set(HOSTILE[:3]) <= set(body["name"])
    assert any(LABEL in line for line in text.splitlines() if line.startswith("#"))
    assert_inert(page)


def test_every_tab_stays_inert(page, app_url, hostile_table):
    a, b = hostile_table["lsoa21_code"].iloc[:2]
    page.goto(f"{app_url}?measure={INDICATOR}&a={BOROUGH}&b=E09000001")
    wait_idle(page)
    for tab in ("Compare", "Methodology", "Sources", "Governance", "Map"):
        page.get_by_text(tab, exact=True).first.click()
        settle(page, 1.0)
        assert_inert(page)
    page.get_by_text("Compare", exact=True).first.click()
    settle(page, 1.0)
    compare = page.locator("#compare-table").first.inner_text()
    assert HOSTILE[0] in compare and LABEL in compare
    sources = page.get_by_text("Sources", exact=True).first
    sources.click()
    settle(page, 1.0)
    assert_inert(page)


def test_folium_export_of_the_hostile_build(hostile_out, tmp_path, capsys):
    out = tmp_path / "camden.html"
    assert main(["export", "--processed-dir", str(hostile_out / "processed"), "--boroughs",
                 BOROUGH, "--measure", INDICATOR, "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    opening, closing = script_count(text)
    assert opening == closing
    # no hostile string appears as markup anywhere in the file
    for attack in ("<img src=x onerror=alert(1)>", "</script><script>alert(2)</script>"):
        assert attack not in text
    page = Page(text)
    payload = repr(page.json_scripts)
    for name in HOSTILE[:3]:
        assert name in payload
    assert not [attrs for tag, attrs in page.elements if tag == "img" and attrs.get("src") == "x"]


def test_borough_pack_of_the_hostile_build(hostile_out, tmp_path):
    out = tmp_path / "pack.html"
    assert main(["pack", "--processed-dir", str(hostile_out / "processed"), "--borough",
                 BOROUGH, "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    for attack in ("<img src=x onerror=alert(1)>", "</script><script>alert(2)</script>"):
        assert attack not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text  # shown, as text
    assert "${alert(1)}" in text  # inert: the page runs no script at all
