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
# # 02 — Build an index
#
# Choose indicators, weights, methods and the reference frame; build the index from the built
# indicator table; compare it with the default index; write it as a *variant* (tables and the
# full specification, so anyone can rebuild it); and, if `release_version` is set, publish the
# build as a versioned release with the variant attached.
#
# The default index is `mapping/specs/london_default.toml` (decision record DR-0003). Changing
# the default is a change to that file and a new decision record, not a notebook edit.

# %%
from bokeh.io import output_notebook, show
from IPython.display import display

from mapping.analysis import plots
from mapping.analysis.variants import (
    compare_ranks,
    spec_variant,
    variant_files,
    variant_tables,
    write_files,
)
from mapping.analysis.workspace import notebook_dirs
from mapping.index import build_index, load_default_spec, load_spec, read_unit_table
from mapping.maps.folium_map import export_map
from mapping.pipeline.release import publish_release

# %% tags=["parameters"]
output_dir = None  # where notebooks write (None: the project's data/ folder)
processed_dir = None  # the build to use (None: <output_dir>/processed)
spec_path = None  # base specification (None: the default London index)
variant_name = "my-variant"
indicators = None  # keep only these indicator codes (None: all in the base specification)
domain_weights = None  # e.g. {"age": 0.4, "health": 0.2, "skills": 0.2, ...}
indicator_weights = None  # e.g. {"deri_broadband_2011": 0.0}
normalisation = None  # minmax | zscore | rank | percentile | distance_to_reference | exponential
aggregation = None  # arithmetic | geometric | imd
frame = None  # "london", or a list of borough codes to rescale to, e.g. ["E09000005", "E09000033"]
release_version = None  # e.g. "1.1.0" to publish a release (never overwrites one)
release_notes = ""
releases_dir = None  # None: <output_dir>/releases

# %%
output_notebook(hide_banner=True)
dirs = notebook_dirs(output_dir, processed_dir)
base = load_spec(spec_path) if spec_path else load_default_spec()
spec = spec_variant(base, name=variant_name, indicators=indicators,
                    domain_weights=domain_weights, indicator_weights=indicator_weights,
                    normalisation=normalisation, aggregation=aggregation, frame=frame)
table_path = dirs.processed / "lsoa21_indicators.csv"
table = read_unit_table(table_path, spec)

# %% [markdown]
# ## The specification: effective weight of each indicator

# %%
weights = spec.effective_weights()
print(f"{spec.name} {spec.version}: frame {spec.frame.kind} {list(spec.frame.codes)}, "
      f"normalisation {spec.indicator_level.normalisation}, "
      f"aggregation {spec.domain_level.aggregation}; sha256 {spec.digest()[:12]}")
show(plots.bar_chart(list(weights), [w * 100 for w in weights.values()],
                     title="Share of the index carried by each indicator",
                     x_label="effective weight (% of the index)", y_label="indicator"))

# %% [markdown]
# ## Build it and compare with the default index

# %%
result = build_index(table, spec, name=str(table_path))
default = build_index(table, base, name=str(table_path))
tables = variant_tables(result, table)
display(compare_ranks(result, default))
display(tables["borough_index"].sort_values("index_rank").head(10))
show(plots.histogram(result.index, title="Index scores of the variant",
                     x_label=f"index score ({spec.indicator_level.normalisation} scale; "
                     "higher = more at risk)"))

# %% [markdown]
# ## Write the variant (tables and specification) under the output folder

# %%
files = variant_files(spec, tables, variant_name)
written = write_files(dirs.sub("variants"), files)
for path in written:
    print(path)

# %% [markdown]
# ## Map of the default index (the export builder)

# %%
display(export_map(dirs.processed, measure="index_score", level="borough", libraries=False))

# %% [markdown]
# ## Publish a release
#
# A release copies the build (hashes checked) into `<releases>/v<version>/` with a data package
# descriptor and a change-log entry; this variant travels in its `extras/` folder. Releases are
# never overwritten.

# %%
if release_version:
    path = publish_release(release_version, release_notes or f"Variant {variant_name}.",
                           processed=dirs.processed,
                           releases=releases_dir or dirs.output / "releases",
                           extras=files)
    print(f"released {path}")
    print((path / "RELEASE.md").read_text())
