"""An analyst adds a new indicator from their own CSV: a registry file with a [[source]] and an
[[indicator]], passed to `mapping build --indicators FILE`. No code changes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mapping.cli import main
from mapping.errors import DataValidationError
from mapping.registry import load_registry
from tests._bad_inputs import USER_REGISTRY

pytestmark = pytest.mark.slow

REGISTRY_FILE = USER_REGISTRY.format(geography="lsoa21",
                                     label="Households without home internet")


@pytest.fixture
def user_files(tmp_path, processed_dir):
    codes = pd.read_csv(processed_dir / "lsoa21_indicators.csv")["lsoa21_code"]
    values = [(i * 7) % 40 + 0.5 for i in range(len(codes))]
    pd.DataFrame({"lsoa21_code": codes, "no_internet_pct": values}).to_csv(
        tmp_path / "no_internet.csv", index=False)
    (tmp_path / "mine.toml").write_text(REGISTRY_FILE, encoding="utf-8")
    return tmp_path


def test_user_source_and_indicator_are_built(user_files, data_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "--data-dir", str(data_dir), "--out-dir", str(out), "--quiet",
                 "--indicators", str(user_files / "mine.toml")]) == 0
    lsoa = pd.read_csv(out / "processed" / "lsoa21_indicators.csv")
    assert lsoa["no_home_internet_pct"].iloc[:3].tolist() == [0.5, 7.5, 14.5]
    manifest = json.loads((out / "processed" / "manifest.json").read_text())
    entry = manifest["inputs"]["borough_wifi_survey"]
    assert entry["path"].endswith("no_internet.csv") and len(entry["sha256"]) == 64
    assert "Example borough survey 2026, OGL v3.0." in manifest["attributions"]


def test_a_bad_value_in_the_user_csv_names_row_column_and_value(user_files, data_dir,
                                                               tmp_path, capsys):
    csv = user_files / "no_internet.csv"
    lines = csv.read_text().splitlines()
    lines[5] = lines[5].split(",")[0] + ",abc"
    lines[9] = lines[9].split(",")[0] + ",105"
    csv.write_text("\n".join(lines) + "\n")
    code = main(["build", "--data-dir", str(data_dir), "--out-dir", str(tmp_path / "o"),
                 "--quiet", "--indicators", str(user_files / "mine.toml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "no_internet.csv, row 6, column 'no_internet_pct': not a number (value 'abc')" in err
    assert "no_internet.csv, row 10, column 'no_internet_pct': out of range [0.0, 100.0] " \
        "(value '105')" in err


def test_user_source_clashing_with_a_built_in_id_is_rejected(tmp_path):
    path = tmp_path / "clash.toml"
    path.write_text(REGISTRY_FILE.replace('"borough_wifi_survey"', '"iod2025_lsoa"'))
    with pytest.raises(DataValidationError, match="duplicate source id"):
        load_registry([path])


def test_unknown_reader_is_rejected(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(REGISTRY_FILE.replace('"csv_by_code"', '"excel_magic"'))
    with pytest.raises(DataValidationError, match="unknown reader"):
        load_registry([path])
