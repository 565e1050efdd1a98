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
# # 03 — How robust is the index?
#
# Monte Carlo uncertainty and sensitivity analysis (weights drawn around the defaults,
# alternative normalisations and aggregations, one indicator left out), per-area rank
# intervals, leave-one-indicator-out, and the correlation structure of the indicators. The
# method is documented in `mapping/index/robustness.py`.

# %%
from bokeh.io import output_notebook, show
from IPython.display import display

from mapping.analysis import plots
from mapping.analysis.workspace import notebook_dirs
from mapping.index import (
    build_index,
    cronbach_alpha,
    indicator_correlations,
    leave_one_out,
    load_default_spec,
    load_spec,
    monte_carlo,
    read_unit_table,
)
from mapping.index.evidence import top_decile_changes
from mapping.maps.folium_map import export_map
from mapping.outputs import load_outputs

# %% tags=["parameters"]
output_dir = None  # where notebooks write (None: the project's data/ folder)
processed_dir = None  # the build to use (None: <output_dir>/processed)
spec_path = None  # specification (None: the default London index)
draws = 1000  # Monte Carlo draws
seed = None  # None: the specification's seed

# %%
output_notebook(hide_banner=True)
dirs = notebook_dirs(output_dir, processed_dir)
spec = load_spec(spec_path) if spec_path else load_default_spec()
table_path = dirs.processed / "lsoa21_indicators.csv"
result = build_index(read_unit_table(table_path, spec), spec, name=str(table_path))
mc = monte_carlo(result, draws=draws, seed=seed)
n = len(result.index)

# %% [markdown]
# ## Rank intervals

# %%
ranks = mc.ranks
print(f"{draws} draws over {n:,} LSOAs; {int(ranks['unstable'].sum()):,} "
      f"({ranks['unstable'].mean():.1%}) flagged unstable (5-95 % interval wider than "
      f"{spec.robustness.unstable_width:.0%} of all LSOAs)")
show(plots.rank_intervals(ranks, title="Rank of each LSOA: default index and Monte Carlo "
                          "5-95 % interval"))

# %% [markdown]
# ## Which choice moves the ranks most? (first-order sensitivity)

# %%
sens = mc.sensitivity.sort_values("first_order", ascending=False)
display(sens)
show(plots.bar_chart(sens["factor"], sens["first_order"] * 100,
                     title="Share of rank variance explained by each choice alone",
                     x_label="first-order sensitivity (% of rank variance)",
                     y_label="choice"))

# %% [markdown]
# ## Leave one indicator out

# %%
loo = leave_one_out(result).sort_values("mean_abs_rank_shift", ascending=False)
display(loo)
show(plots.bar_chart(loo["indicator"], loo["decile_changed_share"] * 100,
                     title="LSOAs whose decile changes when an indicator is left out",
                     x_label="LSOAs changing decile (%)", y_label="indicator left out"))

# %% [markdown]
# ## Correlation structure and internal consistency

# %%
show(plots.correlation_heatmap(indicator_correlations(result),
                               title="Spearman correlations of the aligned indicators"))
display(cronbach_alpha(result))

# %% [markdown]
# ## Where the ranking is uncertain (the build's own 1,000-draw results, export builder)

# %%
display(export_map(dirs.processed, measure="interval_width", level="lsoa", libraries=False,
                   title="Width of the 5-95 % Monte Carlo rank interval (ranks)"))

# %% [markdown]
# ## The evidence-led index (v2) against the earlier equal-weights index (v1)
#
# DR-0009 replaced the equal weights of DR-0003 with weights chosen out of sample against
# observed online behaviour (see notebook 04). Both are built; here is how far the map moves:
# LSOAs entering and leaving London's most at-risk 10 %, per borough.

# %%
outputs = load_outputs(dirs.processed)
v2 = outputs.table("lsoa21_index.csv").set_index("lsoa21_code")
v1 = outputs.table("lsoa21_index_equal_v1.csv").set_index("lsoa21_code")
names = outputs.table("lsoa21_indicators.csv").set_index("lsoa21_code")["borough_name"]
moves = top_decile_changes(v2["index_score"], v1["index_score"], names)
print(f"top decile: {int(moves['in_both'].sum())} LSOAs stay, {int(moves['moved_in'].sum())} "
      f"enter and {int(moves['moved_out'].sum())} leave")
display(moves.assign(net=moves["moved_in"] - moves["moved_out"]).sort_values("net"))
show(plots.scatter(v1["index_score"].rank(pct=True) * 100,
                   v2["index_score"].reindex(v1.index).rank(pct=True) * 100,
                   title="Percentile of each LSOA: v1 (equal weights) against v2 (evidence-led)",
                   diagonal=True, x_label="v1 percentile", y_label="v2 percentile"))
