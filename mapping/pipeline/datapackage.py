"""The Frictionless data package descriptor (``datapackage.json``) of a release: every file with
its size and SHA-256, every CSV column with its type and description (indicators from the
registry, other columns from :mod:`mapping.outputs.catalogue`), the sources read with their
licences and attributions."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from mapping.files import sha256_file
from mapping.outputs.catalogue import describe_generic_column, describe_output
from mapping.registry import Registry

PACKAGE_NAME = "london-digital-exclusion-map"
PROCESSED = "processed"
EXTRAS = "extras"

LICENCES = {
    "OGL-UK-3.0": ("Open Government Licence v3.0",
                   "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"),
    "CC-BY-4.0": ("Creative Commons Attribution 4.0",
                  "https://creativecommons.org/licenses/by/4.0/"),
    "ODbL-1.0": ("Open Data Commons Open Database License 1.0",
                 "https://opendatacommons.org/licenses/odbl/1-0/"),
}



def _resource_name(path: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", path.lower()).strip("-")


def _field_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return "string"


def _indicator_field(code: str, registry: Registry | None, manifest: dict) -> dict | None:
    meta = manifest.get("indicators", {}).get(code)
    ind = None
    if registry is not None:
        try:
            ind = registry.indicator(code)
        except KeyError:
            ind = None
    if ind is None and meta is None:
        return None
    if ind is not None:
        text = f"{ind.label}. {ind.description}"
        out = {"title": ind.label, "description": text, "unit": ind.unit,
               "direction": ind.direction, "domain": ind.domain, "vintage": ind.vintage,
               "role": ind.role, "sources": list(ind.sources), "decision": ind.decision}
    else:
        out = {"title": meta["label"], "description": meta["label"], "unit": meta.get("unit", ""),
               "direction": meta.get("direction", ""), "domain": meta.get("domain", ""),
               "role": meta.get("role", ""), "sources": list(meta.get("sources", []))}
    return out


def describe_column(column: str, registry: Registry | None, manifest: dict,
                    table: str = "") -> dict:
    """Title/description (and, for indicators, unit, direction, domain, sources) of a column."""
    if not (table.startswith("indicator_correlations") and column != "indicator"):
        found = _indicator_field(column, registry, manifest)
        if found is not None:
            return found
    return {"description": describe_generic_column(column, table)}


def _csv_schema(path: Path, registry: Registry | None, manifest: dict) -> dict:
    frame = pd.read_csv(path, low_memory=False)
    fields = []
    for col in frame.columns:
        field = {"name": str(col), "type": _field_type(frame[col])}
        field.update(describe_column(str(col), registry, manifest, path.stem))
        fields.append(field)
    schema: dict = {"fields": fields}
    for key in ("lsoa21_code", "ward24_code", "borough_code"):
        if key in frame.columns and frame[key].is_unique:
            schema["primaryKey"] = key
            break
    return schema


def _resource(root: Path, rel: str, registry: Registry | None, manifest: dict,
              description: str) -> dict:
    path = root / rel
    res = {"name": _resource_name(rel), "path": rel, "bytes": path.stat().st_size,
           "hash": f"sha256:{sha256_file(path)}", "description": description}
    suffix = path.suffix.lower()
    if suffix == ".csv":
        res.update(profile="tabular-data-resource", format="csv", mediatype="text/csv",
                   encoding="utf-8", schema=_csv_schema(path, registry, manifest))
    elif suffix == ".geojson":
        res.update(format="geojson", mediatype="application/geo+json", encoding="utf-8")
    elif suffix == ".json":
        res.update(format="json", mediatype="application/json", encoding="utf-8")
    elif suffix in (".md", ".toml", ".txt"):
        res.update(format=suffix[1:], mediatype="text/plain", encoding="utf-8")
    return res


def sources_of(manifest: dict, registry: Registry) -> list[str]:
    """Ids of the sources the build read (its recorded inputs), in registry order."""
    read = manifest.get("inputs", {})
    return [sid for sid in registry.sources if sid in read]


def datapackage(root: Path, version: str, notes: str, day: str, manifest: dict,
                registry: Registry | None, extras: list[str] = ()) -> dict:
    """The Frictionless data package descriptor of a release folder ``root``."""
    names = ["manifest.json", *sorted(manifest.get("outputs", {}))]
    resources = [_resource(root, f"{PROCESSED}/{n}", registry, manifest, describe_output(n))
                 for n in names]
    resources += [_resource(root, f"{EXTRAS}/{n}", registry, manifest,
                            "Analyst file published with the release") for n in extras]
    sources, licences = [], {}
    if registry is not None:
        for sid in sources_of(manifest, registry):
            src = registry.sources[sid]
            sources.append({"title": src.title, "path": src.url, "publisher": src.publisher,
                            "licence": src.licence, "attribution": src.attribution,
                            "release_date": src.release_date, "id": sid,
                            "sha256": manifest["inputs"][sid].get("sha256", "")})
            licences.setdefault(src.licence, None)
    lic = []
    for name in licences:
        title, url = LICENCES.get(name, (name, ""))
        entry = {"name": name, "title": title}
        if url:
            entry["path"] = url
        lic.append(entry)
    return {
        "profile": "data-package",
        "name": PACKAGE_NAME,
        "title": "London digital exclusion map",
        "description": "Small-area (LSOA 2021), ward and borough indicators of the risk of "
                       "digital exclusion in London and the composite index built from them. "
                       f"Release notes: {notes}",
        "version": version,
        "created": day,
        "homepage": "",
        "keywords": ["digital exclusion", "London", "LSOA", "composite indicator"],
        "licenses": lic,
        "sources": sources,
        "attributions": manifest.get("attributions", []),
        "package_version": manifest.get("package_version", ""),
        "resources": resources,
    }
