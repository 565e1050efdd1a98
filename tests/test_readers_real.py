"""Every source in the registry reads and validates on the real data package."""

from __future__ import annotations

import pytest

from mapping.registry import load_registry
from mapping.sources import READERS, Table
from mapping.sources.readers import IOD2019_SHEETS, iod2019_workbook

REGISTRY = load_registry()
EXPECTED_ROWS = {
    "boundaries_lsoa21": 4994, "boundaries_lsoa11": 4835, "boundaries_lad22": 33,
    "boundaries_msoa21": 1002, "boundaries_gla_boroughs": 33, "boundaries_gla_lsoa11": 4835,
    "boundaries_lsoa21_bsc": 4994, "iod2019_london_workbook": 4835, "iod2019_lsoa": 32844,
    "iod2025_lsoa": 33755, "census2021_ts007a": 35672, "census2021_rm121": 35672,
    "gmca_deri_v1_6": 32844, "ofcom_fixed_2024": 361, "census2021_ts003_ltla": 331,
    "lookup_lsoa21_ward24": 35672, "libraries_dcms_2016": 3034, "libraries_osm": 185,
}


@pytest.mark.slow
@pytest.mark.parametrize("source_id", sorted(REGISTRY.sources))
def test_every_source_reads(data_dir, source_id):
    src = REGISTRY.sources[source_id]
    out = READERS[src.reader](data_dir / src.path)
    frame = out.frame if isinstance(out, Table) else out
    assert len(frame) > 0
    if source_id in EXPECTED_ROWS:
        assert len(frame) == EXPECTED_ROWS[source_id]
    code_cols = [c for c in frame.columns if c.endswith("_code")]
    if not source_id.startswith("libraries"):
        assert code_cols, "codes are named by vintage"


@pytest.mark.slow
def test_every_sheet_of_the_london_workbook_reads(data_dir):
    for sheet in IOD2019_SHEETS:
        assert len(iod2019_workbook(data_dir / "imd2019" / "ID 2019 for London.xlsx",
                                    sheet).frame) == 4835


def test_london_counts_in_the_lookups(data_dir):
    lookup = READERS["lookup_lsoa11_lsoa21"](
        data_dir / "lookups" / "lookup_lsoa11_lsoa21_ltla22.csv").frame
    london = lookup[lookup["lad22_code"].str.startswith("E09")]
    assert london["lsoa21_code"].nunique() == 4994
    assert london["lsoa11_code"].nunique() == 4835
    assert london["change_code"].value_counts().to_dict() == {"U": 4659, "S": 313, "M": 44}


def test_iuc_least_engaged_flag(data_dir):
    frame = READERS["iuc"](data_dir / "iuc2018" / "iuc2018.csv").frame
    engaged = frame.groupby("iuc_label")["least_engaged"].max()
    assert engaged["e-Withdrawn"] == 1 and engaged["e-Professionals"] == 0
    assert not frame["lsoa11_code"].str.startswith("S").any()


def test_dpi_reads_every_london_lsoa_2011(data_dir):
    frame = READERS["dpi"](data_dir / "dpi2021" / "dpi2021_ew_lsoa11.csv").frame
    assert len(frame) == 34753
    assert "score_normalized" not in frame.columns and frame.columns[0] == "lsoa11_code"
    london = frame[frame["region"] == "London"]
    assert len(london) == 4835
    assert london["dpi_score"].median() == pytest.approx(96.0, abs=0.05)
    assert london["dpi_score"].between(74.8, 100).all()
