"""Readers for every file in the open data package, and hash-keyed caching of slow ones."""

from mapping.sources.readers import READERS
from mapping.sources.tabular import Table

__all__ = ["READERS", "Table"]
