"""The app's views: one :class:`panel.viewable.Viewer` per part of the page, each drawing what
the session's store (:class:`mapping.app.store.AppState`) derives, and updating itself when the
store's parameters it depends on change.

* :mod:`~mapping.app.views.map` — the Bokeh map;
* :mod:`~mapping.app.views.legend` — the legend, the heading above the map, its summary in
  words and the notes about the method;
* :mod:`~mapping.app.views.controls` — the controls on the left (widgets made from the
  state's parameters);
* :mod:`~mapping.app.views.profile` — the selected area's profile;
* :mod:`~mapping.app.views.compare` — two areas side by side and the table of boroughs;
* :mod:`~mapping.app.views.table` — the accessible table of what the map shows, and its CSV;
* :mod:`~mapping.app.views.about` — methodology, sources, governance (with usage) and
  accessibility pages.
"""
