"""The indicator registry: loads the real files, and rejects broken ones with clear errors."""

from __future__ import annotations

import pytest

from mapping.errors import DataValidationError
from mapping.registry import SOURCES_FILE, load_registry

GOOD = """
[[indicator]]
code = "{code}"
label = "Test"
domain = "skills"
unit = "%"
direction = "{direction}"
geography = "lsoa21"
vintage = "2021"
role = "input"
source = "census2021_ts067"
decision = "DR-0002"
description = "test"
[indicator.value]
source = "{source}"
column = "Highest level of qualification: No qualifications"
"""


def write(tmp_path, text, name="extra.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_real_registry_loads_every_indicator_with_a_known_source():
    reg = load_registry()
    codes = [i.code for i in reg.indicators]
    assert len(codes) == len(set(codes)) == 29
    # 12 inputs of index v1 and 8 candidates examined for v2 (DR-0009)
    assert len(reg.select(role="input", geography="lsoa")) == 20
    assert {i.code for i in reg.select(role="validation")} == {"deri_score_2011",
                                                              "iuc_least_engaged_share",
                                                              "dpi_online_pct"}
    for ind in reg.indicators:
        assert set(ind.sources) <= set(reg.sources)
        assert ind.decision.startswith("DR-")
    for src in reg.sources.values():
        assert len(src.sha256) == 64 and src.attribution and src.licence


def test_extra_file_adds_an_indicator(tmp_path):
    extra = write(tmp_path, GOOD.format(code="my_new_indicator", direction="higher_is_worse",
                                        source="census2021_ts067"))
    reg = load_registry([extra])
    assert reg.indicator("my_new_indicator").higher_is_worse


def test_duplicate_code_names_both_lines(tmp_path):
    extra = write(tmp_path, GOOD.format(code="age_65_plus_pct", direction="higher_is_worse",
                                        source="census2021_ts067"))
    with pytest.raises(DataValidationError) as err:
        load_registry([extra])
    text = str(err.value)
    assert "duplicate indicator code" in text and "age_65_plus_pct" in text
    assert "indicators.toml line " in text and "extra.toml, row 3" in text


def test_unknown_key_missing_source_and_bad_direction_reported_together(tmp_path):
    text = GOOD.format(code="x_pct", direction="up", source="no_such_source")
    text = text.replace('unit = "%"', 'unit = "%"\nweight = 2')
    with pytest.raises(DataValidationError) as err:
        load_registry([write(tmp_path, text)])
    problems = err.value.problems
    assert any(p.column == "weight" and "unknown key" in p.message for p in problems)
    assert any(p.column == "direction" and p.value == "up" for p in problems)
    assert any(p.value == "no_such_source" and "unknown source" in p.message for p in problems)


def test_missing_key_and_two_derivations_rejected(tmp_path):
    text = GOOD.format(code="y_pct", direction="higher_is_worse", source="census2021_ts067")
    text = text.replace('label = "Test"\n', "")
    text += '[indicator.numerator]\nsource = "census2021_ts067"\ncolumns = ["a"]\n'
    with pytest.raises(DataValidationError) as err:
        load_registry([write(tmp_path, text)])
    messages = " ".join(str(p) for p in err.value.problems)
    assert "missing key" in messages and "'label'" in messages
    assert "exactly one derivation" in messages


def test_sources_file_with_duplicate_id_and_unknown_key(tmp_path):
    text = SOURCES_FILE.read_text(encoding="utf-8")
    start = text.index("\n[[source]]\n")
    first = text[start: text.index("\n[[source]]\n", start + 1)]
    broken = write(tmp_path, text + "\n" + first.replace("reader =", "colour = 1\nreader ="),
                   "sources.toml")
    with pytest.raises(DataValidationError) as err:
        load_registry(sources_file=broken)
    messages = [str(p) for p in err.value.problems]
    assert any("duplicate source id" in m and "boundaries_lsoa21" in m for m in messages)
    assert any("'colour'" in m for m in messages)


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    with pytest.raises(DataValidationError, match="extra.toml, row 1: not valid TOML") as err:
        load_registry([write(tmp_path, "[[indicator]\ncode = ")])
    assert len(err.value.problems) == 1  # read for its sources and its indicators: said once


def test_problems_point_at_the_line_of_the_bad_key(tmp_path):
    """Not at the indicator's first line: at the key that is wrong, in its sub-table too. Text
    inside a multi-line string that looks like a key is not taken for one."""
    text = GOOD.format(code="z_pct", direction="higher_is_worse", source="census2021_ts067")
    text = text.replace('description = "test"',
                        'description = """two lines,\nrange = "not this one"\n"""\nrange = [1]')
    text = text.replace('source = "census2021_ts067"\ncolumn', 'source = "nowhere"\ncolumn')
    text += '\n[[source]]\nid = "mine"\ncolour = "red"\nreader = "no_reader"\n'
    lines = text.split("\n")
    path = write(tmp_path, text)
    with pytest.raises(DataValidationError) as err:
        load_registry([path])
    where = {p.column: p.row for p in err.value.problems}
    assert where["range"] == lines.index("range = [1]") + 1
    assert where["source"] == lines.index('source = "nowhere"') + 1
    assert where["colour"] == lines.index('colour = "red"') + 1
    assert where["reader"] == lines.index('reader = "no_reader"') + 1


@pytest.mark.parametrize("bad", ['[0, "100"]', '["a", "b"]', "[true, 2]", "[nan, 1]", "[5, 1]",
                                 '"0-100"', "[1, 2, 3]"])
def test_a_bad_range_is_one_clear_problem(tmp_path, bad):
    text = GOOD.format(code="r_pct", direction="higher_is_worse", source="census2021_ts067")
    text = text.replace('description = "test"', f'description = "test"\nrange = {bad}')
    with pytest.raises(DataValidationError) as err:
        load_registry([write(tmp_path, text)])
    (problem,) = err.value.problems
    assert problem.column == "range" and "range must be [min, max]" in problem.message
    assert problem.row == text.split("\n").index(f"range = {bad}") + 1
