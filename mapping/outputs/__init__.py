"""Loading built outputs (``data/processed``), checked against their manifest."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mapping.config import output_dir
from mapping.errors import MappingError
from mapping.io import sha256_file


class OutputsError(MappingError):
    """Built outputs are missing or do not match their manifest."""


def processed_dir(override: str | os.PathLike | None = None) -> Path:
    raw = override or os.environ.get("MAPPING_PROCESSED_DIR")
    return Path(raw).resolve() if raw else output_dir() / "processed"


@dataclass(frozen=True)
class Outputs:
    root: Path
    manifest: dict

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.root / name, dtype={"population": "int64"})

    def geo(self, name: str):
        """A GeoJSON output as a GeoDataFrame (geopandas is imported here, not at start-up)."""
        import geopandas as gpd  # noqa: PLC0415

        return gpd.read_file(self.root / name, engine="pyogrio")


def load_outputs(root: str | os.PathLike | None = None, verify: bool = True) -> Outputs:
    """Open a build; with ``verify`` every output's hash must match the manifest."""
    root = processed_dir(root)
    manifest_path = root / "manifest.json"
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
    if verify:
        bad = []
        for name, digest in manifest.get("outputs", {}).items():
            path = root / name
            if not path.exists():
                bad.append(f"{name} (missing)")
            elif sha256_file(path) != digest:
                bad.append(f"{name} (hash does not match the manifest)")
        if bad:
            raise OutputsError(f"build in {root} is damaged or was edited: " + "; ".join(bad))
    return Outputs(root, manifest)
