"""Entry point for ``panel serve``: builds one page per session from pre-built outputs.

The build is loaded once per process (``mapping.app.data.app_data`` is cached); each session
gets its own state and Bokeh models. When the build cannot be loaded (missing, or its files do
not match their manifest), every session gets a short error page instead of a traceback; the
details go to the server log only (they name server paths).
"""

import functools
import logging

import panel as pn
from panel.io.resources import LOCAL_DIST

from mapping.app.assets import read_assets
from mapping.app.page import TITLE, make_page
from mapping.errors import MappingError
from mapping.outputs import processed_dir

UNAVAILABLE = (
    "# London digital exclusion map\n\n"
    "**The map is not available just now.** Its published data are missing or failed their "
    "integrity check, so nothing is shown rather than something that may be wrong.\n\n"
    "The people who run this service can see the reason in the server log "
    "(`mapping serve` refuses to start on such a build; `mapping build` makes a new one)."
)


def unavailable_page() -> pn.viewable.Viewable:
    return pn.Column(pn.pane.Markdown(UNAVAILABLE, renderer_options={"html": False},
                                      name="unavailable"), sizing_mode="stretch_width")


def serve_assets_locally() -> None:
    """Panel resolves a stylesheet of a component made before the session's page is rendered
    (or of one not yet in the document) against its CDN unless the document names its own
    asset folder: name it now, so that no model ever carries a CDN address."""
    doc = pn.state.curdoc
    if doc is not None:
        doc._template_variables.setdefault("dist_url", LOCAL_DIST)


@functools.lru_cache(maxsize=4)
def _assets(root: str):
    return read_assets(root)


def load_static_assets() -> None:
    """The map data and the map's client code are static files of the build, loaded (once,
    then from the browser's cache) before the session's document is drawn."""
    assets = _assets(str(processed_dir()))
    pn.config.js_files = {**pn.config.js_files, "mapping_map_data": assets.map_url,
                          "mapping_client": assets.client_url}


serve_assets_locally()
try:
    page = make_page()  # the build first: its own error (missing, damaged) is the one to log
    load_static_assets()
except MappingError as exc:  # no build, files that do not match the manifest, no map data
    logging.getLogger("mapping.app").error("cannot serve the map: %s", exc)
    page = unavailable_page()

page.servable(title=TITLE)
