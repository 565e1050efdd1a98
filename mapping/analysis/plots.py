"""Static charts for notebooks and reports (Bokeh figures, the project's palettes).

Every chart labels both axes with their unit and uses the colour-blind-safe palettes of
:mod:`mapping.maps.classify`. Maps are not drawn here: use
:func:`mapping.maps.folium_map.export_map` (the same builder as the exports). Show a figure
in a notebook with ``bokeh.io.show``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper, Span
from bokeh.plotting import figure

from mapping.maps.classify import palette

PALETTE = "viridis"
WIDTH, HEIGHT = 720, 380


def _colours(k: int, name: str = PALETTE) -> list[str]:
    return palette(name, max(2, min(k, 9)))


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, x_label: str,
              y_label: str = "", highlight: Sequence[bool] | None = None) -> figure:
    """Horizontal bars (one per label, top to bottom in the order given)."""
    labels = [str(v) for v in labels]
    dark, light = _colours(5)[-1], _colours(5)[1]
    colours = [dark if h else light for h in (highlight or [True] * len(labels))]
    source = ColumnDataSource({"label": labels, "value": list(map(float, values)),
                               "colour": colours})
    fig = figure(y_range=list(reversed(labels)), width=WIDTH,
                 height=max(160, 28 * len(labels) + 80), title=title, toolbar_location=None,
                 tooltips=[("", "@label"), (x_label, "@value{0.000}")])
    fig.hbar(y="label", right="value", height=0.7, color="colour", source=source)
    fig.xaxis.axis_label = x_label
    fig.yaxis.axis_label = y_label
    return fig


def histogram(values: Sequence[float], *, title: str, x_label: str, bins: int = 40) -> figure:
    """Distribution of ``values`` (missing values left out); the y axis counts areas."""
    v = np.asarray(values, dtype=float)
    counts, edges = np.histogram(v[~np.isnan(v)], bins=bins)
    fig = figure(width=WIDTH, height=HEIGHT, title=title, toolbar_location=None)
    fig.quad(top=counts, bottom=0, left=edges[:-1], right=edges[1:], color=_colours(5)[2],
             line_color="white")
    fig.xaxis.axis_label = x_label
    fig.yaxis.axis_label = "number of areas"
    return fig


def rank_intervals(ranks: pd.DataFrame, *, title: str, unit_label: str = "LSOA",
                   max_points: int = 5000) -> figure:
    """Each unit's nominal rank against its Monte Carlo 5-95 % rank interval.

    ``ranks`` has ``nominal_rank``, ``median_rank``, ``rank_p05``, ``rank_p95`` and
    ``unstable`` (as :func:`mapping.index.monte_carlo` returns).
    """
    data = ranks.sort_values("nominal_rank")
    if len(data) > max_points:
        data = data.iloc[np.linspace(0, len(data) - 1, max_points).astype(int)]
    cols = _colours(5)
    colour = np.where(data["unstable"].to_numpy(dtype=bool), cols[-1], cols[2])
    source = ColumnDataSource({"x": data["nominal_rank"].to_numpy(),
                               "lo": data["rank_p05"].to_numpy(),
                               "hi": data["rank_p95"].to_numpy(),
                               "mid": data["median_rank"].to_numpy(), "colour": colour})
    fig = figure(width=WIDTH, height=HEIGHT, title=title, toolbar_location=None)
    fig.segment(x0="x", x1="x", y0="lo", y1="hi", color="colour", alpha=0.35, source=source,
                legend_label="5-95 % interval (dark: unstable)")
    fig.scatter(x="x", y="mid", size=2, color="black", source=source,
                legend_label="median rank")
    fig.xaxis.axis_label = f"rank with the default index (1 = most at risk; {unit_label}s)"
    fig.yaxis.axis_label = "rank over the Monte Carlo draws (rank)"
    fig.legend.location = "bottom_right"
    return fig


def correlation_heatmap(corr: pd.DataFrame, *, title: str, label: str = "Spearman ρ") -> figure:
    """A square matrix of correlations (-1 to 1) with a colour bar."""
    names = [str(c) for c in corr.columns]
    xs, ys, vs = [], [], []
    for r in names:
        for c in names:
            xs.append(c)
            ys.append(r)
            vs.append(float(corr.loc[r, c]))
    mapper = LinearColorMapper(palette=_colours(9, "cividis"), low=-1.0, high=1.0)
    source = ColumnDataSource({"x": xs, "y": ys, "v": vs,
                               "text": [f"{v:.2f}" for v in vs]})
    size = max(420, 34 * len(names) + 220)
    fig = figure(x_range=names, y_range=list(reversed(names)), width=size + 80, height=size,
                 title=title, toolbar_location=None, tooltips=[("", "@y × @x"), (label, "@v")])
    fig.rect(x="x", y="y", width=1, height=1, source=source,
             fill_color={"field": "v", "transform": mapper}, line_color="white")
    fig.xaxis.major_label_orientation = 1.0
    fig.xaxis.axis_label = "indicator (direction-aligned)"
    fig.yaxis.axis_label = "indicator (direction-aligned)"
    fig.add_layout(ColorBar(color_mapper=mapper, title=f"{label} (-1 to 1)"), "right")
    return fig


def scatter(x: Sequence[float], y: Sequence[float], *, title: str, x_label: str, y_label: str,
            diagonal: bool = False) -> figure:
    """Scatter of two measures, one point per area; ``diagonal`` draws y = x."""
    fig = figure(width=WIDTH, height=HEIGHT + 80, title=title, toolbar_location=None)
    fig.scatter(np.asarray(x, dtype=float), np.asarray(y, dtype=float), size=3, alpha=0.35,
                color=_colours(5)[1])
    if diagonal:
        lo = float(np.nanmin([np.nanmin(x), np.nanmin(y)]))
        hi = float(np.nanmax([np.nanmax(x), np.nanmax(y)]))
        fig.line([lo, hi], [lo, hi], color="black", line_dash="dashed", legend_label="y = x")
        fig.legend.location = "top_left"
    fig.xaxis.axis_label = x_label
    fig.yaxis.axis_label = y_label
    return fig


def compare_bars(labels: Sequence[str], values: Sequence[float], reference: float, *,
                 title: str, x_label: str, reference_label: str) -> figure:
    """Bars with a vertical line at a reference value (e.g. a borough against London)."""
    fig = bar_chart(labels, values, title=title, x_label=x_label)
    fig.add_layout(Span(location=float(reference), dimension="height", line_color="black",
                        line_dash="dashed"))
    fig.title.text = f"{title} (dashed: {reference_label})"
    return fig
