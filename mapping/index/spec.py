"""The index specification: a TOML file loaded into frozen dataclasses and validated.

A specification declares everything needed to rebuild an index: the unit id column, the
reference frame, imputation, outlier treatment, the domains and their indicators (each with a
direction and a weight), and how each level is normalised and aggregated. Nothing about an index
is hard-coded in Python; :func:`load_spec` reads the file and :func:`spec_from_dict` checks it,
collecting every problem (unknown keys, unknown method names, negative weights, weights that do
not sum to one when ``normalise_weights = false``, duplicate codes, incompatible methods) into one
:class:`SpecError` whose lines each name the file and the field at fault. The structure is the
JSON Schema ``spec.schema.json`` beside this module; the rules between fields are in
:mod:`mapping.index.spec_checks`; method names come from :mod:`mapping.index.methods`.

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
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mapping.errors import MappingError


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
    """A domain: a weighted group of indicators aggregated into one domain score.

    ``weight`` is the domain's weight in the index (rescaled with the others to sum to one);
    ``indicators`` are aggregated with the indicator-level method into the domain score.
    """

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

    #: the index's name and version, shown wherever it is (``[index]``)
    name: str
    version: str
    #: the column of unit ids
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

    # -- modified copies (each a :class:`~mapping.index.scenario.Scenario`) -----------------
    def with_frame(self, kind: str, codes: Collection[str] = ()) -> IndexSpec:
        """A copy with another reference frame (validated)."""
        from mapping.index.scenario import Scenario  # noqa: PLC0415 (it imports this module)

        return Scenario(frame=FrameSpec(kind, tuple(sorted(codes)))).apply(self)

    def with_weights(
        self,
        domain_weights: Mapping[str, float] | None = None,
        indicator_weights: Mapping[str, float] | None = None,
    ) -> IndexSpec:
        """A copy with some weights replaced; the result is validated like a file.

        Weights given here are rescaled to sum to one (``normalise_weights`` is set to true),
        because a user moving one slider cannot keep the others summing to one by hand.
        """
        from mapping.index.scenario import Scenario  # noqa: PLC0415

        return Scenario(domain_weights=domain_weights,
                        indicator_weights=indicator_weights).apply(self)

    def without_indicator(self, code: str) -> IndexSpec:
        """A copy without one indicator; a domain left empty is dropped. Weights are rescaled."""
        from mapping.index.scenario import Scenario  # noqa: PLC0415

        if code not in self.indicator_codes:
            raise SpecError(self.source, [f"without_indicator: unknown indicator {code!r}"])
        keep = [c for c in self.indicator_codes if c != code]
        return Scenario(indicators=tuple(keep)).apply(self)

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
    from mapping.index.spec_checks import check_spec  # noqa: PLC0415 (it imports this module)

    return check_spec(data, source, known_indicators)


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
