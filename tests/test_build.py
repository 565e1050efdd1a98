"""The real build: counts, determinism, manifest, and nothing lost when a build fails."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mapping.errors import DataValidationError
from mapping.files import sha256_file
from mapping.pipeline.build import PROCESSED, BuildOptions, build
from mapping.registry import load_registry
from tests.conftest import replace_file

pytestmark = pytest.mark.slow


def test_lsoa_table_has_every_london_lsoa_and_indicator(processed_dir):
    lsoa = pd.read_csv(processed_dir / "lsoa21_indicators.csv")
    assert len(lsoa) == 4994 and lsoa["lsoa21_code"].is_unique
    assert lsoa["borough_code"].nunique() == 33
    # Census 2021 usual residents in London: 8,799,728 in the local-authority table (TS001);
    # LSOA counts are perturbed for disclosure control, so their sum differs by ~100
    assert lsoa["population"].sum() == pytest.approx(8_799_728, abs=500)
    reg = load_registry()
    for ind in reg.select(geography="lsoa"):
        assert ind.code in lsoa.columns
        flag = f"{ind.code}_suppressed"
        suppressed = lsoa[flag] if flag in lsoa.columns else False
        # every value is present unless the disclosure rule (DR-0004) suppressed it
        assert (lsoa[ind.code].notna() | suppressed).all(), ind.code
        assert not (lsoa[ind.code].notna() & suppressed).any(), ind.code
        if ind.range:
            assert lsoa[ind.code].dropna().between(*ind.range).all()


def test_known_values_match_the_published_sources(processed_dir):
    lsoa = pd.read_csv(processed_dir / "lsoa21_indicators.csv").set_index("lsoa21_code")
    city = lsoa.loc["E01000001"]
    # Census 2021 TS007A for City of London 001A: 65+ = 119+102+57+57+35 = 370 of 1473
    assert city["age_65_plus_pct"] == pytest.approx(100 * 370 / 1473)
    assert city["population"] == 1473
    assert city["income_deprivation_iod25"] == pytest.approx(0.013)


def test_ward_and_borough_tables(processed_dir):
    ward = pd.read_csv(processed_dir / "ward24_indicators.csv")
    borough = pd.read_csv(processed_dir / "borough_indicators.csv")
    lsoa = pd.read_csv(processed_dir / "lsoa21_indicators.csv")
    total = lsoa["population"].sum()
    assert len(borough) == 33 and borough["population"].sum() == total
    assert ward["population"].sum() == total and ward["ward24_code"].is_unique
    for col in ("ofcom_full_fibre_pct", "ofcom_below_uso_pct", "older_living_alone_pct"):
        assert borough[col].notna().all()


def test_manifest_records_inputs_outputs_and_counts(processed_dir):
    manifest = json.loads((processed_dir / "manifest.json").read_text())
    assert manifest["row_counts"]["lsoa21"] == 4994
    assert all(v["matches_registry"] for v in manifest["inputs"].values())
    for name, digest in manifest["outputs"].items():
        assert sha256_file(processed_dir / name) == digest
    assert any("Census 2021" in a for a in manifest["attributions"])
    assert "shp" in " ".join(manifest["inputs"]["boundaries_lsoa21"]["files"])
    assert set(manifest["inputs"]["boundaries_lsoa21"]["files"]) >= {
        "boundaries/london-2021-lsoa-gen20.dbf", "boundaries/london-2021-lsoa-gen20.prj"}


def test_two_builds_are_byte_identical(data_dir, processed_dir, tmp_path):
    build(BuildOptions(data_dir=data_dir, out_dir=tmp_path, progress=False))
    for path in processed_dir.iterdir():
        assert (tmp_path / PROCESSED / path.name).read_bytes() == path.read_bytes(), path.name


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("case", ["duplicate", "bad_value", "wrong_vintage", "truncated",
                                  "empty"])
def test_bad_input_fails_clearly_and_leaves_previous_outputs(case, data_copy, processed_dir,
                                                             tmp_path):
    out = tmp_path / "out"
    (out / PROCESSED).mkdir(parents=True)
    for p in processed_dir.iterdir():
        (out / PROCESSED / p.name).write_bytes(p.read_bytes())
    before = _snapshot(out / PROCESSED)
    rel = "census2021/lsoa21_ew/census2021-ts067-lsoa.csv"
    text = (data_copy / rel).read_text(encoding="utf-8")
    lines = text.split("\n")
    if case == "duplicate":
        broken, expect = "\n".join(lines[:3] + [lines[1]] + lines[3:]), "duplicated code"
    elif case == "bad_value":
        cells = lines[1].split(",")
        cells[4] = "abc"
        broken, expect = "\n".join([lines[0], ",".join(cells)] + lines[2:]), "not a number"
    elif case == "wrong_vintage":
        # the City of London LSOAs given 2011-only codes: the 2021 codes are then missing
        broken = text.replace(",E01000001,", ",E01000003,", 1).replace(",E01000002,",
                                                                       ",E01000004,", 1)
        expect = "duplicated code"
    elif case == "truncated":
        broken, expect = text[: len(text) // 2], "truncated"
    else:
        broken, expect = "", "file is empty"
    replace_file(data_copy, rel, broken)
    with pytest.raises(DataValidationError, match=expect) as err:
        build(BuildOptions(data_dir=data_copy, out_dir=out, progress=False))
    assert "census2021-ts067-lsoa.csv" in str(err.value)
    assert _snapshot(out / PROCESSED) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".processed")]


def test_a_2011_code_where_2021_codes_are_expected_is_reported(data_copy, tmp_path):
    rel = "imd2025/imd2025_england_lsoa21.csv"
    text = (data_copy / rel).read_text(encoding="utf-8")
    # E01032739 is a 2011 City of London LSOA that was split in 2021 (no longer a 2021 code)
    replace_file(data_copy, rel, text.replace("E01032739", "E01000000", 1)
                 if "E01032739" in text else text.replace("\nE01000005,", "\nE01000000,", 1))
    with pytest.raises(DataValidationError, match="London LSOA 2021 missing from the data"):
        build(BuildOptions(data_dir=data_copy, out_dir=tmp_path, progress=False))


def test_changed_input_byte_changes_its_hash_in_the_manifest(data_copy, processed_dir, tmp_path):
    rel = "connectivity/ofcom_cn2024_mobile_coverage_by_laua.json"
    text = (data_copy / rel).read_text(encoding="utf-8")
    replace_file(data_copy, rel, text.replace('"fiveGAny":98.2', '"fiveGAny":98.3', 1))
    manifest = build(BuildOptions(data_dir=data_copy, out_dir=tmp_path, progress=False))
    before = json.loads((processed_dir / "manifest.json").read_text())
    changed = [k for k in manifest["inputs"]
               if manifest["inputs"][k]["sha256"] != before["inputs"][k]["sha256"]]
    assert changed == ["ofcom_mobile_2024"]
    assert manifest["inputs"]["ofcom_mobile_2024"]["matches_registry"] is False


def test_no_suppressed_count_can_be_recovered_from_published_totals(processed_dir):
    """For the age indicators the denominator is the published population, so a published rate
    gives its count back (rate x population). A ward or borough total minus its published LSOA
    counts gives the sum of the suppressed ones: safe only if no group has exactly one."""
    lsoa = pd.read_csv(processed_dir / "lsoa21_indicators.csv")
    ward = pd.read_csv(processed_dir / "ward24_indicators.csv").set_index("ward24_code")
    borough = pd.read_csv(processed_dir / "borough_indicators.csv").set_index("borough_code")
    manifest = json.loads((processed_dir / "manifest.json").read_text())
    assert manifest["disclosure"]["suppressed_cells"]["age_75_plus_pct"] > 0
    for code in ("age_65_plus_pct", "age_75_plus_pct"):
        flag = f"{code}_suppressed"
        for key, totals in (("ward24_code", ward), ("borough_code", borough)):
            for area, group in lsoa.groupby(key):
                n_hidden = int(group[flag].sum())
                if n_hidden == 0:
                    continue
                total_published = not totals.loc[area, flag]
                if total_published:
                    assert n_hidden >= 2, (code, area)
                    hidden = (totals.loc[area, code] * totals.loc[area, "population"]
                              - (group[code] * group["population"]).sum()) / 100
                    assert hidden > 0  # only the sum of several hidden counts is revealed
