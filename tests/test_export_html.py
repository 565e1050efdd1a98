"""`mapping export`: exported pages parsed and checked (counts, legend, attribution, safety)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

from mapping.cli import main
from mapping.maps.assets import AssetError
from mapping.maps.folium_map import (
    ExportData,
    ExportError,
    decode_ring,
    encode_polygons,
    encode_ring,
    export_map,
    ranks,
    render_html,
    select_boroughs,
    value_text,
    write_map,
)
from tests._export_pages import HOSTILE, Page, hostile_data, script_count

CAMDEN, HACKNEY = "E09000007", "E09000012"

# ---------------------------------------------------------------------------------------------
# Pure helpers (hand-made inputs)
# ---------------------------------------------------------------------------------------------


def test_ranks_put_the_most_at_risk_first_and_share_ties():
    values = pd.Series([3.0, 1.0, np.nan, 3.0, 2.0])
    assert ranks(values, "higher_is_worse").tolist() == [1, 4, pd.NA, 1, 3]
    assert ranks(values, "higher_is_better").tolist() == [3, 1, pd.NA, 3, 2]


def test_rings_are_integer_deltas_without_the_closing_vertex():
    ring = np.array([[-0.1, 51.5], [-0.09999, 51.5], [-0.09999, 51.50002], [-0.1, 51.5]])
    ints = encode_ring(ring)
    assert ints == [-10000, 5150000, 1, 0, 0, 2]
    assert np.allclose(decode_ring(ints), ring, atol=1e-9)


def test_multipolygons_keep_parts_and_holes():
    outer = [(0, 0), (0.001, 0), (0.001, 0.001), (0, 0.001), (0, 0)]
    hole = [(0.0002, 0.0002), (0.0004, 0.0002), (0.0004, 0.0004), (0.0002, 0.0002)]
    geom = MultiPolygon([Polygon(outer, [hole]), Polygon([(1, 1), (1.001, 1), (1, 1.001)])])
    parts = encode_polygons(geom)
    assert [len(p) for p in parts] == [2, 1]
    back = MultiPolygon([Polygon(decode_ring(p[0]), [decode_ring(r) for r in p[1:]])
                         for p in parts])
    assert shapely.equals_exact(back, geom, tolerance=1e-9)
    assert encode_polygons(Polygon()) == []


def test_select_boroughs_by_code_or_name():
    frame = pd.DataFrame({"borough_code": [CAMDEN, HACKNEY, CAMDEN],
                          "borough_name": ["Camden", "Hackney", "Camden"]})
    assert select_boroughs(frame, None) == [CAMDEN, HACKNEY]
    assert select_boroughs(frame, ["hackney", CAMDEN.lower(), "Camden"]) == [CAMDEN, HACKNEY]
    with pytest.raises(ExportError, match="Atlantis"):
        select_boroughs(frame, ["Atlantis"])


def test_value_text():
    assert value_text(12.345, "%") == "12.3%"
    assert value_text(1234.5, "score") == "1,234.5"
    assert value_text(0.01234, "proportion") == "0.0123 proportion"  # what the number is
    assert value_text(0.01234, "proportion", with_unit=False) == "0.0123"
    assert value_text(float("nan"), "%") is None


# ---------------------------------------------------------------------------------------------
# Real build
# ---------------------------------------------------------------------------------------------

pytestmark_real = pytest.mark.slow


@pytest.fixture(scope="module")
def data(processed_dir) -> ExportData:
    return ExportData.open(processed_dir)


@pytest.fixture(scope="module")
def london_page(data) -> str:
    return render_html(export_map(data), offline=True)


@pytestmark_real
def test_london_lsoa_export_has_every_area_and_is_light(data, london_page):
    page = Page(london_page)
    areas = page.layer("areas")
    assert len(areas["areas"]["code"]) == len(areas["shapes"]) == 4994
    assert len(set(areas["areas"]["code"])) == 4994
    assert len(london_page.encode("utf-8")) < 2_500_000
    outlines = [v for v in page.json_scripts.values() if "shapes" in v and "areas" not in v]
    assert len(outlines) == 1 and len(outlines[0]["shapes"]) == 33
    assert len(page.layer("kind")["name"]) == data.manifest["row_counts"]["libraries"]


@pytest.mark.slow
def test_legend_has_one_text_label_per_class(data, london_page):
    page = Page(london_page)
    labels = page.text_by_class["mapping-class"]
    assert len(labels) == 5
    assert all(re.fullmatch(r"-?[\d.]+ to -?[\d.]+", t) for t in labels)
    assert len(page.layer("areas")["colours"]) == 5
    cls = page.layer("areas")["areas"]["cls"]
    assert sorted(set(cls)) == [0, 1, 2, 3, 4]  # quantiles: every class used across London
    assert "Public library" in page.text_by_class["mapping-point"]


@pytest.mark.slow
def test_attribution_of_every_source_used_and_build_version(data, london_page):
    page = Page(london_page)
    lines = page.text_by_class["mapping-attribution"]
    measure = data.measure(data.default_measure("lsoa"))
    for sid in (*measure.sources, "boundaries_lsoa21", "libraries_dcms_2016", "libraries_osm"):
        assert data.registry.sources[sid].attribution in lines, sid
    assert len(lines) == len(set(lines))
    build = page.text_by_class["mapping-build"][0]
    assert data.manifest["package_version"] in build


@pytest.mark.slow
def test_offline_page_loads_nothing_from_the_network(london_page):
    page = Page(london_page)
    external = [a for tag, a in page.elements if tag in ("script", "link", "img")
                and re.match(r"https?:", a.get("src") or a.get("href") or "")]
    assert external == []
    assert "L.map(" in london_page and "leaflet/dist/leaflet.js" in london_page


@pytest.mark.slow
def test_online_page_loads_leaflet_only(data):
    html = render_html(export_map(data, boroughs=["Camden"]))
    sources = re.findall(r'<script src="([^"]+)"', html)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert [s.rsplit("/", 1)[-1] for s in sources] == ["leaflet.js"]
    assert [s.rsplit("/", 1)[-1] for s in styles] == ["leaflet.css"]


@pytest.mark.slow
@pytest.mark.parametrize(("level", "boroughs", "expected"), [
    ("lsoa", ["Camden", HACKNEY], None),
    ("ward", None, 684),
    ("ward", ["camden"], None),
    ("borough", None, 33),
    ("borough", [CAMDEN, "Hackney"], 2),
])
def test_feature_count_equals_areas_exported(data, level, boroughs, expected):
    frame = data.frame(level)
    if expected is None:
        expected = int(frame["borough_code"].isin([CAMDEN, HACKNEY] if len(boroughs) == 2
                                                  else [CAMDEN]).sum())
    page = Page(render_html(export_map(data, level=level, boroughs=boroughs)))
    areas = page.layer("areas")
    assert len(areas["shapes"]) == len(areas["areas"]["code"]) == expected
    assert all(r is None or 1 <= r <= len(frame) for r in areas["areas"]["rank"])


@pytest.mark.slow
def test_borough_export_keeps_london_ranks_and_classes(data):
    code = data.default_measure("lsoa")
    page = Page(render_html(export_map(data, boroughs=["Camden"], measure=code)))
    areas = page.layer("areas")["areas"]
    frame = data.frame("lsoa").set_index("lsoa21_code")
    expected = ranks(data.frame("lsoa")[code], data.measure(code).direction)
    expected.index = data.frame("lsoa")["lsoa21_code"]
    assert areas["rank"] == [int(expected[c]) for c in areas["code"]]
    assert page.layer("areas")["rankOf"] == len(frame)
    hi = areas["code"][int(np.argmin(areas["rank"]))]
    assert frame.loc[hi, code] == frame.loc[areas["code"], code].max()


@pytest.mark.slow
def test_same_build_same_bytes(data):
    a = render_html(export_map(data, boroughs=["Camden"]), offline=True)
    b = render_html(export_map(data, boroughs=["Camden"]), offline=True)
    assert a == b


@pytest.mark.slow
def test_hostile_strings_arrive_as_literal_text(data):
    evil = hostile_data(data)
    measure = next(iter(evil.manifest["indicators"]))  # its label is HOSTILE[0] + " label"
    m = export_map(evil, boroughs=[CAMDEN], measure=measure, title=HOSTILE[0] + HOSTILE[1])
    html = render_html(m)  # not inlined: Leaflet itself sets img.onerror in its code
    # "onerror=" occurs only as escaped text: never inside a tag, never as an attribute.
    escaped = re.findall(r"(?:&lt;|\\u003c|\\u0026lt;)img src=x onerror=", html)
    assert len(escaped) == html.count("onerror=") > 0
    assert not re.search(r"<img\b|<[^<>]*\sonerror=", html)
    # In executable scripts data appears only inside JSON strings (layer names), never in code
    # or a template literal; area data travels as JSON, read with JSON.parse.
    code = re.findall(r"<script(?![^>]*application/json)[^>]*>(.*?)</script>", html, re.S)
    outside_strings = [re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', c) for c in code]
    assert code and not [c for c in outside_strings if "alert(" in c or "`" in c]
    opened, closed = script_count(html)
    assert opened == closed
    page = Page(html)
    # Parsed back, the names are exactly the hostile strings: data, not markup.
    areas = page.layer("areas")
    assert set(areas["areas"]["name"]) == set(HOSTILE)
    assert areas["boroughs"] == [HOSTILE[0]]
    assert areas["measure"] == evil.measure(measure).label
    assert set(page.layer("kind")["name"]) <= set(HOSTILE)
    title = page.text_by_class["mapping-side"][0]
    assert HOSTILE[0] + HOSTILE[1] in title
    assert [t for t, _ in page.elements].count("img") == 0
    assert not [a for _, attrs in page.elements for a in attrs if a.startswith("on")]
    # Layer names go through Leaflet's layer control as HTML: they are escaped.
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert not re.search(r"<img[^>]*onerror", html)


@pytest.mark.slow
def test_unknown_requests_are_user_errors(data, tmp_path):
    with pytest.raises(ExportError, match="no measure"):
        export_map(data, measure="nope")
    with pytest.raises(ExportError, match="level"):
        export_map(data, level="msoa")
    with pytest.raises(ExportError, match="palette"):
        export_map(data, palette="rainbow")


@pytest.mark.slow
def test_offline_without_assets_is_a_clear_error(data, tmp_path, monkeypatch):
    monkeypatch.setenv("MAPPING_NODE_MODULES", str(tmp_path / "none"))
    target = tmp_path / "map.html"
    with pytest.raises(AssetError, match="make setup"):
        write_map(target, export_map(data, boroughs=["Camden"]), offline=True)
    assert not target.exists()


@pytest.mark.slow
def test_cli_export_and_all_boroughs(processed_dir, tmp_path, capsys):
    out = tmp_path / "camden.html"
    assert main(["export", "--processed-dir", str(processed_dir), "--out", str(out),
                 "--boroughs", "Camden", "--level", "ward", "--scheme", "equal_interval",
                 "--palette", "cividis", "--offline"]) == 0
    assert Page(out.read_text(encoding="utf-8")).layer("areas")["colours"]
    folder = tmp_path / "all"
    assert main(["export", "--processed-dir", str(processed_dir), "--all-boroughs",
                 str(folder), "--level", "borough", "--no-libraries"]) == 0
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 34 and "index.html" in files
    index = Page((folder / "index.html").read_text(encoding="utf-8"))
    links = [a["href"] for t, a in index.elements if t == "a"]
    assert sorted(links) == sorted(f for f in files if f != "index.html")
    assert not [f for f in folder.iterdir() if f.name.startswith(".")]  # no temporary files
    capsys.readouterr()
    assert main(["export", "--processed-dir", str(processed_dir), "--out", str(out),
                 "--boroughs", "Atlantis"]) == 2
    assert "Atlantis" in capsys.readouterr().err
    assert main(["export", "--processed-dir", str(processed_dir)]) == 2


@pytest.mark.slow
def test_suppressed_values_show_as_suppressed_never_blank_or_zero(data):
    """DR-0004: a rate built on a count below 10 reads "suppressed" in the export's tooltips."""
    frame = data.frame("lsoa")
    flagged = frame.loc[frame["age_75_plus_pct_suppressed"].astype(bool), "lsoa21_code"]
    assert len(flagged) > 0
    areas = Page(render_html(export_map(data, measure="age_75_plus_pct"))).layer("areas")
    shown = dict(zip(areas["areas"]["code"], areas["areas"]["value"], strict=True))
    assert {shown[c] for c in flagged} == {"suppressed"}
    assert sum(v == "suppressed" for v in shown.values()) == len(flagged)


@pytest.mark.slow
def test_export_shows_the_ethics_review_status(london_page):
    from mapping.governance.records import review_status_text

    status = review_status_text()
    assert "Ethics review ER-0001 (Brent Data Ethics Board)" in status
    assert "written feedback awaited" in status
    assert Page(london_page).text_by_class["mapping-governance"] == [status]
