"""The front page at ``/`` (mapping/app/front.py, static/front.js) in Debian chromium: a static
page that opens no session, draws the published index, re-weights, re-classifies and recolours
it in the browser with exactly the classes and legend of the Python engine, hands every view it
cannot show to the full app at ``/main`` with the same address, works with the keyboard and
has no axe violations. (Hostile names on it: tests/test_hostile_app.py.)
"""

from __future__ import annotations

import urllib.request
from urllib.parse import parse_qsl, urlparse

import pytest

from tests.app_browser import app_server, fresh_page
from tests.test_a11y_browser import ACTIVE, axe

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")

#: what the page draws: the classes of the level shown, the legend's labels and colours
DRAWN = """() => { const doc = Bokeh.documents[Bokeh.documents.length - 1];
  const level = document.querySelector('input[name=level]:checked').value;
  const src = doc.get_model_by_name('areas-' + level);
  const mapper = doc.get_model_by_name('mapper');
  return {level, cls: Array.from(src.data.cls), palette: Array.from(mapper.palette),
          visible: ['lsoa', 'ward', 'borough'].filter(
            (lv) => doc.get_model_by_name('renderer-' + lv).visible),
          legend: Array.from(document.querySelectorAll('#legend-rows .legend-row'))
            .map((r) => r.textContent)}; }"""


@pytest.fixture(scope="module")
def front_url(build_root, tmp_path_factory):
    with app_server(build_root, tmp_path_factory) as url:
        yield url.removesuffix("main")


@pytest.fixture(scope="module")
def data(processed_dir):
    from mapping.app.data import app_data

    return app_data(str(processed_dir))


def python_view(data, **state) -> dict:
    """What the Python engine shows for this state (mapping.app.store)."""
    from mapping.app.store import AppState

    s = AppState(data)
    s.param.update(**state)
    view = s.view()
    k = len(view.classes.colours)
    return {"cls": [int(c) for c in view.classes.classes],
            "palette": [c.lower() for c in view.classes.colours],
            "legend": [f"Class {i + 1}: {t}" for i, t in enumerate(view.classes.labels)],
            "k": k}


def drawn(page) -> dict:
    out = page.evaluate(DRAWN)
    out["palette"] = [c.lower() for c in out["palette"][:-1]]  # the last: no data
    return out


def wait_painted(page, since: float = -1.0) -> None:
    page.wait_for_function(
        "(t) => window.__frontPainted && window.__frontPainted.at > t", arg=since,
        timeout=60_000)


def repaint(page, action) -> None:
    since = page.evaluate("() => window.__frontPainted ? window.__frontPainted.at : -1")
    action()
    wait_painted(page, since)


def set_weight(page, code: str, value: float) -> None:
    repaint(page, lambda: page.evaluate(
        """([id, v]) => { const el = document.getElementById(id); el.value = String(v);
             el.dispatchEvent(new Event('input', {bubbles: true})); }""", [f"w-{code}", value]))


def test_the_page_is_static_and_opens_no_session(front_url):
    with urllib.request.urlopen(front_url, timeout=30) as resp:
        body = resp.read().decode("utf-8")
    assert resp.status == 200 and "London digital exclusion map" in body
    assert '"token"' not in body and "/ws" not in body  # no session, no websocket
    assert 'href="/' not in body and 'href="main' in body  # relative: work behind a prefix


def test_published_index_then_every_browser_change_equals_the_python_engine(
        browser, front_url, data):
    with fresh_page(browser) as page:
        page.goto(front_url)
        wait_painted(page)
        got = drawn(page)
        want = python_view(data)
        assert got["level"] == "lsoa" and got["visible"] == ["lsoa"]
        assert (got["cls"], got["palette"], got["legend"]) == (
            want["cls"], want["palette"], want["legend"])
        assert page.locator("#custom-note").is_hidden()
        # the summary's residents of the most at risk class: the LSOAs' populations
        lsoa = data.levels["lsoa"].table
        people = lsoa["population"][[c == want["k"] - 1 for c in want["cls"]]].sum()
        assert f"home to {round(people):,} residents" in page.inner_text("#status")

        codes = [d[0] for d in page.evaluate("() => MappingFront.domains")]
        set_weight(page, codes[0], 0.9)
        set_weight(page, codes[2], 0.5)
        weights = [0.9, 0.36, 0.5, 0.17]
        repaint(page, lambda: page.check("input[name=level][value=ward]"))
        repaint(page, lambda: page.select_option("#scheme", "equal_interval"))
        repaint(page, lambda: page.select_option("#k", "7"))
        repaint(page, lambda: page.select_option("#palette", "ylorrd"))
        got = drawn(page)
        want = python_view(data, level="ward", weights=weights, scheme="equal_interval", k=7,
                           palette="ylorrd")
        assert got["visible"] == ["ward"]
        assert (got["cls"], got["palette"], got["legend"]) == (
            want["cls"], want["palette"], want["legend"])
        assert page.locator("#custom-note").is_visible()

        repaint(page, lambda: page.check("input[name=level][value=borough]"))
        repaint(page, lambda: page.select_option("#agg", "geometric"))
        got = drawn(page)
        want = python_view(data, level="borough", weights=weights, scheme="equal_interval",
                           k=7, palette="ylorrd", aggregation="geometric")
        assert (got["cls"], got["palette"], got["legend"]) == (
            want["cls"], want["palette"], want["legend"])

        # the address is the full tool's: the same view opens there, and here again
        query = dict(parse_qsl(urlparse(page.url).query))
        assert query == {"level": "borough", "classes": "equal_interval", "k": "7",
                         "palette": "ylorrd", "weights": "0.9,0.36,0.5,0.17",
                         "agg": "geometric"}
        from mapping.app.store import AppState

        s = AppState(data)
        s.from_query(query)
        assert s.to_query() == query
        assert page.locator("#full-link").get_attribute("href") == "main?" + urlparse(
            page.url).query
        shared = page.url
        with fresh_page(browser) as other:
            other.goto(shared)
            wait_painted(other)
            again = drawn(other)
            assert (again["cls"], again["legend"]) == (got["cls"], got["legend"])
            assert other.locator("#agg").input_value() == "geometric"

        repaint(page, lambda: page.click("#reset"))
        assert "weights" not in page.url and "agg" not in page.url


def test_an_address_it_cannot_show_opens_the_full_tool(browser, front_url):
    with fresh_page(browser) as page:
        page.goto(front_url + "?measure=age_75_plus_pct&area=E01004200")
        page.wait_for_url("**/main?measure=age_75_plus_pct&area=E01004200", timeout=30_000)
        page.goto(front_url + "?classes=natural_breaks")
        page.wait_for_url("**/main?classes=natural_breaks", timeout=30_000)


def test_the_table_and_a_click_lead_to_the_profile_in_the_full_tool(browser, front_url, data):
    with fresh_page(browser) as page:
        page.goto(front_url + "?level=borough")
        wait_painted(page)
        page.locator("#table-box summary").click()
        page.wait_for_selector("#table tbody tr")
        rows = page.locator("#table tbody tr")
        assert rows.count() == len(data.levels["borough"].table)
        want = python_view(data, level="borough")
        first = rows.first.locator("td")
        assert first.nth(0).inner_text() == "1"
        assert first.nth(4).inner_text().endswith(f"{want['k']} of {want['k']}")
        code = first.nth(2).inner_text()
        assert first.nth(1).locator("a").get_attribute("href") == f"main?level=borough&area={code}"
        # a click on the map (the tap tool) names the area and links to its profile
        box = page.locator("#map canvas").first.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.55)
        link = page.locator("#selection a")
        link.wait_for(timeout=10_000)
        assert link.get_attribute("href").startswith("main?level=borough&area=E09")


def test_keyboard_only_and_no_axe_violations(browser, front_url):
    for width in (1400, 390):
        with fresh_page(browser, width=width, height=950 if width > 800 else 844) as page:
            page.goto(front_url)
            wait_painted(page)
            assert axe(page) == [], width
            page.locator("#table-box summary").click()
            page.wait_for_selector("#table tbody tr")
            assert axe(page) == [], width
    with fresh_page(browser) as page:
        page.goto(front_url)
        wait_painted(page)
        page.keyboard.press("Tab")
        assert page.evaluate(ACTIVE)["text"].startswith("Skip to the map")
        page.keyboard.press("Tab")
        assert page.evaluate(ACTIVE)["text"] == "Open the full tool"
        page.keyboard.press("Tab")  # the level radios, LSOA checked
        active = page.evaluate(ACTIVE)
        assert active["tag"] == "INPUT" and active["outlineWidth"] >= 2
        repaint(page, lambda: page.keyboard.press("ArrowRight"))
        assert page.evaluate("() => __frontPainted.level") == "ward"
        page.keyboard.press("Tab")
        first_weight = page.evaluate("() => document.activeElement.id")
        assert first_weight.startswith("w-")
        repaint(page, lambda: page.keyboard.press("ArrowRight"))
        assert page.input_value(f"#{first_weight}") == "0.4"
        assert "weights=0.4,0.36,0.08,0.17" in page.url


def test_a_phone_gets_the_map_first_and_the_controls_behind_their_summary(browser, front_url):
    with fresh_page(browser, width=390, height=844) as page:
        page.goto(front_url)
        wait_painted(page)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        box = page.locator("#map canvas").first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert box["y"] + box["height"] <= 844, box  # the whole map on the first screen
        assert page.locator("#w-" + page.evaluate("() => MappingFront.domains[0][0]")
                            ).is_hidden()
        page.keyboard.press("Tab")  # the skip link, the full tool's link, then the summary
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate(ACTIVE)["text"].startswith("Change the map")
        page.keyboard.press("Enter")
        page.locator("input[name=level][value=ward]").wait_for(state="visible")
        repaint(page, lambda: page.check("input[name=level][value=ward]"))
        assert page.evaluate("() => __frontPainted.level") == "ward"
        assert "in 5 classes with equal numbers of areas (quantiles)" in page.inner_text(
            "#status")
    with fresh_page(browser) as page:  # wide: the controls shown, their summary not
        page.goto(front_url)
        wait_painted(page)
        assert page.locator("#controls-box > summary").is_hidden()
        assert page.locator("input[name=level][value=ward]").is_visible()


#: the LSOA outlines' alpha (the glyph and its non-selection glyph), after the map's x range
#: is narrowed to ``span`` metres around its centre (or left as it is with span 0)
OUTLINES = """async (span) => { const doc = Bokeh.documents[Bokeh.documents.length - 1];
  const r = doc.get_model_by_name('renderer-lsoa');
  const xr = doc.roots()[0].x_range;
  const c = (xr.start + xr.end) / 2;
  if (span) xr.setv({start: c - span / 2, end: c + span / 2});
  await new Promise((done) => setTimeout(done, 200));  // CustomJS callbacks run asynchronously
  return [r.glyph.line_alpha.value, r.nonselection_glyph.line_alpha.value, xr.end - xr.start]; }"""


def test_lsoa_outlines_are_drawn_only_closer_in_than_london_wide(browser, front_url):
    from mapping.app.views.map import LSOA_OUTLINE_ALPHA, LSOA_OUTLINE_SPAN

    with fresh_page(browser) as page:
        page.goto(front_url)
        wait_painted(page)
        alpha, non_selected, span = page.evaluate(OUTLINES, 0)
        assert span > LSOA_OUTLINE_SPAN and (alpha, non_selected) == (0, 0)
        alpha, non_selected, _ = page.evaluate(OUTLINES, LSOA_OUTLINE_SPAN / 2)
        assert (alpha, non_selected) == (LSOA_OUTLINE_ALPHA, LSOA_OUTLINE_ALPHA)
        alpha, non_selected, _ = page.evaluate(OUTLINES, LSOA_OUTLINE_SPAN * 3)
        assert (alpha, non_selected) == (0, 0)
