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
# # 06 — Add an indicator
#
# A worked example: a new indicator from a CSV you supply, declared in your own registry file
# (TOML), checked, built, mapped, tried in the index, and published — with no Python changes.
# Then the same steps with mistakes in the registry file and in the CSV, to show the errors you
# would see.
#
# The example: **households with at least one disabled person**, from the Census 2021 table
# TS040 as downloaded from Nomis (one row per LSOA 2021: `date, geography, geography code`, then
# one column per category).
#
# How a CSV gets into the build: the registry declares every source file
# (`mapping/registry/sources.toml`: publisher, licence, attribution, path inside the data
# folder, expected hash, reader). TS040 is declared there as `census2021_ts040`, so your copy of
# the file goes at that path in a *working copy* of the data package (the package itself is
# read-only). **A CSV for a source the registry does not declare yet needs a `[[source]]` entry
# in `sources.toml` first** (there is no separate user sources file yet); everything below is
# then the same.

# %%
from pathlib import Path

from IPython.display import display

from mapping.analysis import audit
from mapping.analysis.variants import compare_ranks, spec_variant
from mapping.analysis.workspace import (
    notebook_dirs,
    overlay_data_dir,
    package_dir,
    scratch_dir,
    seed_cache,
)
from mapping.errors import DataValidationError
from mapping.index import build_index, load_default_spec, read_unit_table
from mapping.maps.folium_map import export_map
from mapping.outputs import load_outputs
from mapping.pipeline.build import BuildOptions, build
from mapping.pipeline.release import publish_release, verify_release
from mapping.registry import load_registry

# %% tags=["parameters"]
output_dir = None  # where notebooks write (None: the project's data/ folder)
cache_from = None  # an output folder whose reader cache to reuse (None: output_dir)
data_dir = None  # the open data package (None: $MAPPING_DATA_DIR or ../shared/data)
user_csv = None  # your CSV (None: the data package's copy of Census 2021 TS040)
weight_in_domain = 0.2  # weight of the new indicator in its domain when tried in the index

# %%
dirs = notebook_dirs(output_dir)
package = package_dir(data_dir)
work = scratch_dir(dirs.sub("work"), "06-add-an-indicator")
SOURCE_PATH = "census2021/lsoa21_ew/census2021-ts040-lsoa.csv"  # the source's path in sources.toml
csv_file = Path(user_csv) if user_csv else package / SOURCE_PATH
print(f"working folder: {work}")

# %% [markdown]
# ## 1. Describe the indicator in a registry file
#
# Same keys as `mapping/registry/indicators.toml` (see its header). The value is the number of
# households with one or more disabled people over all households, times 100.

# %%
INDICATOR_TOML = '''
[[indicator]]
code = "households_disabled_pct"
label = "Households with a disabled person"
domain = "demography"
unit = "%"
direction = "higher_is_worse"
geography = "lsoa21"
vintage = "2021"
role = "input"
source = "census2021_ts040"
decision = "DR-0002"
description = "Households with one or more people disabled under the Equality Act as a share of all households (Census 2021 TS040)."
range = [0, 100]
scale = 100
[indicator.numerator]
source = "census2021_ts040"
columns = ["Number of disabled people in household: 1 person disabled under the Equality Act in household", "Number of disabled people in household: 2 or more people disabled under the Equality Act in household"]
[indicator.denominator]
source = "census2021_ts040"
columns = ["Number of disabled people in household: Total: All households"]
'''  # noqa: E501
my_indicators = work / "my-indicators.toml"
my_indicators.write_text(INDICATOR_TOML, encoding="utf-8")
registry = load_registry([my_indicators])  # validated: raises with every problem listed
new = registry.indicator("households_disabled_pct")
print(new)

# %% [markdown]
# ## 2. Put your CSV in a working copy of the data package and check it

# %%
data = overlay_data_dir(package, work / "data", {SOURCE_PATH: csv_file})
values = audit.try_indicator(registry, data, "households_disabled_pct")
display(values.describe())

# %% [markdown]
# ## 3. Build with it
#
# The same as `mapping build --data-dir DATA --indicators my-indicators.toml --out-dir OUT`.
# The manifest records your registry file and the hash of your CSV (and whether it differs from
# the hash in the registry).

# %%
# reuse the slow readers' cache (keyed by input hashes, so always safe)
seed_cache(cache_from or dirs.output, work / "out")
manifest = build(BuildOptions(data_dir=data, out_dir=work / "out",
                              indicator_files=(my_indicators,), progress=False))
print(manifest["indicators"]["households_disabled_pct"])
print("your CSV matches the registered hash:",
      manifest["inputs"]["census2021_ts040"]["matches_registry"])
outputs = load_outputs(work / "out" / "processed")
coverage = audit.indicator_coverage(outputs, registry)
display(coverage[coverage["indicator"] == "households_disabled_pct"])
display(export_map(work / "out" / "processed", measure="households_disabled_pct", level="lsoa",
                   libraries=False))

# %% [markdown]
# ## 4. Try it in the index
#
# The default index does not change until its specification does (and a decision record says
# why). Here the indicator joins the demography domain in a variant, to see what it would move.

# %%
spec = load_default_spec()
variant = spec_variant(spec, name="with households_disabled_pct", add_indicators=[
    {"domain": "demography", "code": "households_disabled_pct", "direction": "higher_is_worse",
     "weight": weight_in_domain}])
table_path = work / "out" / "processed" / "lsoa21_indicators.csv"
table = read_unit_table(table_path, variant)
display(compare_ranks(build_index(table, variant), build_index(table, spec)))

# %% [markdown]
# ## 5. Publish (here into the working folder; normally `data/releases`)
#
# `mapping release --version X.Y.Z --notes "..." --from OUT/processed`. The data package
# descriptor takes the new field's description, unit and direction from your registry file.

# %%
release = publish_release("0.1.0", "Example: adds households_disabled_pct (Census 2021 TS040).",
                          processed=work / "out" / "processed", releases=work / "releases")
print("problems:", verify_release(release) or "none")
descriptor = (release / "datapackage.json").read_text(encoding="utf-8")
print("households_disabled_pct described in datapackage.json:",
      "Households with a disabled person" in descriptor)

# %% [markdown]
# ## 6. What you see when the registry file is wrong
#
# Every problem is reported at once, with the file, the line of the key at fault, the key and the
# value.

# %%
bad_toml = (INDICATOR_TOML
            .replace('direction = "higher_is_worse"', 'direction = "higher_is_bad"')
            .replace('source = "census2021_ts040"\ndecision',
                     'source = "census2021_ts04O"\ndecision')
            .replace('unit = "%"\n', '')
            .replace('label =', 'lable ='))
bad_file = work / "my-indicators-wrong.toml"
bad_file.write_text(bad_toml, encoding="utf-8")
try:
    load_registry([bad_file])
except DataValidationError as exc:
    display(audit.problems_table(exc))

# %% [markdown]
# A code that is already registered, and a column name with a typo:

# %%
dup_file = work / "my-indicators-duplicate.toml"
dup_file.write_text(INDICATOR_TOML.replace("households_disabled_pct", "disability_pct"),
                    encoding="utf-8")
try:
    load_registry([dup_file])
except DataValidationError as exc:
    display(audit.problems_table(exc))

typo_file = work / "my-indicators-typo.toml"
typo_file.write_text(INDICATOR_TOML.replace("Total: All households", "Total: all households"),
                     encoding="utf-8")
try:
    audit.try_indicator(load_registry([typo_file]), data, "households_disabled_pct")
except DataValidationError as exc:
    display(audit.problems_table(exc))

# %% [markdown]
# ## 7. What you see when the CSV is wrong
#
# A broken copy of the CSV: a count that is not a number, an LSOA code repeated, a code that is
# not an LSOA code, and a negative count. The reader reports all of them, with row numbers as a
# text editor shows them.

# %%
lines = csv_file.read_text(encoding="utf-8").splitlines()
header, rows = lines[0], lines[1:]
broken = list(rows)
broken[2] = broken[2].rsplit(",", 1)[0] + ",12a"
broken[5] = broken[4]
broken[7] = broken[7].replace(broken[7].split(",")[2], "E0100000X", 1)
broken[9] = broken[9].rsplit(",", 1)[0] + ",-3"
bad_data = overlay_data_dir(package, work / "data-broken",
                            {SOURCE_PATH: "\n".join([header, *broken]) + "\n"})
try:
    audit.try_indicator(registry, bad_data, "households_disabled_pct")
except DataValidationError as exc:
    display(audit.problems_table(exc))

# %% [markdown]
# And a CSV whose numbers parse but make no sense: more households with a disabled person than
# households. The registered range `[0, 100]` catches the result.

# %%
cols = header.split(",")
i_total = cols.index("Number of disabled people in household: Total: All households")
impossible = list(rows)
fields = impossible[0].split(",")
fields[i_total] = "1"
impossible[0] = ",".join(fields)
odd_data = overlay_data_dir(package, work / "data-impossible",
                            {SOURCE_PATH: "\n".join([header, *impossible]) + "\n"})
try:
    audit.try_indicator(registry, odd_data, "households_disabled_pct")
except DataValidationError as exc:
    display(audit.problems_table(exc))

# %% [markdown]
# ## Adopting it for good
#
# 1. Move the `[[indicator]]` table into `mapping/registry/indicators.toml` (or keep passing
#    `--indicators my-indicators.toml` to `mapping build`), with a decision record in
#    `governance/decisions/` naming why; run `mapping governance check`.
# 2. To put it in the default index, add it to `mapping/specs/london_default.toml` (the weights
#    are a decision too: DR-0003 or its successor).
# 3. `mapping build`, then run notebooks 03 and 04 on the new build.
# 4. `mapping release --version X.Y.Z --notes "Adds households with a disabled person"`.
