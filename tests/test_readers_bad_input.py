"""Readers on tiny hand-made files: every bad input gets a clear error naming file, row,
column and value; several problems in one file are reported in one run."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

from mapping.errors import DataValidationError
from mapping.geography.geometry import check_geometry
from mapping.sources import readers

HEAD = "date,geography,geography code,Age: Total,Age: Aged 65 to 69 years\n"


def write(tmp_path, text: str | bytes, name: str = "t.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def problems(exc_info) -> list[str]:
    return [str(p) for p in exc_info.value.problems]


def test_good_census_file_reads_with_codes_named_by_vintage(tmp_path):
    path = write(tmp_path, HEAD + "2021,City of London 001A,E01000001,1473,119\n"
                 "2021,Hartlepool 001A,E01011954,2280,[c]\n")
    table = readers.census_lsoa(path)
    assert list(table.frame["lsoa21_code"]) == ["E01000001", "E01011954"]
    assert table.frame["Age: Total"].tolist() == [1473, 2280]
    assert table.missing == {"Age: Aged 65 to 69 years": 1}  # counted, not dropped


def test_duplicated_code_names_both_rows(tmp_path):
    path = write(tmp_path, HEAD + "2021,A,E01000001,10,1\n2021,B,E01000002,10,1\n"
                 "2021,C,E01000001,10,1\n")
    with pytest.raises(DataValidationError) as err:
        readers.census_lsoa(path)
    (msg,) = problems(err)
    assert "row 4" in msg and "also on row 2" in msg and "E01000001" in msg and str(path) in msg


def test_missing_column_lists_the_columns_found(tmp_path):
    path = write(tmp_path, "date,geography,code,Age: Total\n2021,A,E01000001,10\n")
    with pytest.raises(DataValidationError) as err:
        readers.census_lsoa(path)
    (msg,) = problems(err)
    assert "'geography code'" in msg and "columns found: 'geography', 'code', 'Age: Total'" in msg


def test_non_numeric_and_out_of_range_in_one_column_both_reported(tmp_path):
    path = write(tmp_path, "lsoa11_code,broadband_comp_national,deri_score_national\n"
                 "E01000001,abc,1\nE01000002,10.5,2\nE01000003,5,3\n")
    with pytest.raises(DataValidationError) as err:
        readers.deri(path)
    msgs = problems(err)
    assert len(msgs) == 2
    assert any("row 2" in m and "not a number" in m and "'abc'" in m for m in msgs)
    assert any("row 3" in m and "out of range [0, 10]" in m and "'10.5'" in m for m in msgs)
    assert all("'broadband_comp_national'" in m for m in msgs)


def test_invalid_code_pattern_reported(tmp_path):
    path = write(tmp_path, HEAD + "2021,A,E02000001,10,1\n2021,B,X,10,1\n")
    with pytest.raises(DataValidationError) as err:
        readers.census_lsoa(path)
    msgs = problems(err)
    assert any("row 2" in m and "not a valid LSOA code" in m and "E02000001" in m for m in msgs)
    assert any("row 3" in m and "'X'" in m for m in msgs)


def test_empty_file(tmp_path):
    with pytest.raises(DataValidationError, match="file is empty"):
        readers.census_lsoa(write(tmp_path, ""))


def test_header_only_file(tmp_path):
    with pytest.raises(DataValidationError, match="header but no data rows"):
        readers.census_lsoa(write(tmp_path, HEAD))


def test_truncated_file_names_the_last_line(tmp_path):
    path = write(tmp_path, HEAD + "2021,A,E01000001,10,1\n2021,B,E0100")
    with pytest.raises(DataValidationError) as err:
        readers.census_lsoa(path)
    (msg,) = problems(err)
    assert "truncated" in msg and "row 3" in msg


def test_utf8_bom_is_accepted(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + (HEAD + "2021,A,E01000001,10,1\n").encode())
    assert readers.census_lsoa(path).frame["lsoa21_code"].tolist() == ["E01000001"]


def test_latin1_file_gets_an_encoding_error_with_the_line(tmp_path):
    path = write(tmp_path, (HEAD + "2021,Caf\xe9 001A,E01000001,10,1\n").encode("latin-1"))
    with pytest.raises(DataValidationError) as err:
        readers.census_lsoa(path)
    (msg,) = problems(err)
    assert "not UTF-8" in msg and "0xe9" in msg and "row 2" in msg and "Latin-1" in msg


def test_nomis_extract_header_lines_and_footer(tmp_path):
    text = ("RM121 - Sex by age,,\nONS Crown Copyright,,\n,,\n"
            "2021 super output area - lower layer,Total,Aged 65 years\n,,\n"
            "E01000001 : City of London 001A,1473,20\nW01001898 : Merthyr Tydfil 008F,1469,23\n"
            ",,\n,,\n,\"In order to protect against disclosure\",\n")
    table = readers.nomis_extract(write(tmp_path, text))
    assert table.frame["lsoa21_code"].tolist() == ["E01000001", "W01001898"]
    assert table.frame["lsoa21_name"].tolist() == ["City of London 001A", "Merthyr Tydfil 008F"]
    assert table.frame["Aged 65 years"].tolist() == [20, 23]


def test_nomis_extract_bad_value_reports_file_line(tmp_path):
    text = ("Title,,\n2021 super output area - lower layer,Total,Aged 65 years\n"
            "E01000001 : A,1473,20\nE01000002 : B,x,23\n")
    with pytest.raises(DataValidationError) as err:
        readers.nomis_extract(write(tmp_path, text))
    (msg,) = problems(err)
    assert "row 4" in msg and "'Total'" in msg and "'x'" in msg


def test_ofcom_json_out_of_range_and_non_numeric(tmp_path):
    path = write(tmp_path, '{"E09000001": {"laName": "City", "fullFibre": 105, "gigabit": "n/a"}}',
                 "o.json")
    with pytest.raises(DataValidationError) as err:
        readers.ofcom_json(path)
    msgs = problems(err)
    assert any("fullFibre" in m and "105" in m for m in msgs)
    assert any("gigabit" in m and "not a number" in m for m in msgs)


def test_welsh_codes_rejected_where_english_expected(tmp_path):
    from mapping.sources.tabular import parse_csv, read_text, validate

    path = write(tmp_path, "lsoa21_code\nE01000001\nW01001898\n")
    with pytest.raises(DataValidationError, match="Welsh code"):
        validate(parse_csv(path, read_text(path)), path, code_column="lsoa21_code",
                 code_kind="lsoa", allow_non_english=False)


def _square(x0, y0, size=100.0):
    return Polygon([(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size)])


def test_shapefile_without_crs_is_rejected(tmp_path):
    frame = gpd.GeoDataFrame({"LSOA21CD": ["E01000001"]}, geometry=[_square(0, 0)])
    path = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        frame.to_file(path, engine="pyogrio")
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(DataValidationError, match="no coordinate reference system"):
        readers.boundaries(path)


def test_invalid_geometry_reported_and_repaired_only_when_asked(tmp_path):
    bowtie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    frame = gpd.GeoDataFrame({"lsoa21_code": ["E01000001", "E01000002"]},
                             geometry=[_square(200, 0), bowtie], crs=27700)
    with pytest.raises(DataValidationError) as err:
        check_geometry(frame, "lsoa21_code", "bowtie.shp")
    (msg,) = problems(err)
    assert "E01000002" in msg and "Self-intersection" in msg and "row 2" in msg
    fixed, report = check_geometry(frame, "lsoa21_code", "bowtie.shp", repair=True)
    assert fixed.geometry.is_valid.all()
    (code, before, after), = report.repaired_area_change
    assert code == "E01000002" and before == pytest.approx(0.0) and after == pytest.approx(5000.0)


def test_real_gla_lsoa_layer_has_eight_invalid_geometries(data_dir):
    frame = readers.boundaries(data_dir / "boundaries" / "LSOA_2011_London_gen_MHW.shp")
    with pytest.raises(DataValidationError) as err:
        check_geometry(frame, "lsoa11_code", "gla")
    assert len(err.value.problems) == 8


DPI_HEAD = ",LSOAcode,Region,Local Authority name,Score,score_normalized\n"


def test_dpi_drops_the_row_number_and_the_re_exporters_rescaling(tmp_path):
    path = write(tmp_path, DPI_HEAD + "0,E01000001,London,City of London,97.0,8.81\n"
                 "1,W01000002,Wales,Cardiff,[x],1.0\n")
    table = readers.dpi(path)
    assert list(table.frame.columns) == ["lsoa11_code", "region", "lad_name", "dpi_score"]
    assert table.frame["dpi_score"].iloc[0] == 97.0
    assert table.missing == {"dpi_score": 1}


def test_dpi_bad_values_name_row_column_and_value(tmp_path):
    path = write(tmp_path, DPI_HEAD + "0,E01000001,London,City of London,104.5,9\n"
                 "1,E01000002,London,City of London,high,9\n2,E0100003,London,X,90,9\n")
    with pytest.raises(DataValidationError) as err:
        readers.dpi(path)
    text = "\n".join(problems(err))
    assert "row 2, column 'Score': out of range [0, 100]" in text and "104.5" in text
    assert "row 3, column 'Score': not a number" in text and "high" in text
    assert "not a valid LSOA code" in text and "E0100003" in text


def test_dpi_without_its_score_column_lists_what_it_found(tmp_path):
    path = write(tmp_path, ",LSOAcode,Region,Local Authority name,score_normalized\n"
                 "0,E01000001,London,City of London,8.81\n")
    with pytest.raises(DataValidationError,
                       match=r"column 'Score': missing column \(columns found: LSOAcode"):
        readers.dpi(path)
