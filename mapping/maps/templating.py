"""Jinja2 templates with autoescaping, for every page and fragment the project writes as HTML.

Everything given to a template is escaped unless it is marked safe in Python (``Markup``), and
only the project's own fragments are (a template rendered here, a governance report that
escapes every record). No HTML is assembled from strings in Python.

Templates are written one element per line for people and compacted when loaded: the line
breaks and the indentation of the template *source* are dropped (never anything in the data),
so the pages are as small as hand-joined strings. Keep running text on one line.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup


class _CompactLoader(FileSystemLoader):
    """A file loader that joins a template's lines, trimmed (see the module docstring)."""

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        return "".join(line.strip() for line in source.split("\n")), filename, uptodate


def _escaped(value) -> Markup:
    """Every value a template prints, escaped as :func:`html.escape` does (``quote=True``: the
    entities of :mod:`mapping.maps.escape`); only the project's own ``Markup`` passes as is."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


@cache
def environment(folder: str) -> Environment:
    """The template environment of a ``templates`` folder: every printed value escaped
    (``finalize``, with autoescaping on behind it), and an undefined name is an error, never an
    empty string."""
    return Environment(loader=_CompactLoader(folder), autoescape=True,
                       undefined=StrictUndefined, finalize=_escaped)


def render(folder: str | Path, name: str, **context) -> str:
    """Render template ``name`` of ``folder`` with ``context``."""
    return environment(str(folder)).get_template(name).render(**context)
