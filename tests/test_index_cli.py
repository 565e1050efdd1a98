"""``mapping index`` on small files: outputs, atomic write, clean errors."""

from __future__ import annotations

import pandas as pd
import pytest

from mapping.cli import main
from mapping.index.synthetic import synthetic_table
from tests._index_fixtures import EXPECTED_INDEX, EXPECTED_RANK, TABLE

# the fixture spec of tests/_index_fixtures.py, as a file
SPEC_TOML = """
[index]
name = "fixture"
version = "0"
unit_id = "id"
group_column = "grp"

[outliers]
method = "none"

[[domains]]
code = "d1"
weight = 0.4
  [[domains.indicators]]
  code = "a"
  direction = "higher_is_worse"
  weight = 1.0

[[domains]]
code = "d2"
weight = 0.6
  [[domains.indicators]]
  code = "b"
  direction = "higher_is_better"
  weight = 0.25
  [[domains.indicators]]
  code = "c"
  direction = "higher_is_worse"
  weight = 0.75
"""


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "table.csv"
    TABLE.to_csv(data, index=False)
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC_TOML)
    return data, spec, tmp_path / "out" / "index.csv"


def test_cli_writes_the_index(files, capsys):
    data, spec, out = files
    assert main(["index", "--data", str(data), "--spec", str(spec), "--out", str(out)]) == 0
    result = pd.read_csv(out)
    assert result["index_score"].round(10).tolist() == EXPECTED_INDEX
    assert result["index_rank"].tolist() == EXPECTED_RANK
    assert {"d1_score", "d2_score", "index_decile", "index_quintile"} <= set(result.columns)
    assert "wrote 4 units" in capsys.readouterr().out
    assert [p.name for p in out.parent.iterdir()] == ["index.csv"]  # no temporary left


def test_cli_robustness_and_borough_frame(tmp_path):
    data = tmp_path / "t.csv"
    synthetic_table(200, seed=2).to_csv(data, index=False)
    out = tmp_path / "o.csv"
    code = main(
        [
            "index",
            "--data",
            str(data),
            "--spec",
            "mapping/specs/london_default.toml",
            "--out",
            str(out),
            "--robustness",
            "50",
            "--seed",
            "3",
            "--boroughs",
            "E09000001,E09000002",
        ]
    )
    assert code == 0
    result = pd.read_csv(out)
    assert set(result["borough_code"]) == {"E09000001", "E09000002"}
    assert {"median_rank", "rank_p05", "rank_p95", "unstable"} <= set(result.columns)


def test_cli_bad_spec_is_a_clean_error(files, tmp_path, capsys):
    data, _, out = files
    bad = tmp_path / "bad.toml"
    bad.write_text(SPEC_TOML.replace("weight = 0.4", "weight = -0.4"))
    assert main(["index", "--data", str(data), "--spec", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: domains[0] (d1).weight: must be >= 0" in err
    assert "Traceback" not in err and not out.exists()


def test_cli_unknown_indicator_is_a_clean_error(files, tmp_path, capsys):
    data, spec, out = files
    TABLE.drop(columns=["c"]).to_csv(data, index=False)
    assert main(["index", "--data", str(data), "--spec", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "table.csv, column 'c'" in err and "unknown indicator code" in err
    assert not out.exists()
