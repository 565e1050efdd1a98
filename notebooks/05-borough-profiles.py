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
# # 05 — Borough profile
#
# One borough's position on the index, its indicators against London and its most at-risk
# small areas, with a standalone map (the same builder as `mapping export`) and tables written
# under `<output_dir>/profiles/<borough>/`. Run it for any borough by changing `borough`: there
# is one notebook, never a copy per borough.

# %%
from bokeh.io import output_notebook, show
from IPython.display import display

from mapping.analysis import plots, profiles
from mapping.analysis.workspace import notebook_dirs
from mapping.files import write_csv
from mapping.maps.folium_map import ExportData, export_map, slug, write_map
from mapping.outputs import load_outputs
from mapping.registry import load_registry

# %% tags=["parameters"]
output_dir = None  # where notebooks write (None: the project's data/ folder)
processed_dir = None  # the build to use (None: <output_dir>/processed)
borough = "Brent"  # a borough name or code, e.g. "E09000005"
measure = "index_score"  # what the map shows: the index, a domain score or an indicator code
top_n = 10  # how many of the borough's most at-risk LSOAs to list

# %%
output_notebook(hide_banner=True)
dirs = notebook_dirs(output_dir, processed_dir)
outputs = load_outputs(dirs.processed)
registry = load_registry(outputs.manifest["parameters"].get("indicator_files", []))
code, name = profiles.find_borough(outputs, borough)
folder = dirs.sub("profiles", f"{code}-{slug(name)}")

# %% [markdown]
# ## Summary

# %%
summary = profiles.borough_summary(outputs, code)
display(summary)
row = summary.iloc[0]
print(f"{name} ranks {row['index_rank']} of {row['boroughs']} boroughs on the index "
      "(1 = most at risk); "
      f"{row['share_top20']:.0%} of its residents live in London's 20 % most at-risk LSOAs.")

# %% [markdown]
# ## Domains and indicators against London

# %%
domains = profiles.domain_profile(outputs, code)
display(domains)
show(plots.compare_bars(domains["measure"], domains["borough"],
                        domains.loc[domains["measure"] == "index_score", "london"].iloc[0],
                        title=f"{name}: index and domain scores",
                        x_label="score (0-1, higher = more at risk)",
                        reference_label="London index score"))
indicators = profiles.indicator_profile(outputs, registry, code)
display(indicators)

# %% [markdown]
# ## Most at-risk small areas

# %%
areas = profiles.top_areas(outputs, code, top_n)
display(areas)

# %% [markdown]
# ## Map and files

# %%
m = export_map(ExportData.open(dirs.processed), measure=measure, level="lsoa", boroughs=[code])
display(m)
written = [write_map(folder / f"{slug(name)}-{measure}.html", m)]
for key, frame in {"summary": summary, "domains": domains, "indicators": indicators,
                   "top_areas": areas}.items():
    written.append(write_csv(folder / f"{slug(name)}-{key}.csv", frame))
for path in written:
    print(path)
