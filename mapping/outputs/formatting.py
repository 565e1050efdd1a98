"""Values as text: the formatting of the app, the exports, the CSV downloads and the notebooks,
in one module.

Two presentations of a value, each pinned by the tests that read it, share the unit rule of
the registry (:func:`mapping.registry.unit_suffix`: no raw value is shown without saying what
it is, e.g. ``-0.769 score (standardised, higher = slower broadband)``):

* :func:`value_text` — a value in a tooltip or hover text (the exports' maps, the app's
  summary of the map): three significant figures below 100, one decimal with thousands
  separators from 100, and the percent sign against the number (``12.3%``, ``1,234.5``,
  ``0.0123``);
* :func:`fmt` — a value in a table of figures (the app's area profile and comparison): the
  same decimals for every value of a unit (percentages one, proportions and scores three;
  other units whole numbers from 100, three significant figures below), and the percent sign
  after a space (``0.500``, ``12.3 %``, ``20.0 %``, ``1,235``); percentiles as whole numbers
  (:func:`percentile_text`).

No value is ``None`` from :func:`value_text` and "no data" (:data:`NO_DATA`) from the others,
and a value blanked by the small-count rule is "suppressed" (:data:`SUPPRESSED`): never
``nan``, ``0`` or a blank. Running text keeps a space before ``%`` (:func:`prose_share`,
:func:`range_text`).
"""

from __future__ import annotations

import math

from mapping.registry import unit_suffix

NO_DATA = "no data"
#: a value blanked by the small-count rule (DR-0004, :mod:`mapping.pipeline.disclosure`)
SUPPRESSED = "suppressed"
PERCENT = "%"

__all__ = ["NO_DATA", "PERCENT", "SUPPRESSED", "cell_text", "cell_texts", "fmt", "number_text",
           "percentile_text", "prose_share", "range_text", "shown_value", "value_text",
           "weight_text"]


def _finite(value) -> bool:
    if value is None:
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def number_text(value: float) -> str:
    """A number as :func:`value_text` writes it (no unit)."""
    value = float(value)
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"


def value_text(value: float | None, unit: str = "", with_unit: bool = True) -> str | None:
    """``value`` in ``unit`` as a tooltip shows it (``"12.3%"``, ``"0.0123 proportion"``), or
    ``None`` when there is no value. ``with_unit=False`` keeps only a percent sign (for text
    whose legend says the unit once)."""
    if not _finite(value):
        return None
    text = number_text(value)
    if not with_unit:
        return f"{text}{PERCENT}" if unit == PERCENT else text
    return text + unit_suffix(unit, percent=PERCENT)


def _decimals(value: float, unit: str) -> int | None:
    """Decimals of a figure in ``unit`` (``None``: three significant figures). One rule per
    unit, so that the figures of a column read alike: percentages to one decimal (``20.0 %``
    beside ``23.5 %``), proportions and scores to three (``0.500``)."""
    if unit == PERCENT:
        return 1
    if unit == "proportion" or unit.startswith("score") or (unit == "" and abs(value) < 100):
        return 3
    if abs(value) >= 100:
        return 0
    return None


def fmt(value: float | None, unit: str = "", with_unit: bool = True) -> str:
    """``value`` in ``unit`` as a table of figures shows it (``"0.500"``, ``"12.3 %"``,
    ``"20.0 %"``, ``"1,235"``), or "no data". ``with_unit=False`` keeps only a percent sign."""
    if not _finite(value):
        return NO_DATA
    value = float(value)
    places = _decimals(value, unit)
    text = f"{value:.3g}" if places is None else f"{value:,.{places}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # no "-0.0"
    if not with_unit:
        return f"{text} {PERCENT}" if unit == PERCENT else text
    return text + unit_suffix(unit)


def percentile_text(value: float | None, suppressed: bool = False) -> str:
    """A percentile, 0 to 100, as a whole number (``"7"``, ``"100"``), or why there is
    none."""
    if suppressed:
        return SUPPRESSED
    if not _finite(value):
        return NO_DATA
    return f"{min(max(float(value), 0.0), 100.0):.0f}"


def shown_value(value: float | None, unit: str = "", suppressed: bool = False) -> str:
    """A value of a table of figures, or why there is none ("suppressed", "no data")."""
    return SUPPRESSED if suppressed else fmt(value, unit)


def cell_text(value: float | None, suppressed: bool = False) -> str:
    """A value cell of the app's table view: four decimals (the table is for reading exact
    figures and sorting), or why there is none."""
    if suppressed:
        return SUPPRESSED
    if not _finite(value):
        return NO_DATA
    return f"{float(value):,.4f}"


def cell_texts(values, suppressed) -> list[str]:
    """:func:`cell_text` of every value of a column (one pass over plain floats)."""
    return [SUPPRESSED if sup else NO_DATA if not math.isfinite(v) else f"{v:,.4f}"
            for v, sup in zip(map(float, values), map(bool, suppressed), strict=True)]


def weight_text(share: float) -> str:
    """A weight or share of the index, 0 to 1, as a whole percentage (``"25%"``)."""
    return f"{share:.0%}"


def prose_share(share: float) -> str:
    """A share of areas, 0 to 1, in running text: ``"10 %"``."""
    return f"{100 * share:.0f} %"


def range_text(low: str, high: str, unit: str = "") -> str:
    """A legend class from ``low`` to ``high`` (already formatted numbers)."""
    if unit == PERCENT:
        return f"{low} % to {high} %"
    return f"{low} to {high}"
