"""Values as text: the one formatter of the app, the exports, the CSV downloads and the
notebooks.

The rule for a value, :func:`value_text`:

* three significant figures below 100 (``0.0123``, ``4.56``, ``78.9``), one decimal with
  thousands separators from 100 (``123.4``, ``1,234.5``);
* a percentage carries the sign against the number, as GOV.UK and ONS write it: ``12.3%``;
* no value is ``None`` here and "no data" (:data:`NO_DATA`) or "suppressed" (the small-count
  rule, :data:`SUPPRESSED`) when shown: never ``nan``, ``0`` or a blank.

Two forms that sentences use are kept as they read today: a share of areas in running text
(:func:`prose_share`, "the 10 % of LSOAs") and a legend class of a percentage
(:func:`range_text`, "10.2 % to 15.3 %").
"""

from __future__ import annotations

import math

NO_DATA = "no data"
#: a value blanked by the small-count rule (DR-0004, :mod:`mapping.pipeline.disclosure`)
SUPPRESSED = "suppressed"
PERCENT = "%"

__all__ = ["NO_DATA", "PERCENT", "SUPPRESSED", "cell_text", "number_text", "prose_share",
           "range_text", "shown_value", "value_text", "weight_text"]


def _finite(value) -> bool:
    if value is None:
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def number_text(value: float) -> str:
    """A number by the rule above (no unit)."""
    value = float(value)
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"


def value_text(value: float | None, unit: str = "") -> str | None:
    """``value`` in ``unit`` as text (``"12.3%"``), or ``None`` when there is no value."""
    if not _finite(value):
        return None
    text = number_text(value)
    return f"{text}{PERCENT}" if unit == PERCENT else text


def shown_value(value: float | None, unit: str = "", suppressed: bool = False) -> str:
    """What a person sees for a value: the text, "suppressed" or "no data"."""
    if suppressed:
        return SUPPRESSED
    return value_text(value, unit) or NO_DATA


def cell_text(value: float | None, suppressed: bool = False) -> str:
    """A value cell of the app's table view: four decimals (the table is for reading exact
    figures and sorting), or why there is none."""
    if suppressed:
        return SUPPRESSED
    if not _finite(value):
        return NO_DATA
    return f"{float(value):,.4f}"


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
