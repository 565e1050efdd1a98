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
# # 01 — Data audit
#
# What is in the data package, whether every file passes its reader's validation, how complete
# each indicator is after the build, which period each describes, and a map of each indicator.
# Everything is computed by functions in `mapping` (`mapping.analysis.audit`,
# `mapping.analysis.plots`, and the export map builder `mapping.maps.folium_map.export_map`).

# %%
from bokeh.io import output_notebook, show
from IPython.display import display

from mapping.analysis import audit, plots
from mapping.analysis.workspace import notebook_dirs, package_dir
from mapping.maps.folium_map import ExportData, export_map
from mapping.outputs import load_outputs
from mapping.registry import load_registry

# %% tags=["parameters"]
data_dir = None  # the open data package (None: $MAPPING_DATA_DIR or ../shared/data)
output_dir = None  # where notebooks write (None: the project's data/ folder)
processed_dir = None  # the build to audit (None: <output_dir>/processed)
validate_sources = True  # read and validate every source file (about 15 s)
map_indicators = None  # indicator codes to map (None: every registered indicator)

# %%
output_notebook(hide_banner=True)
dirs = notebook_dirs(output_dir, processed_dir)
package = package_dir(data_dir)
outputs = load_outputs(dirs.processed)  # hashes checked against the manifest
registry = load_registry(
    [p for p in outputs.manifest["parameters"].get("indicator_files", [])]
)
print(f"data package: {package}\nbuild: {dirs.processed} ({outputs.manifest['package_version']})")

# %% [markdown]
# ## Sources: publisher, vintage, licence, and whether the file read matches the registry

# %%
sources = audit.sources_table(registry, outputs.manifest)
display(sources[["source", "publisher", "release_date", "geography", "licence",
                 "hash_matches_registry", "indicators"]])
changed = sources.loc[sources["hash_matches_registry"] == False, "source"].tolist()  # noqa: E712
print("files that differ from the registered hash:", changed or "none")

# %% [markdown]
# ## Validation report: every file through its reader

# %%
if validate_sources:
    report = audit.validation_report(registry, package)
    display(report)
    print(f"{(report['status'] == 'ok').sum()} of {len(report)} sources valid")

# %% [markdown]
# ## Coverage and missing values per indicator

# %%
coverage = audit.indicator_coverage(outputs, registry)
display(coverage[["indicator", "role", "level", "unit", "present", "missing", "suppressed",
                  "missing_share", "minimum", "median", "maximum"]])
show(plots.bar_chart(coverage["indicator"], coverage["missing_share"] * 100,
                     title="Missing values per indicator after the build",
                     x_label="areas without a value, suppressed included (% of areas at "
                     "the indicator's level)",
                     y_label="indicator", highlight=(coverage["missing"] > 0).tolist()))

# %%
display(audit.missing_by_borough(outputs, registry))

# %% [markdown]
# ## Vintages: what period each indicator describes

# %%
display(audit.vintages(registry))

# %% [markdown]
# ## A map per indicator
#
# The same builder as `mapping export`, so the classes, palette, legend and attributions match
# the exports. Borough-level indicators are drawn on boroughs.

# %%
maps = ExportData.open(dirs.processed)
codes = map_indicators if map_indicators is not None else list(coverage["indicator"])
for code in codes:
    level = coverage.set_index("indicator").loc[code, "level"]
    display(export_map(maps, measure=code, level="borough" if level == "borough" else "lsoa",
                       libraries=False))
