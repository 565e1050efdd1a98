"""Each index method against values worked out by hand (arithmetic in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mapping.errors import DataValidationError
from mapping.index.aggregate import imd_sum, weighted_arithmetic, weighted_geometric
from mapping.index.engine import rank_bands, rank_descending
from mapping.index.impute import impute
from mapping.index.normalise import (
    average_ranks,
    distance_to_reference,
    exponential,
    minmax,
    normalise,
    zscore,
)
from mapping.index.outliers import kurtosis, skewness, treat_outliers, winsorise
from mapping.index.spec import ImputationSpec, LevelSpec, OutlierSpec

A = np.array([[1.0], [2.0], [3.0], [5.0]])
EXP_FACTOR = 1 - math.exp(-100 / 23)  # 1 - e^(-100/23) = 0.987065...


# ----------------------------------------------------------------------------- normalisation


def test_minmax_by_hand():
    # a = 1, 2, 3, 5: min 1, max 5, span 4 -> (a - 1) / 4 = 0, .25, .5, 1
    np.testing.assert_allclose(minmax(A)[:, 0], [0, 0.25, 0.5, 1.0])
    # to 0-10: 10 * the above
    np.testing.assert_allclose(minmax(A, 0, 10)[:, 0], [0, 2.5, 5, 10])


def test_minmax_constant_column_is_an_error_naming_it():
    with pytest.raises(DataValidationError, match="'flat'.*constant"):
        minmax(np.array([[1.0, 2.0], [1.0, 3.0]])[:, :1], names=["flat"])


def test_zscore_by_hand():
    # mean 2.75; deviations -1.75 -.75 .25 2.25; squares sum 8.75; sample var 8.75/3 = 2.916667
    # sd = 1.707825; z = dev / sd
    sd = math.sqrt(8.75 / 3)
    np.testing.assert_allclose(zscore(A)[:, 0], np.array([-1.75, -0.75, 0.25, 2.25]) / sd)
    np.testing.assert_allclose(
        zscore(A)[:, 0], [-1.024695, -0.439155, 0.146385, 1.317465], atol=1e-6
    )


def test_average_ranks_with_ties():
    # b aligned = -10, -30, -20, -10: ascending -30 (1), -20 (2), -10 and -10 share (3+4)/2 = 3.5
    b = np.array([[-10.0], [-30.0], [-20.0], [-10.0]])
    np.testing.assert_allclose(average_ranks(b)[:, 0], [3.5, 1, 2, 3.5])
    level = LevelSpec(normalisation="rank")
    frame = pd.DataFrame({"b": [10.0, 30.0, 20.0, 10.0]})
    # higher_is_better: aligned = -b; fractional rank r / n = .875 .25 .5 .875
    out = normalise(frame, level, signs={"b": -1.0})
    np.testing.assert_allclose(out["b"], [0.875, 0.25, 0.5, 0.875])
    pct = normalise(frame, LevelSpec(normalisation="percentile"), signs={"b": -1.0})
    np.testing.assert_allclose(pct["b"], [87.5, 25, 50, 87.5])


def test_average_ranks_many_columns_match_scipy():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, size=(40, 6)).astype(float)
    np.testing.assert_allclose(average_ranks(x), stats.rankdata(x, axis=0))


def test_exponential_transformation_by_hand():
    # ranks 1..4 -> R = .25 .5 .75 1; E = -23 ln(1 - R (1 - e^(-100/23)))
    # R = 1: 1 - (1 - e^(-100/23)) = e^(-100/23) -> E = -23 * (-100/23) = 100 exactly
    # R = .5: 1 - .5 * .987065 = .5064675, ln = -.680308, E = 15.6468
    e = exponential(A)[:, 0]
    assert e[3] == pytest.approx(100.0, abs=1e-9)
    assert e[1] == pytest.approx(15.6468, abs=1e-4)
    expected = [-23 * math.log(1 - r * EXP_FACTOR) for r in (0.25, 0.5, 0.75, 1.0)]
    np.testing.assert_allclose(e, expected)
    assert np.all(np.diff(e) > 0)


def test_distance_to_reference_difference_and_ratio():
    # difference to the median 2.5, scaled by the range 4: (a - 2.5) / 4
    level = LevelSpec(normalisation="distance_to_reference", reference="median")
    out = normalise(pd.DataFrame({"a": A[:, 0]}), level)
    np.testing.assert_allclose(out["a"], [-0.375, -0.125, 0.125, 0.625])
    # ratio, higher is better, reference 20: x_ref / x = 20/10, 20/30, 20/20, 20/10
    level = LevelSpec(normalisation="distance_to_reference", distance="ratio", reference=20.0)
    out = normalise(pd.DataFrame({"b": [10.0, 30.0, 20.0, 10.0]}), level, signs={"b": -1.0})
    np.testing.assert_allclose(out["b"], [2.0, 2 / 3, 1.0, 2.0])
    # ratio, higher is worse, per-indicator reference 2: x / 2
    out = normalise(pd.DataFrame({"a": A[:, 0]}), level, references={"a": 2.0})
    np.testing.assert_allclose(out["a"], [0.5, 1.0, 1.5, 2.5])


def test_ratio_distance_rejects_non_positive_values():
    with pytest.raises(DataValidationError, match="positive"):
        distance_to_reference(
            np.array([[0.0], [1.0]]), np.array([1.0]), np.array([1.0]), "ratio", ["x"]
        )


def test_normalise_refuses_missing_values():
    with pytest.raises(DataValidationError, match="impute first"):
        normalise(pd.DataFrame({"a": [1.0, np.nan, 2.0]}), LevelSpec(normalisation="minmax"))


# ----------------------------------------------------------------------------- aggregation


def test_weighted_arithmetic_by_hand():
    # rows (0, 1) and (1, .5); weights .25/.75 -> .75 and .25 + .375 = .625
    x = np.array([[0.0, 1.0], [1.0, 0.5]])
    np.testing.assert_allclose(weighted_arithmetic(x, np.array([0.25, 0.75])), [0.75, 0.625])
    # weights are rescaled to sum to one: (1, 3) == (.25, .75)
    np.testing.assert_allclose(weighted_arithmetic(x, np.array([1.0, 3.0])), [0.75, 0.625])


def test_weighted_geometric_by_hand():
    # exp(.4 ln(0 + .01) + .6 ln(.25 + .01)) - .01 = .01^.4 * .26^.6 - .01
    #   = .158489 * .445645 - .01 = .060629
    x = np.array([[0.0, 0.25], [0.5, 0.5]])
    g = weighted_geometric(x, np.array([0.4, 0.6]), offset=0.01)
    assert g[0] == pytest.approx(0.01**0.4 * 0.26**0.6 - 0.01)
    assert g[0] == pytest.approx(0.060629, abs=1e-6)
    # equal inputs give the input back: exp(ln(.51)) - .01 = .5
    assert g[1] == pytest.approx(0.5)
    # geometric <= arithmetic (AM-GM)
    assert np.all(g <= weighted_arithmetic(x, np.array([0.4, 0.6])) + 1e-12)


def test_geometric_rejects_values_below_minus_offset():
    with pytest.raises(DataValidationError, match="offset"):
        weighted_geometric(np.array([[-0.5, 1.0]]), np.array([0.5, 0.5]), offset=0.01)
    with pytest.raises(DataValidationError, match="offset"):
        weighted_geometric(np.array([[0.0, 1.0]]), np.array([0.5, 0.5]), offset=0.0)


def test_imd_sum_by_hand():
    # columns ranked 1..4 and 4..1; E(R) with R = r/4; weights .5/.5
    x = np.hstack([A, A[::-1]])
    e = [-23 * math.log(1 - r * EXP_FACTOR) for r in (0.25, 0.5, 0.75, 1.0)]
    expected = [0.5 * e[i] + 0.5 * e[3 - i] for i in range(4)]
    np.testing.assert_allclose(imd_sum(x, np.array([0.5, 0.5])), expected)
    # the unit at the top of one domain (E = 100) outscores one in the middle of both
    assert expected[3] > 2 * 0.5 * e[1]


# ----------------------------------------------------------------------------- ranks and bands


def test_rank_descending_and_bands():
    # scores .15 .1 .725 .775 -> ranks 3 4 2 1; ties take the best (min) rank
    s = pd.Series([0.15, 0.1, 0.725, 0.775])
    r = rank_descending(s)
    assert r.tolist() == [3, 4, 2, 1]
    assert rank_descending(pd.Series([1.0, 2.0, 2.0])).tolist() == [3, 1, 1]
    # decile = floor((r - 1) * 10 / 4) + 1: r 1..4 -> 1, 3, 6, 8; quintile -> 1, 2, 3, 4
    assert rank_bands(pd.Series([1, 2, 3, 4]), 10).tolist() == [1, 3, 6, 8]
    assert rank_bands(pd.Series([1, 2, 3, 4]), 5).tolist() == [1, 2, 3, 4]
    # 20 units: deciles hold exactly two units each
    assert np.bincount(rank_bands(pd.Series(range(1, 21)), 10))[1:].tolist() == [2] * 10


# ----------------------------------------------------------------------------- imputation


RAW = pd.DataFrame({"x": [1.0, np.nan, 3.0, 10.0]}, index=["u1", "u2", "u3", "u4"])
GROUPS = pd.Series(["g1", "g1", "g2", "g2"], index=RAW.index)


def test_impute_frame_mean_and_median():
    spec = ImputationSpec(method="mean", max_missing_share=0.5)
    out, flags = impute(RAW, spec)
    # mean of 1, 3, 10 = 14/3
    assert out.loc["u2", "x"] == pytest.approx(14 / 3)
    assert flags["x"].tolist() == [False, True, False, False]
    out, _ = impute(RAW, ImputationSpec(method="median", max_missing_share=0.5))
    assert out.loc["u2", "x"] == 3.0  # median of 1, 3, 10
    assert np.isnan(RAW.loc["u2", "x"])  # input untouched


def test_impute_within_group():
    spec = ImputationSpec(method="mean", within="group", max_missing_share=0.5)
    out, flags = impute(RAW, spec, GROUPS)
    assert out.loc["u2", "x"] == 1.0  # the only other g1 value
    assert int(flags.to_numpy().sum()) == 1


def test_impute_group_without_values_is_an_error():
    raw = pd.DataFrame({"x": [np.nan, 1.0, 2.0, 3.0]}, index=RAW.index)
    groups = pd.Series(["g1", "g2", "g2", "g2"], index=RAW.index)
    spec = ImputationSpec(method="median", within="group", max_missing_share=0.5)
    with pytest.raises(DataValidationError, match=r"\['g1'\] have no value"):
        impute(raw, spec, groups)


def test_impute_none_reports_missing_units():
    with pytest.raises(DataValidationError, match="u2.*imputation.method = 'none'"):
        impute(RAW, ImputationSpec(method="none", max_missing_share=0.5))


def test_screening_all_missing_and_too_many_missing():
    raw = pd.DataFrame({"x": [np.nan] * 4, "y": [1.0, np.nan, 2.0, 3.0]})
    with pytest.raises(DataValidationError) as err:
        impute(raw, ImputationSpec(method="mean", max_missing_share=0.1))
    text = str(err.value)
    assert "'x'" in text and "all missing" in text
    assert "'y'" in text and "1 of 4" in text


# ----------------------------------------------------------------------------- outliers

COINR_X = np.array([*range(1, 11), 30.0, 100.0])  # COINr's own example


def test_skew_and_kurtosis_match_excel_definitions():
    # Excel SKEW / KURT = scipy's bias-corrected statistics (independent implementation)
    assert skewness(COINR_X) == pytest.approx(stats.skew(COINR_X, bias=False))
    assert kurtosis(COINR_X) == pytest.approx(stats.kurtosis(COINR_X, bias=False))
    assert skewness(COINR_X) == pytest.approx(3.0632, abs=1e-4)
    assert kurtosis(COINR_X) == pytest.approx(9.7414, abs=1e-4)


def test_winsorise_coinr_example():
    # skew 3.06 > 2 and kurtosis 9.74 > 3.5: fails. Skew > 0, so the maximum 100 becomes the
    # next value 30. Now skew 1.71 < 2: passes after one point.
    y, changed = winsorise(COINR_X, max_points=5, skew_threshold=2, kurtosis_threshold=3.5)
    np.testing.assert_array_equal(y, [*range(1, 11), 30, 30])
    assert changed.tolist() == [False] * 11 + [True]
    assert skewness(y) == pytest.approx(1.712, abs=1e-3)


def test_winsorise_moves_ties_together_and_stops_at_max_points():
    z = np.array([*range(1, 19), 1000.0, 1000.0])
    # both 1000s are the maximum: they move together to 18
    y, changed = winsorise(z, max_points=1, skew_threshold=2, kurtosis_threshold=3.5)
    assert y[-2:].tolist() == [18.0, 18.0] and int(changed.sum()) == 2


HEAVY = np.array([*range(1, 28), 500.0, 600.0, 700.0])


def test_treatment_falls_back_to_log_when_winsorising_fails():
    # skew 2.91, kurtosis 7.21: fails. One point allowed: 700 -> 600 leaves skew 2.84,
    # kurtosis 6.61: still fails, so the original values are log-transformed:
    # log(x - min + 0.01 (max - min)) = log(x - 1 + 6.99)
    frame = pd.DataFrame({"x": HEAVY})
    spec = OutlierSpec(method="winsorise", max_points=1)
    treated, details = treat_outliers(frame, spec)
    assert details.loc[0, "action"] == "log"
    assert details.loc[0, "points_winsorised"] == 0
    np.testing.assert_allclose(treated["x"], np.log(HEAVY - 1 + 6.99))
    kept, d2 = treat_outliers(
        frame, OutlierSpec(method="winsorise", max_points=1, on_failure="keep_winsorised")
    )
    assert d2.loc[0, "action"] == "kept_winsorised" and kept["x"].max() == 600.0
    orig, d3 = treat_outliers(
        frame, OutlierSpec(method="winsorise", max_points=1, on_failure="original")
    )
    assert d3.loc[0, "action"] == "kept_original"
    np.testing.assert_array_equal(orig["x"], HEAVY)
    # with three points allowed: 700 -> 600 (1 unit changed), 600 x2 -> 500 (2 units), still
    # failing, then 500 x3 -> 27 (3 units): 27 is the next value, and the rule passes
    w, d4 = treat_outliers(frame, OutlierSpec(method="winsorise", max_points=3))
    assert d4.loc[0, "action"] == "winsorised" and d4.loc[0, "points_winsorised"] == 3
    np.testing.assert_array_equal(w["x"], [*range(1, 28), 27, 27, 27])


def test_negative_skew_log_is_mirrored_and_keeps_order():
    x = -HEAVY
    treated, details = treat_outliers(
        pd.DataFrame({"x": x}), OutlierSpec(method="winsorise", max_points=1)
    )
    assert details.loc[0, "action"] == "log"
    # -ln(max - x + 0.01 (max - min)) = -ln(-1 - x + 6.99), increasing in x like x itself
    np.testing.assert_allclose(treated["x"], -np.log(-1 - x + 6.99))
    assert (np.argsort(treated["x"].to_numpy()) == np.argsort(x)).all()


def test_no_treatment_when_rule_passes():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    treated, details = treat_outliers(frame, OutlierSpec(method="winsorise"))
    assert details.loc[0, "action"] == "none" and not details.loc[0, "failed"]
    pd.testing.assert_frame_equal(treated, frame)
