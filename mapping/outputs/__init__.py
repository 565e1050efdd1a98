"""A build's outputs (``data/processed``): opened, checked against their manifest, and read.

* :func:`load_outputs` opens a build: the manifest checked against its schema and parsed
  (:class:`~mapping.outputs.manifest.Manifest`), every file's hash checked against it;
* :mod:`~mapping.outputs.catalogue` names the files and the geography levels;
* :mod:`~mapping.outputs.readmodel` answers what the app, the exports and the notebooks ask of
  a build (levels, measures, ranks, roll-ups), and :mod:`~mapping.outputs.formatting` writes
  its values as text.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from mapping.config import output_dir
from mapping.errors import MappingError
from mapping.files import sha256_file
from mapping.outputs.catalogue import MANIFEST
from mapping.outputs.manifest import Manifest, ManifestError


class OutputsError(MappingError):
    """Built outputs are missing or do not match their manifest."""


def manifest_digest(root: str | os.PathLike) -> str:
    """SHA-256 of a build's manifest file: names the build exactly (it holds every file's
    hash)."""
    return hashlib.sha256((Path(root) / MANIFEST).read_bytes()).hexdigest()


def processed_dir(override: str | os.PathLike | None = None) -> Path:
    raw = override or os.environ.get("MAPPING_PROCESSED_DIR")
    return Path(raw).resolve() if raw else output_dir() / "processed"


@dataclass(frozen=True)
class Outputs:
    """A build folder and its manifest (the parsed JSON; :attr:`meta` is the typed record)."""

    root: Path
    manifest: dict

    @cached_property
    def meta(self) -> Manifest:
        """The manifest, typed (checked against ``manifest.schema.json``)."""
        try:
            return Manifest.from_dict(self.manifest, str(self.root / MANIFEST))
        except ManifestError as exc:
            raise OutputsError(str(exc)) from None

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.root / name, dtype={"population": "int64"})

    def geo(self, name: str):
        """A GeoJSON output as a GeoDataFrame (geopandas is imported here, not at start-up)."""
        import geopandas as gpd  # noqa: PLC0415

        return gpd.read_file(self.root / name, engine="pyogrio")


def load_outputs(root: str | os.PathLike | None = None, verify: bool = True) -> Outputs:
    """Open a build; with ``verify`` every output's hash must match the manifest."""
    root = processed_dir(root)
    manifest_path = root / MANIFEST
    if not manifest_path.exists():
        old = root.parent / f".{root.name}.old"
        if old.is_dir():
            raise OutputsError(f"no build in {root}: a build was stopped while swapping its "
                               f"outputs in; the previous build is kept in {old} and the next "
                               "`mapping build` restores it")
        raise OutputsError(f"no build in {root} (manifest.json missing): run `mapping build`")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OutputsError(f"{manifest_path} is not valid JSON: {exc}") from None
    outputs = Outputs(root, manifest)
    outputs.meta  # noqa: B018 (checks the manifest against its schema)
    if verify:
        bad = []
        for name, digest in outputs.meta.outputs.items():
            path = root / name
            if not path.exists():
                bad.append(f"{name} (missing)")
            elif sha256_file(path) != digest:
                bad.append(f"{name} (hash does not match the manifest)")
        if bad:
            raise OutputsError(f"build in {root} is damaged or was edited: " + "; ".join(bad))
    return outputs
