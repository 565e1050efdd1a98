"""A printable borough pack for a committee paper (``mapping pack``; DR-0011).

One self-contained HTML page: no external asset (the map is inline SVG, the style inline CSS),
A4 print stylesheet, every value from the build escaped by the template environment
(:mod:`mapping.maps.templating`). It holds the borough map with a legend, the index in words,
the LSOAs most at risk with their need types and support gap, the method and its validity
figures, the caveats, data vintages, attributions and the ethics review status.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from mapping.geography.support import BNG, residents_beyond
from mapping.governance.records import review_status_text
from mapping.index.needs import NEEDS_FILE, NONE_STANDS_OUT, NeedTable, load_needs
from mapping.maps.classify import palette
from mapping.maps.templating import render
from mapping.outputs.catalogue import SUPPORT_PLACES, VALIDATION, VALIDATION_OUT_OF_SAMPLE
from mapping.outputs.formatting import prose_share
from mapping.outputs.readmodel import LIBRARY_SOURCES, ReadModel, ReadModelError

TEMPLATES = Path(__file__).resolve().parent / "templates"
PALETTE = "viridis"
SVG_WIDTH = 640.0
QUINTILE_WORDS = {1: "London's most at-risk 20 %", 2: "next 20 %", 3: "middle 20 %",
                  4: "next 20 %", 5: "London's least at-risk 20 %"}


@dataclass(frozen=True)
class Area:
    name: str
    ward: str
    rank: int
    decile: int
    interval: str
    main_need: str
    needs: str
    support: str
    nearest: str
    distance_m: int
    beyond: bool


def _svg_paths(geoms, width: float) -> tuple[list[str], float, tuple[float, float, float]]:
    """SVG path data of polygons (British National Grid), fitted to ``width`` px; returns the
    paths, the height and the transform (minx, maxy, scale) for points."""
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    scale = width / max(maxx - minx, 1.0)
    paths = []
    for geom in geoms:
        parts = []
        for poly in shapely.get_parts(geom):
            for ring in [poly.exterior, *poly.interiors]:
                xy = shapely.get_coordinates(ring)
                px = np.round((xy[:, 0] - minx) * scale, 1)
                py = np.round((maxy - xy[:, 1]) * scale, 1)
                pts = " ".join(f"{x:g},{y:g}" for x, y in zip(px, py, strict=True))
                parts.append(f"M{pts}Z")
        paths.append("".join(parts))
    return paths, round((maxy - miny) * scale, 1), (minx, maxy, scale)


def borough_pack(model: ReadModel, borough: str, *, walk_m: float | None = None,
                 top: int = 10, needs: NeedTable | None = None) -> str:
    """The pack of ``borough`` (a code or a name) as one HTML page."""
    codes = model.select_boroughs([borough])
    if len(codes) != 1:
        raise ReadModelError(f"no single borough matches {borough!r}")
    code = codes[0]
    needs = needs or load_needs(NEEDS_FILE)
    walk = float(walk_m if walk_m is not None else needs.walk_m)
    lsoa = model.frame("lsoa")
    mine = lsoa[lsoa["borough_code"] == code].copy()
    if "main_need" not in mine.columns or "index_quintile" not in mine.columns:
        raise ReadModelError("this build has no index or need tables; rebuild with "
                             "`mapping build`")
    name = str(mine["borough_name"].iloc[0])
    bng = mine.to_crs(BNG)
    geoms = bng.geometry.to_numpy()
    paths, height, (minx, maxy, scale) = _svg_paths(geoms, SVG_WIDTH)
    colours = palette(PALETTE, 5)[::-1]  # quintile 1 (most at risk) darkest
    quint = mine["index_quintile"].astype(int).to_numpy()
    shapes = [{"d": d, "fill": colours[q - 1], "title": f"{n}: {QUINTILE_WORDS[q]}"}
              for d, q, n in zip(paths, quint, mine["lsoa21_name"], strict=True)]
    places = model.outputs.geo(SUPPORT_PLACES) if SUPPORT_PLACES in model.manifest.get(
        "outputs", {}) else model.libraries()
    pts = places.to_crs(BNG)
    inside = pts[pts.geometry.within(shapely.union_all(geoms).buffer(200))]
    dots = [{"x": round((p.x - minx) * scale, 1), "y": round((maxy - p.y) * scale, 1),
             "title": str(t)} for p, t in zip(inside.geometry, inside["name"], strict=True)]
    legend = [{"colour": colours[q - 1], "label": f"Quintile {q}: {QUINTILE_WORDS[q]}"}
              for q in range(1, 6)]

    high = mine["index_quintile"] == needs.high_risk
    beyond = residents_beyond(mine["nearest_support_m"], mine["population"], high, walk)
    top_rows = mine.sort_values("index_rank").head(top)
    areas = []
    for r in top_rows.itertuples(index=False):
        main = str(r.main_need)
        support = ", ".join(s.label for s in needs.support_for(main))
        areas.append(Area(
            str(r.lsoa21_name), str(r.ward24_name), int(r.index_rank), int(r.index_decile),
            f"{int(r.rank_p05):,}–{int(r.rank_p95):,}" if pd.notna(r.rank_p05) else "",
            needs.label(main), "; ".join(needs.labels(r.needs, skip=main)),
            support, str(r.nearest_support), int(r.nearest_support_m),
            bool(r.nearest_support_m > walk and r.index_quintile == needs.high_risk)))

    boro = model.table("borough").set_index("borough_code").loc[code]
    n_top10 = int((mine["index_decile"] == 1).sum())
    pop = int(mine["population"].sum())
    counts = mine.loc[mine["main_need"] != NONE_STANDS_OUT, "main_need"].value_counts()
    need_counts = [{"label": needs.label(c), "n": int(n),
                    "support": ", ".join(s.label for s in needs.support_for(c))}
                   for c, n in counts.items() if c in needs.codes]
    validity = []
    outputs = model.manifest.get("outputs", {})
    held = {}
    if VALIDATION_OUT_OF_SAMPLE in outputs:
        oos = model.outputs.table(VALIDATION_OUT_OF_SAMPLE)
        oos = oos[oos["scope"] == "london"]
        held = dict(zip(oos["reference"], oos["spearman_rho"], strict=True))
    if VALIDATION in outputs:
        val = model.outputs.table(VALIDATION)
        val = val[val["measure"] == "index_score"]
        for ref, label in (("dpi_online_pct", "share of Census 2021 responses made online "
                            "(ONS Digital Propensity Index; negative = agreement)"),
                           ("iuc_least_engaged_share", "share of residents in the groups "
                            "least engaged online (IUC 2018; positive = agreement)")):
            rows = val[val["reference"] == ref].set_index("scope")["spearman_rho"]
            if "london" in rows:
                validity.append({"label": label, "london": f"{rows['london']:+.2f}",
                                 "held_out": f"{held[ref]:+.2f}" if ref in held else "–",
                                 "borough": f"{rows.get(code, float('nan')):+.2f}"})
    spec = model.spec
    weights = [{"name": d.name, "weight": f"{w:.0%}"} for d, w in zip(
        spec.domains, spec.domain_weights().values(), strict=True)]
    used = sorted({s for d in spec.indicators for s in model.measure(d.code).sources}
                  | set(LIBRARY_SOURCES) | {"boundaries_lsoa21", "ons_dpi2021",
                                           "cdrc_iuc2018"})
    vintages = [{"label": model.measure(i.code).label, "vintage": model.vintage(i.code)}
                for i in spec.indicators]
    return render(
        TEMPLATES, "pack.html",
        borough=name, code=code, build_version=model.build_version,
        build_date=model.build_date(), svg_width=SVG_WIDTH, svg_height=height,
        shapes=shapes, dots=dots, legend=legend, n_lsoa=len(mine), population=f"{pop:,}",
        n_top10=n_top10, share_top10=prose_share(float(boro.get("share_top10", 0.0))),
        share_top20=prose_share(float(boro.get("share_top20", 0.0))),
        borough_rank=int(pd.Series(model.table("borough").set_index("borough_code")
                                   ["index_score"]).rank(ascending=False).loc[code]),
        areas=areas, top=top, need_counts=need_counts, walk_m=f"{walk:,.0f}",
        high_risk_residents=f"{int(mine.loc[high, 'population'].sum()):,}",
        beyond=f"{int(beyond.sum()):,}", places=len(inside),
        spec_name=spec.name, spec_version=spec.version, weights=weights,
        validity=validity, vintages=vintages, attributions=model.attributions(used),
        governance=review_status_text())
