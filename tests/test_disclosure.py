"""The small-count rule of DR-0004 (mapping.disclosure), on hand-made examples and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.pipeline.disclosure import (
    SUPPRESSED,
    Suppression,
    apply_suppression,
    display_values,
    recoverable,
    suppress,
)

CELLS = list("abcdefgh")


def frame() -> tuple[pd.Series, pd.Series, pd.Series]:
    """Eight LSOAs in four wards and two boroughs; worked out by hand below."""
    counts = pd.Series([3, 50, 40, 12, 100, 5, 7, 30], index=CELLS, name="aged_75_plus")
    ward = pd.Series(["w1", "w1", "w1", "w2", "w2", "w3", "w3", "w4"], index=CELLS)
    borough = pd.Series(["B1"] * 5 + ["B2"] * 3, index=CELLS)
    return counts, ward, borough


def published_differencing(counts: pd.Series, mask: pd.Series, groups: pd.Series) -> dict:
    """What an attacker gets per group: published total minus the published cells."""
    out = {}
    for label, members in counts.groupby(groups).groups.items():
        total = counts[members].sum()
        shown = counts[members][~mask[members]].sum()
        hidden = list(counts[members][mask[members]].index)
        out[label] = (hidden, total - shown)
    return out


def test_primary_and_secondary_worked_by_hand():
    counts, ward, borough = frame()
    result = suppress(counts, [ward, borough])
    # a=3, f=5, g=7 are below 10; a is alone in w1, so the smallest other w1 cell (c=40) joins it;
    # f and g share w3, so they protect each other; B1 then has a and c, B2 has f and g.
    assert result.primary[result.primary].index.tolist() == ["a", "f", "g"]
    assert result.cells[result.cells].index.tolist() == ["a", "c", "f", "g"]
    assert not result.totals[0].any() and not result.totals[1].any()


def test_no_suppressed_value_recoverable_by_differencing_borough_total():
    counts, ward, borough = frame()
    naive = counts < 10  # primary suppression only
    # with primary suppression alone, B1's total gives a=3 back exactly
    hidden, difference = published_differencing(counts, naive, borough)["B1"]
    assert hidden == ["a"] and difference == 3
    assert "a" in recoverable(counts, Suppression(naive, naive, (
        pd.Series(False, index=["w1", "w2", "w3", "w4"]), pd.Series(False, index=["B1", "B2"]))),
        [ward, borough])

    result = suppress(counts, [ward, borough])
    for groups in (ward, borough):
        for hidden, _ in published_differencing(counts, result.cells, groups).values():
            assert len(hidden) != 1
    assert recoverable(counts, result, [ward, borough]) == []


def test_rate_is_suppressed_when_its_denominator_is_small():
    counts = pd.Series([20, 15, 30], index=["x", "y", "z"])
    population = pd.Series([400, 8, 500], index=counts.index)
    result = suppress(counts, denominators=population)
    assert result.cells.tolist() == [False, True, False]


def test_zero_is_suppressed_and_missing_is_not():
    counts = pd.Series([0.0, np.nan, 25.0, 30.0], index=list("pqrs"))
    group = pd.Series(["g"] * 4, index=counts.index)
    result = suppress(counts, [group])
    # p (0) is suppressed; the missing q cannot protect it, so r (the smallest published) joins.
    assert result.cells.tolist() == [True, False, True, False]
    assert recoverable(counts, result, [group]) == []


def test_small_group_total_is_suppressed():
    counts = pd.Series([3, 4, 50, 60], index=list("abcd"))
    ward = pd.Series(["w1", "w1", "w2", "w2"], index=counts.index)
    result = suppress(counts, [ward])
    assert result.totals[0].to_dict() == {"w1": True, "w2": False}
    assert result.cells.tolist() == [True, True, False, False]


def test_small_ward_total_inside_a_published_borough_total_is_protected():
    # w1's total (3 + 4 = 7) is suppressed; B's total minus w2's published total would give it
    # back, so the audit suppresses a further cell in B.
    counts = pd.Series([3, 4, 50, 60], index=list("abcd"))
    ward = pd.Series(["w1", "w1", "w2", "w2"], index=counts.index)
    borough = pd.Series(["B"] * 4, index=counts.index)
    result = suppress(counts, [ward, borough])
    assert recoverable(counts, result, [ward, borough]) == []
    assert result.totals[0]["w1"]


def test_single_member_group_suppresses_its_total():
    counts = pd.Series([4, 50], index=["a", "b"])
    group = pd.Series(["g1", "g2"], index=counts.index)
    result = suppress(counts, [group])
    assert result.totals[0].to_dict() == {"g1": True, "g2": False}
    assert recoverable(counts, result, [group]) == []


def test_inputs_are_not_modified():
    counts, ward, borough = frame()
    before = counts.copy(), ward.copy(), borough.copy()
    suppress(counts, [ward, borough])
    for after, original in zip((counts, ward, borough), before, strict=True):
        pd.testing.assert_series_equal(after, original)


def test_display_says_suppressed_never_zero_or_blank():
    counts, ward, borough = frame()
    rates = counts / 200 * 100
    result = suppress(counts, [ward, borough])
    shown = display_values(rates, result.cells)
    assert shown[result.cells].eq(SUPPRESSED).all()
    assert shown.tolist()[:2] == [SUPPRESSED, "25.0"]
    assert display_values(pd.Series([np.nan], index=["z"]), pd.Series([False], index=["z"])
                          ).tolist() == ["no data"]
    values = apply_suppression(rates, result.cells)
    assert values[result.cells].isna().all()
    assert values[~result.cells].eq(rates[~result.cells]).all()


def test_bad_inputs_are_refused():
    counts = pd.Series([1, 2], index=["a", "b"])
    with pytest.raises(ValueError, match="negative"):
        suppress(pd.Series([-1, 2], index=["a", "b"]))
    with pytest.raises(ValueError, match="same index"):
        suppress(counts, [pd.Series(["g", "g"], index=["a", "c"])])
    with pytest.raises(ValueError, match="share an index"):
        display_values(counts, pd.Series([True], index=["a"]))


@st.composite
def tables(draw):
    n = draw(st.integers(1, 30))
    counts = draw(st.lists(st.one_of(st.integers(0, 40), st.just(None)), min_size=n, max_size=n))
    wards = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    index = [f"c{i}" for i in range(n)]
    ward = pd.Series([f"w{w}" for w in wards], index=index)
    borough = pd.Series([f"B{w % 2}" for w in wards], index=index)
    return pd.Series(counts, index=index, dtype=float), ward, borough


@settings(max_examples=150, deadline=None)
@given(tables())
def test_property_no_cell_recoverable_from_published_totals(table):
    counts, ward, borough = table
    result = suppress(counts, [ward, borough])
    assert (result.cells | ~result.primary).all()  # every small cell stays suppressed
    assert not (counts.isna() & result.cells).any()
    assert recoverable(counts, result, [ward, borough]) == []
    for groups, totals in zip((ward, borough), result.totals, strict=True):
        for label, (hidden, _) in published_differencing(counts.fillna(0), result.cells,
                                                          groups).items():
            if not totals[label]:
                assert len(hidden) != 1
