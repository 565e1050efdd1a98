"""Escaping for strings that come from data and end up in a web page.

folium's ``Tooltip``, ``Popup``, ``GeoJsonTooltip`` and ``GeoJsonPopup`` paste text into the page
unescaped (and ``Tooltip``/``Popup`` into a JavaScript template literal, where ``${…}`` runs), so
the exports never hand them data. Every string from data goes through one of these functions:

* :func:`html_text` for element content and :func:`html_attr` for quoted attribute values;
* :func:`js_template_literal` for the body of a JavaScript template literal (```…```);
* :func:`json_for_script` for data embedded in a ``<script>`` element (``</script>``, ``<!--``
  and the JavaScript line separators cannot end or confuse the element).
"""

from __future__ import annotations

import html
import json
import math

__all__ = ["html_attr", "html_text", "js_template_literal", "json_for_script"]


def html_text(value: object) -> str:
    """``value`` as text safe inside an HTML element (``& < > " '`` become entities)."""
    return html.escape("" if value is None else str(value), quote=True)


def html_attr(value: object) -> str:
    """``value`` safe inside a double- or single-quoted HTML attribute value."""
    return html_text(value)


_JS_TEMPLATE = {
    "\\": "\\\\",
    "`": "\\`",
    "$": "\\$",
    "<": "\\x3C",  # no "</script" or "<!--" can appear in the page source
    ">": "\\x3E",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
    "\r": "\\r",
    "\0": "\\0",
}


def js_template_literal(value: object) -> str:
    """The body of a JavaScript template literal that evaluates to ``value`` exactly.

    Backslash, backtick and ``$`` are escaped (so ``${…}`` is text, not code), and ``<``/``>``
    are written as ``\\x3C``/``\\x3E`` so the literal can sit inside a ``<script>`` element.
    The *result* is still the raw text: if it is later used as HTML, escape it with
    :func:`html_text` first.
    """
    text = "" if value is None else str(value)
    return "".join(_JS_TEMPLATE.get(ch, ch) for ch in text)


_SCRIPT_JSON = str.maketrans({
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
})


def _finite(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def json_for_script(obj: object) -> str:
    """Compact, deterministic JSON that is safe as the content of a ``<script>`` element.

    ``< > & '`` and U+2028/U+2029 are written as ``\\uXXXX`` escapes (still valid JSON, the same
    value after parsing), so no data can close the element or open a comment. NaN and infinities
    become ``null`` (JSON has neither).
    """
    text = json.dumps(_finite(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_JSON)
