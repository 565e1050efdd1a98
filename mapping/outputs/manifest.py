"""The manifest of a build, typed: what the build wrote into ``manifest.json`` and every reader
parses back.

:class:`Manifest` is written by :func:`mapping.pipeline.build.build` (:meth:`Manifest.to_json`)
and read by :func:`mapping.outputs.load_outputs` (:meth:`Manifest.from_dict`, which first checks
the file against ``manifest.schema.json``). Readers ask its fields, never keys a build might
have written: a build records no clock time (builds are reproducible byte for byte), so there is no
"built at" field; see :func:`build_date`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from mapping.errors import MappingError

SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")


class ManifestError(MappingError):
    """A manifest that does not follow ``manifest.schema.json``."""


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def check(data: Any, where: str = "manifest.json") -> None:
    """Raise :class:`ManifestError` naming every field of ``data`` that breaks the schema."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.path])
    if errors:
        lines = [f"{'.'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}"
                 for e in errors[:10]]
        raise ManifestError(f"{where} does not follow the manifest schema: " + "; ".join(lines))


@dataclass(frozen=True)
class InputRecord:
    """One source the build read: its main file's hash and every file behind it."""

    path: str
    sha256: str
    matches_registry: bool
    files: dict[str, str] = field(default_factory=dict)
    #: whether the registry declares a hash for the source (an analyst's may not)
    hash_declared: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"path": self.path, "files": dict(self.files), "sha256": self.sha256,
               "matches_registry": self.matches_registry}
        if self.hash_declared is not None:
            out["hash_declared"] = self.hash_declared
        return out


@dataclass(frozen=True)
class IndicatorRecord:
    """One indicator as the build published it."""

    label: str
    domain: str = ""
    unit: str = ""
    direction: str = "higher_is_worse"
    role: str = "input"
    geography: str = ""
    sources: tuple[str, ...] = ()
    missing: int = 0
    missing_markers: dict[str, int] = field(default_factory=dict)
    #: rows of the source outside London, ignored (recorded when the build counted them)
    rows_outside_london: int | None = None
    of_which_welsh: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"label": self.label, "domain": self.domain, "unit": self.unit,
               "direction": self.direction, "role": self.role, "geography": self.geography,
               "sources": list(self.sources), "missing": self.missing,
               "missing_markers": dict(self.missing_markers)}
        if self.rows_outside_london is not None:
            out["rows_outside_london"] = self.rows_outside_london
        if self.of_which_welsh is not None:
            out["of_which_welsh"] = self.of_which_welsh
        return out


@dataclass(frozen=True)
class IndexRecord:
    """The index the build published: its full specification (``IndexSpec.to_dict``)."""

    name: str
    version: str
    sha256: str
    specification: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256,
                "specification": self.specification}


@dataclass(frozen=True)
class Manifest:
    """A build's ``manifest.json`` (see ``manifest.schema.json`` for each field)."""

    package_version: str
    indicators: dict[str, IndicatorRecord]
    attributions: tuple[str, ...]
    outputs: dict[str, str]
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, InputRecord] = field(default_factory=dict)
    index: IndexRecord | None = None
    disclosure: dict[str, Any] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)
    geometry: dict[str, Any] = field(default_factory=dict)
    libraries_without_coordinates: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "manifest.json") -> Manifest:
        """Check ``data`` against the schema and parse it."""
        check(data, where)
        inputs = {sid: InputRecord(path=str(v.get("path", "")), sha256=v["sha256"],
                                   matches_registry=bool(v.get("matches_registry", False)),
                                   files=dict(v.get("files", {})),
                                   hash_declared=v.get("hash_declared"))
                  for sid, v in data.get("inputs", {}).items()}
        indicators = {code: IndicatorRecord(**{**v, "sources": tuple(v.get("sources", ()))})
                      for code, v in data["indicators"].items()}
        index = IndexRecord(**data["index"]) if "index" in data else None
        return cls(package_version=data["package_version"], indicators=indicators,
                   attributions=tuple(data["attributions"]), outputs=dict(data["outputs"]),
                   parameters=dict(data.get("parameters", {})), inputs=inputs, index=index,
                   disclosure=dict(data.get("disclosure", {})),
                   row_counts=dict(data.get("row_counts", {})),
                   geometry=dict(data.get("geometry", {})),
                   libraries_without_coordinates=int(data.get("libraries_without_coordinates",
                                                              0)))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "package_version": self.package_version,
            "parameters": self.parameters,
            "inputs": {k: v.to_dict() for k, v in self.inputs.items()},
            "indicators": {k: v.to_dict() for k, v in self.indicators.items()},
            "disclosure": self.disclosure,
            "row_counts": self.row_counts,
            "geometry": self.geometry,
            "libraries_without_coordinates": self.libraries_without_coordinates,
            "attributions": list(self.attributions),
            "outputs": dict(sorted(self.outputs.items())),
        }
        if self.index is not None:
            out["index"] = self.index.to_dict()
        return out

    def to_json(self) -> bytes:
        """The file's bytes: sorted keys, two-space indent, a final newline (deterministic)."""
        data = self.to_dict()
        check(data)
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
                + "\n").encode("utf-8")

    def sources_used(self) -> list[str]:
        """Source ids the build read, in the order it recorded them."""
        return list(self.inputs)


def build_date(manifest_path: Path | None = None) -> str:
    """The date to show for a build, ``YYYY-MM-DD``, without a clock in the manifest:
    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) when set, else the date the
    manifest file was written (``manifest_path``), else ``""``."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%d")
    if manifest_path is not None and manifest_path.exists():
        return dt.datetime.fromtimestamp(manifest_path.stat().st_mtime,
                                         dt.UTC).strftime("%Y-%m-%d")
    return ""
