"""Reading unit tables, and the default London index as a build step.

:func:`build_default` is the hook the build calls: it reads
``<processed_dir>/lsoa21_indicators.csv``, builds the default London index
(``mapping/specs/london_default.toml``), runs the robustness analysis and the validation, rolls
the results up to wards and boroughs, and returns named frames. It writes nothing; the caller
writes the frames (atomically) beside the build's other outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from mapping.errors import DataValidationError
from mapping.index.engine import DECILE_COLUMN, INDEX_COLUMN, QUINTILE_COLUMN, build_index
from mapping.index.engine import domain_column as _domain_column
from mapping.index.evidence import adopted_out_of_sample
from mapping.index.robustness import (
    cronbach_alpha,
    indicator_correlations,
    leave_one_out,
    monte_carlo,
)
from mapping.index.rollup import rollup
from mapping.index.spec import SPECS_DIR, IndexSpec, load_default_spec, load_spec
from mapping.index.validation import spearman_validation, validation_table

PROCESSED_TABLE = "lsoa21_indicators.csv"
VALIDATION_REFERENCES = ("deri_score_2011", "iuc_least_engaged_share", "dpi_online_pct")
#: Observed behaviour the index is judged against (DR-0009); the DERI is a comparator index.
OBSERVED_REFERENCES = ("dpi_online_pct", "iuc_least_engaged_share")
COMPARATORS = ("deri_score_2011",)
#: Earlier indexes still built beside the default, by output name (selectable in the app).
ALTERNATIVE_SPECS = {"lsoa21_index_equal_v1": SPECS_DIR / "london_equal_v1.toml"}
AREA_LEVELS = (
    ("ward24_index", "ward24_code", "ward24_name"),
    ("borough_index", "borough_code", "borough_name"),
)


def read_unit_table(path: str | Path, spec: IndexSpec) -> pd.DataFrame:
    """Read a CSV of units × indicators, keeping id, name and group columns as text.

    Raises
    ------
    DataValidationError
        If the file does not exist or cannot be parsed as CSV.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError.single(path, "file not found")
    text_cols = [c for c in (spec.unit_id, spec.unit_name, spec.group_column) if c]
    try:
        head = pd.read_csv(path, nrows=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError.single(path, f"not a readable CSV: {exc}") from None
    dtypes = {c: str for c in text_cols if c in head.columns}
    dtypes.update({c: str for c in head.columns if c.endswith(("_code", "_name"))})
    try:
        return pd.read_csv(path, dtype=dtypes)
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataValidationError.single(path, f"not a readable CSV: {exc}") from None


def build_default(processed_dir: str | Path,
                  directions: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """Build the default London index and everything reported with it.

    Parameters
    ----------
    processed_dir
        Folder holding ``lsoa21_indicators.csv`` (the build's processed output).

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``lsoa21_index``: per LSOA the index, domain scores, rank, decile, quintile, imputed
        indicators, robust median rank, 5–95 % rank interval and unstable flag;
        ``ward24_index`` and ``borough_index``: population-weighted roll-ups with the shares of
        residents in London's most at-risk 10 % and 20 % of LSOAs; ``index_validation``:
        Spearman correlations with the references; ``index_sensitivity``,
        ``index_monte_carlo_draws``, ``index_leave_one_out``, ``indicator_correlations``,
        ``domain_cronbach_alpha``, ``index_outlier_treatment``, ``validation_out_of_sample``
        (with ``directions``, the registry's: the adopted candidate's leave-one-borough-out
        ρ with each criterion, London and per borough; DR-0009), ``index_weights`` (each
        indicator's domain, direction and weights, with the specification digest).
    """
    path = Path(processed_dir) / PROCESSED_TABLE
    spec = load_default_spec()
    table = read_unit_table(path, spec)
    result = build_index(table, spec, name=str(path))
    mc = monte_carlo(result)

    lsoa = result.table()
    extra = table.set_index(spec.unit_id)
    for col in ("ward24_code", "ward24_name", "borough_name"):
        if col in extra.columns and col not in lsoa.columns:
            lsoa[col] = extra.loc[lsoa[spec.unit_id], col].to_numpy()
    robust = mc.ranks.drop(columns=["nominal_rank"]).reset_index()
    lsoa = lsoa.merge(robust, on=spec.unit_id, how="left", validate="one_to_one")

    scores = [INDEX_COLUMN, *(_domain_column(d) for d in spec.domain_codes)]
    frames: dict[str, pd.DataFrame] = {"lsoa21_index": lsoa}
    for key, code_col, name_col in AREA_LEVELS:
        if code_col in lsoa.columns:
            frames[key] = rollup(
                lsoa,
                code_col,
                spec.population_column or "population",
                scores,
                area_name_column=name_col if name_col in lsoa.columns else None,
                decile_column=DECILE_COLUMN,
                quintile_column=QUINTILE_COLUMN,
            )
    refs = [c for c in VALIDATION_REFERENCES if c in table.columns]
    if refs:
        ref_frame = table.set_index(spec.unit_id)[refs]
        frames["index_validation"] = spearman_validation(result.index, ref_frame)
    frames.update(_alternatives(table))
    observed = [c for c in OBSERVED_REFERENCES if c in table.columns]
    if observed:
        frames["validation"] = _validation(table, spec, lsoa, frames, observed)
    if directions is not None:  # the registry's directions: the weights judged out of sample
        oos = adopted_out_of_sample(table, directions)
        if oos is not None:
            frames["validation_out_of_sample"] = oos
    frames["index_sensitivity"] = mc.sensitivity
    frames["index_monte_carlo_draws"] = mc.draws.reset_index()
    frames["index_leave_one_out"] = leave_one_out(result)
    corr = indicator_correlations(result)
    corr.index.name = "indicator"
    frames["indicator_correlations"] = corr.reset_index()
    frames["domain_cronbach_alpha"] = cronbach_alpha(result)
    frames["index_outlier_treatment"] = result.treatment
    dw = spec.domain_weights()
    iw = spec.indicator_weights()
    ew = spec.effective_weights()
    dom = spec.domain_of()
    frames["index_weights"] = pd.DataFrame(
        [
            {
                "indicator": i.code,
                "domain": dom[i.code],
                "direction": i.direction,
                "weight_in_domain": iw[i.code],
                "domain_weight": dw[dom[i.code]],
                "effective_weight": ew[i.code],
                "spec_version": spec.version,
                "spec_sha256": spec.digest(),
            }
            for i in spec.indicators
        ]
    )
    return frames


def _alternatives(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each earlier index (``ALTERNATIVE_SPECS``) built on the same table: score, domain
    scores, rank, decile and quintile per LSOA. Skipped when the table lacks its indicators
    (a user's own table)."""
    out = {}
    for name, path in ALTERNATIVE_SPECS.items():
        spec = load_spec(path)
        if not set(spec.indicator_codes) <= set(table.columns):
            continue
        out[name] = build_index(table, spec, name=str(path)).table()
    return out


def _validation(table: pd.DataFrame, spec: IndexSpec, lsoa: pd.DataFrame,
                frames: dict[str, pd.DataFrame], observed: list[str]) -> pd.DataFrame:
    """ρ of the index, its domains, every indicator of the table and the comparators with each
    observed reference, London-wide and per borough (:func:`validation_table`)."""
    uid = spec.unit_id
    base = table.set_index(uid)
    scores = lsoa.set_index(uid)
    measures = pd.DataFrame(index=base.index)
    kinds: dict[str, str] = {}
    measures[INDEX_COLUMN] = scores[INDEX_COLUMN]
    kinds[INDEX_COLUMN] = "index"
    for name in ALTERNATIVE_SPECS:
        if name in frames:
            col = name.replace("lsoa21_", "")
            measures[col] = frames[name].set_index(uid)[INDEX_COLUMN]
            kinds[col] = "index"
    for d in spec.domain_codes:
        measures[_domain_column(d)] = scores[_domain_column(d)]
        kinds[_domain_column(d)] = "domain"
    skip = {uid, spec.unit_name, spec.group_column, spec.population_column, *observed}
    for col in table.columns:
        if col in skip or col in measures.columns or col.endswith(("_code", "_name")):
            continue
        if not pd.api.types.is_numeric_dtype(table[col]):
            continue
        measures[col] = base[col]
        kinds[col] = "comparator" if col in COMPARATORS else "indicator"
    return validation_table(measures, kinds, base[observed], base[spec.group_column])
