"""Build a composite index from a table of units × indicators and an :class:`IndexSpec`.

The pipeline, each step a pure function returning a new frame (nothing is modified in place)::

    table ─ select reference frame ─ raw ─ screen + impute ─ treat outliers ─ normalise
          ─ aggregate indicators → domain scores ─ normalise domains ─ aggregate → index
          ─ rank (1 = most at risk) ─ decile, quintile

Reference frames (``spec.frame.kind``):

``table``
    Every unit of the table.
``london``
    Units whose group (``index.group_column``, a local authority code) is one of the 33 London
    boroughs ``E09000001``–``E09000033``.
``boroughs``
    Units whose group is one of ``frame.codes``; normalisation, ranks and deciles are rescaled
    to that selection.
``england``
    Units whose id is an English GSS code (starts with ``E``); the table must hold more than
    London, and every indicator must be present across it (screening then rejects an indicator
    that only London units carry).

Ranks, deciles and quintiles come from :mod:`mapping.index.ranking` (rank 1 = most at risk;
decile 1 holds the 10 % of units most at risk, the IMD's convention).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from mapping.errors import DataValidationError, Problem
from mapping.index.aggregate import aggregate
from mapping.index.impute import impute
from mapping.index.normalise import normalise
from mapping.index.outliers import treat_outliers
from mapping.index.ranking import rank_bands, rank_descending
from mapping.index.spec import FrameSpec, IndexSpec, LevelSpec

LONDON_GROUP_CODES = frozenset(f"E09{i:06d}" for i in range(1, 34))

INDEX_COLUMN = "index_score"
RANK_COLUMN = "index_rank"
DECILE_COLUMN = "index_decile"
QUINTILE_COLUMN = "index_quintile"
IMPUTED_COLUMN = "imputed_indicators"


def domain_column(code: str) -> str:
    """Output column name of a domain score."""
    return f"{code}_score"


@dataclasses.dataclass(frozen=True, eq=False)
class IndexResult:
    """Every stage of an index build, side by side (all frames indexed by unit id).

    Attributes
    ----------
    spec
        The specification that produced it.
    units
        Carried unit attributes (name, group, population columns where the spec names them).
    raw, imputed, imputed_flags, treated, normalised
        Units × indicators at each stage (``normalised`` is direction-aligned: higher = worse).
    treatment
        One row per indicator describing the outlier treatment.
    domain_scores
        Units × domains, the aggregation of each domain's normalised indicators.
    domain_normalised
        The domain scores after the domain-level normalisation (what the index aggregates).
    index, rank, decile, quintile
        One value per unit.
    """

    spec: IndexSpec
    units: pd.DataFrame
    raw: pd.DataFrame
    imputed: pd.DataFrame
    imputed_flags: pd.DataFrame
    treated: pd.DataFrame
    treatment: pd.DataFrame
    normalised: pd.DataFrame
    domain_scores: pd.DataFrame
    domain_normalised: pd.DataFrame
    index: pd.Series
    rank: pd.Series
    decile: pd.Series
    quintile: pd.Series

    def table(self) -> pd.DataFrame:
        """The per-unit output: id, carried attributes, index score, each domain score, rank,
        decile, quintile and which indicators were imputed (``;``-separated codes)."""
        out = self.units.copy()
        out[INDEX_COLUMN] = self.index
        for code in self.domain_scores.columns:
            out[domain_column(code)] = self.domain_scores[code]
        out[RANK_COLUMN] = self.rank
        out[DECILE_COLUMN] = self.decile
        out[QUINTILE_COLUMN] = self.quintile
        flags = self.imputed_flags
        codes = np.array(flags.columns, dtype=object)
        out[IMPUTED_COLUMN] = [";".join(codes[row]) for row in flags.to_numpy()]
        return out.reset_index()


# ---------------------------------------------------------------------------------------------
# Table checks and the reference frame
# ---------------------------------------------------------------------------------------------


def check_table(table: pd.DataFrame, spec: IndexSpec, name: str = "<table>") -> None:
    """Check that ``table`` has the spec's id, group and indicator columns, unique ids and
    numeric indicator values; raise one :class:`DataValidationError` listing every problem."""
    problems: list[Problem] = []
    needed = [spec.unit_id, *spec.indicator_codes]
    for extra in (spec.unit_name, spec.group_column, spec.population_column):
        if extra is not None:
            needed.append(extra)
    for col in needed:
        if col not in table.columns:
            what = "indicator" if col in spec.indicator_codes else "column"
            problems.append(
                Problem(
                    name,
                    f"{what} named in the specification {spec.source} is not in the "
                    "table (unknown indicator code or missing column)",
                    column=col,
                )
            )
    if problems:
        raise DataValidationError(problems)
    ids = table[spec.unit_id]
    if ids.isna().any():
        problems.append(
            Problem(name, f"{int(ids.isna().sum())} unit id(s) missing", column=spec.unit_id)
        )
    dup = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(dup):
        problems.append(
            Problem(
                name, f"duplicate unit ids: {sorted(set(dup.astype(str)))[:5]}", column=spec.unit_id
            )
        )
    for col in spec.indicator_codes:
        s = table[col]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            num = pd.to_numeric(s, errors="coerce")
            bad = s[num.isna() & s.notna()]
            if len(bad):
                unit = table.loc[bad.index[0], spec.unit_id]
                problems.append(
                    Problem(
                        name,
                        f"{len(bad)} non-numeric value(s), first at unit {unit}",
                        column=col,
                        value=bad.iloc[0],
                    )
                )
        else:
            vals = s.to_numpy(dtype=float)
            if np.isinf(vals).any():
                problems.append(Problem(name, "infinite values", column=col))
    if problems:
        raise DataValidationError(problems)


def select_frame(
    table: pd.DataFrame, spec: IndexSpec, frame: FrameSpec | None = None, name: str = "<table>"
) -> pd.DataFrame:
    """Return the rows of ``table`` in the reference frame (a new frame, original order)."""
    frame = frame or spec.frame
    if frame.kind == "table":
        out = table
    elif frame.kind in ("london", "boroughs"):
        if spec.group_column is None:
            raise DataValidationError.single(
                spec.source, f"frame {frame.kind!r} needs index.group_column"
            )
        groups = table[spec.group_column]
        wanted = LONDON_GROUP_CODES if frame.kind == "london" else frozenset(frame.codes)
        if frame.kind == "boroughs":
            absent = sorted(set(frame.codes) - set(groups.dropna().astype(str)))
            if absent:
                raise DataValidationError.single(
                    name,
                    f"frame codes not found in the table: {absent}",
                    column=spec.group_column,
                )
        out = table[groups.isin(wanted).to_numpy(dtype=bool)]
    elif frame.kind == "england":
        ids = table[spec.unit_id].to_numpy(dtype=str)
        out = table[np.char.startswith(ids, "E")]
        if spec.group_column is not None and len(out):
            groups = set(out[spec.group_column].dropna().astype(str))
            if groups and groups <= LONDON_GROUP_CODES:
                raise DataValidationError.single(
                    name,
                    "frame 'england' needs an England-wide table, but every unit is in "
                    "a London borough",
                    column=spec.group_column,
                )
    else:
        raise ValueError(f"unknown frame kind {frame.kind!r}")
    if len(out) == 0:
        raise DataValidationError.single(name, f"no units in the reference frame {frame.kind!r}")
    return out.copy()


# ---------------------------------------------------------------------------------------------
# Aggregation of the hierarchy
# ---------------------------------------------------------------------------------------------


def domain_scores(normalised: pd.DataFrame, spec: IndexSpec) -> pd.DataFrame:
    """Aggregate each domain's normalised indicators with the indicator-level method."""
    weights = spec.indicator_weights()
    lv = spec.indicator_level
    cols = {}
    for d in spec.domains:
        w = {i.code: weights[i.code] for i in d.indicators}
        cols[d.code] = aggregate(normalised, w, lv.aggregation, lv.geometric_offset)
    return pd.DataFrame(cols, index=normalised.index.copy())


def _domain_level_normalise(scores: pd.DataFrame, level: LevelSpec) -> pd.DataFrame:
    if level.normalisation == "none":
        return scores.copy()
    return normalise(scores, level)


def index_from_normalised(
    spec: IndexSpec, normalised: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(domain scores, normalised domain scores, index) from normalised indicators."""
    dom = domain_scores(normalised, spec)
    dom_n = _domain_level_normalise(dom, spec.domain_level)
    lv = spec.domain_level
    idx = aggregate(dom_n, spec.domain_weights(), lv.aggregation, lv.geometric_offset)
    idx.name = INDEX_COLUMN
    return dom, dom_n, idx


def build_index(
    table: pd.DataFrame,
    spec: IndexSpec,
    frame: FrameSpec | None = None,
    name: str = "<table>",
) -> IndexResult:
    """Build the index described by ``spec`` on ``table``.

    Parameters
    ----------
    table
        One row per unit: the unit id column, every indicator column named in the spec, and the
        optional name/group/population columns. Not modified.
    spec
        A validated :class:`IndexSpec`.
    frame
        Override the spec's reference frame.
    name
        Name of the table (a file path) used in error messages.

    Returns
    -------
    IndexResult

    Raises
    ------
    DataValidationError
        Missing or non-numeric columns, duplicate ids, an empty frame, an all-missing indicator,
        missing values with ``imputation.method = 'none'``, a constant indicator where the
        normalisation cannot scale it, or a geometric aggregation of non-positive values.
    """
    check_table(table, spec, name)
    sel = select_frame(table, spec, frame, name)
    ids = sel[spec.unit_id].astype(str)
    index = pd.Index(ids.to_numpy(), name=spec.unit_id)
    carry = [c for c in (spec.unit_name, spec.group_column, spec.population_column) if c]
    units = pd.DataFrame({c: sel[c].to_numpy() for c in carry}, index=index)
    raw = pd.DataFrame(
        {
            c: pd.to_numeric(sel[c], errors="coerce").to_numpy(dtype=float)
            for c in spec.indicator_codes
        },
        index=index,
    )
    groups = None
    if spec.group_column is not None:
        groups = pd.Series(sel[spec.group_column].to_numpy(), index=index)
    imputed, flags = impute(raw, spec.imputation, groups, where=name)
    treated, treatment = treat_outliers(imputed, spec.outliers)
    signs = {i.code: i.sign for i in spec.indicators}
    refs = {i.code: i.reference for i in spec.indicators}
    normalised = normalise(treated, spec.indicator_level, signs, refs)
    return IndexResult(units=units, raw=raw, imputed=imputed, imputed_flags=flags,
                       treated=treated, treatment=treatment, normalised=normalised,
                       **_aggregated(spec, normalised))


def reweight(
    result: IndexResult,
    domain_weights: Mapping[str, float] | None = None,
    indicator_weights: Mapping[str, float] | None = None,
) -> IndexResult:
    """Re-aggregate an existing result with new weights (the fast path of a weight slider).

    Imputation, outlier treatment and normalisation do not depend on the weights, so only the
    aggregation, ranks and classes are recomputed. Weights given are rescaled to sum to one.
    """
    spec = result.spec.with_weights(domain_weights, indicator_weights)
    return dataclasses.replace(result, **_aggregated(spec, result.normalised))


def _aggregated(spec: IndexSpec, normalised: pd.DataFrame) -> dict[str, object]:
    """The fields of an :class:`IndexResult` that follow from the normalised indicators."""
    dom, dom_n, idx = index_from_normalised(spec, normalised)
    rank = rank_descending(idx)
    return {"spec": spec, "domain_scores": dom, "domain_normalised": dom_n, "index": idx,
            "rank": rank, "decile": rank_bands(rank, 10), "quintile": rank_bands(rank, 5)}
