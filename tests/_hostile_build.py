"""A real build whose names are hostile: script-injection attempts in LSOA, ward and borough
names (from the boundary file and the ward lookup of a data-package copy) and in an analyst's
indicator label (a registry file passed with ``--indicators``)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from mapping.pipeline.build import BuildOptions, build
from tests._bad_inputs import USER_REGISTRY, user_values
from tests._export_pages import HOSTILE

BOROUGH = "E09000007"  # Camden
BOUNDARY = "boundaries/london-2021-lsoa-gen20.shp"
WARDS = "lookups/lookup_lsoa21_ward24_ltla24.csv"
LABEL = HOSTILE[2] + " " + HOSTILE[0] + " " + HOSTILE[1]
INDICATOR = "no_home_internet_pct"


def _unlink_all(root: Path, stem: Path) -> None:
    for p in root.glob(str(stem.with_suffix(".*"))):
        p.unlink()


def hostile_data_copy(data: Path, user: Path) -> list[str]:
    """Make ``data`` (a symlink farm of the package) hostile; write the analyst's files in
    ``user``; return the ``--indicators`` arguments."""
    shp = data / BOUNDARY
    geo = gpd.read_file(shp, engine="pyogrio")
    rows = geo.index[geo["LAD22CD"] == BOROUGH]
    geo.loc[rows, "LSOA21NM"] = [HOSTILE[j % len(HOSTILE)] for j in range(len(rows))]
    geo.loc[rows, "LAD22NM"] = HOSTILE[0]
    _unlink_all(data, Path(BOUNDARY))
    geo.to_file(shp, engine="pyogrio", encoding="UTF-8")
    wards = pd.read_csv(data / WARDS, dtype=str, keep_default_na=False)
    camden = sorted(wards.loc[wards["ltla24_code"] == BOROUGH, "ward24_code"].unique())
    names = {code: HOSTILE[j % len(HOSTILE)] for j, code in enumerate(camden)}
    hit = wards["ward24_code"].isin(names)
    wards.loc[hit, "ward24_name"] = wards.loc[hit, "ward24_code"].map(names)
    (data / WARDS).unlink()
    wards.to_csv(data / WARDS, index=False)
    london = geo["LSOA21CD"].sort_values().tolist()
    pd.DataFrame({"lsoa21_code": london, "no_internet_pct": user_values(len(london))}).to_csv(
        user / "no_internet.csv", index=False)
    label = LABEL.replace("\\", "\\\\").replace('"', '\\"')
    (user / "mine.toml").write_text(USER_REGISTRY.format(geography="lsoa21", label=label),
                                    encoding="utf-8")
    return [str(user / "mine.toml")]


def hostile_build(data: Path, user: Path, out: Path) -> Path:
    files = hostile_data_copy(data, user)
    build(BuildOptions(data_dir=data, out_dir=out, indicator_files=tuple(map(Path, files)),
                       progress=False))
    return out
