"""Robustness analysis: Monte Carlo, sensitivity, leave-one-out, correlations, alpha."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mapping.index.engine import build_index
from mapping.index.robustness import (
    _summarise,
    cronbach_alpha,
    indicator_correlations,
    leave_one_out,
    monte_carlo,
)
from mapping.index.spec import SpecError, spec_from_dict
from mapping.index.synthetic import synthetic_table
from tests._index_fixtures import TABLE, spec_dict


@pytest.fixture(scope="module")
def synthetic_result():
    from mapping.index.spec import load_default_spec

    return build_index(synthetic_table(600, seed=11), load_default_spec())


def test_fixed_weights_reproduce_the_nominal_ranks():
    # concentration = inf: every draw uses the default weights, min-max and arithmetic, so
    # every draw's ranks are the nominal ranks (3 4 2 1) and the interval has zero width
    result = build_index(TABLE, spec_from_dict(spec_dict()))
    mc = monte_carlo(
        result,
        draws=20,
        concentration=math.inf,
        exclude_one_indicator=False,
        normalisations=["minmax"],
        aggregations=["arithmetic"],
    )
    assert mc.ranks["median_rank"].tolist() == [3, 4, 2, 1]
    assert (mc.ranks["interval_width"] == 0).all() and not mc.ranks["unstable"].any()
    assert (mc.draws["mean_abs_rank_shift"] == 0).all()


def test_monte_carlo_matches_the_engine_for_every_choice(synthetic_result):
    # with fixed weights, each (normalisation, aggregation) pair must rank exactly as a fresh
    # engine build with that method does
    base = synthetic_result.spec.to_dict()
    for norm, agg in [("rank", "geometric"), ("minmax", "imd"), ("zscore", "arithmetic")]:
        d = {
            **base,
            "indicator_level": {**base["indicator_level"], "normalisation": norm},
            "domain_level": {**base["domain_level"], "aggregation": agg},
            "robustness": {**base["robustness"], "normalisations": [norm], "aggregations": [agg]},
        }
        spec = spec_from_dict(d)
        engine = build_index(synthetic_table(600, seed=11), spec)
        mc = monte_carlo(engine, draws=2, concentration=math.inf, exclude_one_indicator=False)
        np.testing.assert_array_equal(mc.ranks["median_rank"], engine.rank.to_numpy())


def test_monte_carlo_outputs(synthetic_result):
    mc = monte_carlo(synthetic_result, draws=200, seed=4)
    r = mc.ranks
    assert len(r) == 600 and r.index.equals(synthetic_result.index.index)
    assert ((r["rank_p05"] <= r["median_rank"]) & (r["median_rank"] <= r["rank_p95"])).all()
    assert r["rank_p05"].min() >= 1 and r["rank_p95"].max() <= 600
    np.testing.assert_array_equal(r["unstable"], (r["rank_p95"] - r["rank_p05"]) / 600 > 0.2)
    assert len(mc.draws) == 200
    assert set(mc.draws["normalisation"]) == {"minmax", "rank"}
    assert set(mc.draws["aggregation"]) == {"arithmetic", "geometric"}
    w = mc.draws.filter(like="weight_").to_numpy()
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    # Dirichlet around the defaults: the mean weight is near each domain's default weight
    defaults = list(synthetic_result.spec.domain_weights().values())
    np.testing.assert_allclose(w.mean(axis=0), defaults, atol=0.03)
    assert set(mc.sensitivity["factor"]) == {
        "normalisation",
        "aggregation",
        "excluded_indicator",
        *(f"weight:{d}" for d in synthetic_result.spec.domain_codes),
    }
    assert mc.sensitivity["first_order"].between(0, 1).all()
    # same seed, same draws
    again = monte_carlo(synthetic_result, draws=200, seed=4, threads=1)
    pd.testing.assert_frame_equal(again.ranks, mc.ranks)


def test_a_single_varying_choice_explains_all_rank_variance(synthetic_result):
    # only the normalisation varies: the rank is a function of it, so S = 1
    mc = monte_carlo(
        synthetic_result,
        draws=60,
        concentration=math.inf,
        exclude_one_indicator=False,
        aggregations=["arithmetic"],
    )
    s = mc.sensitivity.set_index("factor")["first_order"]
    assert s["normalisation"] == pytest.approx(1.0)
    assert s["aggregation"] == pytest.approx(0.0)


def test_first_order_by_hand():
    # one unit, four draws: ranks 1 1 3 3 with factor levels a a b b.
    # mean 2, Var(Y) = 1; level means 1 and 3 -> Var(E[Y|X]) = .5 (1-2)^2 + .5 (3-2)^2 = 1
    # a second factor c d c d has level means 2 and 2 -> 0
    ranks = np.array([[1], [1], [3], [3]], dtype=np.uint16)
    q, out = _summarise(ranks, {"x": np.array([0, 0, 1, 1]), "z": np.array([0, 1, 0, 1])}, 1)
    assert out.set_index("factor")["first_order"].to_dict() == pytest.approx({"x": 1.0, "z": 0.0})
    # sorted 1 1 3 3: p05 at position .15 -> 1; median at 1.5 -> 2; p95 at 2.85 -> 3
    np.testing.assert_allclose(q, [[1.0, 2.0, 3.0]])


def test_rank_quantiles_match_numpy_percentile():
    rng = np.random.default_rng(0)
    ranks = rng.integers(1, 5000, size=(137, 3000)).astype(np.uint16)
    q, _ = _summarise(ranks, {"x": rng.integers(0, 3, 137)}, 2)
    np.testing.assert_allclose(q, np.percentile(ranks, [5, 50, 95], axis=0).T)


def test_dropping_the_only_indicator_of_a_domain(synthetic_result):
    # d1 has one indicator: excluding it must drop the domain, not fail
    result = build_index(TABLE, spec_from_dict(spec_dict()))
    mc = monte_carlo(result, draws=50, seed=1)
    dropped = mc.draws[mc.draws["excluded_indicator"] == "a"]
    assert len(dropped) and (dropped["weight_d1"] == 0).all()
    np.testing.assert_allclose(dropped["weight_d2"], 1.0)


def test_invalid_alternatives_are_rejected(synthetic_result):
    with pytest.raises(SpecError, match="geometric aggregation and normalisation 'zscore'"):
        monte_carlo(
            synthetic_result, draws=5, normalisations=["zscore"], aggregations=["geometric"]
        )


def test_leave_one_out_by_hand():
    # without c, d2 = b alone (1 0 .5 1); index = .4 d1 + .6 b = .6 .1 .5 1 -> ranks 2 4 3 1
    # nominal ranks 3 4 2 1: shifts 1 0 1 0, mean .5
    result = build_index(TABLE, spec_from_dict(spec_dict()))
    loo = leave_one_out(result).set_index("indicator")
    assert loo.loc["c", "mean_abs_rank_shift"] == pytest.approx(0.5)
    assert loo.loc["c", "max_abs_rank_shift"] == 1
    # without a, the index is d2 alone: .25 0 .875 .625 -> ranks 3 4 1 2; shifts 0 0 1 1
    assert loo.loc["a", "mean_abs_rank_shift"] == pytest.approx(0.5)


def test_cronbach_alpha_by_hand():
    # two standardised items with y = 2x: r = 1, var(z_x + z_y) = 4 -> alpha = 2 (1 - 2/4) = 1
    # x = 1..5 and z = 2 1 4 3 5: deviations (-2 -1 0 1 2), (-1 -2 1 0 2), products sum 8,
    # squares 10 and 10 -> r = .8
    table = pd.DataFrame(
        {
            "id": list("abcde"),
            "x": [1.0, 2, 3, 4, 5],
            "y": [2.0, 4, 6, 8, 10],
            "z": [2.0, 1, 4, 3, 5],
        }
    )
    spec = spec_from_dict(
        {
            "index": {"name": "a", "version": "0", "unit_id": "id"},
            "domains": [
                {
                    "code": "same",
                    "weight": 0.5,
                    "indicators": [
                        {"code": "x", "direction": "higher_is_worse", "weight": 0.5},
                        {"code": "y", "direction": "higher_is_worse", "weight": 0.5},
                    ],
                },
                {
                    "code": "mixed",
                    "weight": 0.5,
                    "indicators": [{"code": "z", "direction": "higher_is_worse", "weight": 1.0}],
                },
            ],
        }
    )
    alpha = cronbach_alpha(build_index(table, spec)).set_index("domain")
    assert alpha.loc["same", "alpha"] == pytest.approx(1.0)
    assert math.isnan(alpha.loc["mixed", "alpha"])
    # standardised alpha = k r / (1 + (k - 1) r); x with z: r = .8 -> 2 (.8) / 1.8 = .888...
    spec2 = spec.with_weights(indicator_weights={"y": 0.0})
    d = spec2.to_dict()
    d["domains"][0]["indicators"][1]["code"] = "z"
    d["domains"][1]["indicators"][0]["code"] = "y"
    alpha2 = cronbach_alpha(build_index(table, spec_from_dict(d))).set_index("domain")
    assert alpha2.loc["same", "alpha"] == pytest.approx(2 * 0.8 / 1.8)


def test_indicator_correlations_respect_direction():
    result = build_index(TABLE, spec_from_dict(spec_dict()))
    corr = indicator_correlations(result)
    assert list(corr.columns) == ["a", "b", "c"]
    np.testing.assert_allclose(np.diag(corr), 1.0)
    # b is aligned (higher is better -> -b): spearman of a (1 2 3 5) with -b ranks (3.5 1 2 3.5)
    assert corr.loc["a", "b"] == pytest.approx(
        pd.Series([1, 2, 3, 4]).corr(pd.Series([3.5, 1, 2, 3.5]))
    )
