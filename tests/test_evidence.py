"""Choosing the index from evidence (DR-0009): the leave-one-borough-out procedure on hand-made
fixtures with known answers, the candidates file, and the adopted spec on the real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mapping.errors import DataValidationError
from mapping.index.evidence import (
    Candidate,
    Candidates,
    Comparison,
    Domain,
    fit_weights,
    leave_one_group_out,
    load_candidates,
    round_weights,
    spec_for,
    top_decile_changes,
)
from mapping.index.spec import load_default_spec, load_spec


def test_round_weights_keep_a_sum_of_one():
    # 0.333.. x3 -> largest remainder gives one of them the spare hundredth
    assert round_weights(np.array([1.0, 1.0, 1.0]), 2).tolist() == [0.34, 0.33, 0.33]
    assert round_weights(np.array([0.2914, 0.1, 0.6086]), 2).sum() == pytest.approx(1.0)
    assert round_weights(np.array([0.0, 0.0]), 2).tolist() == [0.0, 0.0]


def test_fit_recovers_known_non_negative_weights():
    rng = np.random.default_rng(1)
    x = rng.random((200, 3))
    y = 5.0 + 0.6 * x[:, 0] + 0.4 * x[:, 2]  # intercept is free; column 1 has no part
    assert fit_weights(x, y).tolist() == [0.6, 0.0, 0.4]
    # a column that runs the wrong way gets weight 0, never a negative weight
    y2 = 0.7 * x[:, 0] - 0.3 * x[:, 1]
    w = fit_weights(x, y2)
    assert w[1] == 0.0 and (w >= 0).all() and w.sum() == pytest.approx(1.0)


def test_a_fit_never_sees_the_group_it_scores():
    """Group B's rows carry NaN targets: a fit that used them would fail or return NaN.
    Worked by hand: in A and C, y = x1 exactly, so the weights fitted without B are [1, 0] and
    B is scored by its x1 alone; B's own rows would have said x2."""
    x = np.array([[1.0, 0.0], [2.0, 5.0], [3.0, 1.0],  # A
                  [10.0, 1.0], [20.0, 2.0],  # B
                  [4.0, 2.0], [6.0, 0.0], [5.0, 9.0]])  # C
    y = np.array([1.0, 2.0, 3.0, np.nan, np.nan, 4.0, 6.0, 5.0])
    groups = np.array(["A", "A", "A", "B", "B", "C", "C", "C"])
    seen: list[set] = []

    def fit(xs, ys):
        seen.append({tuple(r) for r in xs})
        assert not np.isnan(ys).any(), "the fit saw the held-out group's target"
        return fit_weights(xs, ys)

    only_b = ~np.isin(groups, ["B"])
    scores, fitted = leave_one_group_out(x[only_b], y[only_b], groups[only_b], fit)
    assert set(fitted) == {"A", "C"}
    # B itself: fitted on A and C only
    w_b = fit(x[groups != "B"], y[groups != "B"])
    assert w_b.tolist() == [1.0, 0.0]
    assert (x[groups == "B"] @ w_b).tolist() == [10.0, 20.0]
    # the A fold never contained A's rows
    assert not ({tuple(r) for r in x[groups == "A"]} & seen[0])
    assert np.isfinite(scores).all()


def _fixture_table() -> pd.DataFrame:
    """Three boroughs x 40 areas: the criterion falls with indicator a only."""
    rng = np.random.default_rng(7)
    n = 120
    a, b = rng.random(n), rng.random(n)
    return pd.DataFrame({
        "lsoa21_code": [f"E01{i:06d}" for i in range(n)],
        "borough_code": np.repeat(["E09000001", "E09000002", "E09000003"], 40),
        "a": a, "b": b,
        "online": 100 - 20 * a + 0.01 * rng.random(n),
        "engaged": a + 0.01 * rng.random(n),
    })


def _candidates(tmp_path: Path) -> Candidates:
    base = load_spec(Path(load_default_spec().source).parent / "london_equal_v1.toml").to_dict()
    base["index"].update({"group_column": "borough_code", "unit_name": None,
                          "population_column": None})
    for key in ("unit_name", "population_column"):
        base["index"].pop(key)
    base["outliers"]["method"] = "none"
    base["domains"] = [{"code": "d", "name": "d", "weight": 1.0, "indicators": [
        {"code": "a", "direction": "higher_is_worse", "weight": 0.5},
        {"code": "b", "direction": "higher_is_worse", "weight": 0.5}]}]
    from mapping.index.spec import spec_from_dict  # noqa: PLC0415

    spec = spec_from_dict(base, source="fixture")
    doms = (Domain("da", "A", ("a",)), Domain("db", "B", ("b",)))
    return Candidates(
        criteria=("online", "engaged"), group_column="borough_code", weight_decimals=2,
        base_spec=spec, source=str(tmp_path / "c.toml"),
        candidates=(Candidate("equal", "equal", "none", doms),
                    Candidate("fitted", "fitted", "indicators", doms, {"online": 1.0})))


def test_comparison_on_a_fixture_with_a_known_answer(tmp_path):
    table = _fixture_table()
    comp = Comparison(table, _candidates(tmp_path),
                      {"a": "higher_is_worse", "b": "higher_is_worse",
                       "online": "higher_is_better", "engaged": "higher_is_worse"})
    fitted = comp.evaluate(comp.candidates.candidate("fitted"))
    # the fit finds that only a matters, in every fold and on all boroughs
    assert fitted.weights.to_dict() == {"a": 1.0, "b": 0.0}
    assert fitted.figures["online_rho_out_of_sample"] < -0.99
    assert fitted.figures["engaged_rho_out_of_sample"] > 0.99
    equal = comp.evaluate(comp.candidates.candidate("equal"))
    assert equal.weights.to_dict() == {"a": 0.5, "b": 0.5}
    assert -0.99 < equal.figures["online_rho_out_of_sample"] < -0.5
    spec = spec_for(fitted, comp.candidates.base_spec, {"a": "higher_is_worse"},
                    name="x", version="1", description="d")
    assert [d["code"] for d in spec["domains"]] == ["da"]  # b's zero weight is left out
    table_out = comp.table()
    assert table_out["candidate"].tolist() == ["equal", "fitted"]


def test_comparison_names_missing_columns(tmp_path):
    table = _fixture_table().drop(columns=["engaged"])
    with pytest.raises(DataValidationError, match="engaged"):
        Comparison(table, _candidates(tmp_path), {})


def test_candidates_file_problems_are_named(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[settings]\ncriteria = ["dpi_online_pct"]\nbase_spec = "nope.toml"\n'
                    '[[candidate]]\nname = "x"\nfit = "magic"\n', encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_candidates(path)
    text = str(err.value)
    assert "base_spec" in text and "nope.toml" in text
    assert "fit must be one of" in text and "magic" in text
    assert "no domains" in text


def test_top_decile_changes_by_hand():
    new = pd.Series(np.arange(20.0), index=[f"u{i}" for i in range(20)])
    old = new[::-1].set_axis(new.index)
    groups = pd.Series(["g1"] * 10 + ["g2"] * 10, index=new.index)
    out = top_decile_changes(new, old, groups)
    # top 2 of 20: new -> u19, u18 (g2); old -> u0, u1 (g1)
    assert out.loc["g2", "moved_in"] == 2 and out.loc["g1", "moved_out"] == 2
    assert out["in_both"].sum() == 0


@pytest.fixture(scope="module")
def full_table(data_dir) -> pd.DataFrame:
    """The LSOA table the build's index is computed from (before small-count suppression)."""
    from mapping.pipeline.build import unsuppressed_lsoa_table  # noqa: PLC0415

    return unsuppressed_lsoa_table(data_dir)


@pytest.mark.slow
def test_default_spec_is_the_fit_the_decision_record_describes(full_table):
    """The weights in london_default.toml are the chosen candidate fitted on all boroughs, and
    that candidate meets the DPI target out of sample (DR-0009)."""
    from mapping.registry import load_registry  # noqa: PLC0415

    reg = load_registry()
    comp = Comparison(full_table, load_candidates(), {i.code: i.direction
                                                       for i in reg.indicators})
    chosen = comp.evaluate(comp.candidates.candidate("indicator_fit_all_joint"))
    spec = load_default_spec()
    fitted = {k: v for k, v in chosen.weights.items() if v > 0}
    assert spec.effective_weights() == pytest.approx(fitted, abs=1e-9)
    assert chosen.figures["dpi_online_pct_rho_out_of_sample"] <= -0.60
    assert chosen.figures["iuc_least_engaged_share_rho_out_of_sample"] >= 0.40
    # the choice itself, judged out of sample: every fold picks the same candidate
    names = [c.name for c in comp.candidates.candidates]
    nested, picked = comp.nested(names)
    assert set(picked.index) == set(full_table["borough_code"])
    assert set(picked.values) == {"indicator_fit_all_joint"}
    assert nested["dpi_online_pct_rho_out_of_sample"] <= -0.60
    v1 = comp.evaluate(comp.candidates.candidate("equal_v1"))
    assert v1.figures["dpi_online_pct_rho_out_of_sample"] == pytest.approx(-0.311, abs=0.005)


def test_the_choice_rule_inside_each_fold(tmp_path):
    table = _fixture_table()
    comp = Comparison(table, _candidates(tmp_path),
                      {"a": "higher_is_worse", "b": "higher_is_worse",
                       "online": "higher_is_better", "engaged": "higher_is_worse"})
    everyone = np.ones(len(table), dtype=bool)
    # both reach rho <= -0.5 with 'online'; 'fitted' agrees better with the guard 'engaged'
    assert comp.choose(["equal", "fitted"], everyone, -0.5) == "fitted"
    # nobody reaches -0.999: the best on the primary criterion is taken
    assert comp.choose(["equal", "fitted"], everyone, -0.9999) == "fitted"
    assert comp.choose(["equal"], everyone, -0.5) == "equal"
    fig, picked = comp.nested(["equal", "fitted"], -0.5)
    assert picked.to_dict() == {"E09000001": "fitted", "E09000002": "fitted",
                                "E09000003": "fitted"}
    assert fig["online_rho_out_of_sample"] < -0.99
