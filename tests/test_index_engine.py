"""The engine end to end on the hand-made fixture, reference frames, re-weighting, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mapping.errors import DataValidationError
from mapping.index.engine import build_index, reweight
from mapping.index.spec import spec_from_dict
from mapping.index.synthetic import synthetic_table
from tests._index_fixtures import (
    EXPECTED_D1,
    EXPECTED_D2,
    EXPECTED_INDEX,
    EXPECTED_RANK,
    TABLE,
    spec_dict,
)

IDS = ["u1", "u2", "u3", "u4"]


def test_fixture_index_by_hand():
    table = TABLE.copy()
    result = build_index(table, spec_from_dict(spec_dict()))
    np.testing.assert_allclose(result.domain_scores["d1"], EXPECTED_D1)
    np.testing.assert_allclose(result.domain_scores["d2"], EXPECTED_D2)
    np.testing.assert_allclose(result.index, EXPECTED_INDEX)
    assert result.rank.tolist() == EXPECTED_RANK
    # deciles of ranks 3 4 2 1 with n = 4: floor((r-1)*10/4)+1 -> 6 8 3 1; quintiles 3 4 2 1
    assert result.decile.tolist() == [6, 8, 3, 1]
    assert result.quintile.tolist() == [3, 4, 2, 1]
    pd.testing.assert_frame_equal(table, TABLE)  # input not modified
    out = result.table()
    assert list(out.columns) == [
        "id",
        "grp",
        "pop",
        "index_score",
        "d1_score",
        "d2_score",
        "index_rank",
        "index_decile",
        "index_quintile",
        "imputed_indicators",
    ]
    assert out["id"].tolist() == IDS


def test_geometric_domain_aggregation_by_hand():
    spec = spec_from_dict(
        spec_dict(domain_level={"aggregation": "geometric", "geometric_offset": 0.01})
    )
    result = build_index(TABLE, spec)
    # u1: exp(.4 ln(0 + .01) + .6 ln(.25 + .01)) - .01 = .01^.4 * .26^.6 - .01 = .060629
    assert result.index["u1"] == pytest.approx(0.01**0.4 * 0.26**0.6 - 0.01)
    # u4: .4 ln(1.01) + .6 ln(.635) -> 1.01^.4 * .635^.6 - .01
    assert result.index["u4"] == pytest.approx(1.01**0.4 * 0.635**0.6 - 0.01)


def test_imd_style_index_by_hand():
    # domains ranked: d1 = 0 .25 .5 1 -> r 1 2 3 4; d2 = .25 0 .875 .625 -> r 2 1 4 3
    # E(R = r/4) = -23 ln(1 - R (1 - e^(-100/23))); index = .4 E(d1) + .6 E(d2)
    spec = spec_from_dict(spec_dict(domain_level={"aggregation": "imd"}))
    result = build_index(TABLE, spec)
    f = 1 - math.exp(-100 / 23)

    def e(r: int) -> float:
        return -23 * math.log(1 - r / 4 * f)

    expected = [
        0.4 * e(1) + 0.6 * e(2),
        0.4 * e(2) + 0.6 * e(1),
        0.4 * e(3) + 0.6 * e(4),
        0.4 * e(4) + 0.6 * e(3),
    ]
    np.testing.assert_allclose(result.index, expected)
    assert result.rank.tolist() == [3, 4, 1, 2]  # u3's top d2 rank outweighs u4's top d1


def test_boroughs_frame_rescales_to_the_selection():
    spec = spec_from_dict(spec_dict(frame={"kind": "boroughs", "codes": ["g2"]}))
    result = build_index(TABLE, spec)
    assert result.index.index.tolist() == ["u3", "u4"]
    # within g2 only: a 3, 5 -> 0, 1; b 20, 10 (better) -> 0, 1; c 4, 2 -> 1, 0
    # d2 = .25 b + .75 c -> .75, .25; index = .4 d1 + .6 d2 -> .45, .55
    np.testing.assert_allclose(result.index, [0.45, 0.55])
    assert result.rank.tolist() == [2, 1]
    with pytest.raises(DataValidationError, match=r"frame codes not found in the table: \['g9'\]"):
        build_index(TABLE, spec.with_frame("boroughs", ["g9"]))


def test_london_and_england_frames():
    table = synthetic_table(300, n_groups=40, seed=5)
    spec = spec_from_dict(
        {
            **spec_dict(frame={"kind": "london"}),
            "index": {
                "name": "t",
                "version": "0",
                "unit_id": "lsoa21_code",
                "group_column": "borough_code",
            },
            "domains": [
                {
                    "code": "d",
                    "weight": 1.0,
                    "indicators": [
                        {"code": "age_75_plus_pct", "direction": "higher_is_worse", "weight": 1.0}
                    ],
                }
            ],
        }
    )
    london = build_index(table, spec)
    n_london = int(table["borough_code"].str.startswith("E09").sum())
    assert len(london.index) == n_london < len(table)
    england = build_index(table, spec.with_frame("england"))
    assert len(england.index) == len(table)
    with pytest.raises(DataValidationError, match="England-wide table"):
        build_index(table[table["borough_code"].str.startswith("E09")], spec.with_frame("england"))


def test_reweight_matches_a_fresh_build():
    spec = spec_from_dict(spec_dict())
    result = build_index(TABLE, spec)
    fast = reweight(result, {"d1": 0.5, "d2": 0.5})
    fresh = build_index(TABLE, spec.with_weights({"d1": 0.5, "d2": 0.5}))
    np.testing.assert_allclose(fast.index, fresh.index)
    # .5 d1 + .5 d2 = .125 .125 .6875 .8125 -> ranks 3 3 2 1 (tie shares the best rank)
    np.testing.assert_allclose(fast.index, [0.125, 0.125, 0.6875, 0.8125])
    assert fast.rank.tolist() == [3, 3, 2, 1]
    np.testing.assert_allclose(result.index, EXPECTED_INDEX)  # original untouched


def test_imputation_is_flagged_in_the_output():
    table = TABLE.copy()
    table.loc[1, "c"] = np.nan
    spec = spec_from_dict(
        spec_dict(imputation={"method": "median", "within": "group", "max_missing_share": 0.5})
    )
    result = build_index(table, spec)
    # u2's c comes from its group g1: the median of u1's 0 -> 0, so scores are unchanged
    np.testing.assert_allclose(result.index, EXPECTED_INDEX)
    assert result.imputed_flags.loc["u2", "c"]
    assert result.table()["imputed_indicators"].tolist() == ["", "c", "", ""]


def test_table_errors_name_the_column():
    spec = spec_from_dict(spec_dict())
    with pytest.raises(DataValidationError, match="'c'.*unknown indicator code"):
        build_index(TABLE.drop(columns=["c"]), spec, name="t.csv")
    bad = TABLE.astype({"a": object})
    bad.loc[2, "a"] = "n/a"
    with pytest.raises(DataValidationError, match="t.csv, column 'a': 1 non-numeric.*u3"):
        build_index(bad, spec, name="t.csv")
    dup = TABLE.copy()
    dup.loc[3, "id"] = "u1"
    with pytest.raises(DataValidationError, match="duplicate unit ids"):
        build_index(dup, spec)


def test_all_nan_indicator_is_a_clear_error():
    table = TABLE.copy()
    table["b"] = np.nan
    spec = spec_from_dict(spec_dict(imputation={"method": "mean"}))
    with pytest.raises(DataValidationError, match="column 'b': indicator has no values"):
        build_index(table, spec)


def test_constant_indicator_cannot_be_min_max_scaled():
    table = TABLE.copy()
    table["c"] = 1.0
    with pytest.raises(DataValidationError, match="column 'c'.*max = min"):
        build_index(table, spec_from_dict(spec_dict()))
    # rank-based normalisation handles it (every unit ties)
    spec = spec_from_dict(spec_dict(indicator_level={"normalisation": "rank"}))
    assert build_index(table, spec).normalised["c"].nunique() == 1
