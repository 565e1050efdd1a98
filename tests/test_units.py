"""A raw value is never shown bare: an area profile in the app, its comparison table and the
hover text of an exported map say what the number is, with the unit text of the indicator
registry (``unit`` in ``mapping/registry/indicators.toml``), escaped where it reaches HTML. The
CSV download names the unit in its header block."""

from __future__ import annotations

import html

import pytest

from mapping.app.data import app_data
from mapping.app.page import MapApp
from mapping.app.store import AppState
from mapping.app.usage import UsageCounter
from mapping.maps.folium_map import ExportData, export_map, render_html, value_text
from mapping.outputs.formatting import fmt
from mapping.registry import load_registry
from tests._export_pages import Page

pytestmark = pytest.mark.slow

CODE = "digital_connectivity_iod25"  # a standardised IoD score, e.g. -0.769
AREA = "E01000001"


@pytest.fixture(scope="module")
def unit() -> str:
    unit = load_registry().indicator(CODE).unit
    assert unit not in ("", "%", "score")  # the case this file is about
    return unit


@pytest.fixture(scope="module")
def data(processed_dir):
    return app_data(str(processed_dir))


@pytest.fixture
def app(data, tmp_path):
    return MapApp(data, UsageCounter(tmp_path / "usage.sqlite", set(data.measures())))


def test_formatters_say_the_unit(unit):
    assert fmt(-0.769, unit) == f"-0.769 {unit}"
    assert fmt(12.34, "%") == "12.3 %" and fmt(0.5) == "0.500" == fmt(0.5, "score")
    assert value_text(-0.769, unit) == f"-0.769 {unit}"
    assert value_text(0.01234, "proportion") == "0.0123 proportion"
    assert value_text(12.345, "%") == "12.3%" and value_text(1234.5, "score") == "1,234.5"


def test_the_area_profile_says_what_a_raw_iod_value_is(app, data, unit):
    state = AppState(data)
    profile = state.profile(AREA, "lsoa")
    (row,) = [i for i in profile["indicators"] if i["code"] == CODE]
    page = app.profile_html(profile)
    cell = page.split(f'data-code="{CODE}"')[1].split("</tr>")[0]
    assert html.escape(fmt(row["value"], unit), quote=True) in cell
    assert html.escape(unit, quote=True) in cell


def test_the_comparison_says_it_too(app, data, unit):
    profile = AppState(data).profile(AREA, "lsoa")
    (row,) = [i for i in profile["indicators"] if i["code"] == CODE]
    page = app.compare_html(profile, None)
    cells = page.split(f'<th scope="row">{html.escape(row["label"], quote=True)}</th>')[1]
    assert cells.startswith(f'<td class="num">{html.escape(fmt(row["value"], unit))} ')
    assert html.escape(unit, quote=True) in cells.split("</tr>")[0]


def test_a_hostile_unit_is_escaped_in_the_profile(app, data):
    state = AppState(data)
    profile = state.profile(AREA, "lsoa")
    for ind in profile["indicators"]:
        ind["unit"] = '<img src=x onerror="alert(1)">'
    page = app.profile_html(profile)
    assert "<img" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_the_exported_map_says_the_unit_on_hover(processed_dir, unit):
    page = Page(render_html(export_map(ExportData.open(processed_dir), measure=CODE),
                            offline=True))
    values = [v for v in page.layer("areas")["areas"]["value"] if v not in (None, "suppressed")]
    assert values and all(v.endswith(f" {unit}") for v in values)


def test_the_csv_download_names_the_unit_in_its_header(data, unit):
    state = AppState(data)
    state.measure = CODE
    header = [line for line in state.csv().splitlines() if line.startswith("#")]
    assert f"# Measure: {load_registry().indicator(CODE).label} ({CODE}); unit: {unit}" in header
