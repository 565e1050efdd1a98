"""The index specification: a TOML file loaded into frozen dataclasses and validated.

A specification declares everything needed to rebuild an index: the unit id column, the
reference frame, imputation, outlier treatment, the domains and their indicators (each with a
direction and a weight), and how each level is normalised and aggregated. Nothing about an index
is hard-coded in Python; :func:`load_spec` reads the file and :func:`spec_from_dict` checks it,
collecting every problem (unknown keys, unknown method names, negative weights, weights that do
not sum to one when ``normalise_weights = false``, duplicate codes, incompatible methods) into one
:class:`SpecError` whose lines each name the file and the field at fault.

File layout (all tables except ``[index]`` and ``[[domains]]`` are optional)::

    [index]
    name = "..."                 # required
    version = "1.0.0"            # required
    description = "..."
    unit_id = "lsoa21_code"      # required: the column holding unit ids
    unit_name = "lsoa21_name"    # optional display-name column, carried to outputs
    group_column = "borough_code"        # optional: groups for frames and grouped imputation
    population_column = "population"     # optional: used by roll-ups
    normalise_weights = false    # false: weights must already sum to one (tolerance 1e-6)

    [frame]
    kind = "table"               # table | london | boroughs | england
    codes = []                   # group codes, for kind = "boroughs"

    [imputation]
    method = "none"              # none (missing values are an error) | mean | median
    within = "frame"             # frame | group
    max_missing_share = 0.05     # screening: an indicator missing for more units is an error

    [outliers]
    method = "none"              # none | winsorise
    max_points = 5
    skew_threshold = 2.0
    kurtosis_threshold = 3.5
    on_failure = "log"           # log | keep_winsorised | original

    [indicator_level]            # indicators -> domain scores
    normalisation = "minmax"     # none | minmax | zscore | rank | percentile |
                                 # distance_to_reference | exponential
    range = [0.0, 1.0]           # minmax target range
    reference = "median"         # distance_to_reference: mean | median | a number
    distance = "difference"      # distance_to_reference: difference | ratio
    aggregation = "arithmetic"   # arithmetic | geometric | imd
    geometric_offset = 0.01

    [domain_level]               # domain scores -> index (same keys)

    [robustness]
    draws = 1000
    seed = 1
    concentration = 40.0         # Dirichlet concentration around the default weights
    normalisations = ["minmax"]  # alternatives drawn at the indicator level
    aggregations = ["arithmetic"]  # alternatives drawn at the domain level
    exclude_one_indicator = true
    unstable_width = 0.2

    [[domains]]
    code = "connectivity"
    name = "Connectivity"
    weight = 0.25
    [[domains.indicators]]
    code = "digital_connectivity_iod25"
    direction = "higher_is_worse"  # or higher_is_better
    weight = 0.5
    reference = 0.0              # optional, for distance_to_reference with a fixed target
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mapping.errors import MappingError

DIRECTIONS = ("higher_is_worse", "higher_is_better")
FRAME_KINDS = ("table", "london", "boroughs", "england")
IMPUTATION_METHODS = ("none", "mean", "median")
IMPUTATION_WITHIN = ("frame", "group")
OUTLIER_METHODS = ("none", "winsorise")
OUTLIER_ON_FAILURE = ("log", "keep_winsorised", "original")
NORMALISATIONS = (
    "none",
    "minmax",
    "zscore",
    "rank",
    "percentile",
    "distance_to_reference",
    "exponential",
)
DISTANCES = ("difference", "ratio")
REFERENCE_STATISTICS = ("mean", "median")
AGGREGATIONS = ("arithmetic", "geometric", "imd")
WEIGHT_TOLERANCE = 1e-6

#: Normalisations whose output can be negative (geometric aggregation cannot take them).
_MAY_BE_NEGATIVE = {"none", "zscore", "distance_to_reference"}


class SpecError(MappingError):
    """An index specification is invalid; carries every problem found, one per line."""

    def __init__(self, source: str, problems: list[str]):
        if not problems:
            raise ValueError("SpecError needs at least one problem")
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {source}: {p}" for p in self.problems)
        super().__init__(f"invalid index specification ({len(self.problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator: its column code, its direction and its weight within its domain."""

    code: str
    direction: str
    weight: float
    reference: float | None = None

    @property
    def sign(self) -> float:
        """+1 for ``higher_is_worse``, -1 for ``higher_is_better`` (direction alignment)."""
        return 1.0 if self.direction == "higher_is_worse" else -1.0


@dataclass(frozen=True)
class DomainSpec:
    """A domain: a weighted group of indicators aggregated into one domain score."""

    code: str
    name: str
    weight: float
    indicators: tuple[IndicatorSpec, ...]


@dataclass(frozen=True)
class FrameSpec:
    """The reference frame: which units are normalised, ranked and reported together."""

    kind: str = "table"
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImputationSpec:
    """Screening and imputation (see :mod:`mapping.index.impute`)."""

    method: str = "none"
    within: str = "frame"
    max_missing_share: float = 0.05


@dataclass(frozen=True)
class OutlierSpec:
    """Outlier treatment by the skew/kurtosis rule (see :mod:`mapping.index.outliers`)."""

    method: str = "none"
    max_points: int = 5
    skew_threshold: float = 2.0
    kurtosis_threshold: float = 3.5
    on_failure: str = "log"


@dataclass(frozen=True)
class LevelSpec:
    """How one level of the hierarchy is normalised and then aggregated upwards."""

    normalisation: str = "none"
    range: tuple[float, float] = (0.0, 1.0)
    reference: str | float = "median"
    distance: str = "difference"
    aggregation: str = "arithmetic"
    geometric_offset: float = 0.01


@dataclass(frozen=True)
class RobustnessSpec:
    """Monte Carlo settings and alternatives (see :mod:`mapping.index.robustness`)."""

    draws: int = 1000
    seed: int = 1
    concentration: float = 40.0
    normalisations: tuple[str, ...] = ("minmax",)
    aggregations: tuple[str, ...] = ("arithmetic",)
    exclude_one_indicator: bool = True
    unstable_width: float = 0.2


@dataclass(frozen=True)
class IndexSpec:
    """A complete, validated index specification (see the module docstring for the file)."""

    name: str
    version: str
    unit_id: str
    domains: tuple[DomainSpec, ...]
    description: str = ""
    unit_name: str | None = None
    group_column: str | None = None
    population_column: str | None = None
    normalise_weights: bool = False
    frame: FrameSpec = field(default_factory=FrameSpec)
    imputation: ImputationSpec = field(default_factory=ImputationSpec)
    outliers: OutlierSpec = field(default_factory=OutlierSpec)
    indicator_level: LevelSpec = field(default_factory=lambda: LevelSpec(normalisation="minmax"))
    domain_level: LevelSpec = field(default_factory=LevelSpec)
    robustness: RobustnessSpec = field(default_factory=RobustnessSpec)
    source: str = "<dict>"

    # -- derived views -------------------------------------------------------------------------
    @property
    def indicators(self) -> tuple[IndicatorSpec, ...]:
        """All indicators, in domain order."""
        return tuple(ind for d in self.domains for ind in d.indicators)

    @property
    def indicator_codes(self) -> list[str]:
        return [ind.code for ind in self.indicators]

    @property
    def domain_codes(self) -> list[str]:
        return [d.code for d in self.domains]

    def domain_of(self) -> dict[str, str]:
        """Map indicator code -> domain code."""
        return {ind.code: d.code for d in self.domains for ind in d.indicators}

    def domain_weights(self) -> dict[str, float]:
        """Domain weights scaled to sum to one."""
        total = sum(d.weight for d in self.domains)
        return {d.code: d.weight / total for d in self.domains}

    def indicator_weights(self) -> dict[str, float]:
        """Indicator weights scaled to sum to one within each domain."""
        out: dict[str, float] = {}
        for d in self.domains:
            total = sum(i.weight for i in d.indicators)
            out.update({i.code: i.weight / total for i in d.indicators})
        return out

    def effective_weights(self) -> dict[str, float]:
        """Each indicator's share of the whole index: domain weight × weight within domain."""
        dw = self.domain_weights()
        iw = self.indicator_weights()
        dom = self.domain_of()
        return {code: dw[dom[code]] * w for code, w in iw.items()}

    # -- modified copies -----------------------------------------------------------------------
    def with_frame(self, kind: str, codes: Collection[str] = ()) -> IndexSpec:
        """A copy with another reference frame (validated)."""
        d = self.to_dict()
        d["frame"] = {"kind": kind, "codes": sorted(codes)}
        return spec_from_dict(d, source=self.source)

    def with_weights(
        self,
        domain_weights: Mapping[str, float] | None = None,
        indicator_weights: Mapping[str, float] | None = None,
    ) -> IndexSpec:
        """A copy with some weights replaced; the result is validated like a file.

        Weights given here are rescaled to sum to one (``normalise_weights`` is set to true),
        because a user moving one slider cannot keep the others summing to one by hand.
        """
        d = self.to_dict()
        d["index"]["normalise_weights"] = True
        known_d = set(self.domain_codes)
        known_i = set(self.indicator_codes)
        problems = [
            f"weights: unknown domain {c!r}" for c in (domain_weights or {}) if c not in known_d
        ]
        problems += [
            f"weights: unknown indicator {c!r}"
            for c in (indicator_weights or {})
            if c not in known_i
        ]
        if problems:
            raise SpecError(self.source, problems)
        for dom in d["domains"]:
            if domain_weights and dom["code"] in domain_weights:
                dom["weight"] = float(domain_weights[dom["code"]])
            for ind in dom["indicators"]:
                if indicator_weights and ind["code"] in indicator_weights:
                    ind["weight"] = float(indicator_weights[ind["code"]])
        return spec_from_dict(d, source=self.source)

    def without_indicator(self, code: str) -> IndexSpec:
        """A copy without one indicator; a domain left empty is dropped. Weights are rescaled."""
        d = self.to_dict()
        d["index"]["normalise_weights"] = True
        if code not in self.indicator_codes:
            raise SpecError(self.source, [f"without_indicator: unknown indicator {code!r}"])
        domains = []
        for dom in d["domains"]:
            dom["indicators"] = [i for i in dom["indicators"] if i["code"] != code]
            if dom["indicators"]:
                domains.append(dom)
        d["domains"] = domains
        return spec_from_dict(d, source=self.source)

    # -- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The specification as plain data, in the file's layout (round-trips through
        :func:`spec_from_dict`)."""
        index: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "unit_id": self.unit_id,
            "normalise_weights": self.normalise_weights,
        }
        for key in ("unit_name", "group_column", "population_column"):
            value = getattr(self, key)
            if value is not None:
                index[key] = value

        def level(lv: LevelSpec) -> dict[str, Any]:
            out = dataclasses.asdict(lv)
            out["range"] = list(lv.range)
            return out

        rob = dataclasses.asdict(self.robustness)
        rob["normalisations"] = list(self.robustness.normalisations)
        rob["aggregations"] = list(self.robustness.aggregations)
        domains = []
        for d in self.domains:
            inds = []
            for i in d.indicators:
                entry: dict[str, Any] = {
                    "code": i.code,
                    "direction": i.direction,
                    "weight": i.weight,
                }
                if i.reference is not None:
                    entry["reference"] = i.reference
                inds.append(entry)
            domains.append({"code": d.code, "name": d.name, "weight": d.weight, "indicators": inds})
        return {
            "index": index,
            "frame": {"kind": self.frame.kind, "codes": list(self.frame.codes)},
            "imputation": dataclasses.asdict(self.imputation),
            "outliers": dataclasses.asdict(self.outliers),
            "indicator_level": level(self.indicator_level),
            "domain_level": level(self.domain_level),
            "robustness": rob,
            "domains": domains,
        }

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict` (identifies a specification)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------------

_INDEX_KEYS = {
    "name",
    "version",
    "description",
    "unit_id",
    "unit_name",
    "group_column",
    "population_column",
    "normalise_weights",
}
_TOP_KEYS = {
    "index",
    "frame",
    "imputation",
    "outliers",
    "indicator_level",
    "domain_level",
    "robustness",
    "domains",
}
_DOMAIN_KEYS = {"code", "name", "weight", "indicators"}
_INDICATOR_KEYS = {"code", "direction", "weight", "reference"}


class _Checker:
    """Collects problems while reading nested plain data."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def table(self, data: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.add(key, f"must be a table, got {type(value).__name__}")
            return {}
        return value

    def unknown(self, where: str, data: Mapping[str, Any], allowed: Collection[str]) -> None:
        for key in data:
            if key not in allowed:
                self.add(
                    f"{where}.{key}" if where else key, f"unknown key (allowed: {sorted(allowed)})"
                )

    def string(self, where: str, value: Any, required: bool = True) -> str | None:
        if value is None:
            if required:
                self.add(where, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(where, f"must be a non-empty string, got {value!r}")
            return None
        return value

    def choice(self, where: str, value: Any, allowed: Collection[str]) -> str:
        if value not in allowed:
            self.add(where, f"must be one of {list(allowed)}, got {value!r}")
        return str(value)

    def number(
        self,
        where: str,
        value: Any,
        minimum: float | None = None,
        strict: bool = False,
        maximum: float | None = None,
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(where, f"must be a number, got {value!r}")
            return math.nan
        value = float(value)
        if not math.isfinite(value):
            self.add(where, f"must be finite, got {value!r}")
        elif minimum is not None and (value <= minimum if strict else value < minimum):
            self.add(where, f"must be {'>' if strict else '>='} {minimum:g}, got {value!r}")
        elif maximum is not None and value > maximum:
            self.add(where, f"must be <= {maximum:g}, got {value!r}")
        return value

    def integer(self, where: str, value: Any, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(where, f"must be an integer, got {value!r}")
            return minimum
        if value < minimum:
            self.add(where, f"must be >= {minimum}, got {value!r}")
        return value

    def boolean(self, where: str, value: Any) -> bool:
        if not isinstance(value, bool):
            self.add(where, f"must be true or false, got {value!r}")
            return False
        return value

    def string_list(self, where: str, value: Any, allowed: Collection[str] | None = None) -> tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(where, f"must be a list of strings, got {value!r}")
            return ()
        if allowed is not None:
            for v in value:
                if v not in allowed:
                    self.add(where, f"{v!r} is not one of {list(allowed)}")
        if len(set(value)) != len(value):
            self.add(where, "has duplicates")
        return tuple(value)


def _level(c: _Checker, data: Mapping[str, Any], name: str, default_norm: str) -> LevelSpec:
    raw = c.table(data, name)
    c.unknown(name, raw, {f.name for f in dataclasses.fields(LevelSpec)})
    norm = c.choice(f"{name}.normalisation", raw.get("normalisation", default_norm), NORMALISATIONS)
    rng = raw.get("range", [0.0, 1.0])
    lo, hi = 0.0, 1.0
    if not (isinstance(rng, list) and len(rng) == 2):
        c.add(f"{name}.range", f"must be a list of two numbers [low, high], got {rng!r}")
    else:
        lo = c.number(f"{name}.range[0]", rng[0])
        hi = c.number(f"{name}.range[1]", rng[1])
        if lo >= hi:
            c.add(f"{name}.range", f"low must be below high, got {rng!r}")
    ref = raw.get("reference", "median")
    if isinstance(ref, str):
        c.choice(f"{name}.reference", ref, REFERENCE_STATISTICS)
    else:
        ref = c.number(f"{name}.reference", ref)
    return LevelSpec(
        normalisation=norm,
        range=(lo, hi),
        reference=ref,
        distance=c.choice(f"{name}.distance", raw.get("distance", "difference"), DISTANCES),
        aggregation=c.choice(
            f"{name}.aggregation", raw.get("aggregation", "arithmetic"), AGGREGATIONS
        ),
        geometric_offset=c.number(
            f"{name}.geometric_offset", raw.get("geometric_offset", 0.01), minimum=0.0
        ),
    )


def _check_weight_sum(c: _Checker, where: str, weights: list[float], normalise: bool) -> None:
    if any(math.isnan(w) for w in weights):
        return
    total = sum(weights)
    if total <= 0:
        c.add(where, f"weights sum to {total:g}; at least one weight must be positive")
    elif not normalise and abs(total - 1.0) > WEIGHT_TOLERANCE:
        c.add(
            where,
            f"weights sum to {total:.6g}, not 1 "
            "(set index.normalise_weights = true to rescale them)",
        )


def spec_from_dict(
    data: Mapping[str, Any],
    source: str = "<dict>",
    known_indicators: Collection[str] | None = None,
) -> IndexSpec:
    """Validate plain data in the file layout and build an :class:`IndexSpec`.

    Parameters
    ----------
    data
        The parsed TOML (or :meth:`IndexSpec.to_dict` output).
    source
        Name of the file, used in every error message.
    known_indicators
        If given, indicator codes not in this collection are errors (e.g. the registry's codes
        or a table's columns).

    Raises
    ------
    SpecError
        Listing every problem, each as ``field: message``.
    """
    c = _Checker()
    c.unknown("", data, _TOP_KEYS)
    idx = c.table(data, "index")
    if "index" not in data:
        c.add("index", "table is required")
    c.unknown("index", idx, _INDEX_KEYS)
    name = c.string("index.name", idx.get("name"))
    version = c.string("index.version", idx.get("version"))
    unit_id = c.string("index.unit_id", idx.get("unit_id"))
    description = idx.get("description", "")
    if not isinstance(description, str):
        c.add("index.description", "must be a string")
        description = ""
    unit_name = c.string("index.unit_name", idx.get("unit_name"), required=False)
    group_column = c.string("index.group_column", idx.get("group_column"), required=False)
    population_column = c.string(
        "index.population_column", idx.get("population_column"), required=False
    )
    normalise = c.boolean("index.normalise_weights", idx.get("normalise_weights", False))

    # frame
    fr = c.table(data, "frame")
    c.unknown("frame", fr, {"kind", "codes"})
    kind = c.choice("frame.kind", fr.get("kind", "table"), FRAME_KINDS)
    codes = c.string_list("frame.codes", fr.get("codes", []))
    if kind == "boroughs" and not codes:
        c.add("frame.codes", "frame.kind = 'boroughs' needs a non-empty list of group codes")
    if kind != "boroughs" and codes:
        c.add("frame.codes", f"codes are only used with kind = 'boroughs', not {kind!r}")
    if kind in ("london", "boroughs") and group_column is None:
        c.add("index.group_column", f"frame.kind = {kind!r} needs index.group_column")

    # imputation
    im = c.table(data, "imputation")
    c.unknown("imputation", im, {f.name for f in dataclasses.fields(ImputationSpec)})
    imputation = ImputationSpec(
        method=c.choice("imputation.method", im.get("method", "none"), IMPUTATION_METHODS),
        within=c.choice("imputation.within", im.get("within", "frame"), IMPUTATION_WITHIN),
        max_missing_share=c.number(
            "imputation.max_missing_share", im.get("max_missing_share", 0.05), 0.0, maximum=1.0
        ),
    )
    if imputation.within == "group" and group_column is None:
        c.add("imputation.within", "'group' needs index.group_column")

    # outliers
    ou = c.table(data, "outliers")
    c.unknown("outliers", ou, {f.name for f in dataclasses.fields(OutlierSpec)})
    outliers = OutlierSpec(
        method=c.choice("outliers.method", ou.get("method", "none"), OUTLIER_METHODS),
        max_points=c.integer("outliers.max_points", ou.get("max_points", 5), 0),
        skew_threshold=c.number("outliers.skew_threshold", ou.get("skew_threshold", 2.0), 0.0),
        kurtosis_threshold=c.number(
            "outliers.kurtosis_threshold", ou.get("kurtosis_threshold", 3.5)
        ),
        on_failure=c.choice("outliers.on_failure", ou.get("on_failure", "log"), OUTLIER_ON_FAILURE),
    )

    ind_level = _level(c, data, "indicator_level", "minmax")
    dom_level = _level(c, data, "domain_level", "none")

    # robustness
    ro = c.table(data, "robustness")
    c.unknown("robustness", ro, {f.name for f in dataclasses.fields(RobustnessSpec)})
    robustness = RobustnessSpec(
        draws=c.integer("robustness.draws", ro.get("draws", 1000), 1),
        seed=c.integer("robustness.seed", ro.get("seed", 1), 0),
        concentration=c.number(
            "robustness.concentration", ro.get("concentration", 40.0), 0.0, strict=True
        ),
        normalisations=c.string_list(
            "robustness.normalisations",
            ro.get("normalisations", [ind_level.normalisation]),
            NORMALISATIONS,
        ),
        aggregations=c.string_list(
            "robustness.aggregations", ro.get("aggregations", [dom_level.aggregation]), AGGREGATIONS
        ),
        exclude_one_indicator=c.boolean(
            "robustness.exclude_one_indicator", ro.get("exclude_one_indicator", True)
        ),
        unstable_width=c.number(
            "robustness.unstable_width", ro.get("unstable_width", 0.2), 0.0, True, 1.0
        ),
    )
    if not robustness.normalisations:
        c.add("robustness.normalisations", "must list at least one normalisation")
    if not robustness.aggregations:
        c.add("robustness.aggregations", "must list at least one aggregation")

    # domains and indicators
    raw_domains = data.get("domains")
    domains: list[DomainSpec] = []
    if not isinstance(raw_domains, list) or not raw_domains:
        c.add("domains", "at least one [[domains]] entry is required")
        raw_domains = []
    seen_ind: dict[str, str] = {}
    seen_dom: set[str] = set()
    for di, dom in enumerate(raw_domains):
        where = f"domains[{di}]"
        if not isinstance(dom, dict):
            c.add(where, "must be a table")
            continue
        c.unknown(where, dom, _DOMAIN_KEYS)
        dcode = c.string(f"{where}.code", dom.get("code")) or f"<domain {di}>"
        where = f"domains[{di}] ({dcode})"
        if dcode in seen_dom:
            c.add(f"{where}.code", "duplicate domain code")
        seen_dom.add(dcode)
        if dcode in seen_ind or (unit_id is not None and dcode == unit_id):
            c.add(f"{where}.code", "clashes with an indicator code or the unit id column")
        dname = dom.get("name", dcode)
        if not isinstance(dname, str):
            c.add(f"{where}.name", "must be a string")
            dname = dcode
        dweight = c.number(f"{where}.weight", dom.get("weight"), minimum=0.0)
        raw_inds = dom.get("indicators")
        inds: list[IndicatorSpec] = []
        if not isinstance(raw_inds, list) or not raw_inds:
            c.add(f"{where}.indicators", "at least one indicator is required")
            raw_inds = []
        for ii, ind in enumerate(raw_inds):
            iwhere = f"{where}.indicators[{ii}]"
            if not isinstance(ind, dict):
                c.add(iwhere, "must be a table")
                continue
            c.unknown(iwhere, ind, _INDICATOR_KEYS)
            icode = c.string(f"{iwhere}.code", ind.get("code")) or f"<indicator {ii}>"
            iwhere = f"{where}.indicators[{ii}] ({icode})"
            if icode in seen_ind:
                c.add(f"{iwhere}.code", f"duplicate indicator (also in domain {seen_ind[icode]!r})")
            seen_ind[icode] = dcode
            if known_indicators is not None and icode not in known_indicators:
                c.add(f"{iwhere}.code", "unknown indicator code")
            if icode in (unit_id, unit_name, group_column, population_column):
                c.add(f"{iwhere}.code", "is an id/name/group/population column, not an indicator")
            ref = ind.get("reference")
            if ref is not None:
                ref = c.number(f"{iwhere}.reference", ref)
            inds.append(
                IndicatorSpec(
                    code=icode,
                    direction=c.choice(f"{iwhere}.direction", ind.get("direction"), DIRECTIONS),
                    weight=c.number(f"{iwhere}.weight", ind.get("weight"), minimum=0.0),
                    reference=ref,
                )
            )
        if inds:
            _check_weight_sum(c, f"{where}.indicators", [i.weight for i in inds], normalise)
        domains.append(DomainSpec(dcode, dname, dweight, tuple(inds)))
    if domains:
        _check_weight_sum(c, "domains", [d.weight for d in domains], normalise)

    # compatibility of methods
    _check_methods(c, ind_level, dom_level, robustness)

    if c.problems:
        raise SpecError(source, c.problems)
    assert name is not None and version is not None and unit_id is not None
    return IndexSpec(
        name=name,
        version=version,
        unit_id=unit_id,
        description=description,
        unit_name=unit_name,
        group_column=group_column,
        population_column=population_column,
        normalise_weights=normalise,
        frame=FrameSpec(kind=kind, codes=codes),
        imputation=imputation,
        outliers=outliers,
        indicator_level=ind_level,
        domain_level=dom_level,
        robustness=robustness,
        domains=tuple(domains),
        source=source,
    )


def _may_be_negative(ind_norm: str, ind_agg: str, dom_norm: str) -> tuple[bool, bool]:
    """Whether (indicator inputs, domain inputs) of the aggregations can be negative."""
    ind_neg = ind_norm in _MAY_BE_NEGATIVE
    if dom_norm == "none":
        dom_neg = ind_neg and ind_agg == "arithmetic"
    else:
        dom_neg = dom_norm in _MAY_BE_NEGATIVE
    return ind_neg, dom_neg


def _check_methods(
    c: _Checker, ind_level: LevelSpec, dom_level: LevelSpec, rob: RobustnessSpec
) -> None:
    ind_neg, dom_neg = _may_be_negative(
        ind_level.normalisation, ind_level.aggregation, dom_level.normalisation
    )
    if ind_level.aggregation == "geometric" and ind_neg:
        c.add(
            "indicator_level.aggregation",
            f"geometric aggregation needs non-negative inputs, but normalisation "
            f"{ind_level.normalisation!r} can give negative values (use minmax, rank, percentile "
            "or exponential)",
        )
    if dom_level.aggregation == "geometric" and dom_neg:
        c.add(
            "domain_level.aggregation",
            "geometric aggregation needs non-negative domain scores, but the indicator "
            f"normalisation {ind_level.normalisation!r} with arithmetic aggregation can give "
            "negative ones (normalise the domain level with minmax, or change the indicator "
            "normalisation)",
        )
    if "geometric" in rob.aggregations:
        for norm in rob.normalisations:
            _, neg = _may_be_negative(norm, ind_level.aggregation, dom_level.normalisation)
            if neg:
                c.add(
                    "robustness",
                    f"alternatives include geometric aggregation and normalisation {norm!r}, "
                    "which can give negative domain scores: drop one of them",
                )
            if ind_level.aggregation == "geometric" and norm in _MAY_BE_NEGATIVE:
                c.add(
                    "robustness.normalisations",
                    f"{norm!r} cannot feed the geometric indicator-level aggregation",
                )
    elif ind_level.aggregation == "geometric":
        for norm in rob.normalisations:
            if norm in _MAY_BE_NEGATIVE:
                c.add(
                    "robustness.normalisations",
                    f"{norm!r} cannot feed the geometric indicator-level aggregation",
                )


def load_spec(path: str | Path, known_indicators: Collection[str] | None = None) -> IndexSpec:
    """Read and validate an index specification file (TOML).

    Raises
    ------
    SpecError
        When the file is missing, is not valid TOML, or fails validation; the message names the
        file and every field at fault.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SpecError(str(path), ["file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(str(path), [f"not valid TOML: {exc}"]) from None
    return spec_from_dict(data, source=str(path), known_indicators=known_indicators)


SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"
DEFAULT_SPEC = SPECS_DIR / "london_default.toml"


def load_default_spec() -> IndexSpec:
    """The default London index specification shipped with the package."""
    return load_spec(DEFAULT_SPEC)
