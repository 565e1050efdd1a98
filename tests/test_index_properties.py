"""Property tests (hypothesis) of the index engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapping.errors import DataValidationError
from mapping.index.engine import build_index
from mapping.index.spec import SpecError, spec_from_dict

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CODES = ["x1", "x2", "x3"]


def _spec(
    normalisation: str = "minmax",
    aggregation: str = "arithmetic",
    directions=("higher_is_worse", "higher_is_better", "higher_is_worse"),
):
    return spec_from_dict(
        {
            "index": {"name": "p", "version": "0", "unit_id": "id"},
            "indicator_level": {"normalisation": normalisation, "aggregation": "arithmetic"},
            "domain_level": {"aggregation": aggregation},
            "domains": [
                {
                    "code": "d1",
                    "weight": 0.5,
                    "indicators": [
                        {"code": "x1", "direction": directions[0], "weight": 0.5},
                        {"code": "x2", "direction": directions[1], "weight": 0.5},
                    ],
                },
                {
                    "code": "d2",
                    "weight": 0.5,
                    "indicators": [{"code": "x3", "direction": directions[2], "weight": 1.0}],
                },
            ],
        }
    )


@st.composite
def tables(draw, min_units: int = 4, max_units: int = 25):
    """Tables on a 0.01 grid (no floating-point near-ties), every column non-constant."""
    n = draw(st.integers(min_units, max_units))
    cols = {}
    for c in CODES:
        vals = draw(
            st.lists(st.integers(0, 10_000), min_size=n, max_size=n).filter(
                lambda v: len(set(v)) > 1
            )
        )
        cols[c] = np.array(vals, dtype=float) / 100
    return pd.DataFrame({"id": [f"u{i:03d}" for i in range(n)], **cols})


def _separated(scores: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Units whose score is more than ``tol`` from every other unit's."""
    d = np.abs(scores[:, None] - scores[None, :])
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1) > tol


@SETTINGS
@given(
    table=tables(),
    data=st.data(),
    norm=st.sampled_from(["minmax", "zscore", "rank", "percentile", "exponential"]),
    agg=st.sampled_from(["arithmetic", "imd"]),
)
def test_permuting_units_permutes_results(table, data, norm, agg):
    spec = _spec(norm, agg)
    perm = data.draw(st.permutations(range(len(table))))
    base = build_index(table, spec)
    moved = build_index(table.iloc[list(perm)].reset_index(drop=True), spec)
    np.testing.assert_allclose(moved.index.reindex(base.index.index), base.index, atol=1e-12)
    keep = _separated(base.index.to_numpy())
    assert (moved.rank.reindex(base.index.index)[keep] == base.rank[keep]).all()


@SETTINGS
@given(
    table=tables(),
    factor=st.sampled_from([0.001, 0.5, 3.0, 1000.0]),
    col=st.sampled_from(CODES),
    norm=st.sampled_from(["minmax", "rank", "percentile"]),
)
def test_scaling_an_indicator_changes_nothing(table, factor, col, norm):
    spec = _spec(norm)
    base = build_index(table, spec)
    scaled_table = table.assign(**{col: table[col] * factor})
    scaled = build_index(scaled_table, spec)
    if norm == "minmax":
        np.testing.assert_allclose(scaled.normalised, base.normalised, atol=1e-12)
    else:
        pd.testing.assert_frame_equal(scaled.normalised, base.normalised)
    np.testing.assert_allclose(scaled.index, base.index, atol=1e-12)
    keep = _separated(base.index.to_numpy())
    assert (scaled.rank[keep] == base.rank[keep]).all()


@SETTINGS
@given(
    table=tables(),
    data=st.data(),
    col=st.sampled_from(["x1", "x3"]),
    bump=st.integers(1, 5_000),
    norm=st.sampled_from(["minmax", "rank", "percentile"]),
)
def test_raising_a_higher_is_worse_indicator_never_lowers_the_score(table, data, col, bump, norm):
    # min-max: the unit's own (x - min)/(max - min) cannot fall when x rises, and every other
    # unit's can only fall (max or min moved up); rank: the unit can only pass others.
    spec = _spec(norm)  # x1 and x3 are higher_is_worse
    i = data.draw(st.integers(0, len(table) - 1))
    before = build_index(table, spec)
    raised = table.copy()
    raised.loc[i, col] = raised.loc[i, col] + bump / 100
    after = build_index(raised, spec)
    uid = table.loc[i, "id"]
    assert after.index[uid] >= before.index[uid] - 1e-12
    assert after.rank[uid] <= before.rank[uid]


@SETTINGS
@given(
    weights=st.lists(st.floats(0.01, 10, allow_nan=False), min_size=2, max_size=2).filter(
        lambda w: abs(sum(w) - 1) > 1e-3
    )
)
def test_weights_that_do_not_sum_to_one_are_rejected(weights):
    d = _spec().to_dict()
    for dom, w in zip(d["domains"], weights, strict=True):
        dom["weight"] = w
    with pytest.raises(SpecError, match=r"domains: weights sum to .*, not 1"):
        spec_from_dict(d, source="w.toml")
    d["index"]["normalise_weights"] = True
    assert sum(spec_from_dict(d).domain_weights().values()) == pytest.approx(1.0)


@SETTINGS
@given(w=st.floats(-100, -1e-6, allow_nan=False), which=st.integers(0, 2))
def test_negative_weights_are_rejected(w, which):
    d = _spec().to_dict()
    inds = [i for dom in d["domains"] for i in dom["indicators"]]
    inds[which]["weight"] = w
    d["index"]["normalise_weights"] = True
    with pytest.raises(SpecError, match=rf"\({CODES[which]}\)\.weight: must be >= 0"):
        spec_from_dict(d, source="neg.toml")


@SETTINGS
@given(
    table=tables(),
    code=st.text(alphabet="abcdefghij_", min_size=1, max_size=8).filter(
        lambda c: c not in CODES and c != "id"
    ),
)
def test_unknown_indicator_codes_are_rejected(table, code):
    d = _spec().to_dict()
    d["domains"][1]["indicators"][0]["code"] = code
    spec = spec_from_dict(d)
    with pytest.raises(DataValidationError, match=rf"column '{code}'.*unknown indicator code"):
        build_index(table, spec, name="tbl.csv")
    with pytest.raises(SpecError, match="unknown indicator code"):
        spec_from_dict(d, known_indicators=set(CODES))


@SETTINGS
@given(
    table=tables(), col=st.sampled_from(CODES), method=st.sampled_from(["none", "mean", "median"])
)
def test_an_all_nan_indicator_is_rejected(table, col, method):
    d = _spec().to_dict()
    d["imputation"] = {"method": method, "within": "frame", "max_missing_share": 1.0}
    spec = spec_from_dict(d)
    with pytest.raises(DataValidationError, match=rf"column '{col}': indicator has no values"):
        build_index(table.assign(**{col: np.nan}), spec)
