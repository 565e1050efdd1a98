# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 — Validation against observed behaviour
#
# A risk index should rank areas the way observed behaviour does. The build's index is compared
# with the ONS Digital Propensity Index 2021 (share of Census 2021 responses made online), the
# share of residents in the CDRC Internet User Classification 2018 groups least engaged online,
# and the GMCA Digital Exclusion Risk Index v1.6 score (all converted from LSOA 2011 to 2021;
# none is an index input). Then the candidate indexes of DR-0009 are compared **out of sample**
# (leave one borough out), which is how the default was chosen. The reading at the end is
# computed from these numbers by `mapping.analysis.reading.reading`.

# %%
from bokeh.io import output_notebook, show
from IPython.display import Markdown, display

from mapping.analysis import plots
from mapping.analysis.reading import ExtraColumns, disagreement_measures, reading, validation_tables
from mapping.analysis.workspace import notebook_dirs, package_dir
from mapping.index.evidence import Comparison, load_candidates
from mapping.maps.folium_map import ExportData, export_map
from mapping.outputs import load_outputs
from mapping.pipeline.build import unsuppressed_lsoa_table
from mapping.registry import load_registry

# %% tags=["parameters"]
output_dir = None  # where notebooks write (None: the project's data/ folder)
processed_dir = None  # the build to validate (None: <output_dir>/processed)
map_reference = "dpi_online_pct"  # which reference to map disagreements for
data_dir = None  # the data package, for the candidate comparison (None: beside the checkout)
candidates_file = None  # candidate indexes to compare (None: mapping/specs/candidates.toml)

# %%
output_notebook(hide_banner=True)
dirs = notebook_dirs(output_dir, processed_dir)
outputs = load_outputs(dirs.processed)
registry = load_registry(outputs.manifest["parameters"].get("indicator_files", []))
v = validation_tables(outputs, registry)

# %% [markdown]
# ## Spearman correlations

# %%
display(v.correlations)

# %%
for ref in v.correlations["reference"]:
    label = registry.indicator(ref).label
    show(plots.scatter(v.areas["index_percentile"], v.areas[f"{ref}_percentile"],
                       title=f"Index against {label}", diagonal=True,
                       x_label="index percentile (0-100, higher = more at risk)",
                       y_label=f"{label} percentile (0-100)"))

# %% [markdown]
# ## Every measure against observed behaviour (the build's `validation.csv`)
#
# London-wide Spearman ρ of the index, the earlier index (v1), each domain, each indicator and
# the DERI with the DPI (negative = agreement: higher DPI means more online) and with the IUC
# least-engaged share (positive = agreement); then the spread of ρ across the 33 boroughs.

# %%
val = outputs.table("validation.csv")
london = val[val["scope"] == "london"].pivot(index=["measure", "kind"], columns="reference",
                                             values="spearman_rho")
display(london.sort_values("dpi_online_pct").round(3))
per = val[(val["scope"] != "london") & (val["kind"] == "index")]
display(per.groupby(["measure", "reference"])["spearman_rho"].describe().round(3))

# %% [markdown]
# ## Candidate indexes, out of sample (DR-0009)
#
# Each fitted candidate's weights are fitted on 32 boroughs and scored on the 33rd, in turn;
# the pooled held-out scores are what the ρ below describe. In-sample figures are shown beside
# them for comparison only. The default index is the candidate `indicator_fit_all_joint`.

# %%
full = unsuppressed_lsoa_table(package_dir(data_dir))
comparison = Comparison(full, load_candidates(candidates_file) if candidates_file
                        else load_candidates(), {i.code: i.direction for i in registry.indicators})
cands = comparison.table()
display(cands.drop(columns=["weights"]).round(3))
display(cands[["candidate", "weights"]])

# %% [markdown]
# The choice itself, judged out of sample: for each borough in turn, the DR-0009 rule (reach
# ρ ≤ −0.60 with the DPI, then the best IUC ρ) picks a candidate from the other 32 boroughs
# alone, and that candidate, fitted on them, scores the held-out borough.

# %%
nested, picked = comparison.nested(list(cands["candidate"]))
display(nested)
display(picked.value_counts())

# %% [markdown]
# ## Where they disagree

# %%
display(v.boroughs.sort_values("share_disagreeing", ascending=False).head(10))
data = ExtraColumns(ExportData.open(dirs.processed), "lsoa", v.areas, "lsoa21_code",
                    disagreement_measures(v, registry))
display(export_map(data, measure=f"difference_{map_reference}", level="lsoa", libraries=False,
                   palette="cividis"))

# %% [markdown]
# ## Reading

# %%
display(Markdown("\n".join(f"- {s}" for s in reading(v, registry))))
