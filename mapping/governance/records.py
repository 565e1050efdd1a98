"""Reading governance records: Markdown files that open with a YAML front matter block.

A record is::

    ---
    id: DR-0001
    title: ...
    ---
    ## Context
    ...

The front matter is parsed with a YAML loader that keeps dates as text (``2026-11-21`` stays the
string ``"2026-11-21"``), so that the JSON Schemas in ``mapping/governance/schemas/`` can check
them and the check can report a date that is not a real day. Where a record lives decides which
schema it must follow (see :data:`KINDS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mapping.errors import Problem

GOVERNANCE_DIR = "governance"

#: Fixed file names of the registers, and the schema each follows.
REGISTERS: dict[str, str] = {
    "data-sources.md": "data_sources",
    "conflicts-of-interest.md": "conflicts_of_interest",
    "risks.md": "risks",
    "monitoring-and-sustainability.md": "monitoring",
}

#: Record kinds, in the order the report shows them.
KINDS = ("ethics_review", "decision", *REGISTERS.values())

DECISION_FILE_RE = re.compile(r"^(?P<number>[0-9]{4})-[a-z0-9]+(?:-[a-z0-9]+)*\.md$")


class _TextDateLoader(yaml.SafeLoader):
    """SafeLoader that leaves ISO dates as strings instead of ``datetime.date``."""


_TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Record:
    """One governance record.

    Attributes
    ----------
    path
        Path relative to the repository root, with forward slashes (used in problems).
    kind
        One of :data:`KINDS`; ``"readme"`` for ``governance/*.md`` and ``"feedback"`` for a
        board's feedback kept verbatim in ``ethics-review/feedback/`` (neither has front matter).
    meta
        The parsed front matter (empty for a readme).
    body
        The Markdown after the front matter.
    body_line
        1-based line number in the file where ``body`` starts.
    """

    path: str
    kind: str
    meta: dict[str, Any]
    body: str
    body_line: int

    @property
    def record_id(self) -> str:
        """The record's id, its register name, or its path."""
        return str(self.meta.get("id") or self.meta.get("register") or self.path)

    @property
    def title(self) -> str:
        """The record's title, or its path when it has none."""
        return str(self.meta.get("title") or self.path)


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Split a Markdown text into its front matter and body.

    Parameters
    ----------
    text
        The whole file.

    Returns
    -------
    tuple
        ``(front_matter or None, body, body_line)`` where ``body_line`` is the 1-based line on
        which the body starts.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r\n") == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    return None, text, 1


def kind_of(rel_path: str) -> str | None:
    """The record kind for a path under ``governance/``, or ``None`` if it is not a record.

    Parameters
    ----------
    rel_path
        Path relative to the repository root, e.g. ``governance/decisions/0001-x.md``.
    """
    parts = rel_path.split("/")
    if len(parts) < 2 or parts[0] != GOVERNANCE_DIR or not rel_path.endswith(".md"):
        return None
    if len(parts) == 2:
        return "readme"
    if len(parts) == 3 and parts[1] == "decisions":
        return "decision"
    if len(parts) == 3 and parts[1] == "ethics-review":
        return "ethics_review"
    if len(parts) == 4 and parts[1] == "ethics-review" and parts[2] == "feedback":
        return "feedback"
    if len(parts) == 3 and parts[1] == "registers":
        return REGISTERS.get(parts[2], "unknown_register")
    return "other"


def load_record(root: Path, path: Path) -> tuple[Record | None, list[Problem]]:
    """Read one Markdown file under ``governance/``.

    Parameters
    ----------
    root
        Repository root.
    path
        The file.

    Returns
    -------
    tuple
        The record (``None`` if it could not be read) and the problems found while reading.
    """
    rel = path.relative_to(root).as_posix()
    kind = kind_of(rel) or "other"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(rel, f"not UTF-8 text ({exc.reason})")]
    front, body, body_line = split_front_matter(text)
    if kind in ("readme", "feedback", "other"):
        meta: dict[str, Any] = {}
        if front is not None:
            body, body_line = text, 1
        return Record(rel, kind, meta, body, body_line), []
    if front is None:
        return None, [Problem(rel, "no front matter: the file must start with a '---' line, "
                                   "the YAML fields, and a closing '---' line", row=1)]
    try:
        meta = yaml.load(front, Loader=_TextDateLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 2 if mark is not None else None
        return None, [Problem(rel, f"front matter is not valid YAML: {exc}", row=row)]
    if not isinstance(meta, dict):
        return None, [Problem(rel, "front matter must be a mapping of field: value", row=2)]
    return Record(rel, kind, meta, body, body_line), []


def load_records(root: str | Path) -> tuple[list[Record], list[Problem]]:
    """Read every Markdown file under ``<root>/governance`` in a stable (sorted) order.

    Parameters
    ----------
    root
        Repository root.

    Returns
    -------
    tuple
        The records that could be read, and the problems met reading them.
    """
    root = Path(root)
    gov = root / GOVERNANCE_DIR
    if not gov.is_dir():
        return [], [Problem(GOVERNANCE_DIR, "the governance folder is missing")]
    records: list[Record] = []
    problems: list[Problem] = []
    for path in sorted(gov.rglob("*.md")):
        record, found = load_record(root, path)
        problems.extend(found)
        if record is not None:
            records.append(record)
    return records, problems


STATUS_WORDS = {
    "presented-feedback-awaited": "presented to the board; written feedback awaited",
}


def review_status_text(root: str | Path | None = None) -> str:
    """One plain-text line on the ethics review status and where the records are, for the
    footer of exports and pages: e.g. "Ethics review ER-0001 (Brent Data Ethics Board):
    presented to the board; written feedback awaited. Governance records: governance/ in the
    project repository (N decision records)."
    """
    root = Path(root) if root is not None else Path(__file__).resolve().parents[2]
    if not (root / "governance").is_dir():
        return "Governance records: not found beside this installation."
    records, _ = load_records(root)
    reviews = [r for r in records if r.kind == "ethics_review"]
    decisions = [r for r in records if r.kind == "decision"]
    parts = []
    for review in reviews:
        status = str(review.meta.get("status", "unknown"))
        parts.append(f"Ethics review {review.record_id} ({review.meta.get('board', 'board')}): "
                     f"{STATUS_WORDS.get(status, status.replace('-', ' '))}.")
    parts.append(f"Governance records: governance/ in the project repository "
                 f"({len(decisions)} decision records).")
    return " ".join(parts)
