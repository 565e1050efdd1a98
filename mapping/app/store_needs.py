"""The store's part for need types and the support gap (DR-0011): the categorical "main need"
map, high-risk residents beyond the session's walking distance, and the profile's needs and
support. Mixed into :class:`mapping.app.store.AppState`, which provides the data and levels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mapping.app.data import code_col
from mapping.geography.support import residents_beyond
from mapping.maps.classify import Classes

#: The categorical map of need types (DR-0011) and its colours: Okabe and Ito's
#: colour-blind-safe qualitative palette, then a light grey for "no single need stands out".
MAIN_NEED = "main_need"
NEED_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442")
NONE_COLOUR = "#d9d9d9"


class NeedsMixin:
    """Needs and support for :class:`~mapping.app.store.AppState` (uses ``_data``, ``level``
    and ``walk_m`` of the session)."""

    def beyond_walk(self, level: str) -> pd.Series:
        """Residents of high-risk LSOAs farther than the session's walking distance from a
        support place, per area of ``level`` (area code index; DR-0011)."""
        lsoa = self._data.levels["lsoa"].table
        counts = residents_beyond(lsoa["nearest_support_m"], lsoa["population"],
                                  lsoa["high_risk"], self.walk_m)
        return counts.groupby(lsoa[code_col(level)]).sum().astype("int64")

    def _need_classes(self, vals: np.ndarray) -> Classes:
        """Classes of the categorical "main need" map: one colour-blind-safe colour per need
        type, grey for "no single need stands out" (DR-0011)."""
        needs = self._data.needs
        codes = [n.code for n in needs.needs]
        main = self._data.levels[self.level].table["main_need"].astype(str).to_numpy()
        lookup = {c: i for i, c in enumerate(codes)}
        none = len(codes)
        classes = np.array([lookup.get(m, none) for m in main], dtype=np.int64)
        classes = np.where(np.isnan(vals), none + 1, classes)  # outside the frame: no data
        colours = (*NEED_COLOURS[:len(codes)], NONE_COLOUR)
        labels = (*(n.label for n in needs.needs), needs.label("none"))
        return Classes(classes, tuple(float(i) for i in range(len(colours))), colours, labels)

    def _profile_support(self, row: pd.Series, level: str) -> dict | None:
        """The area's need types and support gap (DR-0011), or None for a build without."""
        needs = self._data.needs
        if needs is None or "main_need" not in row.index:
            return None
        main = str(row["main_need"])
        out = {"main": needs.label(main),
               "also": needs.labels(row.get("needs", ""), skip=main),
               "support": [s.label for s in needs.support_for(main)],
               "distance_m": float(row.get("nearest_support_m", float("nan"))),
               "walk_m": float(self.walk_m), "level": level}
        if level == "lsoa":
            out["nearest"] = str(row.get("nearest_support", ""))
            out["nearest_type"] = str(row.get("nearest_support_type", ""))
            out["high_risk"] = bool(row.get("high_risk", False))
        else:
            out["beyond"] = int(self.beyond_walk(level).get(row[code_col(level)], 0))
            out["high_risk_residents"] = int(row.get("high_risk_residents", 0))
            common = str(row.get("most_common_need", "none"))
            out["common"] = needs.label(common, none="")
            out["common_n"] = int(row.get("most_common_need_lsoas", 0))
        return out
