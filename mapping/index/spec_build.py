"""Building an :class:`~mapping.index.spec.IndexSpec` from checked plain data, with the
defaults recorded in ``spec.schema.json``. The checks themselves are in
:mod:`mapping.index.spec_checks`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mapping.index import spec_checks
from mapping.index.spec import (
    DomainSpec,
    FrameSpec,
    ImputationSpec,
    IndexSpec,
    IndicatorSpec,
    LevelSpec,
    OutlierSpec,
    RobustnessSpec,
)


def _defaults(node_name: str) -> dict[str, Any]:
    """Defaults of a table, as the schema records them."""
    doc = spec_checks.schema()
    node = doc["properties"][node_name]
    props = spec_checks._resolve(node).get("properties", {})
    resolved = {k: spec_checks._resolve(v) for k, v in props.items()}
    return {k: v["default"] for k, v in resolved.items() if "default" in v}


def _level(raw: Mapping[str, Any], default_norm: str) -> LevelSpec:
    v = {**_defaults("indicator_level"), "normalisation": default_norm, **raw}
    ref = v["reference"]
    return LevelSpec(normalisation=v["normalisation"], range=(float(v["range"][0]),
                                                              float(v["range"][1])),
                     reference=ref if isinstance(ref, str) else float(ref),
                     distance=v["distance"], aggregation=v["aggregation"],
                     geometric_offset=float(v["geometric_offset"]))


def build_spec(data: Mapping[str, Any], source: str) -> IndexSpec:
    """An :class:`IndexSpec` from data that :func:`mapping.index.spec_checks.check_spec` has
    checked, with the schema's defaults filled in."""
    idx = data["index"]
    ind_level = _level(data.get("indicator_level", {}), "minmax")
    dom_level = _level(data.get("domain_level", {}), "none")
    im = {**_defaults("imputation"), **data.get("imputation", {})}
    ou = {**_defaults("outliers"), **data.get("outliers", {})}
    ro = {**_defaults("robustness"), "normalisations": [ind_level.normalisation],
          "aggregations": [dom_level.aggregation], **data.get("robustness", {})}
    fr = {**_defaults("frame"), **data.get("frame", {})}
    domains = tuple(
        DomainSpec(d["code"], d.get("name", d["code"]), float(d["weight"]), tuple(
            IndicatorSpec(i["code"], i["direction"], float(i["weight"]),
                          None if i.get("reference") is None else float(i["reference"]))
            for i in d["indicators"]))
        for d in data["domains"])
    return IndexSpec(
        name=idx["name"], version=idx["version"], unit_id=idx["unit_id"],
        description=idx.get("description", ""), unit_name=idx.get("unit_name"),
        group_column=idx.get("group_column"), population_column=idx.get("population_column"),
        normalise_weights=idx.get("normalise_weights", False),
        frame=FrameSpec(kind=fr["kind"], codes=tuple(fr["codes"])),
        imputation=ImputationSpec(method=im["method"], within=im["within"],
                                  max_missing_share=float(im["max_missing_share"])),
        outliers=OutlierSpec(method=ou["method"], max_points=ou["max_points"],
                             skew_threshold=float(ou["skew_threshold"]),
                             kurtosis_threshold=float(ou["kurtosis_threshold"]),
                             on_failure=ou["on_failure"]),
        indicator_level=ind_level, domain_level=dom_level,
        robustness=RobustnessSpec(draws=ro["draws"], seed=ro["seed"],
                                  concentration=float(ro["concentration"]),
                                  normalisations=tuple(ro["normalisations"]),
                                  aggregations=tuple(ro["aggregations"]),
                                  exclude_one_indicator=ro["exclude_one_indicator"],
                                  unstable_width=float(ro["unstable_width"])),
        domains=domains, source=source)
