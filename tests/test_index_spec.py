"""The index specification: loading, validation errors that name file and field, copies."""

from __future__ import annotations

import copy

import pytest

from mapping.index.spec import (
    DEFAULT_SPEC,
    SPECS_DIR,
    SpecError,
    load_default_spec,
    load_spec,
    spec_from_dict,
)
from tests._index_fixtures import SPEC, spec_dict


def _errors(data: dict, **kw) -> str:
    with pytest.raises(SpecError) as err:
        spec_from_dict(data, source="my_spec.toml", **kw)
    text = str(err.value)
    assert "my_spec.toml" in text
    return text


def test_fixture_spec_loads_and_scales_weights():
    spec = spec_from_dict(SPEC)
    assert spec.domain_codes == ["d1", "d2"]
    assert spec.indicator_codes == ["a", "b", "c"]
    # effective weight = domain weight x weight in domain: .4, .6 * .25, .6 * .75
    assert spec.effective_weights() == pytest.approx({"a": 0.4, "b": 0.15, "c": 0.45})
    assert spec.indicators[1].sign == -1.0


def test_round_trip_through_dict_is_identical():
    spec = spec_from_dict(SPEC)
    again = spec_from_dict(spec.to_dict())
    assert again.to_dict() == spec.to_dict()
    assert again.digest() == spec.digest()


def test_weights_not_summing_to_one():
    d = spec_dict()
    d["domains"][1]["indicators"][0]["weight"] = 0.5  # .5 + .75 = 1.25
    text = _errors(d)
    assert "domains[1] (d2).indicators" in text and "sum to 1.25, not 1" in text
    d["index"]["normalise_weights"] = True
    spec = spec_from_dict(d)
    assert spec.indicator_weights()["b"] == pytest.approx(0.4)  # .5 / 1.25


def test_domain_weights_not_summing_to_one():
    d = spec_dict()
    d["domains"][0]["weight"] = 0.5
    assert "domains: weights sum to 1.1" in _errors(d)


def test_negative_weight():
    d = spec_dict()
    d["domains"][1]["indicators"][1]["weight"] = -0.75
    text = _errors(d)
    assert "domains[1] (d2).indicators[1] (c).weight: must be >= 0" in text


def test_all_zero_weights():
    d = spec_dict()
    d["index"]["normalise_weights"] = True
    for ind in d["domains"][1]["indicators"]:
        ind["weight"] = 0.0
    assert "at least one weight must be positive" in _errors(d)


def test_unknown_indicator_code_against_a_registry():
    text = _errors(copy.deepcopy(SPEC), known_indicators={"a", "b"})
    assert "indicators[1] (c).code: unknown indicator code" in text


def test_unknown_keys_and_bad_enumerations_are_all_reported():
    d = spec_dict(outliers={"method": "trim", "maxpoints": 3})
    d["domains"][0]["indicators"][0]["direction"] = "up"
    d["domains"][0]["colour"] = "red"
    d["extra"] = 1
    text = _errors(d)
    assert "outliers.method: must be one of" in text
    assert "outliers.maxpoints: unknown key" in text
    assert "direction: must be one of ['higher_is_worse', 'higher_is_better'], got 'up'" in text
    assert "domains[0].colour: unknown key" in text
    assert "extra: unknown key" in text


def test_duplicate_codes_and_missing_required_fields():
    d = spec_dict()
    d["domains"][1]["indicators"][0]["code"] = "a"
    del d["index"]["unit_id"]
    text = _errors(d)
    assert "duplicate indicator (also in domain 'd1')" in text
    assert "index.unit_id: is required" in text


def test_geometric_aggregation_of_zscores_is_rejected():
    d = spec_dict(
        indicator_level={"normalisation": "zscore"}, domain_level={"aggregation": "geometric"}
    )
    assert "domain_level.aggregation: geometric aggregation needs non-negative" in _errors(d)
    # ... but fine once the domain scores are min-max scaled
    d["domain_level"]["normalisation"] = "minmax"
    spec_from_dict(d)


def test_robustness_alternatives_are_checked():
    d = spec_dict(robustness={"normalisations": ["zscore"], "aggregations": ["geometric"]})
    assert "alternatives include geometric aggregation and normalisation 'zscore'" in _errors(d)


def test_frame_validation():
    assert "needs a non-empty list of group codes" in _errors(spec_dict(frame={"kind": "boroughs"}))
    d = spec_dict(frame={"kind": "london"})
    del d["index"]["group_column"]
    assert "index.group_column: frame.kind = 'london' needs" in _errors(d)


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(SpecError, match="nope.toml: file not found"):
        load_spec(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[index\nname = 1\n")
    with pytest.raises(SpecError, match="bad.toml: not valid TOML"):
        load_spec(bad)


def test_with_weights_and_without_indicator():
    spec = spec_from_dict(SPEC)
    heavier = spec.with_weights({"d1": 3.0}, {"c": 0.25})
    # domains 3 : .6 -> .8333 / .1667; in d2 .25 : .25 -> .5 / .5
    assert heavier.domain_weights()["d1"] == pytest.approx(3 / 3.6)
    assert heavier.indicator_weights()["b"] == pytest.approx(0.5)
    with pytest.raises(SpecError, match="unknown domain 'zz'"):
        spec.with_weights({"zz": 1.0})
    no_a = spec.without_indicator("a")
    assert no_a.domain_codes == ["d2"] and no_a.domain_weights() == {"d2": 1.0}


@pytest.mark.parametrize("name,count", [("london_default.toml", 7),
                                        ("london_equal_v1.toml", 12)])
def test_default_spec_loads_and_matches_the_registry(name, count):
    spec = load_default_spec() if name == DEFAULT_SPEC.name else load_spec(SPECS_DIR / name)
    assert spec.source == str(DEFAULT_SPEC.parent / name)
    assert len(spec.indicators) == count
    assert sum(spec.effective_weights().values()) == pytest.approx(1.0)
    from mapping.registry import load_registry

    registry = load_registry()
    by_code = {i.code: i for i in registry.indicators}
    for ind in spec.indicators:
        assert ind.code in by_code, f"{ind.code} not in the indicator registry"
        entry = by_code[ind.code]
        assert entry.direction == ind.direction, ind.code
        assert entry.role == "input", ind.code
