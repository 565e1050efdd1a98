"""Validation correlations and population-weighted roll-ups, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mapping.errors import DataValidationError
from mapping.index.engine import build_index
from mapping.index.rollup import rollup
from mapping.index.spec import spec_from_dict
from mapping.index.validation import disagreement, spearman_validation
from tests._index_fixtures import TABLE, spec_dict

IDX = pd.Series([0.15, 0.1, 0.725, 0.775], index=["u1", "u2", "u3", "u4"])


def test_spearman_by_hand():
    # index ranks 2 1 3 4; reference ranks 1 2 3 4: d = 1 -1 0 0, sum d^2 = 2
    # rho = 1 - 6 * 2 / (4 * 15) = .8
    refs = pd.DataFrame({"ref": [1.0, 2.0, 3.0, 4.0], "neg": [4.0, 3.0, 2.0, 1.0]}, index=IDX.index)
    out = spearman_validation(IDX, refs).set_index("reference")
    assert out.loc["ref", "spearman_rho"] == pytest.approx(0.8)
    assert out.loc["neg", "spearman_rho"] == pytest.approx(-0.8)
    assert out.loc["ref", "n"] == 4


def test_spearman_drops_missing_pairs_and_rejects_constants():
    refs = pd.DataFrame({"ref": [1.0, np.nan, 3.0, 4.0]}, index=IDX.index)
    # pairs (u1 .15, 1) (u3 .725, 3) (u4 .775, 4): same order -> rho = 1
    out = spearman_validation(IDX, refs)
    assert out.loc[0, "n"] == 3 and out.loc[0, "spearman_rho"] == pytest.approx(1.0)
    with pytest.raises(DataValidationError, match="column 'flat': constant"):
        spearman_validation(IDX, pd.DataFrame({"flat": [1.0] * 4}, index=IDX.index))


def test_disagreement_percentiles():
    ref = pd.Series([1.0, 2.0, 3.0, 4.0], index=IDX.index)
    out = disagreement(IDX, ref)
    # index percentiles 50 25 75 100; reference 25 50 75 100 -> differences 25 -25 0 0
    assert out["difference"].tolist() == [25.0, -25.0, 0.0, 0.0]


def test_rollup_by_hand():
    result = build_index(TABLE, spec_from_dict(spec_dict()))
    units = result.table()
    # index .15 .1 .725 .775, populations 100 300 200 200, groups g1 g1 g2 g2
    # g1: (100 * .15 + 300 * .1) / 400 = 45 / 400 = .1125
    # g2: (200 * .725 + 200 * .775) / 400 = .75
    # deciles 6 8 3 1: only u4 is in the top 10 % -> g2 share 200 / 400 = .5
    # quintiles 3 4 2 1: only u4 in the top 20 % -> g2 .5, g1 0
    out = rollup(units, "grp", "pop", ["index_score", "d1_score"]).set_index("grp")
    assert out.loc["g1", "index_score"] == pytest.approx(0.1125)
    assert out.loc["g2", "index_score"] == pytest.approx(0.75)
    # d1 = 0 .25 .5 1: g1 (0 + 75) / 400 = .1875
    assert out.loc["g1", "d1_score"] == pytest.approx(0.1875)
    assert out.loc["g2", "share_top10"] == pytest.approx(0.5)
    assert out.loc["g1", "share_top10"] == 0.0
    assert out.loc["g2", "share_top20"] == pytest.approx(0.5)
    assert out.loc["g2", "n_units_top10"] == 1
    assert out["index_rank"].to_dict() == {"g1": 2, "g2": 1}
    assert out["population"].to_dict() == {"g1": 400.0, "g2": 400.0}


def test_rollup_rejects_bad_population():
    result = build_index(TABLE, spec_from_dict(spec_dict()))
    units = result.table()
    units.loc[0, "pop"] = -5
    with pytest.raises(DataValidationError, match="negative population"):
        rollup(units, "grp", "pop", ["index_score"])
    with pytest.raises(DataValidationError, match="column 'ward'"):
        rollup(result.table(), "ward", "pop", ["index_score"])
