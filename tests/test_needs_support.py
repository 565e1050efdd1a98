"""Need types and the support gap (DR-0011): the rule on hand-made fixtures with answers
worked out by hand, distances against hand-computed values, the reader of a user's support
places, and the build's tables on the real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from mapping.errors import DataValidationError
from mapping.geography.support import nearest, residents_beyond
from mapping.index.needs import load_needs, main_needs, need_scores
from mapping.sources.readers import support_places_csv

NEEDS = """
[settings]
stands_out = 75
high_risk = 1
walk_m = 800

[[need]]
code = "skills"
label = "Skills"
indicators = ["noqual", "skillscore"]
support = ["sessions"]

[[need]]
code = "language"
label = "Language"
indicators = ["english_good"]
support = ["esol"]

[[support]]
code = "sessions"
label = "Skills sessions"

[[support]]
code = "esol"
label = "ESOL with digital"
"""


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "needs.toml"
    path.write_text(NEEDS, encoding="utf-8")
    return load_needs(path)


def test_need_rule_by_hand(table):
    # four areas; english_good is higher_is_better, so area d (lowest) has most language need
    values = pd.DataFrame({"noqual": [10.0, 20.0, 30.0, 40.0],
                           "skillscore": [0.4, 0.3, 0.2, 0.1],
                           "english_good": [99.0, 98.0, 97.0, 90.0]},
                          index=["a", "b", "c", "d"])
    scores = need_scores(values, table, {"english_good": "higher_is_better"})
    # percentiles (max ties) of noqual: 25, 50, 75, 100; of skillscore: 100, 75, 50, 25
    assert scores["skills"].tolist() == [62.5, 62.5, 62.5, 62.5]
    # language: reversed english_good percentiles 25, 50, 75, 100
    assert scores["language"].tolist() == [25.0, 50.0, 75.0, 100.0]
    out = main_needs(scores, table)
    assert out["main_need"].tolist() == ["none", "none", "language", "language"]
    assert out["needs"].tolist() == ["", "", "language", "language"]
    assert [s.label for s in table.support_for("language")] == ["ESOL with digital"]


def test_two_needs_listed_highest_first(table):
    scores = pd.DataFrame({"skills": [80.0, np.nan], "language": [90.0, 76.0]})
    out = main_needs(scores, table)
    assert out["main_need"].tolist() == ["language", "language"]
    assert out["needs"].tolist() == ["language;skills", "language"]


def test_need_table_problems_are_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[settings]\nstands_out = 120\n[[need]]\ncode = "x"\nindicators = ["nope"]\n'
                    'support = ["missing"]\n', encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_needs(path, known={"age_65_plus_pct"})
    text = str(err.value)
    assert "settings.stands_out" in text and "120" in text
    assert "unknown indicator" in text and "nope" in text
    assert "support not declared" in text and "missing" in text


def test_distances_by_hand():
    # British National Grid metres: a 3-4-5 triangle and an exact 800 m
    points = shapely.points([[0, 0], [1000, 0], [5000, 5000]])
    places = shapely.points([[300, 400], [1000, 800]])
    dist, which = nearest(points, places)
    assert dist.tolist() == [500.0, 800.0, pytest.approx(np.hypot(4000, 4200))]
    assert which.tolist() == [0, 1, 1]
    beyond = residents_beyond(pd.Series(dist), pd.Series([100, 200, 300]),
                              pd.Series([True, True, False]), 800)
    # 800 m is within reach (not farther than 800); the third is not high risk
    assert beyond.tolist() == [0, 0, 0]
    beyond = residents_beyond(pd.Series(dist), pd.Series([100, 200, 300]),
                              pd.Series([True, True, True]), 799)
    assert beyond.tolist() == [0, 200, 300]


def test_no_places_gives_no_distance():
    dist, which = nearest(shapely.points([[0, 0]]), np.array([], dtype=object))
    assert np.isnan(dist[0]) and which[0] == -1


def test_support_places_reader(tmp_path):
    good = tmp_path / "places.csv"
    good.write_text("name,type,lat,lon,notes\nHub <b>1</b>,community centre,51.5,-0.1,"
                    "Mon-Fri 9-5\n", encoding="utf-8")
    frame = support_places_csv(good).frame
    assert frame.loc[0, "name"] == "Hub <b>1</b>" and frame.loc[0, "lat"] == 51.5
    bad = tmp_path / "bad.csv"
    bad.write_text("name,type,lat,lon\n,centre,51.5,-0.1\nB,centre,,-0.1\nC,centre,91,x\n",
                   encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        support_places_csv(bad)
    text = str(err.value)
    assert "row 2, column 'name': support place has no name" in text
    assert "row 3, column 'lat': a support place needs both coordinates" in text
    assert "row 4, column 'lat': outside England" in text and "91" in text
    assert "row 4, column 'lon': not a number" in text


@pytest.mark.slow
def test_build_tables_on_the_real_data(processed_dir):
    lsoa = pd.read_csv(processed_dir / "lsoa21_needs.csv")
    boro = pd.read_csv(processed_dir / "borough_needs.csv")
    index = pd.read_csv(processed_dir / "lsoa21_index.csv")
    assert len(lsoa) == 4994 and len(boro) == 33
    assert lsoa["nearest_support_m"].between(0, 10_000).all()
    high = lsoa.merge(index[["lsoa21_code", "index_quintile"]], on="lsoa21_code")
    assert (high["high_risk"] == (high["index_quintile"] == 1)).all()
    # counts add up from LSOAs to boroughs
    assert boro["residents_beyond_walk"].sum() == lsoa["residents_beyond_walk"].sum()
    assert boro["high_risk_residents"].sum() == lsoa.loc[lsoa["high_risk"], "population"].sum()
    assert set(lsoa["main_need"]) <= {"connection", "skills", "language", "access",
                                      "affordability", "none"}
    named = lsoa[lsoa["main_need"] != "none"]
    top = named.apply(lambda r: r[f"need_{r['main_need']}"], axis=1)
    assert (top >= 75).all()
