"""A first page: the built London LSOA map coloured by any registered indicator.

(The full app — index, reweighting, profiles, compare, table, downloads — is its own piece of
work; this page proves the build reaches the browser.)
"""

from __future__ import annotations

import html

import mapclassify
import numpy as np
import panel as pn
import param
from bokeh.palettes import Viridis

from mapping.maps.bokeh_map import choropleth_figure, polygon_source
from mapping.outputs import load_outputs

NO_DATA = "#bdbdbd"


class MapState(param.Parameterized):
    """Per-session state: which measure colours the map."""

    measure = param.Selector(default=None, objects=[])


def classify(values: np.ndarray, k: int = 5) -> tuple[list[str], list[str]]:
    """Quantile classes → a colour per value and a text label per class."""
    palette = list(reversed(Viridis[k]))  # dark = higher
    ok = ~np.isnan(values)
    colours = np.full(values.shape, NO_DATA, dtype=object)
    q = mapclassify.Quantiles(values[ok], k=k)
    colours[ok] = [palette[c] for c in q.yb]
    lows = [float(np.nanmin(values))] + [float(b) for b in q.bins[:-1]]
    labels = [f"{lo:.3g} – {hi:.3g}" for lo, hi in zip(lows, q.bins, strict=True)]
    return list(colours), [f"{palette[i]}|{labels[i]}" for i in range(len(labels))]


def make_page():
    outputs = load_outputs()
    table = outputs.table("lsoa21_indicators.csv")
    geo = outputs.geo("lsoa21.geojson").merge(table, on=["lsoa21_code"], suffixes=("", "_t"))
    measures = {v["label"]: k for k, v in outputs.manifest["indicators"].items()
                if k in table.columns}
    state = MapState()
    state.param.measure.objects = list(measures)
    state.measure = next(iter(measures))
    source = polygon_source(geo, ["lsoa21_code", "lsoa21_name", "borough_name"])
    source.data["fill"] = [NO_DATA] * len(geo)
    source.data["value"] = [0.0] * len(geo)
    fig, _ = choropleth_figure(source, tooltips=[("Area", "@lsoa21_name"),
                                                 ("Borough", "@borough_name"),
                                                 ("Value", "@value{0.000}")])
    legend = pn.pane.HTML(sanitize_html=True)

    def recolour(*_):
        code = measures[state.measure]
        values = geo[code].to_numpy(dtype=float)
        colours, classes = classify(values)
        source.data.update(fill=colours, value=values)
        items = "".join(f'<li><span style="background:{c.split("|")[0]};display:inline-block;'
                        f'width:1em;height:1em"></span> {html.escape(c.split("|")[1])}</li>'
                        for c in classes)
        legend.object = f"<p>{html.escape(state.measure)}</p><ul>{items}</ul>"

    state.param.watch(recolour, "measure")
    recolour()
    attributions = "<br>".join(html.escape(a) for a in outputs.manifest["attributions"])
    return pn.Column(
        pn.pane.Markdown("# London digital exclusion map", renderer_options={"html": False}),
        pn.Row(pn.Column(pn.widgets.Select.from_param(state.param.measure, name="Measure"),
                         legend, width=320), pn.pane.Bokeh(fig, sizing_mode="stretch_width")),
        pn.pane.HTML(f"<small>{attributions}</small>", sanitize_html=True),
        sizing_mode="stretch_width",
    )
