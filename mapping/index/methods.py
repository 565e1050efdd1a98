"""The index methods by name: one registry of normalisations and one of aggregations.

Each entry binds a name (as written in a specification file) to its function, a label for
people, and the properties other code asks about: the specification checks whether a method's
output can be negative (geometric aggregation cannot take it), the engine and the Monte Carlo
analysis dispatch through :func:`normalisation` and :func:`aggregation`, and the app offers the
methods marked ``interactive`` with their labels. Adding a method is one entry here.

Like mapclassify's string-to-class map, nothing outside this module spells out the list of
methods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mapping.index import aggregate as agg
from mapping.index import normalise as norm

if TYPE_CHECKING:
    from mapping.index.spec import LevelSpec


@dataclass(frozen=True)
class Normalisation:
    """A normalisation: ``apply(a, level, signs, references, names)`` maps the aligned
    (units × columns) array ``a`` to the common scale, higher = more at risk."""

    name: str
    label: str
    apply: Callable[..., np.ndarray]
    #: the output can be negative (so it cannot feed a geometric aggregation)
    may_be_negative: bool
    #: offered by the app's method controls
    interactive: bool = False


@dataclass(frozen=True)
class Aggregation:
    """An aggregation: ``apply(x, w, offset)`` combines the columns of ``x`` with weights ``w``
    (a vector, or an m × k matrix of k weight draws)."""

    name: str
    label: str
    apply: Callable[..., np.ndarray]
    #: needs every input + offset > 0 (a log is taken)
    needs_non_negative: bool
    #: offered by the app's method controls
    interactive: bool = False


def _none(a, level, signs=None, references=None, names=None):
    return a.copy()


def _minmax(a, level, signs=None, references=None, names=None):
    return norm.minmax(a, level.range[0], level.range[1], names)


def _zscore(a, level, signs=None, references=None, names=None):
    return norm.zscore(a, names)


def _rank(a, level, signs=None, references=None, names=None):
    return norm.fractional_rank(a)


def _percentile(a, level, signs=None, references=None, names=None):
    return 100.0 * norm.fractional_rank(a)


def _exponential(a, level, signs=None, references=None, names=None):
    return norm.exponential(a)


def _distance(a, level, signs=None, references=None, names=None):
    signs_ = np.ones(a.shape[1]) if signs is None else np.asarray(signs, dtype=float)
    if isinstance(level.reference, str):
        stat = np.mean if level.reference == "mean" else np.median
        default = stat(a, axis=0)
    else:
        default = signs_ * float(level.reference)
    ref = default
    if references is not None:
        given = np.asarray(references, dtype=float)
        ref = np.where(np.isnan(given), default, given)
    return norm.distance_to_reference(a, ref, signs_, level.distance, names)


NORMALISATIONS: dict[str, Normalisation] = {n.name: n for n in (
    Normalisation("none", "None (raw values)", _none, may_be_negative=True),
    Normalisation("minmax", "Min–max (0 to 1)", _minmax, may_be_negative=False,
                  interactive=True),
    Normalisation("rank", "Rank (fraction of areas)", _rank, may_be_negative=False,
                  interactive=True),
    Normalisation("zscore", "z-score", _zscore, may_be_negative=True, interactive=True),
    Normalisation("percentile", "Percentile (0 to 100)", _percentile, may_be_negative=False),
    Normalisation("distance_to_reference", "Distance to a reference", _distance,
                  may_be_negative=True),
    Normalisation("exponential", "IMD exponential of ranks", _exponential,
                  may_be_negative=False, interactive=True),
)}

AGGREGATIONS: dict[str, Aggregation] = {a.name: a for a in (
    Aggregation("arithmetic", "Arithmetic mean (compensatory)",
                lambda x, w, offset=0.01: agg.weighted_arithmetic(x, w),
                needs_non_negative=False, interactive=True),
    Aggregation("geometric", "Geometric mean (less compensatory)", agg.weighted_geometric,
                needs_non_negative=True, interactive=True),
    Aggregation("imd", "IMD sum of exponentially transformed ranks",
                lambda x, w, offset=0.01: agg.imd_sum(x, w), needs_non_negative=False),
)}


def normalisation(name: str) -> Normalisation:
    """The normalisation called ``name`` (``ValueError`` if there is none)."""
    try:
        return NORMALISATIONS[name]
    except KeyError:
        raise ValueError(f"unknown normalisation {name!r}") from None


def aggregation(name: str) -> Aggregation:
    """The aggregation called ``name`` (``ValueError`` if there is none)."""
    try:
        return AGGREGATIONS[name]
    except KeyError:
        raise ValueError(f"unknown aggregation {name!r}") from None


def interactive_normalisations() -> dict[str, str]:
    """name -> label of the normalisations offered by the app."""
    return {n.name: n.label for n in NORMALISATIONS.values() if n.interactive}


def interactive_aggregations() -> dict[str, str]:
    """name -> label of the aggregations offered by the app."""
    return {a.name: a.label for a in AGGREGATIONS.values() if a.interactive}


def may_be_negative(name: str) -> bool:
    return normalisation(name).may_be_negative


def apply_normalisation(a: np.ndarray, level: LevelSpec, method: str | None = None,
                        signs=None, references=None,
                        names: Sequence[str] | None = None) -> np.ndarray:
    """``level.normalisation`` (or ``method``) applied to the aligned 2-D array ``a``."""
    return normalisation(method or level.normalisation).apply(a, level, signs, references, names)
