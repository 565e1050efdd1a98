"""What the map shows, in text: its legend, the heading above it, the summary in words, and
the notes that explain a changed measure or an invalid method."""

from __future__ import annotations

import panel as pn
import param

from mapping.app.data import LEVELS, is_score
from mapping.app.panes import html, html_pane
from mapping.app.store import MAIN_NEED, AppState
from mapping.maps.classify import SCHEME_LABELS


def scope_text(store: AppState) -> str:
    """Where the classes and the index are computed: "across London" or "within …"."""
    if store.rescale and store.boroughs:
        return "within " + ", ".join(store.borough_names(sorted(store.boroughs)))
    return "across London"


class Legend(pn.viewable.Viewer):
    """The legend (a text label per class), the heading and the summary of the map."""

    store = param.ClassSelector(class_=AppState, constant=True)

    def __init__(self, **params):
        super().__init__(**params)
        self.legend = html_pane(sizing_mode="stretch_width")
        self.heading = html_pane(sizing_mode="stretch_width", margin=(0, 10))
        self.summary = html_pane(sizing_mode="stretch_width", margin=(0, 10))
        self.message = pn.pane.Alert("", alert_type="warning", visible=False,
                                     sizing_mode="stretch_width")
        s = self.store
        s.param.watch(self._on_view, list(s.VIEW))
        s.param.watch(self._on_boroughs, "boroughs")
        s.param.watch(self._on_message, ["note", "message"])
        self.render()
        self._on_message()

    def __panel__(self):
        return self.legend

    def _on_view(self, *_events) -> None:
        self.render()

    def _on_boroughs(self, _ev) -> None:
        if self.store.rescale:
            self.render()
        else:
            self.render_legend()

    def render(self) -> None:
        self.render_legend()
        self.summary.object = html("summary.html", text=self.store.summary(self.store.view()))

    def render_legend(self) -> None:
        s = self.store
        view = s.view()
        scope = scope_text(s)
        meta = s.data.indicators.get(s.measure)
        direction = ("higher_is_better" if meta is not None
                     and meta.get("direction") == "higher_is_better"
                     else "score" if is_score(s.measure) else "")
        self.legend.object = html(
            "legend.html", label=view.label,
            unit="" if view.unit == "score" or s.measure == MAIN_NEED else view.unit,
            level=LEVELS[view.level], scope=scope,
            scheme=("one colour per need type" if s.measure == MAIN_NEED
                    else SCHEME_LABELS[s.scheme].lower()),
            rows=view.legend(), direction=direction,
            custom=is_score(s.measure) and not s.is_default_method(),
            inexact=is_score(s.measure) and not s.index_exact())
        self.heading.object = html("heading.html", label=view.label, level=LEVELS[view.level],
                                   scope=scope, version=s.data.build_version,
                                   built=s.data.built_at)

    def _on_message(self, *_events) -> None:
        s = self.store
        self.message.object = " ".join(m for m in (s.note, s.message) if m)
        self.message.visible = bool(s.note or s.message)
