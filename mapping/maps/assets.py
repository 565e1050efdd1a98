"""Local copies of the JavaScript/CSS a folium page loads from CDNs, for offline exports.

The copies come from npm packages installed at set-up (``make setup`` runs ``npm ci`` from
``package.json``; ``node_modules/`` is never committed). :func:`inline_assets` replaces each
``<script src=…>`` / ``<link rel="stylesheet" href=…>`` of a rendered page with the file's
content, and the images a stylesheet refers to with ``data:`` URIs, so the page is one
self-contained file that opens with no network.

The exports use only Leaflet (see :data:`mapping.maps.folium_map.LEAFLET_ONLY`); a page that
still references an asset with no local copy is refused in offline mode rather than written
half-working.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

from mapping.errors import MappingError

ROOT = Path(__file__).resolve().parents[2]


class AssetError(MappingError):
    """An asset needed for an offline export is not installed or not known."""


def node_modules() -> Path:
    """``$MAPPING_NODE_MODULES``, else ``node_modules`` at the repository root."""
    raw = os.environ.get("MAPPING_NODE_MODULES")
    return Path(raw).resolve() if raw else ROOT / "node_modules"


# CDN file name (the last part of the URL folium uses) → file inside node_modules.
_BY_FILE = {
    ("leaflet", "leaflet.js"): "leaflet/dist/leaflet.js",
    ("leaflet", "leaflet.css"): "leaflet/dist/leaflet.css",
}


def local_copy(url: str) -> Path:
    """The installed file standing in for ``url``; :class:`AssetError` if there is none."""
    parts = url.split("/")
    package = next((p.split("@")[0] for p in parts if p.startswith("leaflet@")), None)
    key = (package, parts[-1])
    if key not in _BY_FILE:
        raise AssetError(f"no local copy of {url} is known, so the map cannot be made to work "
                         "offline (the exports use only Leaflet; remove elements that need "
                         "other libraries, or export without --offline)")
    path = node_modules() / _BY_FILE[key]
    if not path.exists():
        raise AssetError(f"{path} is missing: install the front-end assets with `make setup` "
                         "(or `npm ci`) before an offline export")
    return path


def _css_with_data_uris(path: Path) -> str:
    css = path.read_text(encoding="utf-8")

    def repl(match: re.Match) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith(("data:", "#", "http:", "https:")):
            return match.group(0)
        image = path.parent / ref
        if not image.exists():
            return match.group(0)
        mime = "image/png" if image.suffix == ".png" else "image/svg+xml"
        return f"url(data:{mime};base64,{base64.b64encode(image.read_bytes()).decode('ascii')})"

    return re.sub(r"url\(([^)]*)\)", repl, css)


def _safe_inline(text: str, tag: str, path: Path) -> str:
    if re.search(rf"</{tag}", text, re.IGNORECASE):
        raise AssetError(f"{path} contains '</{tag}' and cannot be inlined safely")
    return text


_SCRIPT = re.compile(r'<script src="([^"]+)"></script>')
_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)"\s*/?>')


def _label(path: Path) -> str:
    return "/".join(path.relative_to(node_modules()).parts)


def inline_assets(page: str) -> str:
    """``page`` with every external script and stylesheet replaced by its local copy inline."""

    def script(match: re.Match) -> str:
        path = local_copy(match.group(1))
        body = _safe_inline(path.read_text(encoding="utf-8"), "script", path)
        return f"<script>/* {_label(path)} */\n{body}\n</script>"

    def link(match: re.Match) -> str:
        path = local_copy(match.group(1))
        body = _safe_inline(_css_with_data_uris(path), "style", path)
        return f"<style>/* {_label(path)} */\n{body}\n</style>"

    tags = {m.group(1) for rx in (_SCRIPT, _LINK) for m in rx.finditer(page)}
    left = [u for u in re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', page)
            if u not in tags]
    if left:
        raise AssetError("the page loads assets that cannot be inlined: "
                         + ", ".join(sorted(set(left))))
    page = _SCRIPT.sub(script, page)
    return _LINK.sub(link, page)

