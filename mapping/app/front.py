"""The front page: the map of the index, served as static files, with no session on the server.

Most visitors open the map, look at the published index, perhaps try other weights or classes,
and leave. None of that needs the server: the map data (:mod:`mapping.app.assets`) holds the
polygons and the published domain scores, and ``mapclient.js`` re-weights, classifies and
recolours exactly as the Python engine does. So the page at ``/`` is a static HTML file of the
build (``front-<hash>.html``, rendered by ``panel serve --index``): its map is the very figure
the app draws (:class:`~mapping.app.views.map.MapPanel`, every level), embedded once as JSON
(``front-<hash>.js``) and drawn by BokehJS; its controls are plain HTML form controls
(``static/front.js``). A new visitor costs the server one small static response.

Everything else (other measures, focusing on boroughs, rescaling, normalisation, Fisher-Jenks
classes, profiles, comparison, need types, downloads, the borough pack) is the full app at
``main``: the page links to it with the same view, and sends a shared address it cannot show
(any other query parameter) there at once.

The HTML is rendered by Tornado's template loader (``panel serve --index``), so it must hold
no template syntax: :func:`front_html` refuses any ``{{``, ``{%`` or ``{#``.
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager

import numpy as np

from mapping.app.data import AGGREGATIONS, INDEX_MEASURE, LEVELS
from mapping.maps.classify import SCHEME_LABELS

#: the classification schemes the browser computes (Fisher-Jenks stays on the server)
FRONT_SCHEMES = ("quantiles", "equal_interval")
#: the summary's words for them ("5 classes of equal width (equal intervals)")
SCHEME_PHRASES = {"quantiles": "with equal numbers of areas (quantiles)",
                  "equal_interval": "of equal width (equal intervals)"}
K_RANGE = (3, 7)
TITLE = "London digital exclusion map"
LEVEL_PLURALS = {"lsoa": "LSOAs (small areas)", "ward": "wards", "borough": "boroughs"}
#: a click on the map: front.js shows the area and links to its profile
TAP_JS = "if (globalThis.MappingFrontTap) MappingFrontTap(level, cb_obj.indices);"
#: what a Tornado template would read as its own syntax
TEMPLATE_SYNTAX = ("{{", "{%", "{#")


@contextmanager
def _quiet_embed():
    """json_item warns of the map's Python callbacks (the app's selection), which the front
    page does not need: it attaches its own in the browser."""
    log = logging.getLogger("bokeh.embed.util")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def front_payload(data) -> dict:
    """What the front page needs besides the map data: the map figure (Bokeh JSON, every
    level, its sources empty but for their row count) and the controls' choices."""
    from bokeh.embed import json_item  # noqa: PLC0415
    from bokeh.models import CustomJS  # noqa: PLC0415

    from mapping.app.store import AppState  # noqa: PLC0415
    from mapping.app.views.controls import PALETTE_LABELS  # noqa: PLC0415
    from mapping.app.views.map import MapPanel, tooltips  # noqa: PLC0415

    store = AppState(data)
    mp = MapPanel(store=store)
    for level in LEVELS:
        mp._add_level(level)
    # the models front.js looks up by name; the sources carry only their row count (the page
    # computes every class and value itself)
    mp.hover.name, mp.tap.name = "hover", "tap"
    mp.value_fmt.name, mp.class_fmt.name, mp.mapper.name = "value-fmt", "class-fmt", "mapper"
    for level, src in mp.sources.items():
        n = len(src.data["cls"])
        src.data = {"cls": np.zeros(n, dtype=np.uint8), "value": np.zeros(n, dtype=np.uint8)}
        mp.renderers[level].name = f"renderer-{level}"
        src.selected.js_on_change("indices", CustomJS(args={"level": level}, code=TAP_JS))
    with _quiet_embed():
        item = json_item(mp.fig)
    spec = data.spec
    return {
        "item": item,
        "title": TITLE,
        "index_label": store.measure_label(INDEX_MEASURE),
        "build": data.build_version,
        "built": data.built_at,
        "levels": [[k, v] for k, v in LEVELS.items()],
        "plurals": LEVEL_PLURALS,
        "tooltips": {level: tooltips(level) for level in LEVELS},
        "domains": [[code, label, w] for (code, label), w in
                    zip(data.domains.items(), store.default_weights(), strict=True)],
        "aggregation": spec.domain_level.aggregation,
        "aggregations": [[k, AGGREGATIONS[k]] for k in AGGREGATIONS],
        "schemes": [[k, SCHEME_LABELS[k]] for k in FRONT_SCHEMES],
        "scheme_phrases": SCHEME_PHRASES,
        "palettes": [[k, v] for k, v in PALETTE_LABELS.items()],
        "k": [*K_RANGE, int(store.k)],
    }


def front_script(payload: dict) -> str:
    return "globalThis.MappingFront = " + json.dumps(
        payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + ";\n"


def write_front(folder, data, map_file: str) -> tuple[str, str]:
    """Write the front page of ``data`` into the asset ``folder`` beside its map data
    ``map_file``: its figure (``front-<hash>.js``) and its HTML (``front-<hash>.html``,
    naming every file it loads with its version). Returns both names."""
    from mapping.app.assets import (  # noqa: PLC0415 (assets imports this module lazily)
        ASSET_ROUTE,
        CLIENT_FILE,
        bokeh_url,
        client_url,
        versioned,
        write_hashed,
    )

    payload = front_payload(data)
    figure = write_hashed(folder, "front", ".js", front_script(payload))
    page = front_html(map_url=versioned(f"{ASSET_ROUTE}/{map_file}"),
                      front_url=versioned(f"{ASSET_ROUTE}/{figure}"),
                      client_url=client_url(CLIENT_FILE), page_url=client_url("front.js"),
                      css_url=client_url("front.css"), bokeh_url=bokeh_url(), payload=payload)
    return figure, write_hashed(folder, "front", ".html", page)


def front_html(*, map_url: str, front_url: str, client_url: str, page_url: str, css_url: str,
               bokeh_url: str, payload: dict) -> str:
    """The front page's HTML (see the module's docstring)."""
    from mapping.app.panes import html  # noqa: PLC0415

    text = html("front.html", title=TITLE, map_url=map_url, front_url=front_url,
                client_url=client_url, page_url=page_url, css_url=css_url, bokeh_url=bokeh_url,
                p=payload)
    for token in TEMPLATE_SYNTAX:
        if token in text:
            raise ValueError(f"the front page holds {token!r}, which panel serve's template "
                             "loader would read as its own syntax")
    return text
