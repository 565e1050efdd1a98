"""Helpers for the export tests: hostile data, and reading an exported page back."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser

from mapping.maps.folium_map import ExportData
from mapping.outputs import Outputs

HOSTILE = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script><script>alert(2)</script>",
           "`; alert(3); `", "\u2028'\"&amp;"]


def hostile_data(data: ExportData, borough: str = "E09000007") -> ExportData:
    """A copy of ``data`` whose area names in ``borough`` (every level), borough names, library
    names and indicator labels carry script-injection attempts."""
    manifest = copy.deepcopy(data.manifest)
    for i, meta in enumerate(manifest["indicators"].values()):
        meta["label"] = f"{HOSTILE[i % len(HOSTILE)]} label"
    out = ExportData(Outputs(data.outputs.root, manifest), data.registry)
    for level, name_col in (("lsoa", "lsoa21_name"), ("ward", "ward24_name"),
                            ("borough", "borough_name")):
        frame = data.frame(level).copy()
        rows = frame.index[frame["borough_code"] == borough]
        for j, row in enumerate(rows):
            frame.loc[row, name_col] = HOSTILE[j % len(HOSTILE)]
        frame.loc[rows, "borough_name"] = HOSTILE[0]
        out._frames[level] = frame
    libs = data.libraries().copy()
    libs["name"] = [HOSTILE[j % len(HOSTILE)] for j in range(len(libs))]
    out._libraries = libs
    return out


class Page(HTMLParser):
    """The parts of an exported page the tests look at."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.json_scripts: dict[str, object] = {}
        self.elements: list[tuple[str, dict]] = []
        self.text_by_class: dict[str, list[str]] = {}
        self._stack: list[tuple[str, dict, list[str]]] = []
        self._script: tuple[str, list[str]] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag == "script" and attrs.get("type") == "application/json":
            self._script = (attrs["id"], [])
        if tag not in ("meta", "link", "br", "img", "input"):
            self._stack.append((tag, attrs, []))

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            ident, parts = self._script
            self.json_scripts[ident] = json.loads("".join(parts))
            self._script = None
        while self._stack:
            open_tag, attrs, parts = self._stack.pop()
            text = "".join(parts)
            for cls in (attrs.get("class") or "").split():
                self.text_by_class.setdefault(cls, []).append(text)
            if self._stack:
                self._stack[-1][2].append(text)
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._script is not None:
            self._script[1].append(data)
        if self._stack:
            self._stack[-1][2].append(data)

    def layer(self, builder_key: str) -> dict:
        """The JSON payload of the (only) layer whose payload has ``builder_key``."""
        found = [v for v in self.json_scripts.values() if isinstance(v, dict) and builder_key in v]
        assert len(found) == 1, f"{len(found)} payloads with {builder_key!r}"
        return found[0]


def script_count(text: str) -> tuple[int, int]:
    """(opening ``<script`` tags, closing ``</script>`` tags), case-insensitively."""
    return (len(re.findall(r"<script\b", text, re.I)), len(re.findall(r"</script\s*>", text, re.I)))
