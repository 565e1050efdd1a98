"""WCAG 2.2 AA in a real browser: axe-core scans of every page of the app, an exported map and
the governance report (zero violations), and the app driven with the keyboard only.

axe-core comes from npm (``package.json``; ``make setup`` runs ``npm ci``) and is injected with
Playwright; nothing third-party is committed.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.app_browser import (
    REPO,
    app_server,
    fresh_page,
    launch_chromium,
    settle,
    wait_idle,
)

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TABS = ["Map", "Table", "Compare", "Methodology", "Sources", "Governance", "Accessibility"]
AREA = "E01004200"  # Tower Hamlets 005A
MEASURE = "age_75_plus_pct"

#: The focused element, looking through shadow roots.
ACTIVE = """() => { let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a) return null;
  const s = getComputedStyle(a);
  return {tag: a.tagName, cls: String(a.className || ''), label: a.getAttribute('aria-label'),
          role: a.getAttribute('role'), text: (a.textContent || '').trim().slice(0, 60),
          placeholder: a.getAttribute('placeholder'), outline: s.outlineStyle,
          outlineWidth: parseFloat(s.outlineWidth), code: a.getAttribute('data-code')}; }"""


@pytest.fixture(scope="module")
def app_url(build_root, tmp_path_factory):
    with app_server(build_root, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: install the front-end assets with `make setup` (npm ci)")
    with launch_chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    with fresh_page(browser) as pg:
        yield pg


def axe(page) -> list[dict]:
    """axe-core's violations of the WCAG 2.0–2.2 A and AA rules on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})
             .then(r => r.violations.map(v => ({id: v.id, impact: v.impact,
                   nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))""", TAGS)


def open_tab(page, name: str) -> None:
    page.locator(".bk-tab", has_text=name).first.click()
    settle(page, 1.0)
    page.evaluate("() => window.__mappingA11yScan && window.__mappingA11yScan()")


def suppressed_area(processed_dir) -> str:
    from mapping.app.data import app_data

    t = app_data(str(processed_dir)).levels["lsoa"].table
    return str(t.loc[t[f"{MEASURE}_suppressed"], "lsoa21_code"].iloc[0])


# -- axe-core -----------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [1400, 390], ids=["wide", "phone"])
def test_every_page_of_the_app_has_no_axe_violations(browser, app_url, processed_dir, width):
    # a view with a selected (suppressed) area, a comparison and a borough focus, so that the
    # profile, the compare table and the no-value legend entry are all on the pages scanned;
    # on a phone, with the controls shown (behind their button) and hidden
    area = suppressed_area(processed_dir)
    with fresh_page(browser, width=width, height=950 if width > 800 else 844) as page:
        page.goto(app_url + f"?measure={MEASURE}&area={area}&a=E09000030&b=E09000012")
        wait_idle(page)
        settle(page, 0.5)
        found = {}
        if width < 800:
            found["Map, controls hidden"] = axe(page)
            page.get_by_role("button", name="Controls").click()
            settle(page, 1.0)
        for name in TABS:
            open_tab(page, name)
            found[name] = axe(page)
        assert all(v == [] for v in found.values()), {k: v for k, v in found.items() if v}


def test_exported_map_has_no_axe_violations(page, processed_dir, tmp_path):
    from mapping.maps.folium_map import ExportData, export_map, write_map

    data = ExportData.open(processed_dir)
    out = write_map(tmp_path / "map.html", export_map(data, measure=MEASURE), offline=True)
    page.goto(out.as_uri())
    page.wait_for_function("document.querySelectorAll('.leaflet-control-layers-selector')"
                           ".length")
    page.wait_for_timeout(300)  # canvas paints on the next animation frame
    assert axe(page) == []
    assert "10 % of LSOAs most at risk" in page.locator(".mapping-summary").inner_text()


def test_governance_report_has_no_axe_violations(page, tmp_path):
    from mapping.governance import render_report
    from mapping.registry import load_registry

    out = tmp_path / "report.html"
    out.write_text(render_report(str(REPO), load_registry()), encoding="utf-8")
    page.goto(out.as_uri())
    assert axe(page) == []


# -- keyboard only ------------------------------------------------------------------------------

def tab_until(page, pred, limit: int = 80, key: str = "Tab") -> dict:
    for _ in range(limit):
        page.keyboard.press(key)
        el = page.evaluate(ACTIVE)
        if el and pred(el):
            return el
    raise AssertionError("focus never reached the element")


def profile_text(page) -> str:
    """The visible text of the area profile pane (inside its shadow root)."""
    page.locator("#profile-name").wait_for(timeout=15_000)
    return page.evaluate("""() => {
      function find(root) {
        const hit = root.querySelector('#profile-name');
        if (hit) return hit;
        for (const e of root.querySelectorAll('*')) {
          if (e.shadowRoot) { const r = find(e.shadowRoot); if (r) return r; }
        }
        return null;
      }
      const root = find(document).getRootNode();
      return Array.from(root.children).filter(c => c.tagName !== 'STYLE' && c.tagName !== 'LINK')
        .map(c => c.innerText).join('\\n');
    }""")


def test_keyboard_reaches_every_control_with_visible_focus_and_leaves_the_map(page, app_url):
    page.goto(app_url)
    wait_idle(page)
    settle(page, 0.5)
    seen = []
    for _ in range(45):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(ACTIVE))
    labels = [(e["label"] or e["placeholder"] or e["text"] or "") for e in seen]
    # sensible order: measure, areas, search, boroughs, weights, ..., then the tabs, then the map
    order = [next(i for i, lab in enumerate(labels) if lab.startswith(want)) for want in (
        "Digital exclusion risk index", "LSOA (small areas)", "LSOA code or name",
        "Older age", "Reset to the published index", "Zoom to London", "Map", "Table",
        "Accessibility")]
    assert order == sorted(order), list(zip(labels, range(len(labels)), strict=True))
    # focus is visible on every stop (a ring of at least 2 px), and named controls have names
    for el in seen:
        if el["tag"] == "BODY":
            continue
        assert el["outline"] != "none" and el["outlineWidth"] >= 2, el
    for el in seen:
        if el["role"] == "slider" or (el["tag"] == "INPUT" and "choices" not in el["cls"]
                                      and not el["placeholder"]):
            assert el["label"], el
    # not trapped in the map: after the map's own stops, focus moves on out of it
    map_stops = [i for i, e in enumerate(seen) if "bk-layer" in e["cls"]
                 or "bk-OnOffButton" in e["cls"] or "bk-ClickButton" in e["cls"]]
    assert map_stops and max(map_stops) < len(seen) - 1
    after = seen[max(map_stops) + 1]
    assert not any(c in after["cls"] for c in ("bk-layer", "bk-OnOffButton", "bk-ClickButton"))


def test_search_and_table_by_keyboard_show_the_same_profile_as_a_click(
        browser, app_url, state_data_for_click):
    lvl, xs, ys = state_data_for_click
    # 1. click the area on the map (mouse), for reference
    ctx = browser.new_context(viewport={"width": 1400, "height": 950})
    try:
        pg = ctx.new_page()
        pg.goto(app_url)
        wait_idle(pg)
        import shapely

        pt = shapely.point_on_surface(shapely.polygons(np.c_[xs, ys]))
        x, y = pg.evaluate(f"() => __toScreen({pt.x}, {pt.y})")
        pg.mouse.click(x, y)
        settle(pg, 1.0)
        clicked = profile_text(pg)
    finally:
        ctx.close()
    assert "Tower Hamlets 005A" in clicked

    ctx = browser.new_context(viewport={"width": 1400, "height": 950})
    try:
        pg = ctx.new_page()
        pg.goto(app_url)
        wait_idle(pg)
        settle(pg, 0.5)
        # 2. keyboard: find the area by its code
        tab_until(pg, lambda e: (e["placeholder"] or "").startswith("LSOA code or name"))
        pg.keyboard.type(AREA)
        pg.keyboard.press("Enter")
        settle(pg, 1.5)
        assert profile_text(pg) == clicked
        assert f"area={AREA}" in pg.url

        # 3. keyboard: the table tab, then a row, Enter, back to the map tab
        tab_until(pg, lambda e: e["role"] == "tab" and e["text"] == "Table")
        pg.keyboard.press("Enter")
        settle(pg, 1.5)
        pg.evaluate("() => window.__mappingA11yScan()")
        row = tab_until(pg, lambda e: "tabulator-row" in e["cls"])
        code = re.search(r"E01\d{6}", row["text"]).group(0)
        assert code != AREA
        pg.keyboard.press("Enter")
        settle(pg, 1.0)
        tab_until(pg, lambda e: e["role"] == "tab" and e["text"] == "Map", key="Shift+Tab")
        pg.keyboard.press("Enter")
        settle(pg, 1.0)
        from_table = profile_text(pg)
        assert code in from_table
        assert f"area={code}" in pg.url
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def state_data_for_click(processed_dir):
    from mapping.app.data import app_data

    lvl = app_data(str(processed_dir)).levels["lsoa"]
    i = int(np.flatnonzero(lvl.codes == AREA)[0])
    return lvl, lvl.xs[i][0][0], lvl.ys[i][0][0]
