"""Quantiles and equal intervals, computed by the app's own few lines, are mapclassify's:
the same bounds and the same class for every value (random data, ties, few distinct values,
and every measure of the real build)."""

from __future__ import annotations

import warnings

import mapclassify
import numpy as np
import pytest

from mapping.maps.classify import bin1d, equal_interval_bins, quantile_bins

SAMPLES = {
    "normal": np.random.default_rng(1).normal(size=4994),
    "ties": np.random.default_rng(2).integers(0, 12, size=700).astype(float),
    "few distinct": np.array([0.0] * 20 + [100.0] * 13),
    "skewed": np.random.default_rng(3).lognormal(size=684),
}


def check(y: np.ndarray, k: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mapclassify says when equal quantiles merge
        q = mapclassify.Quantiles(y, k=k)
    bins = quantile_bins(y, k)
    assert np.array_equal(bins, q.bins)
    assert np.array_equal(bin1d(y, bins), q.yb)
    e = mapclassify.EqualInterval(y, k=k)
    bins = equal_interval_bins(y, k)
    assert np.array_equal(bins, e.bins)
    assert np.array_equal(bin1d(y, bins), e.yb)


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("k", [2, 3, 4, 5, 6, 7, 9])
def test_bins_and_classes_are_mapclassifys(name, k):
    check(SAMPLES[name], k)


def test_every_measure_of_the_real_build(processed_dir):
    from mapping.app.data import app_data
    from mapping.app.store import AppState

    data = app_data(str(processed_dir))
    s = AppState(data)
    for level in ("lsoa", "borough"):
        for measure in list(s.measures(level))[:40]:
            if measure == "main_need":
                continue
            y = s.values(measure, level)
            y = y[~np.isnan(y)]
            if np.unique(y).size < 2:
                continue
            for k in (3, 5, 7):
                check(y, k)
