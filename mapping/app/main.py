"""Entry point for ``panel serve``: builds one page per session from pre-built outputs.

The build is loaded once per process (``mapping.app.data.app_data`` is cached); each session
gets its own state and Bokeh models.
"""

from mapping.app.page import TITLE, make_page

make_page().servable(title=TITLE)
