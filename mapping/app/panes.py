"""The app's HTML and Markdown panes, and its templates.

Every HTML fragment of the app is rendered from an autoescaping Jinja2 template in
``mapping/app/templates/`` (:func:`html`), so a string from data reaches the page escaped, and
then sanitised once more by the pane (``sanitize_html=True`` with the allow-list hook
:func:`sanitise`). Markdown panes render with raw HTML disabled.
"""

from __future__ import annotations

from pathlib import Path

import nh3
import panel as pn
from markupsafe import escape

from mapping.maps.templating import render

TEMPLATES = Path(__file__).with_name("templates")
APP_CSS = (TEMPLATES / "app.css").read_text(encoding="utf-8")
HEADER_CSS = (TEMPLATES / "header.css").read_text(encoding="utf-8")
#: the page's layout at every width: a phone gets the map first, the controls behind a button
LAYOUT_CSS = (TEMPLATES / "layout.css").read_text(encoding="utf-8")

_SAFE_TAGS = {"a", "b", "strong", "em", "i", "p", "br", "span", "div", "ul", "ol", "li", "h1",
              "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "caption", "small",
              "colgroup", "col",
              "abbr", "dl", "dt", "dd"}
_SAFE_ATTRS = {"*": {"class", "title", "aria-hidden", "aria-label", "role", "scope", "id"},
               "tr": {"data-code"}, "div": {"tabindex"},
               "span": {"style", "class", "aria-hidden", "title"}, "a": {"href"}}
_STYLE_PROPS = {"background", "background-color", "width", "height", "display"}


def html(template: str, **context) -> str:
    """A fragment of the app rendered from ``templates/<template>`` (autoescaped)."""
    return render(TEMPLATES, template, **context)


def escaped(text: object) -> str:
    """``text`` escaped for a widget that shows its label or title as HTML (Tabulator column
    titles, Choices.js options)."""
    return str(escape(str(text)))


def sanitise(text: str) -> str:
    """Allow-list sanitiser for the app's own HTML (data strings inside are already escaped)."""
    return nh3.clean(text, tags=_SAFE_TAGS, attributes=_SAFE_ATTRS,
                     filter_style_properties=_STYLE_PROPS, url_schemes={"http", "https"})


def html_pane(text: str = "", **kw) -> pn.pane.HTML:
    return pn.pane.HTML(text, sanitize_html=True, sanitize_hook=sanitise,
                        stylesheets=[APP_CSS], **kw)


#: Markdown tables wrap their cells rather than run off a narrow screen
MARKDOWN_CSS = """
table { max-width: 100%; }
th, td { overflow-wrap: anywhere; }
"""


def markdown_pane(text: str = "", **kw) -> pn.pane.Markdown:
    kw["stylesheets"] = [*kw.get("stylesheets", []), MARKDOWN_CSS]
    return pn.pane.Markdown(text, renderer_options={"html": False}, **kw)
