"""The accessible alternative to the map: a table of the areas it shows, with the same values,
classes and ranks, that sorts, filters, selects an area, and downloads as CSV with its
sources."""

from __future__ import annotations

import io
import re

import panel as pn
import param
from bokeh.models import HTMLTemplateFormatter

from mapping.app.data import LEVELS
from mapping.app.panes import escaped, html, html_pane
from mapping.app.store import AppState
from mapping.app.views.map import MapPanel, with_document_lock
from mapping.outputs.formatting import cell_text, cell_texts

PAGE_SIZE = 20
MIN_COLUMN_WIDTH = 96  # px
#: column titles wrap rather than widen their column; no word is split
TABLE_CSS = """
.tabulator .tabulator-header .tabulator-col .tabulator-col-content .tabulator-col-title {
  white-space: normal !important; text-overflow: clip !important; overflow-wrap: break-word; }
.tabulator .tabulator-header .tabulator-col { height: auto !important; }
.tabulator .tabulator-header .tabulator-headers { display: flex; align-items: stretch; }
.tabulator .tabulator-row .tabulator-cell { white-space: normal; overflow-wrap: break-word; }
"""
TITLES = {"code": "Code", "name": "Name", "ward": "Ward", "borough": "Borough",
          "population": "Residents", "class": "Map class", "class_number": "Class (1 = lowest)",
          "rank": "Rank (1 = most at risk)"}


def table_value(value: float, suppressed: bool) -> str:
    """The text of a value cell of the table view: the number, or why there is none."""
    return cell_text(value, suppressed)


class TableView(pn.viewable.Viewer):
    """The table tab of one session."""

    store = param.ClassSelector(class_=AppState, constant=True)
    map = param.ClassSelector(class_=MapPanel, constant=True)
    #: called with the kind of use to count when the table is downloaded
    on_download = param.Callable(default=None)

    def __init__(self, **params):
        super().__init__(**params)
        s = self.store
        self.caption = html_pane(sizing_mode="stretch_width")
        self.download = pn.widgets.FileDownload(
            callback=self._csv, filename="london-digital-exclusion.csv",
            label="Download this table (CSV with sources)", color="primary",
            embed=False, sizing_mode="stretch_width")
        # the columns share the width of the page (titles wrap): no column is cut off. The
        # value cell shows the word "suppressed" (or "no data"), never blank or NaN: its
        # text column is made by the store, the formatter (one model, made once) shows it
        self._table = pn.widgets.Tabulator(
            pagination="remote", page_size=PAGE_SIZE, show_index=False, disabled=True,
            header_filters=True, sizing_mode="stretch_width", selectable=1,
            layout="fit_columns", stylesheets=[TABLE_CSS],
            # no column narrower than a word: on a phone the table scrolls sideways instead
            configuration={"columnDefaults": {"minWidth": MIN_COLUMN_WIDTH}},
            formatters={"value": HTMLTemplateFormatter(template="<%- value_text %>")},
            hidden_columns=["value_text", "value_suppressed"])
        self._table.on_click(self._on_click)
        #: the rows are made when the table is first drawn or read, not for every session
        self._stale = True
        self._drawn = False
        s.param.watch(self._update, [*s.VIEW, "boroughs"])
        s.param.watch(lambda _: self._drawn and self.show_selected(), "selected")

    @property
    def table(self) -> pn.widgets.Tabulator:
        """The table widget, with the rows of the current choices."""
        if self._stale:
            self.update()
        return self._table

    def __panel__(self):
        self._drawn = True
        return pn.Column(self.caption, self.download, self.table, sizing_mode="stretch_width",
                         name="Table")

    def _update(self, *_events) -> None:
        if self._drawn:
            self.update()
        else:
            self._stale = True

    def update(self) -> None:
        s = self.store
        self._stale = False
        view = s.view()
        t = s.table(view)
        # Tabulator sets column titles as HTML: the indicator label is escaped
        unit = f" ({view.unit})" if view.unit and view.unit != "score" else ""
        self._table.titles = {**TITLES, "value": escaped(view.label[:60] + unit)}
        t = t.assign(value_text=cell_texts(t["value"], t["value_suppressed"]))
        self._table.value = t
        self.caption.object = html("table_caption.html", n=f"{len(t):,}",
                                   level=LEVELS[s.level], label=view.label)
        self.download.filename = re.sub(r"[^a-z0-9_.-]+", "-", (
            f"london-digital-exclusion-{s.measure}-{s.level}.csv").lower())
        self.show_selected()

    def show_selected(self, resend: bool = False) -> None:
        """The selected area's row is highlighted, and its page is the one shown. The page is
        set before the selection (Panel maps a selection to rows of the page shown). With
        ``resend`` both are sent again even if unchanged: a table drawn for the first time
        starts on its first page, without the selection (:meth:`reveal`)."""
        t = self.table.value
        code = self.store.selected
        hit = [] if t is None or not code else [int(i) for i in
                                                 (t.index[t["code"] == code])]
        if hit:
            page = hit[0] // PAGE_SIZE + 1
            if self.table.page != page:
                self.table.page = page
            elif resend:
                self.table.param.trigger("page")
        if list(self.table.selection) != hit:
            self.table.selection = hit
        elif resend and hit:
            self.table.param.trigger("selection")

    def reveal(self) -> None:
        """The tab is shown: its selected row on its page, highlighted (after the table is
        drawn, under the document lock)."""
        with_document_lock(lambda: self.show_selected(resend=True))

    def _csv(self):
        if self.on_download is not None:
            self.on_download()
        return io.StringIO(self.store.csv())

    def _on_click(self, event) -> None:
        try:
            code = self.table.value.iloc[event.row]["code"]
        except (IndexError, KeyError, AttributeError, TypeError):
            return

        def select() -> None:
            self.store.selected = str(code)
            self.map.fly_to_area(self.store.level, self.store.selected)

        with_document_lock(select)
