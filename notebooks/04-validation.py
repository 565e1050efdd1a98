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
# A risk index should rank areas the way independent evidence of exclusion does. The build's
# index is compared with the GMCA Digital Exclusion Risk Index v1.6 score and with the share of
# residents in the CDRC Internet User Classification 2018 groups least engaged online (both
# converted from LSOA 2011 to 2021; neither is an index input). The reading at the end is
# computed from these numbers by `mapping.reading.reading`.

# %%
from bokeh.io import output_notebook, show
from IPython.display import Markdown, display

from mapping import plots
from mapping.maps.folium_map import ExportData, export_map
from mapping.outputs import load_outputs
from mapping.reading import ExtraColumns, disagreement_measures, reading, validation_tables
from mapping.registry import load_registry
from mapping.workspace import notebook_dirs

# %% tags=["parameters"]
output_dir = None  # where notebooks write (None: the project's data/ folder)
processed_dir = None  # the build to validate (None: <output_dir>/processed)
map_reference = "iuc_least_engaged_share"  # which reference to map disagreements for

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
