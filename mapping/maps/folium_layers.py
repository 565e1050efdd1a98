"""The parts of an exported page that are not the map's data: Leaflet layers built in the browser
from JSON, trusted HTML placed in the page, and the integer encoding of the geometry.

* :class:`DataLayer` embeds a payload as JSON in ``<script type="application/json">`` (see
  :func:`mapping.maps.escape.json_for_script`); a few lines of JavaScript
  (``templates/export_helpers.js``) turn it into Leaflet polygons or points, with tooltips built
  with ``textContent`` (folium's own ``Tooltip``/``Popup`` do not escape data).
* Each ring is sent as integers on a 1e-5° grid, the first vertex absolute and the rest as
  differences, without the closing vertex (:func:`encode_ring`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template

from mapping.maps.escape import html_text, json_for_script

TEMPLATES = Path(__file__).with_name("templates")
GRID = 100_000  # coordinates are sent as integers in units of 1e-5 degree (≈ 1 m)
LEAFLET_ONLY_JS = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")]
LEAFLET_ONLY_CSS = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")]


#: the page's own style sheet and the helpers that build its layers in the browser
PAGE_CSS = (TEMPLATES / "export_page.css").read_text(encoding="utf-8")
HELPERS_JS = (TEMPLATES / "export_helpers.js").read_text(encoding="utf-8")


def page_head() -> str:
    """The page's own style sheet and the helper script, for the document head."""
    return f"\n<style>\n{PAGE_CSS}</style>\n\n<script>\n{HELPERS_JS}</script>\n"


def encode_ring(coords: np.ndarray) -> list[int]:
    """A ring as integers on the 1e-5° grid: first vertex, then differences; no closing vertex."""
    grid = np.rint(np.asarray(coords)[:, :2] * GRID).astype(np.int64)
    if len(grid) > 1 and (grid[0] == grid[-1]).all():
        grid = grid[:-1]
    deltas = np.vstack([grid[:1], np.diff(grid, axis=0)])
    return deltas.ravel().tolist()


def decode_ring(ints: Sequence[int]) -> np.ndarray:
    """Inverse of :func:`encode_ring` (closing vertex restored), in degrees."""
    grid = np.cumsum(np.asarray(ints, dtype=np.int64).reshape(-1, 2), axis=0)
    return np.vstack([grid, grid[:1]]) / GRID


def encode_polygons(geom) -> list[list[list[int]]]:
    """A (multi)polygon as [polygon][ring] of encoded rings; lines as [line][[…]]."""
    if geom is None or geom.is_empty:
        return []
    parts = getattr(geom, "geoms", [geom])
    out = []
    for part in parts:
        if part.geom_type == "Polygon":
            rings = [part.exterior, *part.interiors]
            out.append([encode_ring(np.asarray(r.coords)) for r in rings])
    return out


class DataLayer(Layer):
    """A Leaflet layer built in the browser from JSON data embedded in the page."""

    _template = Template("""
        {% macro html(this, kwargs) %}
<script type="application/json" id="{{ this.get_name() }}_data">{{ this.payload }}</script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = window.mappingExport.{{ this.builder }}(
                "{{ this.get_name() }}_data");
        {% endmacro %}
    """)

    def __init__(self, builder: str, payload: dict, name: str, show: bool = True,
                 control: bool = True):
        # Leaflet's layer control writes layer names as HTML: escape them here.
        super().__init__(name=html_text(name), overlay=True, control=control, show=show)
        self._name = "data_layer"
        self.builder = builder
        self.payload = json_for_script(payload)


class StaticHtml(MacroElement):
    """Trusted HTML (rendered from an autoescaping template) placed in the page body; optional
    header content."""

    _template = Template("""
        {% macro header(this, kwargs) %}{{ this.head }}{% endmacro %}
        {% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}
    """)

    def __init__(self, body: str = "", head: str = ""):
        super().__init__()
        self._name = "static_html"
        self.body = body
        self.head = head
