"""The catalogue of a build: the files it writes, the geography levels they describe, and what
each file and column means.

Everything that writes a build (:mod:`mapping.pipeline.build`) or reads one (the read model
:mod:`mapping.outputs.readmodel`, the app, the exports, the notebooks, a release's data
package) takes the names from here, so a file is named once. Nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass

MANIFEST = "manifest.json"
LIBRARIES = "libraries.geojson"
#: libraries and an analyst's own support places, with type and notes (DR-0011)
SUPPORT_PLACES = "support_places.geojson"


@dataclass(frozen=True)
class Level:
    """A geography level of the build and the files that describe it.

    ``key`` is the short name used by the app, the exports and their options (``lsoa``,
    ``ward``, ``borough``); ``prefix`` carries the boundary vintage into file and column
    names (``lsoa21_code``, ``ward24_indicators.csv``).
    """

    key: str
    prefix: str
    label: str  # the level as a choice: "LSOA (small areas)"
    title: str  # the areas in a caption: "LSOAs (2021)"
    plural: str  # the areas in a sentence: "LSOAs"
    code_prefix: str  # the GSS entity code of its areas: "E01"
    #: sources used to bring values to this level besides the measure's own
    extra_sources: tuple[str, ...] = ()

    def file(self, kind: str) -> str:
        """A file of the level: ``"indicators.csv"`` (its indicator table), ``"index.csv"``
        (its index results: scores, ranks and, for LSOAs, rank intervals) or ``"geojson"``."""
        return f"{self.prefix}.geojson" if kind == "geojson" else f"{self.prefix}_{kind}"

    code = property(lambda self: f"{self.prefix}_code", doc="The column of area codes.")
    name = property(lambda self: f"{self.prefix}_name", doc="The column of area names.")
    table = property(lambda self: self.file("indicators.csv"), doc="The indicator table.")
    index_table = property(lambda self: self.file("index.csv"), doc="The index results.")
    geometry = property(lambda self: self.file("geojson"), doc="The boundaries (WGS84).")


LEVELS: dict[str, Level] = {lv.key: lv for lv in (
    Level("lsoa", "lsoa21", "LSOA (small areas)", "LSOAs (2021)", "LSOAs", "E01"),
    Level("ward", "ward24", "Ward", "wards (2024)", "wards", "E05",
          ("lookup_lsoa21_ward24", "census2021_ts007a")),
    Level("borough", "borough", "Borough", "boroughs", "boroughs", "E09",
          ("census2021_ts007a",)),
)}
SMALL_AREAS = LEVELS["lsoa"]
BOROUGHS = LEVELS["borough"]


def level_of_code(code: str) -> str | None:
    """The level key of an area code (``E01…`` → ``lsoa``), or None."""
    return next((lv.key for lv in LEVELS.values() if code[:3] == lv.code_prefix), None)


#: Tables of the default index and its robustness results (written by
#: :func:`mapping.index.build_default`), besides the per-level ``<prefix>_index.csv``.
INDEX_TABLES = ("index_validation.csv", "validation.csv", "validation_out_of_sample.csv",
                "lsoa21_index_equal_v1.csv", "index_sensitivity.csv", "index_monte_carlo_draws.csv",
                "index_leave_one_out.csv", "indicator_correlations.csv",
                "domain_cronbach_alpha.csv", "index_outlier_treatment.csv", "index_weights.csv")
INDEX_WEIGHTS = "index_weights.csv"
#: The default index and every earlier one against observed behaviour (DR-0009): Spearman rho
#: London-wide and per borough.
VALIDATION = "validation.csv"
#: The default index's weights judged out of sample (leave one borough out, DR-0009): rho of
#: held-out scores with each observed reference, London-wide and per borough.
VALIDATION_OUT_OF_SAMPLE = "validation_out_of_sample.csv"
#: Earlier indexes the build still publishes beside the default (DR-0009), name -> LSOA table.
EARLIER_INDEXES = {"equal_v1": "lsoa21_index_equal_v1.csv"}

OUTPUT_DESCRIPTIONS = {
    **{lv.table: text for lv, text in zip(LEVELS.values(), (
        "One row per London LSOA (2021): codes, ward, borough, population and every registered "
        "indicator",
        "The indicators rolled up to wards (2024), population-weighted",
        "The 33 boroughs: rolled-up indicators and borough-only indicators"), strict=True)},
    **{lv.geometry: text for lv, text in zip(LEVELS.values(), (
        "LSOA 2021 boundaries, WGS84, coverage-simplified (web geometry)",
        "Ward 2024 boundaries, WGS84, dissolved from the LSOA web geometry",
        "Borough boundaries, WGS84, dissolved from the LSOA web geometry"), strict=True)},
    LIBRARIES: "Public libraries in London (DCMS 2016 list and OpenStreetMap)",
    SUPPORT_PLACES: "Places offering digital support: the libraries and any list an analyst "
                    "supplied, with type and notes (DR-0011)",
    **{lv.file("needs.csv"): f"Need types and the support gap of the {lv.plural} (DR-0011)"
       for lv in LEVELS.values()},
    MANIFEST: "The build's manifest: input and output hashes, parameters, code version",
}


def describe_output(name: str) -> str:
    """What a file of the build holds."""
    if name in OUTPUT_DESCRIPTIONS:
        return OUTPUT_DESCRIPTIONS[name]
    return f"Build output {name} (the composite index and its robustness and validation results)"


# Descriptions of the columns the build writes that are not indicators (indicator columns take
# their label, unit, direction and description from the registry).
COLUMN_DESCRIPTIONS = {
    "lsoa21_code": "ONS code of the Lower layer Super Output Area (2021 boundaries)",
    "lsoa21_name": "ONS name of the LSOA (2021)",
    "msoa21_code": "ONS code of the Middle layer Super Output Area (2021) containing the LSOA",
    "ward24_code": "ONS code of the electoral ward (2024 boundaries)",
    "ward24_name": "Name of the electoral ward (2024)",
    "borough_code": "ONS code of the London borough (local authority district)",
    "borough_name": "Name of the London borough",
    "population": "Usual residents, Census 2021 (persons)",
    "n_lsoa": "Number of LSOAs (2021) in the area",
    "name": "Name of the library",
    "source": "Where the record comes from",
    "index_score": "Digital exclusion risk index score (higher = more at risk); for wards and "
                   "boroughs the population-weighted mean of LSOA scores",
    "index_rank": "Rank of the index score in the reference frame (1 = most at risk)",
    "index_decile": "Decile of the index rank (1 = the 10 % of areas most at risk)",
    "index_quintile": "Quintile of the index rank (1 = the 20 % of areas most at risk)",
    "imputed_indicators": "Indicators whose missing value was imputed here (;-separated codes)",
    "nominal_rank": "Index rank with the default specification (1 = most at risk)",
    "median_rank": "Median index rank over the Monte Carlo draws",
    "rank_p05": "5th percentile of the index rank over the Monte Carlo draws",
    "rank_p95": "95th percentile of the index rank over the Monte Carlo draws",
    "interval_width": "Width of the 5-95 % rank interval (ranks)",
    "unstable": "True where the 5-95 % rank interval is wider than the registered share of "
                "all areas (an unstable ranking)",
    "n_units": "Number of LSOAs (2021) in the area",
    "share_top10": "Share of residents living in the frame's 10 % most at-risk LSOAs (0-1)",
    "share_top20": "Share of residents living in the frame's 20 % most at-risk LSOAs (0-1)",
    "n_units_top10": "Number of the area's LSOAs in the frame's 10 % most at risk",
    "n_units_top20": "Number of the area's LSOAs in the frame's 20 % most at risk",
    "reference": "Validation reference (an indicator code with role 'validation')",
    "n": "Number of areas with both values",
    "measure": "What is validated: an index score column, a domain score column, an indicator "
               "code or a comparator (validation.csv)",
    "kind": "Kind of measure: index, domain, indicator or comparator",
    "scope": "Where the correlation is computed: london, or a borough code",
    "candidate": "The candidate index of mapping/specs/candidates.toml (DR-0009)",
    "spearman_rho": "Spearman rank correlation of the index with the reference (-1 to 1)",
    "p_value": "Two-sided p-value of the Spearman correlation",
    "factor": "Choice varied in the Monte Carlo analysis",
    "levels": "Number of levels of the factor",
    "first_order": "First-order sensitivity: share of rank variance explained by the factor (0-1)",
    "draw": "Monte Carlo draw number",
    "normalisation": "Normalisation used in the draw",
    "aggregation": "Aggregation used in the draw",
    "excluded_indicator": "Indicator left out in the draw ('none' if none)",
    "mean_abs_rank_shift": "Mean absolute change of rank from the default index (ranks)",
    "max_abs_rank_shift": "Largest absolute change of rank from the default index (ranks)",
    "decile_changed_share": "Share of areas whose decile changes (0-1)",
    "indicator": "Indicator code (see the registry)",
    "spearman": "Spearman correlation of the index without the indicator with the default index",
    "domain": "Domain code",
    "n_indicators": "Number of indicators in the domain",
    "alpha": "Standardised Cronbach's alpha of the domain's indicators",
    "mean_inter_item_correlation": "Mean correlation between the domain's indicators",
    "direction": "higher_is_worse or higher_is_better",
    "weight_in_domain": "Weight of the indicator within its domain (sums to 1 per domain)",
    "domain_weight": "Weight of the domain in the index (sums to 1)",
    "effective_weight": "Share of the whole index carried by the indicator (sums to 1)",
    "spec_version": "Version of the index specification",
    "spec_sha256": "SHA-256 digest of the index specification",
    "skew_before": "Skewness before outlier treatment",
    "kurtosis_before": "Kurtosis before outlier treatment",
    "failed": "True if winsorising did not bring skew and kurtosis within the thresholds",
    "action": "Outlier treatment applied",
    "points_winsorised": "Number of values winsorised",
    "skew_after": "Skewness after outlier treatment",
    "kurtosis_after": "Kurtosis after outlier treatment",
    "index_percentile": "Percentile rank of the index (0-100, higher = more at risk)",
    "reference_percentile": "Percentile rank of the reference (0-100, higher = more at risk)",
    "difference": "Index percentile minus reference percentile",
    "type": "Kind of support place ('library', or the type given in an analyst's list)",
    "notes": "Notes on a support place (opening times…), as supplied",
    "main_need": "The need type with the highest need score, if at least the need table's "
                 "threshold (else 'none'); DR-0011",
    "needs": "Every need type at or above the threshold, highest first (;-separated)",
    "high_risk": "True where the LSOA is in the index quintile counted as high risk (DR-0011)",
    "nearest_support_m": "Straight-line distance (m) from the LSOA's centre (a point inside it) "
                         "to the nearest support place; wards and boroughs: the "
                         "population-weighted mean over their LSOAs",
    "nearest_support": "Name of the nearest support place",
    "nearest_support_type": "Type of the nearest support place",
    "residents_beyond_walk": "Residents of high-risk LSOAs whose centre is farther than the "
                             "walking distance (need table, default 800 m) from support",
    "high_risk_residents": "Residents of high-risk LSOAs",
    "most_common_need": "The main need named most often among the area's LSOAs ('none' if no "
                        "LSOA has one)",
    "most_common_need_lsoas": "How many of the area's LSOAs have that main need",
}
UNDESCRIBED = "(no description registered)"


def describe_generic_column(column: str, table: str = "") -> str:
    """The description of a column that is not an indicator (see :data:`COLUMN_DESCRIPTIONS`),
    or :data:`UNDESCRIBED`."""
    if table.startswith("indicator_correlations") and column != "indicator":
        return (f"Spearman correlation of each indicator with {column} (direction-aligned, "
                "normalised values)")
    if column in COLUMN_DESCRIPTIONS:
        return COLUMN_DESCRIPTIONS[column]
    if column.endswith("_score"):
        domain = column[: -len("_score")]
        return (f"Score of the {domain} domain (higher = more at risk); for wards and boroughs "
                "the population-weighted mean of LSOA scores")
    if column.endswith("_suppressed"):
        code = column[: -len("_suppressed")]
        return (f"True where {code} is suppressed by the small-count disclosure rule "
                "(DR-0004); the value is then empty")
    if column.startswith("weight_"):
        return f"Weight of the {column[len('weight_'):]} domain in the draw"
    if column.startswith("need_"):
        return (f"Need score for {column[len('need_'):]}: mean London percentile (0-100) of "
                "the need's indicators, higher = more need (DR-0011)")
    return UNDESCRIBED
