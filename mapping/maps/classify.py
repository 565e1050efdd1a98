"""Classification schemes chosen by name (mapclassify) and colour-blind-safe palettes.

Shared by the Bokeh app and the folium exports so that a map looks the same in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from bokeh.palettes import Cividis256, Viridis256, YlGnBu, YlOrRd

#: scheme name → mapclassify class name. Quantiles and equal intervals are computed here by
#: mapclassify's own rules (:func:`quantile_bins`, :func:`equal_interval_bins`, :func:`bin1d`;
#: tests/test_classify.py checks them against mapclassify): importing mapclassify compiles its
#: numba functions (~2 s), which only natural breaks need, and the browser's repaint
#: (mapping/app/static/mapclient.js) mirrors these same few lines.
SCHEMES = {
    "quantiles": "Quantiles",
    "natural_breaks": "FisherJenks",
    "equal_interval": "EqualInterval",
}
SCHEME_LABELS = {"quantiles": "Quantiles (equal counts)", "natural_breaks": "Natural breaks "
                 "(Fisher–Jenks)", "equal_interval": "Equal intervals"}
#: Areas without a value. Light grey: CIEDE2000 at least 7 from every class colour of every palette
#: and k (2–9), also under simulated protanopia and deuteranopia (tests/test_a11y_colour.py); the
#: former #bdbdbd was nearly identical to a YlGnBu class for people with deuteranopia.
NO_DATA_COLOUR = "#d9d9d9"


def _sample(palette256, k: int, lo: float = 0.0, hi: float = 1.0) -> list[str]:
    idx = np.linspace(lo * 255, hi * 255, k).round().astype(int)
    return [palette256[i] for i in idx]


def palette(name: str, k: int) -> list[str]:
    """``k`` colours, light (low) to dark (high risk). All are safe for the common colour-vision
    deficiencies: viridis and cividis are perceptually uniform and monotonic in lightness;
    the ColorBrewer YlOrRd and YlGnBu sequences are single-direction lightness ramps."""
    if not 2 <= k <= 9:
        raise ValueError("k must be between 2 and 9")
    if name == "viridis":
        return list(reversed(_sample(Viridis256, k, 0.0, 0.95)))
    if name == "cividis":
        return list(reversed(_sample(Cividis256, k, 0.0, 0.95)))
    if name == "ylorrd":
        return list(YlOrRd[max(k, 3)][:k][::-1]) if k >= 3 else ["#ffeda0", "#f03b20"]
    if name == "ylgnbu":
        return list(YlGnBu[max(k, 3)][:k][::-1]) if k >= 3 else ["#edf8b1", "#2c7fb8"]
    raise ValueError(f"unknown palette {name!r}; choose from {', '.join(PALETTES)}")


PALETTES = ("viridis", "cividis", "ylorrd", "ylgnbu")


def quantile_bins(y: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of ``k`` quantile classes (``mapclassify.classifiers.quantile``: repeated
    bounds merge, so there may be fewer)."""
    from scipy import stats  # noqa: PLC0415

    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    if p[-1] > 100.0:
        p[-1] = 100.0
    return np.unique(np.array([stats.scoreatpercentile(y, pct) for pct in p]))


def equal_interval_bins(y: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of ``k`` classes of equal width (``mapclassify.EqualInterval``)."""
    max_y, min_y = max(y), min(y)
    width = (max_y - min_y) * 1.0 / k
    cuts = np.arange(min_y + width, max_y + width, width)
    if len(cuts) > k:
        cuts = cuts[0:k]
    cuts[-1] = max_y
    return cuts.copy()


def bin1d(x: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Class of each value: ``j`` where ``bins[j-1] < x <= bins[j]``
    (``mapclassify.classifiers.bin1d``)."""
    left = [-float("inf"), *bins[0:-1]]
    ids = np.zeros(x.shape, dtype="int")
    for j, (lo, hi) in enumerate(zip(left, bins, strict=True)):
        ids += (x > lo) * (x <= hi) * j
    return ids


_OWN_BINS = {"quantiles": quantile_bins, "equal_interval": equal_interval_bins}


@dataclass(frozen=True)
class Classes:
    """Result of classifying values: a class per value (``len(colours)`` = no data), bins,
    colours and text labels."""

    classes: np.ndarray
    bins: tuple[float, ...]
    colours: tuple[str, ...]
    labels: tuple[str, ...]

    def colour_of(self) -> list[str]:
        lut = np.array([*self.colours, NO_DATA_COLOUR], dtype=object)
        return lut[self.classes].tolist()


def classify(values, scheme: str = "quantiles", k: int = 5, palette_name: str = "viridis",
             fmt: str = "{:.3g}", higher_is_worse: bool = True) -> Classes:
    """Classify ``values`` (NaN = no data) with a named scheme into ``k`` classes.

    Colours always run light (less risk) to dark (more risk): for a measure where a higher
    value is better (e.g. full-fibre coverage) the palette is reversed, so the lowest values
    get the darkest colour. Classes, bins and labels stay in ascending order of value."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
    values = np.asarray(values, dtype=float)
    ok = ~np.isnan(values)
    if ok.sum() == 0:
        raise ValueError("no values to classify")
    distinct = np.unique(values[ok]).size
    k_eff = max(1, min(k, distinct))
    classes = np.full(values.shape, -1, dtype=np.int64)
    if k_eff == 1:
        classes[ok] = 0
        bins = (float(values[ok].max()),)
    elif scheme in _OWN_BINS:
        # few distinct values (e.g. a borough-only coverage share, mostly 0 or 100): equal
        # quantile bounds merge; fewer classes is the answer
        edges = _OWN_BINS[scheme](values[ok], k_eff)
        classes[ok] = bin1d(values[ok], edges)
        bins = tuple(float(b) for b in edges)
        k_eff = len(bins)
    else:
        import mapclassify  # noqa: PLC0415

        fitted = getattr(mapclassify, SCHEMES[scheme])(values[ok], k=k_eff)
        classes[ok] = fitted.yb
        bins = tuple(float(b) for b in fitted.bins)
        k_eff = len(bins)
    colours = tuple(palette(palette_name, max(k_eff, 2))[:k_eff]) if k_eff > 1 else (
        palette(palette_name, 2)[1],)
    lows = (float(values[ok].min()), *bins[:-1])
    labels = tuple(f"{fmt.format(lo)} to {fmt.format(hi)}" for lo, hi in zip(lows, bins,
                                                                                strict=True))
    if not higher_is_worse:
        colours = colours[::-1]
    classes = np.where(classes == -1, len(colours), classes)
    return Classes(classes, bins, colours, labels)
