"""Validation of a build's index against observed behaviour, and a reading of it in words.

:func:`validation_tables` compares the index with each validation reference (the indicators
with ``role = "validation"``: the GMCA DERI v1.6 score and the IUC 2018 share of residents in
the groups least engaged online) by Spearman correlation and by percentile disagreement, area
by area. :func:`reading` writes sentences *computed from those numbers* (the strength words
follow fixed thresholds; nothing is asserted that the numbers do not show).
:class:`ExtraColumns` lets the export map builder draw a column computed in a notebook (such as
a disagreement) with the same code as every other map.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from mapping.index import disagreement, spearman_validation
from mapping.outputs import Outputs
from mapping.outputs.catalogue import INDEX_WEIGHTS, SMALL_AREAS
from mapping.outputs.readmodel import Measure, ReadModel
from mapping.registry import Registry

#: |rho| at or above each threshold earns the word (Cohen-style conventions for correlations).
STRENGTH = ((0.7, "closely"), (0.5, "fairly closely"), (0.3, "loosely"), (0.0, "hardly"))
DISAGREE_POINTS = 25.0


def strength_word(rho: float) -> str:
    for threshold, word in STRENGTH:
        if abs(rho) >= threshold:
            return word
    return "hardly"


@dataclass(frozen=True)
class Validation:
    correlations: pd.DataFrame  # reference, label, n, spearman_rho, p_value, agreement, strength
    areas: pd.DataFrame  # per LSOA: index + per reference percentile differences
    boroughs: pd.DataFrame  # per borough and reference: mean difference, share disagreeing
    shared_sources: dict[str, list[str]] = field(default_factory=dict)


def validation_tables(outputs: Outputs, registry: Registry,
                      index_column: str = "index_score") -> Validation:
    """Spearman correlations, per-area disagreement and per-borough summaries."""
    ind = outputs.table(SMALL_AREAS.table).set_index("lsoa21_code")
    idx = outputs.table(SMALL_AREAS.index_table).set_index("lsoa21_code")[index_column]
    refs = [i for i in registry.select(role="validation") if i.code in ind.columns]
    corr = spearman_validation(idx, ind[[r.code for r in refs]])
    corr.insert(1, "label", [registry.indicator(c).label for c in corr["reference"]])
    # a reference where higher is better (share online) agrees with a risk index when rho < 0
    sign = {r.code: (-1.0 if r.direction == "higher_is_better" else 1.0) for r in refs}
    corr["agreement"] = corr["spearman_rho"] * corr["reference"].map(sign)
    corr["strength"] = [strength_word(r) for r in corr["spearman_rho"]]
    areas = pd.DataFrame({"lsoa21_name": ind["lsoa21_name"], "borough_name": ind["borough_name"],
                          "index_percentile": idx.rank(pct=True) * 100}, index=idx.index)
    rows = []
    for ref in refs:
        dis = disagreement(idx, sign[ref.code] * ind[ref.code])
        areas[f"{ref.code}_percentile"] = dis["reference_percentile"]
        areas[f"difference_{ref.code}"] = dis["difference"]
        grouped = dis.join(ind["borough_name"]).groupby("borough_name")["difference"]
        summary = pd.DataFrame({
            "mean_difference": grouped.mean(),
            "share_disagreeing": grouped.apply(lambda s: float((s.abs() >= DISAGREE_POINTS)
                                                               .mean())),
        })
        summary.insert(0, "reference", ref.code)
        rows.append(summary.reset_index())
    if INDEX_WEIGHTS in outputs.meta.outputs:
        used = set(outputs.table(INDEX_WEIGHTS)["indicator"])
    else:
        used = {i.code for i in registry.select(role="input")}
    inputs = {s for i in registry.indicators if i.code in used for s in i.sources}
    shared = {r.code: sorted(set(r.sources) & inputs) for r in refs}
    return Validation(corr, areas.reset_index(), pd.concat(rows, ignore_index=True),
                      {k: v for k, v in shared.items() if v})


def _fmt_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def reading(v: Validation, registry: Registry, top: int = 3) -> list[str]:
    """A short reading of the validation, every sentence computed from ``v``."""
    out = []
    corr = v.correlations.sort_values("agreement", ascending=False)
    for row in corr.itertuples(index=False):
        turned = (" — negative because higher there means more online, so a negative ρ is "
                  "agreement" if row.agreement * row.spearman_rho < 0 else "")
        out.append(
            f"Across {row.n:,} London LSOAs the index orders areas {row.strength} like "
            f"{row.label} (Spearman ρ = {row.spearman_rho:.2f}{turned})."
        )
    if len(corr) >= 2:
        best, worst = corr.iloc[0], corr.iloc[-1]
        out.append(f"Agreement is closer with {best['label']} than with {worst['label']} "
                   f"(ρ turned so that positive means agreement: {best['agreement']:.2f} "
                   f"against {worst['agreement']:.2f}).")
    for ref, sources in v.shared_sources.items():
        names = ", ".join(sources)
        out.append(f"{registry.indicator(ref).label} comes from the same source ({names}) as "
                   "at least one index input, so part of that agreement is built in rather "
                   "than independent evidence.")
    for ref in v.correlations["reference"]:
        col = f"difference_{ref}"
        diff = v.areas[col].dropna()
        share = float((diff.abs() >= DISAGREE_POINTS).mean())
        label = registry.indicator(ref).label
        out.append(f"{share:.0%} of LSOAs sit {DISAGREE_POINTS:.0f} or more percentile points "
                   f"apart on the index and on {label}.")
        b = v.boroughs[v.boroughs["reference"] == ref].sort_values("mean_difference")
        higher = b[b["mean_difference"] > 0].tail(top).iloc[::-1]
        lower = b[b["mean_difference"] < 0].head(top)
        if len(higher):
            out.append(
                f"The index rates areas as more at risk than {label} does, on average, most of "
                f"all in {_fmt_names(higher['borough_name'].tolist())} (mean "
                f"{higher['mean_difference'].iloc[0]:+.0f} percentile points in "
                f"{higher['borough_name'].iloc[0]})."
            )
        if len(lower):
            out.append(
                f"It rates them as less at risk than {label} does most of all in "
                f"{_fmt_names(lower['borough_name'].tolist())} (mean "
                f"{lower['mean_difference'].iloc[0]:+.0f} percentile points in "
                f"{lower['borough_name'].iloc[0]})."
            )
    vint = [f"{registry.indicator(r).label}: {registry.indicator(r).vintage}"
            for r in v.correlations["reference"]]
    if vint:
        out.append("The references describe other periods than most index inputs ("
                   + "; ".join(vint) + "), so some disagreement may be change over time "
                   "rather than error in either.")
    return out


class ExtraColumns(ReadModel):
    """A build plus columns computed in a notebook, mappable with
    :func:`mapping.maps.folium_map.export_map` (same builder as the exports)."""

    def __init__(self, base: ReadModel, level: str, frame: pd.DataFrame, code_column: str,
                 measures: Mapping[str, Measure]):
        super().__init__(base.outputs, base.registry)
        merged = base.frame(level).merge(frame[[code_column, *measures]], on=code_column,
                                         how="left", validate="one_to_one")
        self._frames[level] = merged
        self._extra = dict(measures)

    def measure(self, code: str) -> Measure:
        if code in self._extra:
            return self._extra[code]
        return super().measure(code)


def disagreement_measures(v: Validation, registry: Registry) -> dict[str, Measure]:
    """Map metadata of the per-area disagreement columns."""
    out = {}
    for ref in v.correlations["reference"]:
        ind = registry.indicator(ref)
        out[f"difference_{ref}"] = Measure(
            f"difference_{ref}",
            f"Index percentile minus {ind.label} percentile (positive: the index rates the "
            "area more at risk)", "percentile points", "higher_is_worse",
            tuple(sorted({*ind.sources})), "other", ind.vintage)
    return out

