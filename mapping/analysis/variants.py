"""Index variants for analysts: the default specification with some choices changed.

:func:`spec_variant` takes an :class:`~mapping.index.IndexSpec` and changes the indicators,
weights, methods or reference frame, validating the result like a specification file (so a
typo in a code or a negative weight is a clear :class:`~mapping.index.SpecError`).
:func:`variant_tables` builds what a variant publishes (LSOA, ward and borough tables), and
:func:`variant_files` turns it into files for ``<output>/variants/<name>/`` or the ``extras/``
of a release (:func:`mapping.pipeline.release.publish_release`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mapping.files import write_bytes
from mapping.index import IndexResult, IndexSpec, rollup
from mapping.index.engine import INDEX_COLUMN, domain_column
from mapping.index.scenario import Scenario, frame_of


def spec_variant(
    spec: IndexSpec,
    *,
    name: str | None = None,
    indicators: Sequence[str] | None = None,
    add_indicators: Sequence[Mapping] = (),
    domain_weights: Mapping[str, float] | None = None,
    indicator_weights: Mapping[str, float] | None = None,
    normalisation: str | None = None,
    aggregation: str | None = None,
    frame: str | Sequence[str] | None = None,
) -> IndexSpec:
    """A validated copy of ``spec`` with some choices changed.

    Parameters
    ----------
    name
        New index name (the version gets a ``+variant`` suffix).
    indicators
        Keep only these indicator codes (domains left empty are dropped).
    add_indicators
        New indicators: mappings with ``domain``, ``code``, ``direction``, ``weight`` (a new
        domain is created, with ``domain_weight``, if the domain does not exist).
    domain_weights, indicator_weights
        Weights to replace (rescaled to sum to one).
    normalisation
        Indicator-level normalisation (``minmax``, ``zscore``, ``rank``, ``percentile``,
        ``distance_to_reference``, ``exponential``).
    aggregation
        Domain-level aggregation (``arithmetic``, ``geometric``, ``imd``).
    frame
        ``"london"``, ``"table"``, ``"england"`` or a list of borough codes.
    """
    return Scenario(name=name, indicators=indicators, add_indicators=tuple(add_indicators),
                    domain_weights=domain_weights, indicator_weights=indicator_weights,
                    normalisation=normalisation, aggregation=aggregation,
                    frame=frame_of(frame), source=f"{spec.source} (variant)").apply(spec)


def variant_tables(result: IndexResult, table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """LSOA, ward and borough tables of an index result (population-weighted roll-ups).

    ``table`` is the unit table the index was built from (it supplies ward and borough names).
    """
    spec = result.spec
    lsoa = result.table()
    extra = table.set_index(spec.unit_id)
    for col in ("ward24_code", "ward24_name", "borough_name"):
        if col in extra.columns and col not in lsoa.columns:
            lsoa[col] = extra.loc[lsoa[spec.unit_id], col].to_numpy()
    scores = [INDEX_COLUMN, *(domain_column(c) for c in spec.domain_codes)]
    pop = spec.population_column or "population"
    out = {"lsoa21_index": lsoa}
    for key, code, label in (("ward24_index", "ward24_code", "ward24_name"),
                             ("borough_index", "borough_code", "borough_name")):
        if code in lsoa.columns:
            out[key] = rollup(lsoa, code, pop, scores,
                              area_name_column=label if label in lsoa.columns else None)
    return out


def compare_ranks(result: IndexResult, baseline: IndexResult) -> pd.DataFrame:
    """How a variant's ranks differ from a baseline's over their common units: Spearman
    correlation, mean and largest rank change, share of units changing decile."""
    common = result.rank.index.intersection(baseline.rank.index)
    a = result.rank.loc[common].to_numpy(dtype=float)
    b = baseline.rank.loc[common].to_numpy(dtype=float)
    da = result.decile.loc[common].to_numpy()
    db = baseline.decile.loc[common].to_numpy()
    shift = np.abs(a - b)
    return pd.DataFrame([{
        "units": len(common),
        "spearman": float(pd.Series(a).corr(pd.Series(b), method="spearman")),
        "mean_abs_rank_change": float(shift.mean()),
        "max_abs_rank_change": int(shift.max()),
        "decile_changed_share": float(np.mean(da != db)),
    }])


def variant_files(spec: IndexSpec, tables: Mapping[str, pd.DataFrame],
                  name: str) -> dict[str, bytes]:
    """Files of a variant, relative to a folder ``<name>/``: each table as CSV and the full
    specification (``spec.json``, with its SHA-256 digest) so the variant can be rebuilt."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name).strip("-")
    if not safe:
        raise ValueError("a variant needs a name of letters, digits, '-' or '_'")
    files = {f"{safe}/{key}.csv": frame.to_csv(index=False, lineterminator="\n",
                                               float_format="%.10g").encode("utf-8")
             for key, frame in tables.items()}
    spec_doc = {"sha256": spec.digest(), "specification": spec.to_dict()}
    files[f"{safe}/spec.json"] = (json.dumps(spec_doc, indent=2, sort_keys=True) + "\n").encode()
    return files


def write_files(folder: str | os.PathLike, files: Mapping[str, bytes]) -> list[Path]:
    """Write ``files`` (relative name -> bytes) under ``folder``, each atomically."""
    return [write_bytes(Path(folder) / rel, data) for rel, data in sorted(files.items())]
