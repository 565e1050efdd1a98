"""The build hook: the default London index on a synthetic processed table."""

from __future__ import annotations

import pandas as pd
import pytest

from mapping.errors import DataValidationError
from mapping.index import build_default
from mapping.index.synthetic import synthetic_table


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    folder = tmp_path_factory.mktemp("processed")
    synthetic_table(800, seed=9, missing_share=0.01).to_csv(
        folder / "lsoa21_indicators.csv", index=False
    )
    return folder, build_default(folder)


def test_build_default_frames(frames):
    _, out = frames
    assert set(out) >= {
        "lsoa21_index",
        "ward24_index",
        "borough_index",
        "index_validation",
        "index_sensitivity",
        "index_monte_carlo_draws",
        "index_leave_one_out",
        "indicator_correlations",
        "domain_cronbach_alpha",
        "index_weights",
    }
    lsoa = out["lsoa21_index"]
    assert len(lsoa) == 800 and lsoa["lsoa21_code"].is_unique
    assert {"median_rank", "rank_p05", "rank_p95", "unstable", "ward24_code"} <= set(lsoa.columns)
    assert (lsoa["imputed_indicators"] != "").any()  # 1 % of cells were missing
    boroughs = out["borough_index"]
    # every resident is counted once; shares are shares of residents
    assert boroughs["population"].sum() == lsoa["population"].sum()
    assert boroughs["share_top10"].between(0, 1).all()
    top10 = lsoa.loc[lsoa["index_decile"] == 1, "population"].sum()
    assert (boroughs["share_top10"] * boroughs["population"]).sum() == pytest.approx(top10)
    assert out["index_validation"]["reference"].tolist() == [
        "deri_score_2011",
        "iuc_least_engaged_share",
        "dpi_online_pct",
    ]
    val = out["validation"]
    # the index, the earlier index, each domain, each indicator, the DERI: London and boroughs
    assert {"index_score", "index_equal_v1", "age_score", "age_65_plus_pct",
            "deri_score_2011"} <= set(val["measure"])
    assert set(val["reference"]) == {"dpi_online_pct", "iuc_least_engaged_share"}
    assert set(val["scope"]) == {"london", *lsoa["borough_code"]}
    assert set(val.loc[val["measure"] == "deri_score_2011", "kind"]) == {"comparator"}
    london = val[(val["scope"] == "london") & (val["measure"] == "index_score")]
    assert (london["n"] == 800).all()
    # the synthetic DPI falls as risk rises: the index must say so
    assert london.set_index("reference").loc["dpi_online_pct", "spearman_rho"] < -0.3
    assert "lsoa21_index_equal_v1" in out
    assert out["index_weights"]["effective_weight"].sum() == pytest.approx(1.0)
    assert out["index_weights"]["spec_sha256"].nunique() == 1


def test_build_default_is_reproducible(frames):
    folder, first = frames
    second = build_default(folder)
    for key, frame in first.items():
        pd.testing.assert_frame_equal(frame, second[key], check_exact=True, obj=key)


def test_build_default_without_the_table(tmp_path):
    with pytest.raises(DataValidationError, match="lsoa21_indicators.csv: file not found"):
        build_default(tmp_path)
