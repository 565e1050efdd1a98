"""Helpers for the analyst notebooks: plain functions over a build and the data package.

* :mod:`~mapping.analysis.audit` — what is in the data package and the build: sources,
  validation, coverage, vintages;
* :mod:`~mapping.analysis.variants` — variants of the index and what they publish;
* :mod:`~mapping.analysis.reading` — the index against observed behaviour, in words;
* :mod:`~mapping.analysis.profiles` — one borough's profile;
* :mod:`~mapping.analysis.plots` — static charts;
* :mod:`~mapping.analysis.workspace` — where notebooks read and write, scratch data folders.

They read a build through :mod:`mapping.outputs` and rank, roll up and format through the same
functions as the app and the exports. Nothing here imports Panel.
"""
