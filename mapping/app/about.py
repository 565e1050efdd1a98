"""Text of the about pages: methodology, data sources, governance, usage counts.

Builders return Markdown (rendered by the app with raw HTML disabled) or, for the governance
report, the HTML of :func:`mapping.governance.render_report` (which escapes every record and has
no scripts), shown in a sandboxed iframe so that nothing in it can reach the app page.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

import pandas as pd

from mapping.app.data import AppData
from mapping.app.panes import html
from mapping.app.usage import UsageCounter
from mapping.index.methods import aggregation, normalisation
from mapping.outputs.catalogue import VALIDATION, VALIDATION_OUT_OF_SAMPLE
from mapping.outputs.formatting import SUPPRESSED as SUPPRESSED_WORD
from mapping.outputs.formatting import weight_text

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|])")


def md(text: object) -> str:
    """Escape Markdown punctuation in a data string (raw HTML is disabled anyway)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def methodology_markdown(data: AppData) -> str:
    spec = data.spec
    eff = spec.effective_weights()
    iw = spec.indicator_weights()
    rows = []
    for d in spec.domains:
        for ind in d.indicators:
            meta = data.indicators.get(ind.code, {})
            arrow = "higher = more at risk" if ind.direction == "higher_is_worse" else \
                "higher = less at risk"
            rows.append(f"| {md(d.name)} | {md(meta.get('label', ind.code))} | "
                        f"{md(meta.get('unit', ''))} | {arrow} | {weight_text(iw[ind.code])} | "
                        f"{eff[ind.code]:.1%} | {md(data.vintage(ind.code))} |")
    dom = ", ".join(f"{md(d.name)} {weight_text(w)}" for d, w in zip(
        spec.domains, spec.domain_weights().values(), strict=True))
    return f"""
## How the index is made

**{md(spec.name)}**, version {md(spec.version)}. {md(spec.description)}

1. **Indicators** (below) are read from the build for every London LSOA (2021 boundaries).
   Missing values take their borough's median; outliers are winsorised by the JRC rule
   (skewness above {spec.outliers.skew_threshold:g} and kurtosis above
   {spec.outliers.kurtosis_threshold:g}).
2. **Direction**: every indicator is turned so that a higher value means more risk.
3. **Normalisation** ({md(normalisation(spec.indicator_level.normalisation).label)} by
   default): for min–max,
   `x' = (x − min) / (max − min)` over the reference frame (London, or the boroughs you chose
   with "rescale").
4. **Domain scores**: the weighted mean of each domain's normalised indicators.
5. **Index**: the weighted {md(aggregation(spec.domain_level.aggregation).label.lower())}
   of the domain scores, `I = Σ w_d · D_d` (arithmetic) or `I = Π (D_d + 0.01)^w_d − 0.01`
   (geometric). Default domain weights: {dom}.
6. **Ranks**: rank 1 is the area most at risk; deciles and quintiles are bands of ranks
   (decile 1 = the 10 % of LSOAs most at risk in London).
7. **Wards and boroughs**: population-weighted means of their LSOAs' scores (ranks are never
   averaged). The borough table's "share of residents in London's most at-risk 10 % / 20 %" is
   the population living in LSOAs in deciles 1 / 1–2 of London.

The weights sliders re-run steps 3–6 through the same engine; the published index is the
default. Robustness: a Monte Carlo analysis over weights, normalisation, aggregation and
leaving one indicator out gives each LSOA a 5–95 % rank interval; an area whose interval spans
more than {spec.robustness.unstable_width:.0%} of all LSOAs is flagged "unstable ranking".

## Indicators

| Domain | Indicator | Unit | Direction | Weight in domain | Share of index | Vintage |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

The specification is the file `mapping/specs/london_default.toml`; why these indicators and
weights is recorded in the decision log (governance page).

## Limits to keep in mind

- Indicators come from different years (see the vintage column); some are published for
  larger areas (MSOA) or for 2011 LSOAs and converted to 2021 LSOAs by the ONS lookups.
- The index shows **risk** from area statistics, not who is digitally excluded: every area has
  residents who need support.
- Small differences in score or rank are not meaningful; check an area's rank interval.
"""


VALIDATION_FILE = VALIDATION
#: How the two observed references read: which sign of rho is agreement with a risk index.
_REFERENCES = {
    "dpi_online_pct": ("ONS Digital Propensity Index 2021 (share of Census responses online)",
                       -1.0),
    "iuc_least_engaged_share": ("IUC 2018 share of residents least engaged online", 1.0),
}


def validation_figures(data: AppData) -> pd.DataFrame | None:
    """London-wide rho of each index, domain and the DERI with each observed reference, from
    the build's ``validation.csv`` (None for a build without it)."""
    if VALIDATION_FILE not in data.outputs.meta.outputs:
        return None
    val = data.outputs.table(VALIDATION_FILE)
    london = val[(val["scope"] == "london") & val["kind"].isin(["index", "domain", "comparator"])]
    out = london.pivot(index=["measure", "kind"], columns="reference",
                       values="spearman_rho").reset_index()
    # the default index first, then the earlier one, its domains, the comparator
    order = {"index_score": 0, "index_equal_v1": 1}
    kind = {"index": 1, "domain": 2, "comparator": 3}
    out["_o"] = [order.get(m, 1 + kind[k]) for m, k in zip(out["measure"], out["kind"],
                                                         strict=True)]
    return out.sort_values(["_o", "measure"], kind="stable").drop(columns="_o")


def _measure_label(data: AppData, measure: str) -> str:
    if measure == "index_score":
        return f"{data.spec.name} (v{data.spec.version}, the map's default)"
    if measure == "index_equal_v1":
        return "Earlier index: equal weights (v1, DR-0003)"
    for d in data.spec.domains:
        if measure == f"{d.code}_score":
            return f"Domain: {d.name}"
    return str(data.indicators.get(measure, {}).get("label", measure))


def out_of_sample_figures(data: AppData) -> dict[str, float]:
    """London-wide ρ of the default index's held-out scores with each reference (DR-0009),
    from the build's ``validation_out_of_sample.csv``; empty for a build without it."""
    if VALIDATION_OUT_OF_SAMPLE not in data.outputs.meta.outputs:
        return {}
    val = data.outputs.table(VALIDATION_OUT_OF_SAMPLE)
    london = val[val["scope"] == "london"]
    return dict(zip(london["reference"], london["spearman_rho"].astype(float), strict=True))


@functools.lru_cache(maxsize=4)
def validation_markdown(data: AppData) -> str:
    """The Validation section: figures from the build, what they mean, and the caveats.
    Made once per loaded build (``AppData`` is shared and never modified), not per session."""
    figures = validation_figures(data)
    if figures is None:
        return ("## Validation\n\nThis build has no validation figures "
                "(`validation.csv`).")
    refs = [r for r in _REFERENCES if r in figures.columns]
    head = " | ".join(_REFERENCES[r][0] for r in refs)
    rows = []
    for row in figures.itertuples(index=False):
        cells = " | ".join(f"{getattr(row, r):+.2f}" for r in refs)
        rows.append(f"| {md(_measure_label(data, row.measure))} | {cells} |")
    idx = figures.set_index("measure")
    dpi = idx.loc["index_score", "dpi_online_pct"] if "dpi_online_pct" in refs else float("nan")
    iuc = (idx.loc["index_score", "iuc_least_engaged_share"]
           if "iuc_least_engaged_share" in refs else float("nan"))
    oos = out_of_sample_figures(data)
    if oos:
        cells = " | ".join(f"{oos.get(r, float('nan')):+.2f}" for r in refs)
        rows.insert(0, f"| Default index, judged out of sample (each borough scored with "
                       f"weights fitted on the other 32) | {cells} |")
        judged = (f"Judged on areas its weights had not seen (each borough scored with weights "
                  f"fitted on the other 32 boroughs): ρ {oos.get('dpi_online_pct', 0):+.2f} with "
                  f"the online share and ρ {oos.get('iuc_least_engaged_share', 0):+.2f} with the "
                  f"least-engaged share; fitted on all of London, ρ {dpi:+.2f} and "
                  f"ρ {iuc:+.2f}.")
    else:
        judged = (f"Fitted on all of London: ρ {dpi:+.2f} with the online share and "
                  f"ρ {iuc:+.2f} with the least-engaged share (this build has no "
                  "out-of-sample figures).")
    return f"""
## Validation: does the index point where people are offline?

In plain words: **areas the index rates as more at risk did, on the whole, answer the 2021
Census online less often** (−1 would be perfect agreement) **and have more residents in the
groups least engaged online in 2018** (+1 would be perfect). {judged} It is a guide to where to
look, not a measure of who is offline.

| Measure | {head} |
|---|{"---|" * len(refs)}
{chr(10).join(rows)}

Spearman rank correlations over London's LSOAs (2021 boundaries), from this build's
`validation_out_of_sample.csv` (first row) and `validation.csv` (the rest: the published scores,
whose weights were fitted on all of London, so they agree a little better than the out-of-sample
test shows; the file also holds every single indicator and each borough separately). How the
weights were chosen is in DR-0009 in the decision log.

**Caveats.** In areas where households were first sent a paper form, ONS *modelled* the
online share rather than observing it, and the file does not say which areas those are. It
counts **household** responses, not whether each person uses the internet. Both references
are on 2011 boundaries (converted to 2021) and from other years than some indicators (2021 and
2018), and they disagree with each other in places: the DPI is lowest in older outer suburbs,
the IUC's least-engaged groups commonest in deprived inner and east London.
"""


def validation_scatter(data: AppData):
    """Each LSOA's index percentile against its DPI (Bokeh figure), or None."""
    from mapping.analysis import plots  # noqa: PLC0415 (bokeh figure helpers)

    lsoa = data.levels["lsoa"].table
    if data.published is None or "dpi_online_pct" not in lsoa.columns:
        return None
    pct = data.published["index_score"].rank(pct=True) * 100
    fig = plots.scatter(pct, lsoa["dpi_online_pct"],
                        title="Each LSOA: index percentile against the share of Census 2021 "
                        "responses made online",
                        x_label="index percentile (higher = more at risk)",
                        y_label="Census 2021 responses online (%)")
    fig.sizing_mode = "stretch_width"
    return fig


def sources_markdown(data: AppData) -> str:
    used = set()
    for meta in data.indicators.values():
        used.update(meta.get("sources", []))
    rows = []
    for sid, src in data.registry.sources.items():
        if sid not in used:
            continue
        rows.append(f"| {md(src.publisher)} | {md(src.title)} | {md(src.release_date)} | "
                    f"{md(src.licence)} | {md(src.attribution)} |")
    return f"""
## Data sources

Build version **{md(data.build_version)}**, built {md(data.built_at)}. Every download carries
these attributions.

| Publisher | Dataset | Released | Licence | Attribution |
|---|---|---|---|---|
{chr(10).join(rows)}

Boundaries: ONS (Open Government Licence; contains OS data © Crown copyright and database
right). Libraries: DCMS Libraries Taskforce list (2016) and © OpenStreetMap contributors (ODbL).
"""


def governance_iframe(report_html: str) -> str:
    """The governance report in a sandboxed iframe: no scripts, no same-origin access."""
    return html("governance_iframe.html", report=report_html)


def usage_markdown(counter: UsageCounter, data: AppData) -> str:
    totals = counter.totals()
    span = counter.days()
    names = dict(zip(data.boroughs["borough_code"], data.boroughs["borough_name"], strict=True))
    labels = data.measures()
    kinds = {"page_load": "Page loads", "measure": "Measure viewed", "level": "Level viewed",
             "borough": "Borough chosen", "download": "Downloads", "reweight": "Weights changed"}
    rows = []
    for kind, key, n in totals:
        what = labels.get(key) or names.get(key) or key or "–"
        rows.append(f"| {md(kinds.get(kind, kind))} | {md(what)} | {n} |")
    where = "not recorded (monitoring is switched off)" if counter.path is None else \
        f"kept on the server in `{md(counter.path.name)}`"
    body = "\n".join(rows) if rows else "| – | no use recorded yet | 0 |"
    period = f"from {span[0]} to {span[1]}" if span else "so far"
    return f"""
## How this map is used (monitoring without personal data)

Counts are aggregate per day and {where}. The app stores **no IP address, no user agent, no
search text and no cookie of its own**: only how many times the page was opened and which
measures, levels and boroughs were looked at (decision DR-0006). Totals {period}:

| What | Which | Count |
|---|---|---|
{body}

_Shown on {dt.date.today().isoformat()}._
"""


def accessibility_markdown(data: AppData) -> str:
    """The accessibility statement (WCAG 2.2 AA): what is tested, what is known not to work,
    how to report a problem."""
    return f"""
## Accessibility statement

This map app, its standalone map exports and the governance report aim to meet the **Web
Content Accessibility Guidelines (WCAG) 2.2 at level AA**, as UK public sector websites must.
This statement covers build {md(data.build_version)} of the app.

### Using the map without the map

Everything the map shows is also available as text:

- **"In words"** under the map and its legend: a summary computed from the data (where the
  areas most at risk are, and how many areas have no value).
- **Table** tab: every area shown, with the same value, class and rank as the map; sort by a
  column heading, filter with the boxes under the headings, and press Enter on a row (or click
  it) to select that area; the selected area's row is highlighted, on the page shown. The
  table downloads as CSV, with its sources.
- **Area profile** (beside the map): the selected area's index score, rank, rank interval,
  domain scores and every indicator value with its percentile and vintage (the indicators
  scroll in their own region, which takes the keyboard focus).
- **Find an area** (on the left): type an LSOA code or name, a ward or a borough and press
  Enter; choosing a match (a list of radio buttons) selects the area exactly as clicking it on
  the map does, and shows it within its borough.

On a narrow screen (a phone) the page is one column: the map first, then its legend, summary
and the profile; the controls are behind the **Controls** button at the top, which says
whether they are shown.

Every legend class has a text label; colour is never the only way to tell areas apart (the
tooltip, table and profile give the value and class in words). Values blanked by the
small-count rule are shown as the word "{md(SUPPRESSED_WORD)}".

### Keyboard

Press Tab to move through the controls on the left (measure, areas, search, boroughs,
weights and method, classes and colours, layers), then the map's toolbar, then the page tabs
(Enter or Space opens a tab), then the content of the open tab. Focus is shown with a thick
orange outline and is never trapped in the map.

### What is tested

Every change to the project runs automated checks in a real browser (Debian chromium):

- an **axe-core** scan (rules tagged WCAG 2.0, 2.1 and 2.2 A and AA) of every tab of this
  app, 1,400 and 390 pixels wide, an exported map and the governance report, which must find
  no violations;
- a **keyboard-only** test that selects an area with the search and with the table and checks
  that the profile is the same as after clicking the area on the map;
- the **colour palettes**, simulated for protanopia and deuteranopia (Machado et al. 2009):
  neighbouring legend classes, and the "no value" grey, must stay distinguishable
  (CIEDE2000 difference of at least 5) for every palette and number of classes;
- **contrast** of the app's text (at least 4.5:1) and of focus rings and control borders
  (at least 3:1).

### Known limitations

- **Panning and zooming the map** needs a mouse or touch (Bokeh's map tools). With the
  keyboard, use "Find an area" (which zooms to the area), "Focus on boroughs" and "Zoom to
  London".
- **Hover tooltips** appear for the mouse only; the table and the area profile carry the same
  information.
- The map drawing itself (a canvas) is **not readable by screen readers**; use the summary,
  the table and the profile.
- The table (Tabulator) announces its cells as plain text rather than as a data grid, and its
  column filters have no visible labels (the column heading above each box names it).
- In the standalone exported maps the areas cannot be reached with the keyboard; the side panel
  gives the legend, a text summary and the sources, and the same data is in the app's table.
- These checks are automated; a manual review with screen readers (NVDA, JAWS, VoiceOver) and
  at 400 % zoom has **not** been done yet.

### Reporting a problem

If something on this map does not work for you, or you need the information in another format,
tell the project group through your borough's digital inclusion lead, or open an issue in the
project's repository describing the page, what you were trying to do and the browser and
assistive technology you use. We aim to reply within 10 working days.

If you are not happy with how we respond, contact the Equality Advisory and Support Service
(EASS). The Equality and Human Rights Commission (EHRC) is responsible for enforcing the
accessibility regulations.
"""
