"""Scenarios: one way to make every variant of an index specification.

A :class:`Scenario` names the choices that differ from a specification (which indicators,
weights, the normalisation, the aggregation, the reference frame, a new name) and
:meth:`Scenario.apply` returns the changed specification, validated like a file, so a typo in a
code or a negative weight is a clear :class:`~mapping.index.spec.SpecError`. The weight sliders
of the app, an analyst's variant in a notebook, a borough reference frame on the command line
and the leave-one-out analysis all go through it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mapping.index.spec import FrameSpec, IndexSpec, SpecError, spec_from_dict

#: what a new method does to the Monte Carlo alternatives of the specification
ALTERNATIVES = ("extend", "only")


@dataclass(frozen=True)
class Scenario:
    """Choices that differ from a specification; ``None`` (or empty) keeps the original.

    Attributes
    ----------
    name
        A new index name (its version gets a ``+variant`` suffix).
    indicators
        Keep only these indicator codes (a domain left empty is dropped).
    add_indicators
        New indicators: mappings with ``domain``, ``code``, ``direction``, ``weight`` (a new
        domain is created, with ``domain_name`` and ``domain_weight``, if it does not exist).
    domain_weights, indicator_weights
        Weights to replace. Weights are always rescaled to sum to one (``normalise_weights``
        becomes true): a person moving one slider cannot keep the others summing to one.
    normalisation
        The indicator-level normalisation (a name of :data:`mapping.index.methods.NORMALISATIONS`).
    aggregation
        The domain-level aggregation (a name of :data:`mapping.index.methods.AGGREGATIONS`).
    frame
        The reference frame.
    alternatives
        ``"extend"``: a new normalisation or aggregation is added to the Monte Carlo
        alternatives; ``"only"``: the alternatives become just the chosen methods (for an index
        that is only built, not tested for robustness, such as the app's).
    source
        Name given to the result in error messages (default: the original's).
    """

    name: str | None = None
    indicators: Sequence[str] | None = None
    add_indicators: Sequence[Mapping[str, Any]] = ()
    domain_weights: Mapping[str, float] | None = None
    indicator_weights: Mapping[str, float] | None = None
    normalisation: str | None = None
    aggregation: str | None = None
    frame: FrameSpec | None = None
    alternatives: str = "extend"
    source: str | None = field(default=None, compare=False)

    def apply(self, spec: IndexSpec) -> IndexSpec:
        """``spec`` with this scenario's choices, validated."""
        if self.alternatives not in ALTERNATIVES:
            raise ValueError(f"alternatives must be one of {ALTERNATIVES}")
        d = spec.to_dict()
        d["index"]["normalise_weights"] = True
        if self.name:
            d["index"]["name"] = self.name
            d["index"]["version"] = f"{spec.version}+variant"
        if self.indicators is not None:
            keep = set(self.indicators)
            unknown = sorted(keep - set(spec.indicator_codes))
            if unknown:
                raise SpecError(spec.source, [f"indicators: unknown indicator code(s) {unknown}"])
            for dom in d["domains"]:
                dom["indicators"] = [i for i in dom["indicators"] if i["code"] in keep]
            d["domains"] = [dom for dom in d["domains"] if dom["indicators"]]
        for new in self.add_indicators:
            _add_indicator(d, new)
        _set_weights(d, spec.source, self.domain_weights or {}, self.indicator_weights or {})
        rob = d["robustness"]
        for key, value, alt in (("indicator_level", self.normalisation, "normalisations"),
                                ("domain_level", self.aggregation, "aggregations")):
            if not value:
                continue
            d[key]["normalisation" if alt == "normalisations" else "aggregation"] = value
            rob[alt] = ([value] if self.alternatives == "only"
                        else sorted({*rob.get(alt, []), value}))
        if self.frame is not None:
            d["frame"] = {"kind": self.frame.kind, "codes": list(self.frame.codes)}
        return spec_from_dict(d, source=self.source or spec.source)


def _add_indicator(d: dict, new: Mapping[str, Any]) -> None:
    entry = {"code": new["code"], "direction": new["direction"], "weight": float(new["weight"])}
    for dom in d["domains"]:
        if dom["code"] == new["domain"]:
            dom["indicators"].append(entry)
            return
    d["domains"].append({"code": new["domain"], "name": new.get("domain_name", new["domain"]),
                         "weight": float(new.get("domain_weight", 1.0 / len(d["domains"]))),
                         "indicators": [entry]})


def _set_weights(d: dict, source: str, domain_weights: Mapping[str, float],
                 indicator_weights: Mapping[str, float]) -> None:
    domains = {dom["code"] for dom in d["domains"]}
    codes = {i["code"] for dom in d["domains"] for i in dom["indicators"]}
    problems = [f"domain_weights: unknown domain {c!r}" for c in domain_weights
                if c not in domains]
    problems += [f"indicator_weights: unknown indicator {c!r}" for c in indicator_weights
                 if c not in codes]
    if problems:
        raise SpecError(source, problems)
    for dom in d["domains"]:
        if dom["code"] in domain_weights:
            dom["weight"] = float(domain_weights[dom["code"]])
        for ind in dom["indicators"]:
            if ind["code"] in indicator_weights:
                ind["weight"] = float(indicator_weights[ind["code"]])


def frame_of(frame: str | Sequence[str] | FrameSpec | None) -> FrameSpec | None:
    """A frame given as a kind (``"london"``, ``"table"``, ``"england"``), as borough codes, or
    as a :class:`FrameSpec`."""
    if frame is None or isinstance(frame, FrameSpec):
        return frame
    if isinstance(frame, str):
        return FrameSpec(frame, ())
    return FrameSpec("boroughs", tuple(sorted(frame)))


def method_scenario(spec: IndexSpec, weights: Sequence[float], normalisation: str,
                    aggregation: str, frame: Sequence[str] = ()) -> Scenario:
    """The scenario of the app's method controls: domain weights in domain order, the indicator
    normalisation, the domain aggregation and a borough frame (empty = London)."""
    return Scenario(domain_weights=dict(zip(spec.domain_codes, weights, strict=True)),
                    normalisation=normalisation, aggregation=aggregation,
                    frame=FrameSpec("boroughs", tuple(sorted(frame))) if frame
                    else FrameSpec("london", ()), alternatives="only")
