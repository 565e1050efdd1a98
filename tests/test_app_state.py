"""The map app without a browser: per-session state, callbacks, URL state, tables, escaping."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from bokeh.document import Document
from bokeh.document.events import ColumnDataChangedEvent, ColumnsPatchedEvent, ModelChangedEvent

from mapping.app.data import INDEX_MEASURE, app_data
from mapping.app.page import MapApp, fit_ranges, sanitise
from mapping.app.store import AppState, csv_safe
from mapping.app.usage import UsageCounter


@pytest.fixture(scope="module")
def data(processed_dir):
    return app_data(str(processed_dir))


@pytest.fixture
def state(data):
    return AppState(data)


@pytest.fixture
def usage(tmp_path, data):
    keys = set(data.measures()) | {"lsoa", "ward", "borough"} | set(
        data.boroughs["borough_code"])
    return UsageCounter(tmp_path / "usage.sqlite", keys)


@pytest.fixture
def app(data, usage):
    return MapApp(data, usage)


def test_sessions_do_not_share_state(data):
    a, b = AppState(data), AppState(data)
    a.measure = "age_65_plus_pct"
    a.weights = [1.0, 0.0, 0.0, 0.0]
    assert b.measure == INDEX_MEASURE
    assert b.weights == b.default_weights()
    assert a.data is b.data  # the build itself is loaded once per process


def test_default_index_matches_the_build(state, processed_dir):
    built = pd.read_csv(processed_dir / "lsoa21_index.csv").set_index("lsoa21_code")
    codes = state.data.levels["lsoa"].codes
    np.testing.assert_allclose(state.values(), built.loc[codes, "index_score"].to_numpy(),
                               rtol=1e-9)
    boro = pd.read_csv(processed_dir / "borough_index.csv").set_index("borough_code")
    table = state.borough_table().set_index("borough_code")
    np.testing.assert_allclose(table["score"], boro.loc[table.index, "index_score"], rtol=1e-6)
    np.testing.assert_allclose(table["share_top10_pct"] / 100,
                               boro.loc[table.index, "share_top10"], atol=1e-9)


def test_changing_measure_sends_only_the_colour_columns(app):
    doc = Document()
    doc.add_root(app.fig)
    events = []
    doc.callbacks.on_change(events.append)
    src = app._sources["lsoa"]
    assert set(src.data) == {"cls", "value"}  # the polygons are in the map data asset
    cls_before = np.array(src.data["cls"])
    app.state.measure = "age_75_plus_pct"
    data_events = [ev for ev in events
                   if isinstance(ev, ColumnDataChangedEvent | ColumnsPatchedEvent)]
    assert data_events, "the recolour must reach the document"
    for ev in data_events:
        assert set(ev.cols) <= {"cls", "value"}, ev.cols
    assert not [ev for ev in events if isinstance(ev, ModelChangedEvent) and ev.attr == "data"]
    assert not np.array_equal(np.array(src.data["cls"]), cls_before)
    assert src.data["cls"].dtype == np.uint8


def test_legend_has_text_labels_for_every_class(app):
    app.state.k = 6
    assert app.legend.object.count('class="legend-row"') >= 6
    assert " to " in app.legend.object
    assert len(app.mapper.palette) == 7  # six classes and the no-data colour


@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks", "equal_interval"])
def test_classification_schemes(state, scheme):
    state.scheme = scheme
    view = state.view()
    assert len(view.classes.labels) == 5
    assert set(np.unique(view.classes.classes)) <= set(range(6))


def test_reweighting_changes_scores_through_the_engine(state):
    before = state.values().copy()
    state.weights = [1.0, 0.0, 0.0, 0.0]
    after = state.values()
    assert not np.allclose(before, after)
    # all weight on the first domain (older age): the index is that domain's score
    np.testing.assert_allclose(after, state.values("domain:age"))
    state.reset_method()
    np.testing.assert_allclose(state.values(), before)
    assert state.is_default_method()


def test_weights_are_rescaled_and_shown(app):
    app.state.weights = [0.5, 0.5, 0.0, 0.0]
    assert "50%" in app.weights_text.object
    assert "custom" in app.weights_text.object
    assert "not the published index" in app.legend.object


def test_method_choices_and_invalid_combination(state):
    good = state.values().copy()
    assert state.index_exact()
    state.normalisation = "rank"
    assert not np.allclose(state.values(), good)
    assert not state.index_exact()
    state.normalisation = "zscore"
    state.aggregation = "geometric"
    shown = state.values()
    assert "not allowed" in state.message
    assert np.isfinite(shown).all()


def test_rescale_to_boroughs_is_the_reference_frame(state):
    state.boroughs = ["E09000030", "E09000025"]
    state.rescale = True
    vals = state.values()
    inside = state.in_focus()
    assert np.isnan(vals[~inside]).all() and np.isfinite(vals[inside]).all()
    # min-max within the frame: every domain reaches 0 and 1 inside the two boroughs
    for code in state.data.domains:
        conn = state.values(f"domain:{code}")[inside]
        assert conn.max() <= 1 + 1e-12
    profile = state.profile(state.data.levels["lsoa"].codes[inside][0])
    assert profile["n_ranked"] == int(inside.sum())


def test_levels_show_the_same_measure(state):
    state.measure = "age_65_plus_pct"
    for level, n in (("lsoa", 4994), ("ward", None), ("borough", 33)):
        state.level = level
        vals = state.values()
        if n:
            assert len(vals) == n
        # suppressed small counts (DR-0004) show as no data; everything else has a value
        assert np.isfinite(vals).mean() > 0.9
    state.measure = INDEX_MEASURE
    state.level = "borough"
    table = state.borough_table().set_index("borough_code")
    codes = state.data.levels["borough"].codes
    np.testing.assert_allclose(state.values(), table.loc[codes, "score"])


def test_selection_follows_level_change(state):
    state.selected = "E01004200"
    state.level = "ward"
    assert state.selected == state.data.levels["lsoa"].table.set_index(
        "lsoa21_code").loc["E01004200", "ward24_code"]
    state.level = "borough"
    assert state.selected == "E09000030"


def test_profile_values(state, processed_dir):
    p = state.profile("E01004200")
    built = pd.read_csv(processed_dir / "lsoa21_index.csv").set_index("lsoa21_code")
    assert p["name"] == "Tower Hamlets 005A" and p["borough"] == "Tower Hamlets"
    assert p["index"] == pytest.approx(built.loc["E01004200", "index_score"])
    assert p["rank"] == built.loc["E01004200", "index_rank"]
    assert p["interval"]["p05"] == pytest.approx(built.loc["E01004200", "rank_p05"])
    lsoa = state.data.levels["lsoa"].table.set_index("lsoa21_code")
    for ind in p["indicators"]:
        expected = lsoa.loc["E01004200", ind["code"]]
        if np.isnan(expected):
            assert np.isnan(ind["value"])
            continue
        assert ind["value"] == pytest.approx(expected)
        assert 0 < ind["percentile"] <= 100
        assert ind["vintage"]
    shares = [d["share"] for d in p["domains"]]
    assert sum(shares) == pytest.approx(1.0)


def test_table_matches_the_map(state):
    state.measure = "disability_pct"
    state.boroughs = ["E09000012"]
    view = state.view()
    table = state.table(view)
    codes = state.data.levels["lsoa"].codes
    assert set(table["code"]) == set(codes[state.in_focus()])
    by_code = dict(zip(codes, view.values, strict=True))
    np.testing.assert_allclose(table["value"], [by_code[c] for c in table["code"]])
    assert table["rank"].is_monotonic_increasing


def test_borough_table(state):
    t = state.borough_table()
    assert len(t) == 33
    assert sorted(t["rank"]) == list(range(1, 34))
    assert (t["share_top20_pct"] >= t["share_top10_pct"]).all()
    assert t["share_top10_pct"].between(0, 100).all()
    # about 10 % of London's residents live in the top-decile LSOAs
    total = (t["share_top10_pct"] * t["population"]).sum() / t["population"].sum()
    assert 8 < total < 12


def test_search(state):
    assert state.search("E01004200")[0][1:] == ("lsoa", "E01004200")
    results = state.search("hackney")
    assert results[0] == ("Hackney (borough)", "borough", "E09000012")
    assert any(level == "ward" for _, level, _ in results)
    assert state.search("x") == []
    assert state.search("<script>") == []
    bounds = state.go_to("ward", "E05009331")
    assert state.level == "ward" and state.selected == "E05009331"
    assert bounds[0] < bounds[2]


def test_url_state_round_trip(data):
    a = AppState(data)
    a.param.update(measure="english_proficiency_low_pct", level="ward", scheme="natural_breaks",
                   k=6, palette="cividis", boroughs=["E09000025", "E09000030"], rescale=True,
                   weights=[0.4, 0.2, 0.2, 0.2], normalisation="rank", selected="E05009331",
                   compare_a="E09000030", compare_b="E09000025", libraries=True)
    q = a.to_query()
    b = AppState(data)
    b.from_query(q)
    assert b.to_query() == q
    for name in ("measure", "level", "scheme", "k", "palette", "boroughs", "rescale", "weights",
                 "normalisation", "selected", "compare_a", "compare_b", "libraries"):
        assert getattr(b, name) == getattr(a, name), name
    assert AppState(data).to_query() == {}


def test_url_state_ignores_bad_input(state):
    state.from_query({"measure": "<script>", "level": "planet", "k": "99", "weights": "1,nan,2",
                      "boroughs": "E09000030,EVIL", "area": "'; drop table", "palette": "x"})
    assert state.measure == INDEX_MEASURE and state.level == "lsoa" and state.k == 5
    assert state.weights == state.default_weights()
    assert state.boroughs == ["E09000030"]
    assert state.selected == ""


def test_csv_download_has_header_block(state):
    state.measure = "age_65_plus_pct"
    text = state.csv()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("Build version" in line and state.data.build_version in line for line in header)
    for attribution in state.data.outputs.manifest["attributions"]:
        assert any(attribution in line for line in header)
    body = pd.read_csv(__import__("io").StringIO(text), comment="#")
    assert len(body) == 4994
    assert csv_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"


def test_html_is_escaped(app):
    p = app.state.profile("E01004200")
    p = {**p, "name": '<img src=x onerror="alert(1)">', "borough": "<b>x</b>"}
    out = sanitise(app.profile_html(p))
    assert "<img" not in out and "<b>x" not in out
    assert "&lt;img src=x onerror=" in out
    for tool in app.fig.tools:
        for _, spec in getattr(tool, "tooltips", None) or []:
            assert "{safe}" not in spec
    assert 'style="background:#fff"' in sanitise('<span style="background:#fff;position:fixed">')


def test_usage_counts_without_personal_data(app, usage, data):
    app.state.measure = "age_65_plus_pct"
    app.state.boroughs = ["E09000030"]
    usage.add("measure", "not a known key")
    totals = {(k, key): n for k, key, n in usage.totals()}
    assert totals[("page_load", "")] == 1
    assert totals[("measure", "age_65_plus_pct")] == 1
    assert totals[("borough", "E09000030")] == 1
    assert ("measure", "not a known key") not in totals
    con = sqlite3.connect(usage.path)
    cols = [r[1] for r in con.execute("PRAGMA table_info(usage_counts)")]
    con.close()
    assert cols == ["day", "kind", "key", "count"]


def test_fit_ranges_keeps_the_aspect():
    (x0, x1), (y0, y1) = fit_ranges((0, 0, 10_000, 1_000), aspect=1.5)
    assert (x1 - x0) / (y1 - y0) == pytest.approx(1.5)
    assert x0 < 0 and x1 > 10_000


BOROUGH_ONLY = ["ofcom_below_uso_pct", "ofcom_full_fibre_pct", "ofcom_gigabit_pct",
                "ofcom_4g_all_operators_pct", "ofcom_5g_any_pct", "older_living_alone_pct"]


def test_borough_only_indicators_are_offered_at_borough_level(app, data):
    assert sorted(data.borough_only) == sorted(BOROUGH_ONLY)
    app.state.level = "borough"
    offered = {k for g in app.w_measure.groups.values() for k in g.values()}
    assert set(BOROUGH_ONLY) <= offered
    assert set(BOROUGH_ONLY) <= set(app.state.measures())
    assert set(app.w_measure.groups["Borough-only indicators"].values()) == set(BOROUGH_ONLY)


@pytest.mark.parametrize("level", ["lsoa", "ward"])
def test_borough_only_indicators_are_not_offered_below_boroughs(app, level):
    app.state.level = level
    offered = {k for g in app.w_measure.groups.values() for k in g.values()}
    assert not set(BOROUGH_ONLY) & offered
    assert not set(BOROUGH_ONLY) & set(app.state.measures())


@pytest.mark.parametrize("code", BOROUGH_ONLY)
def test_borough_only_values_in_the_map_source_match_the_build(app, processed_dir, code):
    built = pd.read_csv(processed_dir / "borough_indicators.csv").set_index("borough_code")
    app.state.param.update(level="borough", measure=code)
    src = app._sources["borough"]
    np.testing.assert_allclose(np.asarray(src.data["value"], dtype=float),
                               built.loc[app.data.levels["borough"].codes, code]
                               .to_numpy(dtype=float),
                               rtol=1e-6)
    table = app.state.table().set_index("code")
    np.testing.assert_allclose(table["value"], built.loc[table.index, code], rtol=1e-9)
    assert app.state.measure_unit() == "%"
    assert all(label.endswith(" %") for label in app.state.view().classes.labels)
    csv = app.state.csv()
    assert f"({code}); unit: %" in csv


def test_borough_only_measure_from_a_url_shows_boroughs(data):
    s = AppState(data)
    s.from_query({"measure": "ofcom_full_fibre_pct", "level": "lsoa", "area": "E09000003"})
    assert (s.measure, s.level, s.selected) == ("ofcom_full_fibre_pct", "borough", "E09000003")
    assert "boroughs only" in s.note
    # leaving the borough level goes back to the index, with a note
    s.level = "ward"
    assert s.measure == INDEX_MEASURE and "boroughs only" in s.note


def test_higher_is_better_coverage_is_not_called_more_at_risk(app, processed_dir):
    built = pd.read_csv(processed_dir / "borough_indicators.csv")
    app.state.param.update(level="borough", measure="ofcom_full_fibre_pct")
    worst = built.loc[built["ofcom_full_fibre_pct"].idxmin(), "borough_name"]
    best = built.loc[built["ofcom_full_fibre_pct"].idxmax(), "borough_name"]
    text = app.state.summary()
    assert "lowest values" in text and f"are {worst} (" in text
    assert f"Least at risk: {best} (" in text
    table = app.state.table()
    assert table.iloc[0]["name"] == worst and table.iloc[0]["rank"] == 1
    assert "<b>less</b> risk" in app.legend.object
    assert "more at risk" not in app.legend.object
    assert "(%)" in app.legend.object
    profile = app.state.profile("E09000003", "borough")
    fibre = [i for i in profile["indicators"] if i["code"] == "ofcom_full_fibre_pct"]
    assert fibre and fibre[0]["unit"] == "%" and fibre[0]["direction"] == "higher_is_better"


def test_earlier_index_is_selectable_by_name_and_matches_its_build(state, processed_dir):
    assert state.measures()["earlier:equal_v1"].startswith("Earlier index: equal weights")
    built = pd.read_csv(processed_dir / "lsoa21_index_equal_v1.csv").set_index("lsoa21_code")
    codes = state.data.levels["lsoa"].codes
    state.measure = "earlier:equal_v1"
    np.testing.assert_allclose(state.values(), built.loc[codes, "index_score"].to_numpy(),
                               rtol=1e-9)
    assert not np.allclose(state.values(), state.values(INDEX_MEASURE))
    state.level = "borough"
    assert np.isfinite(state.values()).all()  # rolled up like the default index


def test_validation_section_shows_the_builds_figures(data, processed_dir, app):
    from mapping.app import about  # noqa: PLC0415

    val = pd.read_csv(processed_dir / "validation.csv")
    london = val[(val["scope"] == "london") & (val["measure"] == "index_score")]
    rho = london.set_index("reference")["spearman_rho"]
    text = about.validation_markdown(data)
    assert f"ρ {rho['dpi_online_pct']:+.2f}" in text
    assert f"ρ {rho['iuc_least_engaged_share']:+.2f}" in text
    assert rho["dpi_online_pct"] <= -0.6  # the published default, in sample
    v1 = val[(val["scope"] == "london") & (val["measure"] == "index_equal_v1")
             & (val["reference"] == "dpi_online_pct")]["spearman_rho"].iloc[0]
    row = next(line for line in text.splitlines() if "Earlier index: equal weights" in line)
    assert f"| {v1:+.2f} |" in row
    assert "modelled" in text and "household" in text  # the caveats
    fig = about.validation_scatter(data)
    assert fig is not None and len(fig.renderers[0].data_source.data["x"]) == 4994


def test_profile_shows_need_and_support_gap_from_the_build(state, processed_dir):
    from mapping.app.views.profile import profile_html  # noqa: PLC0415

    needs = pd.read_csv(processed_dir / "lsoa21_needs.csv").set_index("lsoa21_code")
    code = needs.index[needs["main_need"] == "language"][0]
    p = state.profile(code, "lsoa")
    assert p["support"]["main"] == "Language"
    assert p["support"]["support"] == ["ESOL with digital"]
    assert p["support"]["nearest"] == needs.loc[code, "nearest_support"]
    text = profile_html(p)
    assert f"{needs.loc[code, 'nearest_support_m']:,.0f} m" in text
    assert "ESOL with digital" in text and "straight line" in text
    boro = pd.read_csv(processed_dir / "borough_needs.csv").set_index("borough_code")
    b = state.profile("E09000007", "borough")["support"]
    assert b["beyond"] == boro.loc["E09000007", "residents_beyond_walk"]


def test_support_measures_and_borough_table(state, processed_dir):
    measures = state.measures()
    assert measures["nearest_support_m"].startswith("Distance to the nearest support place")
    assert "need_language" in measures
    state.measure = "nearest_support_m"
    assert state.measure_unit() == "m"
    needs = pd.read_csv(processed_dir / "lsoa21_needs.csv").set_index("lsoa21_code")
    codes = state.data.levels["lsoa"].codes
    np.testing.assert_allclose(state.values(), needs.loc[codes, "nearest_support_m"])
    table = state.borough_table().set_index("borough_code")
    boro = pd.read_csv(processed_dir / "borough_needs.csv").set_index("borough_code")
    assert (table["beyond_walk"] == boro.loc[table.index, "residents_beyond_walk"]).all()
    assert table.loc["E09000025", "common_need"] == "Language"  # Newham


def test_borough_pack_is_offered_for_one_borough_in_focus(app):
    controls = app.controls
    assert not controls.w_pack.visible
    app.state.boroughs = ["E09000007"]
    assert controls.w_pack.visible
    assert controls.w_pack.filename == "digital-exclusion-pack-camden.html"
    page = controls._pack().getvalue()
    assert "<h1>Digital exclusion risk in Camden</h1>" in page
    app.state.boroughs = ["E09000007", "E09000001"]
    assert not controls.w_pack.visible


def test_pack_is_offered_when_a_shared_link_opens_on_one_borough(data, usage):
    app = MapApp(data, usage, query={"boroughs": "E09000025"})
    assert app.controls.w_pack.visible


def test_main_need_is_a_categorical_map_measure(state, processed_dir):
    needs = pd.read_csv(processed_dir / "lsoa21_needs.csv").set_index("lsoa21_code")
    state.measure = "main_need"
    view = state.view()
    labels = list(view.classes.labels)
    assert labels[-1] == "No single need stands out" and "Language" in labels
    codes = state.data.levels["lsoa"].codes
    shown = np.array(labels, dtype=object)[view.classes.classes]
    expected = needs.loc[codes, "main_need"].map(
        {n.code: n.label for n in state.data.needs.needs}).fillna("No single need stands out")
    assert (shown == expected.to_numpy()).all()
    assert len(set(view.classes.colours)) == len(view.classes.colours)  # one colour a need
    text = state.summary()
    named = int((needs["main_need"] == "language").sum())
    assert f"Language: {named:,}" in text and "most at risk" not in text
    state.level = "borough"
    assert len(state.view().classes.classes) == 33


def test_walking_distance_is_the_users_to_set(state, processed_dir):
    boro = pd.read_csv(processed_dir / "borough_needs.csv").set_index("borough_code")
    assert state.walk_m == 800
    table = state.borough_table().set_index("borough_code")
    assert (table["beyond_walk"] == boro.loc[table.index, "residents_beyond_walk"]).all()
    lsoa = pd.read_csv(processed_dir / "lsoa21_needs.csv")
    state.walk_m = 1500
    far = lsoa[lsoa["high_risk"] & (lsoa["nearest_support_m"] > 1500)]
    expected = far.groupby("borough_code")["population"].sum()
    table = state.borough_table().set_index("borough_code")
    assert table["beyond_walk"].sum() == expected.sum() < boro["residents_beyond_walk"].sum()
    assert state.profile("E09000007", "borough")["support"]["beyond"] == expected.get(
        "E09000007", 0)


def test_csv_download_carries_need_and_support_gap(state, processed_dir):
    import io as _io  # noqa: PLC0415

    text = state.csv()
    assert "# Need types and support gap (DR-0011)" in text
    body = pd.read_csv(_io.StringIO(text), comment="#")
    needs = pd.read_csv(processed_dir / "lsoa21_needs.csv").set_index("lsoa21_code")
    assert {"main_need", "nearest_support_m", "nearest_support",
            "high_risk_residents_beyond_walk"} <= set(body.columns)
    first = body.iloc[0]
    assert first["nearest_support_m"] == needs.loc[first["code"], "nearest_support_m"]
    assert first["high_risk_residents_beyond_walk"] == needs.loc[
        first["code"], "residents_beyond_walk"]


def test_validation_section_leads_with_the_out_of_sample_figures(data, processed_dir):
    from mapping.app import about  # noqa: PLC0415

    oos = pd.read_csv(processed_dir / "validation_out_of_sample.csv")
    london = oos[oos["scope"] == "london"].set_index("reference")["spearman_rho"]
    assert london["dpi_online_pct"] <= -0.60 and london["iuc_least_engaged_share"] > 0.4
    assert set(oos["scope"]) == {"london", *data.levels["borough"].table["borough_code"]}
    text = about.validation_markdown(data)
    assert (f"Judged on areas its weights had not seen (each borough scored with weights "
            f"fitted on the other 32 boroughs): ρ {london['dpi_online_pct']:+.2f}") in text
    row = next(line for line in text.splitlines() if "judged out of sample" in line)
    assert f"| {london['dpi_online_pct']:+.2f} | {london['iuc_least_engaged_share']:+.2f} |" \
        in row
