"""Vintage conversion, apportioning and roll-ups against values worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon

from mapping.errors import DataValidationError
from mapping.geography.apportion import msoa_to_lsoa
from mapping.geography.geometry import web_geometry
from mapping.geography.rollup import weighted_rollup
from mapping.geography.vintage import convert_lsoa11_to_lsoa21, pair_shares

# 2011 → 2021: A unchanged (U) → a; B split (S) → b1, b2; C and D merged (M) → cd;
# E and F complex (X) → e1 (from E and F) and f1 (from F only).
LOOKUP = pd.DataFrame({
    "lsoa11_code": ["A", "B", "B", "C", "D", "E", "F", "F"],
    "lsoa21_code": ["a", "b1", "b2", "cd", "cd", "e1", "e1", "f1"],
    "change_code": ["U", "S", "S", "M", "M", "X", "X", "X"],
})
POP21 = pd.Series({"a": 100, "b1": 300, "b2": 100, "cd": 500, "e1": 200, "f1": 200})
POP11 = pd.Series({"A": 100, "B": 400, "C": 100, "D": 300, "E": 100, "F": 300})
DATA = pd.DataFrame({
    "lsoa11_code": ["A", "B", "C", "D", "E", "F"],
    "rate": [10.0, 20.0, 10.0, 30.0, 40.0, 60.0],
    "count": [5.0, 40.0, 10.0, 30.0, 8.0, 12.0],
})


def test_shares_split_each_parent_by_2021_population():
    shares = pair_shares(LOOKUP, POP21).set_index(["lsoa11_code", "lsoa21_code"])["share"]
    assert shares["A", "a"] == 1.0
    assert shares["B", "b1"] == pytest.approx(0.75) and shares["B", "b2"] == pytest.approx(0.25)
    assert shares["C", "cd"] == 1.0 and shares["D", "cd"] == 1.0
    # F's children e1 (200) and f1 (200): half each
    assert shares["F", "e1"] == pytest.approx(0.5) and shares["E", "e1"] == 1.0


def test_convert_rates_and_counts_by_the_documented_rules():
    out = convert_lsoa11_to_lsoa21(DATA, pair_shares(LOOKUP, POP21), rates=["rate"],
                                   counts=["count"], pop11=POP11).set_index("lsoa21_code")
    # U: copied
    assert out.loc["a", "rate"] == 10 and out.loc["a", "count"] == 5
    # S: rate copied to each child; count 40 split 3:1 by 2021 population
    assert out.loc["b1", "rate"] == 20 and out.loc["b2", "rate"] == 20
    assert out.loc["b1", "count"] == pytest.approx(30)
    assert out.loc["b2", "count"] == pytest.approx(10)
    # M: counts summed; rate weighted by 2011 population (10*100 + 30*300) / 400 = 25
    assert out.loc["cd", "count"] == 40 and out.loc["cd", "rate"] == pytest.approx(25)
    # X: e1 = all of E + half of F. count 8 + 6 = 14;
    # rate (40*100*1 + 60*300*0.5) / (100*1 + 300*0.5) = (4000 + 9000) / 250 = 52
    assert out.loc["e1", "count"] == pytest.approx(14)
    assert out.loc["e1", "rate"] == pytest.approx(52)
    assert out.loc["f1", "count"] == pytest.approx(6) and out.loc["f1", "rate"] == pytest.approx(60)
    # counts are conserved
    assert out["count"].sum() == pytest.approx(DATA["count"].sum())


def test_missing_parent_is_an_error_not_a_silent_drop():
    with pytest.raises(DataValidationError, match="no row in the data") as err:
        convert_lsoa11_to_lsoa21(DATA[DATA.lsoa11_code != "D"], pair_shares(LOOKUP, POP21),
                                 rates=["rate"], pop11=POP11, source="x.csv")
    assert err.value.problems[0].value == "D"


def test_a_parent_without_a_value_leaves_the_other_parents_weight():
    data = DATA.assign(rate=[10.0, 20.0, np.nan, 30.0, 40.0, 60.0])
    out = convert_lsoa11_to_lsoa21(data, pair_shares(LOOKUP, POP21), rates=["rate"],
                                   pop11=POP11).set_index("lsoa21_code")
    assert out.loc["cd", "rate"] == 30


def test_msoa_rates_are_inherited_and_counts_split_by_population():
    lsoa_msoa = pd.DataFrame({"lsoa21_code": ["a", "b", "c"], "msoa21_code": ["M1", "M1", "M2"]})
    frame = pd.DataFrame({"msoa21_code": ["M1", "M2"], "rate": [5.0, 7.0], "n": [30.0, 9.0]})
    out = msoa_to_lsoa(frame, lsoa_msoa, rates=["rate"], counts=["n"],
                       pop21=pd.Series({"a": 100, "b": 200, "c": 50})).set_index("lsoa21_code")
    assert out["rate"].tolist() == [5.0, 5.0, 7.0]
    assert out["n"].tolist() == pytest.approx([10.0, 20.0, 9.0])


def test_rollup_is_population_weighted_and_skips_missing():
    frame = pd.DataFrame({"ward": ["w", "w", "v"], "population": [100, 300, 50],
                          "rate": [10.0, 30.0, np.nan]})
    out = weighted_rollup(frame, ["ward"], rates=["rate"]).set_index("ward")
    assert out.loc["w", "rate"] == pytest.approx(25.0)  # (10*100 + 30*300) / 400
    assert out.loc["w", "population"] == 400
    assert np.isnan(out.loc["v", "rate"])


def test_coverage_simplification_keeps_neighbours_without_gaps_or_overlaps():
    # two neighbours sharing a wiggly edge
    edge = [(0, 1000)] + [(i * 10.0, 1000 + (7 if i % 2 else -7)) for i in range(1, 100)] + [
        (1000, 1000)]
    left = Polygon([(0, 0), (1000, 0), *reversed(edge)])
    right = Polygon([*edge, (1000, 2000), (0, 2000)])
    frame = gpd.GeoDataFrame({"code": ["a", "b"]}, geometry=[left, right], crs=27700)
    web = web_geometry(frame, tolerance_m=20, decimals=6)
    back = web.to_crs(27700)
    assert shapely.get_num_coordinates(web.geometry.to_numpy()).sum() < \
        shapely.get_num_coordinates(frame.geometry.to_numpy()).sum()
    overlap = back.geometry.iloc[0].intersection(back.geometry.iloc[1]).area
    union = shapely.union_all(back.geometry.to_numpy())
    assert overlap < 1.0  # m²: edges still shared
    # no gap opened: the union is one polygon without holes, its area the sum of the parts
    assert union.geom_type == "Polygon" and not list(union.interiors)
    assert union.area == pytest.approx(back.area.sum(), abs=1.0)
    assert union.area == pytest.approx(2_000_000, rel=1e-3)
