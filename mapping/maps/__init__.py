"""Map builders: results → Bokeh figures (interactive app) and folium maps (exports)."""
