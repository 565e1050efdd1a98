"""Entry point for ``panel serve``: builds one page per session from pre-built outputs."""

from mapping.app.page import make_page

make_page().servable(title="London digital exclusion map")
