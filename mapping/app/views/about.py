"""The about pages: methodology, data sources, governance (with how the map is used) and the
accessibility statement. Their text comes from :mod:`mapping.app.about` (Markdown with raw
HTML disabled; the governance report in a sandboxed iframe)."""

from __future__ import annotations

import numpy as np
import panel as pn
import param

from mapping.app import about
from mapping.app.data import AppData
from mapping.app.panes import markdown_pane
from mapping.app.usage import UsageCounter
from mapping.governance import render_report

WIDE = {"sizing_mode": "stretch_width"}


@pn.cache(max_items=4, ttl=600)
def governance_html(root: str, day: str) -> str:
    """The governance report (re-rendered at most every 10 minutes and once a day)."""
    from mapping.registry import load_registry  # noqa: PLC0415

    return render_report(root, load_registry())


class MarkdownPage(pn.viewable.Viewer):
    """A page of Markdown built from the build (methodology, sources, accessibility)."""

    data = param.ClassSelector(class_=AppData, constant=True)
    builder = param.Callable(constant=True)
    title = param.String(constant=True)

    def __panel__(self):
        return markdown_pane(self.builder(self.data), name=self.title, **WIDE)


class MethodologyPage(pn.viewable.Viewer):
    """How the index is made, and its validation against observed behaviour: the figures from
    the build, a scatter plot of the index against the ONS Digital Propensity Index, what they
    mean and the caveats."""

    data = param.ClassSelector(class_=AppData, constant=True)

    def __panel__(self):
        d = self.data
        scatter = about.validation_scatter(d)
        return pn.Column(
            markdown_pane(about.methodology_markdown(d), **WIDE),
            markdown_pane(about.validation_markdown(d), **WIDE),
            *([pn.pane.Bokeh(scatter, **WIDE)] if scatter else []),
            name="Methodology", **WIDE)


def methodology_page(data: AppData) -> MethodologyPage:
    return MethodologyPage(data=data)


def sources_page(data: AppData) -> MarkdownPage:
    return MarkdownPage(data=data, builder=about.sources_markdown, title="Sources")


def accessibility_page(data: AppData) -> MarkdownPage:
    return MarkdownPage(data=data, builder=about.accessibility_markdown, title="Accessibility")


class GovernancePage(pn.viewable.Viewer):
    """The governance records, and the usage counts (refreshed each time the page is shown)."""

    data = param.ClassSelector(class_=AppData, constant=True)
    usage = param.ClassSelector(class_=UsageCounter, constant=True)
    active = param.Boolean(default=False)

    def __init__(self, **params):
        super().__init__(**params)
        self.usage_pane = markdown_pane(**WIDE)
        self.param.watch(self._on_active, "active")

    def _on_active(self, ev) -> None:
        if ev.new:
            self.usage_pane.object = about.usage_markdown(self.usage, self.data)

    def __panel__(self):
        report = governance_html(str(about.REPO_ROOT), str(np.datetime64("today")))
        gov = pn.pane.HTML(about.governance_iframe(report), name="gov", **WIDE)
        return pn.Column(self.usage_pane, markdown_pane(
            "## Governance records\nThe ethics review record, decision log and registers from "
            "`governance/`, rendered with raw HTML disabled."), gov, name="Governance", **WIDE)
