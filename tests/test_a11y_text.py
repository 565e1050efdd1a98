"""Text alternatives: the generated map summary (hand-made fixtures with answers worked out by
hand), and the word "suppressed" wherever the disclosure rule blanked a value (app tooltips,
legend, table, profile, compare, export), never NaN, 0 or a blank."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mapping.app.data import app_data
from mapping.app.page import VALUE_JS, MapApp, table_value
from mapping.app.store import AppState
from mapping.app.usage import UsageCounter
from mapping.maps.folium_map import ExportData, export_map, render_html
from mapping.maps.summary import borough_shares, most_at_risk, risk_summary
from mapping.pipeline.disclosure import SUPPRESSED
from tests._export_pages import Page

MEASURE = "age_75_plus_pct"  # the build suppresses some LSOA values of this indicator


# -- the summary, by hand -----------------------------------------------------------------------

def test_most_at_risk_takes_the_top_tenth_with_ties_and_direction():
    v = np.arange(1.0, 21.0)  # 1 … 20: the top 10 % are 20 and 19
    assert np.flatnonzero(most_at_risk(v)).tolist() == [18, 19]
    assert np.flatnonzero(most_at_risk(v, higher_is_worse=False)).tolist() == [0, 1]
    v[17] = 19.0  # a tie at the cut-off is included
    assert most_at_risk(v).sum() == 3
    assert not most_at_risk([np.nan, np.nan]).any()


def test_borough_shares_by_hand():
    # A: 4 areas, 2 in the top 2 of 20; B: 16 areas, none; ranked by share
    values = [10.0, 9.5, 1, 1] + [0.5] * 16
    boroughs = ["A"] * 4 + ["B"] * 16
    shares = borough_shares(values, boroughs)
    assert [(s.borough, s.n_top, s.n_areas) for s in shares] == [("A", 2, 4), ("B", 0, 16)]
    assert shares[0].share == 0.5


def test_summary_names_the_boroughs_with_the_largest_share():
    # 40 areas in 4 boroughs of 10; the 4 highest values: 3 in C, 1 in A
    values = np.zeros(40)
    boroughs = [b for b in "ABCD" for _ in range(10)]
    values[[20, 21, 22, 0]] = [9, 8, 7, 6]
    values[39] = np.nan
    text = risk_summary(values, [f"area {i}" for i in range(40)], boroughs,
                        measure="Risk", areas="LSOAs", suppressed=[False] * 39 + [True])
    assert text.startswith("Risk: the 10 % of LSOAs most at risk (4 of 39, the highest values)"
                           " are in 2 of 4 boroughs")
    assert "C 30 % (3 of 10), A 10 % (1 of 10)" in text
    assert "1 of the 40 LSOAs shown have no value (suppressed small counts)" in text
    assert "nan" not in text.lower()


def test_summary_of_few_areas_lists_them():
    text = risk_summary([0.2, 0.9, 0.5], ["Barnet", "Brent", "Camden"], None,
                        measure="Index", areas="boroughs", higher_is_worse=True)
    assert text == ("Index: the 3 boroughs most at risk (the highest values) are Brent (0.9), "
                    "Camden (0.5), Barnet (0.2). Least at risk: Barnet (0.2).")
    lower = risk_summary([0.2, 0.9, 0.5], ["Barnet", "Brent", "Camden"], None,
                         measure="Coverage", areas="boroughs", higher_is_worse=False)
    assert "are Barnet (0.2), Camden (0.5), Brent (0.9)" in lower
    assert risk_summary([np.nan], ["x"], None, measure="M", areas="wards") == (
        "M: no wards shown have a value.")


# -- the app ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data(processed_dir):
    return app_data(str(processed_dir))


@pytest.fixture
def app(data, tmp_path):
    keys = set(data.measures()) | {"lsoa", "ward", "borough"} | set(
        data.boroughs["borough_code"])
    return MapApp(data, UsageCounter(tmp_path / "usage.sqlite", keys))


def suppressed_codes(data) -> list[str]:
    t = data.levels["lsoa"].table
    return t.loc[t[f"{MEASURE}_suppressed"], "lsoa21_code"].tolist()


def test_the_build_has_suppressed_values_to_show(data):
    assert len(suppressed_codes(data)) > 0


def test_summary_in_the_app_is_computed_from_the_map(app, data):
    text = app.summary.object
    assert 'id="map-summary"' in text
    state = app.state
    t = data.levels["lsoa"].table
    shares = borough_shares(state.values(), t["borough_name"])
    assert f"{shares[0].borough} {100 * shares[0].share:.0f} %" in text
    app.state.measure = MEASURE
    n_sup = len(suppressed_codes(data))
    assert f"{n_sup:,} of the {len(t):,} LSOAs shown have no value (suppressed small counts)" \
        in app.summary.object


def test_suppressed_values_in_map_legend_and_tooltip_data(app, data):
    app.state.measure = MEASURE
    codes = suppressed_codes(data)
    src = app._sources["lsoa"]
    k = len(app._view.classes.colours)
    cls = np.asarray(src.data["cls"])
    idx = np.flatnonzero(np.isin(data.levels["lsoa"].codes, codes))
    # class k + 1 marks "suppressed" for the tooltip; drawn in the no-data colour
    assert (cls[idx] == k + 1).all()
    assert app.mapper.palette[-1] == app.mapper.high_color
    assert 'if (c > k) return "suppressed"' in VALUE_JS
    assert f"No value: {SUPPRESSED} (small count, {len(codes):,} areas)" in app.legend.object


def test_suppressed_values_in_the_table_and_csv(app, data):
    app.state.measure = MEASURE
    table = app.table.value
    rows = table[table["code"].isin(suppressed_codes(data))]
    assert len(rows) == len(suppressed_codes(data))
    assert (rows["value_text"] == SUPPRESSED).all()
    assert rows["class"].str.contains(SUPPRESSED).all()
    assert (table.loc[~table["code"].isin(rows["code"]), "value_text"] != SUPPRESSED).all()
    assert table_value(float("nan"), False) == "no data"
    assert table_value(0.12345, False) == "0.1235"
    csv = app.state.csv()
    line = next(line for line in csv.splitlines() if line.startswith(rows["code"].iloc[0]))
    assert "True" in line and SUPPRESSED in line


def test_suppressed_values_in_profile_and_compare(app, data):
    code = suppressed_codes(data)[0]
    app.state.selected = code
    html = app.profile.object
    row = re.search(rf'<tr data-code="{MEASURE}">(.*?)</tr>', html).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[1] == SUPPRESSED and cells[2] == SUPPRESSED
    assert "nan" not in row.lower()
    app.state.compare_a = code
    assert SUPPRESSED in app.compare.object


def test_view_marks_nothing_suppressed_for_the_index(data):
    state = AppState(data)
    assert not state.view().is_suppressed().any()


# -- the exports ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def export_data(processed_dir):
    return ExportData.open(processed_dir)


def test_export_has_a_summary_and_class_words(export_data):
    page = render_html(export_map(export_data, measure=MEASURE))
    parsed = Page(page)
    assert "In words" in page
    summary = re.search(r'<section class="mapping-summary"[^>]*><h2[^>]*>In words</h2><p>(.*?)'
                        r"</p>", page).group(1)
    assert "10 % of LSOAs most at risk" in summary
    assert "have no value (suppressed small counts)" in summary
    payload = next(v for v in parsed.json_scripts.values() if "areas" in v)
    assert payload["classLabels"] and len(payload["classLabels"]) == len(payload["colours"])
    assert SUPPRESSED in payload["areas"]["value"]
