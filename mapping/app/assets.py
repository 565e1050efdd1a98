"""The map's static assets: what is the same for every session, loaded by the browser once.

A session's document holds only what differs per person (the class and value of each area,
the palette, the selection, the view). Everything else the map draws is one static file of the
build, the **map data** (``map-<hash>.js``, named by the hash of its content, cached for a year
by browsers and by the nginx of the deploy guide):

* per level (LSOAs, wards, boroughs): the polygons in Web Mercator (whole metres; rounding is
  per vertex, so neighbours' shared edges stay identical), and each area's code, name and
  borough (for the tooltips);
* the borough outlines and labels, the river, the public libraries;
* what the browser needs to re-weight the composite index itself
  (:mod:`mapping/app/static/mapclient.js`): the build's published domain scores (exactly the
  values the server reads), each LSOA's population and its ward and borough, and the colour
  palettes.

The front page (:mod:`mapping.app.front`: ``front-<hash>.html``, the page at ``/``, and its
map figure ``front-<hash>.js``) is made with it. The files are derived from the verified build
by ``mapping serve`` once per build, into ``<out-dir>/app-assets/`` beside ``processed/``
(never committed: ``data/`` is ignored). :func:`ensure_assets` writes them when they are
missing or belong to another build, each through a temporary file and a rename;
``assets-<code>.json`` names them and the build (the
SHA-256 of the build's manifest) it was made from. ``<code>`` is a digest of the code that
shapes the map data, so two versions of the app serving one build (a rolling upgrade) each keep
their own; map data of earlier builds is removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mapping.errors import MappingError
from mapping.outputs import manifest_digest

#: the folder of a build's app assets, beside its ``processed/`` folder
ASSET_DIR = "app-assets"
#: URL prefixes the app server serves the assets under (``panel serve --static-dirs``)
ASSET_ROUTE = "map-assets"
CLIENT_ROUTE = "map-client"
CLIENT_DIR = Path(__file__).resolve().parent / "static"
CLIENT_FILE = "mapclient.js"


class AssetsError(MappingError):
    """The app's static assets are missing or do not belong to the build served."""


@dataclass(frozen=True)
class Assets:
    """Where the page loads the static files from (relative URLs, each with ``?v=<hash>`` so
    that the app server sends a long ``Cache-Control``)."""

    map_file: str  # map-<hash>.js in the asset folder
    client_hash: str
    front_file: str = ""  # front-<hash>.html in the asset folder (the page at /)
    folder: Path | None = None

    @property
    def front_path(self) -> Path:
        return self.folder / self.front_file

    @property
    def map_url(self) -> str:
        digest = self.map_file.removeprefix("map-").removesuffix(".js")
        return f"{ASSET_ROUTE}/{self.map_file}?v={digest}"

    @property
    def client_url(self) -> str:
        return f"{CLIENT_ROUTE}/{CLIENT_FILE}?v={self.client_hash}"


def asset_dir(processed: str | os.PathLike) -> Path:
    return Path(processed).resolve().parent / ASSET_DIR


def client_hash() -> str:
    """One version for the client's static files (``mapclient.js``, the front page's script
    and stylesheet): the ``?v=`` of their URLs."""
    h = hashlib.sha256()
    for path in sorted(CLIENT_DIR.iterdir()):
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def client_url(name: str) -> str:
    return f"{CLIENT_ROUTE}/{name}?v={client_hash()}"


def read_assets(processed: str | os.PathLike) -> Assets:
    """The assets of the build in ``processed``; :class:`AssetsError` when they are missing or
    were made from another build (``mapping serve`` makes them)."""
    folder = asset_dir(processed)
    index = folder / index_name()
    try:
        meta = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AssetsError(f"{index}: the map's static assets are missing or unreadable ({exc}); "
                          "`mapping serve` makes them") from None
    if meta.get("manifest_sha256") != manifest_digest(processed):
        raise AssetsError(f"{index}: the map's static assets were made from another build; "
                          "`mapping serve` makes them again")
    for key in ("map", "front_html", "front_js"):
        if key not in meta or not (folder / meta[key]).is_file():
            raise AssetsError(f"{folder / str(meta.get(key))}: missing; `mapping serve` makes it")
    return Assets(meta["map"], client_hash(), meta["front_html"], folder)


def ensure_assets(processed: str | os.PathLike) -> Assets:
    """The assets of the build in ``processed``, written first when they are missing or stale.
    The build must have been verified against its manifest (``mapping serve`` does)."""
    try:
        return read_assets(processed)
    except AssetsError:
        pass
    from mapping.app import front  # noqa: PLC0415 (heavy; only when writing)
    from mapping.app.data import app_data  # noqa: PLC0415

    data = app_data(str(Path(processed).resolve()))
    payload = map_payload(data)
    text = "globalThis.MappingStaticRaw = " + json.dumps(
        payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + ";\n"
    folder = asset_dir(processed)
    folder.mkdir(parents=True, exist_ok=True)
    name = write_hashed(folder, "map", ".js", text)
    front_js, front_html = front.write_front(folder, data, name)
    build = manifest_digest(processed)
    meta = {"code": code_digest(), "manifest_sha256": build, "map": name,
            "front_js": front_js, "front_html": front_html}
    _write_atomic(folder / index_name(), (json.dumps(meta, indent=1) + "\n").encode())
    _remove_earlier_builds(folder, build)
    return read_assets(processed)


def write_hashed(folder: Path, stem: str, suffix: str, text: str) -> str:
    """Write ``text`` as ``<stem>-<hash><suffix>`` (the hash of its content); its name."""
    body = text.encode("utf-8")
    name = f"{stem}-{hashlib.sha256(body).hexdigest()[:16]}{suffix}"
    _write_atomic(folder / name, body)
    return name


def versioned(url: str) -> str:
    """``url`` of a content-hashed asset with ``?v=<hash>`` (a long ``Cache-Control``)."""
    digest = url.rsplit("-", 1)[1].split(".", 1)[0]
    return f"{url}?v={digest}"


def bokeh_url() -> str:
    """BokehJS as the app server serves it (``static/js/…?v=<hash of the file>``)."""
    from bokeh.server.views.static_handler import StaticHandler  # noqa: PLC0415

    return "static/" + StaticHandler.append_version("js/bokeh.min.js")


def index_name() -> str:
    return f"assets-{code_digest()}.json"


def _remove_earlier_builds(folder: Path, build: str) -> None:
    """Remove the index files and map data made from other builds than ``build``."""
    keep = set()
    for index in folder.glob("assets-*.json"):
        try:
            meta = json.loads(index.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if meta.get("manifest_sha256") == build:
            keep.update(meta.get(key) for key in ("map", "front_js", "front_html"))
        else:
            index.unlink(missing_ok=True)
    for old in (*folder.glob("map-*.js"), *folder.glob("front-*.js"),
                *folder.glob("front-*.html")):
        if old.name not in keep:
            old.unlink(missing_ok=True)


def _write_atomic(path: Path, body: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------
# What the map data holds
# ---------------------------------------------------------------------------------------------


def _floats(values) -> list:
    """Finite floats as they are (JSON keeps every bit of a double), NaN as null."""
    arr = np.asarray(values, dtype=float)
    return [None if not np.isfinite(v) else float(v) for v in arr]


def _coords(parts) -> list:
    return [np.rint(np.asarray(c, dtype=float)).astype(np.int64).tolist() for c in parts]


def _delta(nested):
    """Whole-metre coordinates as differences from the previous vertex of their ring (the
    first as it is): half the size. ``mapclient.js`` (``MappingClient.data``) adds them up."""
    if nested and not isinstance(nested[0], list):
        return [nested[0], *(b - a for a, b in zip(nested, nested[1:], strict=False))]
    return [_delta(x) for x in nested]


#: the coordinate arrays stored as differences (see :func:`_delta`)
DELTA_PATHS = tuple(f"levels.{lv}.{c}" for lv in ("lsoa", "ward", "borough") for c in "xy"
                    ) + ("outlines.x", "outlines.y", "river.x", "river.y")


def map_payload(data) -> dict:
    """The map data of an :class:`~mapping.app.data.AppData` (see the module's docstring)."""
    from mapping.app.data import LEVELS, code_col, name_col  # noqa: PLC0415
    from mapping.app.geometry import polygon_lists, thames  # noqa: PLC0415

    levels = {}
    for level in LEVELS:
        lvl = data.levels[level]
        xs, ys = polygon_lists(lvl.geometry)
        t = lvl.table
        levels[level] = {"xs": xs, "ys": ys, "code": t[code_col(level)].astype(str).tolist(),
                         "name": t[name_col(level)].astype(str).tolist(),
                         "borough": t["borough_name"].astype(str).tolist()}
    lines_x, lines_y = data.borough_lines
    river_x, river_y = thames(data.levels["lsoa"].geometry)
    b = data.boroughs
    lib = data.libraries
    payload = {
        "build": data.build_version,
        "levels": levels,
        "outlines": {"xs": [_coords([c])[0] for c in lines_x],
                     "ys": [_coords([c])[0] for c in lines_y]},
        "labels": {"x": _floats(b["label_x"].round()), "y": _floats(b["label_y"].round()),
                   "name": b["borough_name"].astype(str).tolist()},
        "river": {"xs": river_x, "ys": river_y},
        "libraries": {"x": _floats(lib["x"].round()), "y": _floats(lib["y"].round()),
                      "name": lib["name"].tolist(), "source": lib["source"].tolist()},
        "index": index_inputs(data),
        "client": client_settings(data),
    }
    for path in DELTA_PATHS:
        *parents, last = path.split(".")
        node = payload
        for key in parents:
            node = node[key]
        node[last + "s"] = _delta(node[last + "s"])
    payload["delta"] = [p + "s" for p in DELTA_PATHS]
    return payload


def client_settings(data) -> dict:
    """What ``mapclient.js`` needs besides the widgets: the level order, the measure keys it
    treats apart, the palettes (light to dark, per number of classes), the build's default
    normalisation, the aggregations it computes itself and the measures where a higher value
    is better (their palette is reversed)."""
    from mapping.app.data import INDEX_MEASURE, LEVELS  # noqa: PLC0415
    from mapping.app.store_needs import MAIN_NEED  # noqa: PLC0415
    from mapping.maps.classify import NO_DATA_COLOUR, PALETTES, palette  # noqa: PLC0415

    return {
        "levels": list(LEVELS), "index": INDEX_MEASURE, "categorical": MAIN_NEED,
        "normalisation": data.spec.indicator_level.normalisation,
        "aggregations": ["arithmetic", "geometric"], "no_data": NO_DATA_COLOUR,
        "palettes": {name: {str(k): palette(name, k) for k in range(2, 10)} for name in PALETTES},
        "higher_is_better": sorted(code for code, meta in data.indicators.items()
                                   if meta.get("direction") == "higher_is_better"),
    }


def code_digest() -> str:
    """A digest of the code that shapes the map data and the front page (this module, the
    static layers, the palettes, the map figure, the page and its template, and the client's
    files whose version the page names): the assets of a build are made again when it
    changes."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in (here / "assets.py", here / "geometry.py", here.parent / "maps" / "classify.py",
                 here / "front.py", here / "views" / "map.py", here / "templates" / "front.html",
                 here.parent / "maps" / "bokeh_map.py"):
        h.update(path.read_bytes())
    import bokeh  # noqa: PLC0415

    h.update(client_hash().encode() + bokeh.__version__.encode())
    return h.hexdigest()[:16]


def index_inputs(data) -> dict | None:
    """What the browser re-weights the index from (None when the build publishes no domain
    scores): the published domain scores per LSOA (geometry order), the LSOAs' population and
    the position of each LSOA's ward and borough in those levels' tables."""
    from mapping.app.data import code_col  # noqa: PLC0415
    from mapping.index.engine import domain_column  # noqa: PLC0415

    if data.published is None:
        return None
    spec = data.spec
    lsoa = data.levels["lsoa"].table
    parents = {}
    for level in ("ward", "borough"):
        codes = data.levels[level].table[code_col(level)].astype(str).tolist()
        pos = {c: i for i, c in enumerate(codes)}
        parents[level] = [pos.get(str(c), -1) for c in lsoa[code_col(level)]]
    return {
        "domains": list(spec.domain_codes),
        "scores": [_floats(data.published[domain_column(c)]) for c in spec.domain_codes],
        "population": _floats(lsoa["population"]),
        "parent": parents,
        "normalisation": spec.indicator_level.normalisation,
        "domain_normalisation": spec.domain_level.normalisation,
        "offset": float(spec.domain_level.geometric_offset),
    }
