"""Usage monitoring without personal data (DR-0006): aggregate daily counts in SQLite.

What is stored: ``(day, kind, key, count)`` — page loads, and which measures, levels and
boroughs were viewed. Nothing else: no IP address, no user agent, no session id, no search
text, no timestamps finer than a day, and the app sets no cookie of its own. Counts are
written with one short transaction each (safe across threads and server processes).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

from mapping.config import output_dir

KINDS = ("page_load", "measure", "level", "borough", "download", "reweight")
_SCHEMA = """CREATE TABLE IF NOT EXISTS usage_counts (
    day TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (day, kind, key))"""


def usage_path() -> Path | None:
    """``MAPPING_USAGE_DB`` (``off`` disables counting), else ``<output dir>/usage.sqlite``."""
    raw = os.environ.get("MAPPING_USAGE_DB")
    if raw is not None and raw.strip().lower() in ("", "off", "none", "0"):
        return None
    return Path(raw).resolve() if raw else output_dir() / "usage.sqlite"


class UsageCounter:
    """Adds to aggregate counts; ``key`` must come from a fixed set the app controls (a measure
    code, a level name, a borough code), never from free text typed by a user."""

    def __init__(self, path: Path | None, allowed_keys: set[str] | None = None):
        self.path = path
        self.allowed = allowed_keys

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=5)
        con.execute(_SCHEMA)
        return con

    def add(self, kind: str, key: str = "", day: dt.date | None = None) -> None:
        if self.path is None or kind not in KINDS:
            return
        if self.allowed is not None and key and key not in self.allowed:
            return
        day = day or dt.date.today()
        try:
            con = self._connect()
            try:
                with con:
                    con.execute(
                        "INSERT INTO usage_counts VALUES (?, ?, ?, 1) ON CONFLICT(day, kind, key)"
                        " DO UPDATE SET count = count + 1", (day.isoformat(), kind, key))
            finally:
                con.close()
        except sqlite3.Error:
            # monitoring must never break the map
            return

    def totals(self) -> list[tuple[str, str, int]]:
        """``(kind, key, total count)`` over all days, largest first."""
        if self.path is None or not self.path.exists():
            return []
        try:
            con = self._connect()
            try:
                rows = con.execute("SELECT kind, key, SUM(count) FROM usage_counts GROUP BY kind,"
                                   " key ORDER BY kind, SUM(count) DESC, key").fetchall()
            finally:
                con.close()
        except sqlite3.Error:
            return []
        return [(str(k), str(key), int(n)) for k, key, n in rows]

    def days(self) -> tuple[str, str] | None:
        if self.path is None or not self.path.exists():
            return None
        try:
            con = self._connect()
            try:
                row = con.execute("SELECT MIN(day), MAX(day) FROM usage_counts").fetchone()
            finally:
                con.close()
        except sqlite3.Error:
            return None
        return (row[0], row[1]) if row and row[0] else None
