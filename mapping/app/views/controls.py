"""The controls on the left: measure, areas, search, boroughs, weights and method, classes and
colours, layers, and the address to share.

Every control that edits one choice is made from the state's parameter
(``Widget.from_param``), so the widget and the state cannot disagree. Two are not: the domain
weight sliders edit one list parameter (``weights``) together, and the search edits nothing
until a match is chosen.
"""

from __future__ import annotations

import io
import re

import panel as pn
import param

from mapping.app import a11y
from mapping.app.data import (
    AGGREGATIONS,
    DOMAIN_PREFIX,
    INDEX_MEASURE,
    LEVELS,
    NORMALISATIONS,
    is_earlier,
    is_score,
)
from mapping.app.panes import escaped, html, html_pane
from mapping.app.store import AppState
from mapping.app.views.map import MapPanel, with_document_lock
from mapping.maps.classify import SCHEME_LABELS
from mapping.outputs.formatting import weight_text

PALETTE_LABELS = {"viridis": "Viridis (colour-blind safe)", "cividis": "Cividis (colour-blind "
                  "safe)", "ylorrd": "Yellow–orange–red", "ylgnbu": "Yellow–green–blue"}
WIDE = {"sizing_mode": "stretch_width"}


def _options(labels: dict[str, str]) -> dict[str, str]:
    """Widget options (label -> value) from a value -> label mapping."""
    return {label: value for value, label in labels.items()}


class Controls(pn.viewable.Viewer):
    """The sidebar of one session."""

    store = param.ClassSelector(class_=AppState, constant=True)
    map = param.ClassSelector(class_=MapPanel, constant=True)

    def __init__(self, **params):
        super().__init__(**params)
        s, d = self.store, self.store.data
        sp = s.param
        self.w_measure = pn.widgets.Select.from_param(sp.measure, label="Measure", options={},
                                                      groups=self.measure_groups(), **WIDE)
        self.w_level = pn.widgets.RadioButtonGroup.from_param(
            sp.level, label="Areas", options=_options(LEVELS), color="primary",
            variant="outline", stylesheets=[a11y.BUTTON_GROUP_CSS], **WIDE)
        self.w_scheme = pn.widgets.Select.from_param(sp.scheme, label="Classes",
                                                     options=_options(SCHEME_LABELS), **WIDE)
        self.w_k = pn.widgets.IntSlider.from_param(sp.k, label="Number of classes", start=3,
                                                   end=7, throttled=True, **WIDE)
        self.w_palette = pn.widgets.Select.from_param(sp.palette, label="Colours",
                                                      options=_options(PALETTE_LABELS), **WIDE)
        names = dict(zip(d.boroughs["borough_code"], d.boroughs["borough_name"], strict=True))
        # Bokeh's MultiChoice (Choices.js, allowHTML on) renders option labels as HTML: escape
        self.w_boroughs = pn.widgets.MultiChoice.from_param(
            sp.boroughs, label="Focus on boroughs",
            options={escaped(name): code for code, name in names.items()},
            placeholder="All of London", **WIDE)
        self.w_rescale = pn.widgets.Checkbox.from_param(
            sp.rescale, label="Rescale the index to these boroughs")
        # the printable borough pack (DR-0011) of the one borough in focus
        self.w_pack = pn.widgets.FileDownload(
            callback=self._pack, filename="borough-pack.html", embed=False,
            label="Download the borough pack (printable page)", visible=False, **WIDE)
        self.w_weights = [
            pn.widgets.FloatSlider(label=name, start=0.0, end=1.0, step=0.05, value=w, **WIDE)
            for name, w in zip(d.domains.values(), s.weights, strict=True)]
        self.w_norm = pn.widgets.Select.from_param(sp.normalisation, label="Normalisation",
                                                   options=_options(NORMALISATIONS), **WIDE)
        self.w_agg = pn.widgets.Select.from_param(sp.aggregation, label="Combine domains by",
                                                  options=_options(AGGREGATIONS), **WIDE)
        self.w_reset = pn.widgets.Button(label="Reset to the published index", **WIDE)
        self.weights_text = html_pane(**WIDE)
        #: why the weights (and the method) are off while the map shows something else
        self.weights_note = html_pane(visible=False, **WIDE)
        self.w_search = pn.widgets.TextInput(
            label="Find an area (then press Enter)",
            placeholder="LSOA code or name, ward, borough", **WIDE)
        # a list of radio buttons, not a list box: long names wrap instead of being cut off,
        # and nothing is chosen until a person chooses (no blank first option)
        self.results_title = html_pane(html("results_title.html"), visible=False,
                                       margin=(0, 10), **WIDE)
        self.w_results = pn.widgets.RadioBoxGroup(
            options=[], value=None, visible=False,
            css_classes=["search-results"], stylesheets=[a11y.RESULTS_CSS], **WIDE)
        self.search_note = html_pane(**WIDE)
        self.w_libraries = pn.widgets.Checkbox.from_param(sp.libraries,
                                                          label="Show public libraries")
        self.w_tiles = pn.widgets.Checkbox.from_param(sp.tiles,
                                                      label="Basemap tiles (needs internet)")
        self.w_home = pn.widgets.Button(label="Zoom to London", **WIDE)
        self.w_walk = pn.widgets.IntSlider.from_param(
            sp.walk_m, label="Walking distance to support (m, straight line)", step=100,
            throttled=True, visible=d.needs is not None, **WIDE)
        self.share = html_pane(**WIDE)
        self._results: dict[str, tuple[str, str]] = {}

        # weights, classes and colours repaint the map in the browser at once (mapclient.js)
        self.map.link_client(level=self.w_level, measure=self.w_measure, scheme=self.w_scheme,
                             k=self.w_k, palette=self.w_palette, normalisation=self.w_norm,
                             aggregation=self.w_agg, rescale=self.w_rescale,
                             weights=self.w_weights)
        for w in self.w_weights:
            w.param.watch(self._on_weight_widget, "value_throttled")
        self.w_reset.on_click(lambda _: s.reset_method())
        self.w_search.param.watch(self._on_search, "value")
        self.w_results.param.watch(self._on_result, "value")
        self.w_home.on_click(lambda _: self.map.home())
        sp.watch(self._on_focus, "boroughs")
        sp.watch(self._on_weights, "weights")
        sp.watch(self._on_level, "level")
        sp.watch(self._render_weights, list(s.VIEW))
        sp.watch(self._on_measure, "measure")
        self._render_weights()
        self._on_measure()
        self._on_focus()

    def __panel__(self):
        return pn.Column(*self.widgets(), width=340, margin=(5, 10))

    def widgets(self) -> list:
        return [
            self.w_measure, pn.pane.Markdown("**Areas**", margin=(0, 10)), self.w_level,
            self.w_search, self.search_note, self.results_title, self.w_results,
            self.w_boroughs, self.w_rescale, self.w_pack,
            pn.Card(self.weights_note, *self.w_weights, self.weights_text, self.w_norm,
                    self.w_agg, self.w_reset,
                    title="Weights and method", collapsed=False, **WIDE),
            pn.Card(self.w_scheme, self.w_k, self.w_palette, title="Classes and colours",
                    collapsed=True, **WIDE),
            pn.Card(self.w_libraries, self.w_tiles, self.w_walk, self.w_home,
                    title="Layers and view",
                    collapsed=False, **WIDE),
            self.share,
        ]

    def _on_focus(self, _ev=None) -> None:
        """The pack is offered when exactly one borough is in focus."""
        s = self.store
        one = len(s.boroughs) == 1 and s.data.needs is not None
        self.w_pack.visible = one
        if one:
            name = s.data.boroughs.set_index("borough_code").loc[s.boroughs[0], "borough_name"]
            slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or "borough"
            self.w_pack.filename = f"digital-exclusion-pack-{slug}.html"
            self.w_pack.label = "Download the borough pack (printable page)"

    def _pack(self):
        from mapping.maps.pack import borough_pack  # noqa: PLC0415 (only when asked)

        s = self.store
        return io.StringIO(borough_pack(s.data.model, s.boroughs[0], needs=s.data.needs,
                                        walk_m=s.walk_m))

    # -- the measure list -------------------------------------------------------------------
    def measure_groups(self) -> dict[str, dict[str, str]]:
        """The measure list for the current level: borough-only indicators in their own group,
        offered at the borough level only."""
        measures = self.store.measures()
        only = set(self.store.data.borough_only)
        groups = {
            "Composite index": {v: k for k, v in measures.items()
                                if k == INDEX_MEASURE or is_earlier(k)},
            "Domains": {v: k for k, v in measures.items() if k.startswith(DOMAIN_PREFIX)},
            "Indicators": {v: k for k, v in measures.items()
                           if k != INDEX_MEASURE and not k.startswith(DOMAIN_PREFIX)
                           and not is_earlier(k) and k not in only},
            "Borough-only indicators": {v: k for k, v in measures.items() if k in only},
        }
        return {name: g for name, g in groups.items() if g}

    def _on_level(self, _ev) -> None:
        groups = self.measure_groups()
        if self.w_measure.groups != groups:
            self.w_measure.groups = groups

    # -- weights ----------------------------------------------------------------------------
    def _on_measure(self, *_events) -> None:
        """The domain weights and the way domains are combined change the composite index
        only, the normalisation the index and its domain scores: the controls that would do
        nothing to the measure on the map are disabled, and a note says why."""
        s = self.store
        index = s.measure == INDEX_MEASURE
        for w in self.w_weights:
            w.disabled = not index
        self.w_agg.disabled = not index
        self.w_norm.disabled = not is_score(s.measure)
        self.weights_note.visible = not index
        if not index:
            self.weights_note.object = html(
                "weights_note.html", index=s.measure_label(INDEX_MEASURE),
                measure=s.measure_label())

    def _on_weight_widget(self, _ev) -> None:
        self.store.weights = [float(w.value) for w in self.w_weights]

    def _on_weights(self, ev) -> None:
        """The sliders follow the state (after a reset or a URL changed the weights)."""
        for widget, value in zip(self.w_weights, ev.new, strict=True):
            if widget.value != value:
                widget.value = value

    def _render_weights(self, *_events) -> None:
        s = self.store
        weights = [(name, weight_text(w)) for name, w in zip(
            s.data.domains.values(), s.normalised_weights(), strict=True)]
        state = "published index (default)" if s.is_default_method() else "custom"
        self.weights_text.object = html("weights.html", state=state, weights=weights)

    # -- search -----------------------------------------------------------------------------
    def _on_search(self, ev) -> None:
        results = self.store.search(ev.new)
        self._results = {label: (lvl, code) for label, lvl, code in results}
        self.w_results.value = None
        if not results:
            self.w_results.visible = self.results_title.visible = False
            self.search_note.object = html("note.html", text="No match.") if ev.new.strip() \
                else ""
            return
        self.w_results.options = list(self._results)
        self.w_results.visible = self.results_title.visible = True
        self.search_note.object = html("note.html", text=f"{len(results)} match(es).")
        if len(results) == 1:
            self.w_results.value = results[0][0]

    def _on_result(self, ev) -> None:
        target = self._results.get(ev.new)
        if not target:
            return

        def go() -> None:
            self.map.fly(self.store.go_to(*target))

        with_document_lock(go)

    def show_share_note(self) -> None:
        self.share.object = html("share.html")
