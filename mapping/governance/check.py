"""``check``: every rule the governance records must satisfy, as one list of problems.

The rules (each problem names the file and the field at fault):

1. **Layout** - ``governance/README.md``, at least one ethics review record, at least one decision
   record, and the four registers exist; no Markdown file sits where no record kind is expected.
2. **Schema** - each record's front matter follows the JSON Schema of its kind
   (``mapping/governance/schemas/``); dates are real calendar dates.
3. **Decision records** - the file name is ``NNNN-slug.md`` with ``NNNN`` the id's number; ids
   are unique; the body has the sections Context, Options considered, Decision, Consequences in
   that order; supersession links are two-way (``supersedes``/``superseded_by``) and a superseded
   record says by what; everything listed in ``governs`` exists, and names the decision back (a
   governed file mentions the id, an ``indicator:``/``source:`` entry has it as its decision),
   so that a decision can be reached from what it governs. Work not built yet is written
   ``issue:N``: the report lists it as planned.
4. **Links resolve** - relative Markdown links in every record point at files that exist; every
   ``DR-NNNN`` mentioned anywhere is a decision record; every ``evidence`` entry resolves (a path,
   a decision id, or a test reference ``tests/file.py::test_name`` that names a real test
   function).
5. **Registry** - every indicator's sources exist and are *approved* in the data sources register;
   every indicator and source names a decision record that exists and is accepted; the register
   and ``mapping/registry/sources.toml`` list the same sources with the same ``personal_data``.
6. **Dates and conditions** - no ``next_review`` date has passed; no open condition is past its
   ``due`` date; a condition marked *met* names at least one test (``tests/...::test_name``) and
   every test it names exists.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from mapping.errors import Problem
from mapping.governance.evidence import (  # noqa: F401 (resolve_test_ref: part of this API)
    DR_RE,
    TEST_REF_RE,
    URL_SCHEME_RE,
    _get,
    _indicator_sources,
    _inside,
    _registry_indicators,
    _registry_sources,
    _rel,
    _resolve_evidence,
    _walk_evidence,
    resolve_test_ref,
)
from mapping.governance.records import (
    DECISION_FILE_RE,
    GOVERNANCE_DIR,
    REGISTERS,
    Record,
    load_records,
)
from mapping.governance.schema import parse_date, validate

DECISION_SECTIONS = ("Context", "Options considered", "Decision", "Consequences")
ISSUE_RE = re.compile(r"issue:[0-9]+")
REACHABLE_SUFFIXES = (".py", ".md", ".toml", ".json", ".yaml", ".yml", ".txt", ".cfg")
SOURCES_FILE = "mapping/registry/sources.toml"
INDICATORS_FILE = "mapping/registry/indicators.toml"


# --------------------------------------------------------------------------------------------
# The check.


def check(repo_root: str | Path, registry: Any, *, today: dt.date | None = None) -> list[Problem]:
    """Validate the governance records against their schemas, each other and the registry.

    Parameters
    ----------
    repo_root
        The repository root (holding ``governance/`` and ``tests/``).
    registry
        The indicator registry: an object (or mapping) with ``sources`` (id -> source) and
        ``indicators`` (a sequence), as returned by :func:`mapping.registry.load_registry`.
        Sources need ``decision`` and ``personal_data``; indicators need ``code``, ``source``
        and ``decision`` (and may list the sources their derivation reads in ``sources``).
    today
        The date against which review dates are judged (default: today).

    Returns
    -------
    list of Problem
        Empty when everything holds. Each problem names the file (relative to ``repo_root``),
        the field (``column``) and, where useful, the offending value.
    """
    root = Path(repo_root)
    today = today or dt.date.today()
    records, problems = load_records(root)
    if not (root / GOVERNANCE_DIR).is_dir():
        return problems

    problems.extend(_check_layout(root, records))
    for record in records:
        if record.kind in ("readme", "feedback", "other", "unknown_register"):
            continue
        problems.extend(validate(record.kind, record.meta, record.path))

    decisions = _decisions_by_id(records, problems)
    problems.extend(_check_decisions(root, records, decisions, registry))
    for record in records:
        problems.extend(_check_dates_and_conditions(root, record, today))
        problems.extend(_check_links(root, record, set(decisions)))
    problems.extend(_check_registry(root, records, decisions, registry))
    return _dedupe(problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """Keep the first problem reported for each (file, row, field, value)."""
    seen: set[tuple] = set()
    out = []
    for p in problems:
        key = (p.file, p.row, p.column, repr(p.value))
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _check_layout(root: Path, records: list[Record]) -> list[Problem]:
    problems = []
    kinds = {r.kind for r in records}
    if not (root / GOVERNANCE_DIR / "README.md").is_file():
        problems.append(Problem(f"{GOVERNANCE_DIR}/README.md", "missing: the README says how the "
                                "records work"))
    if "ethics_review" not in kinds:
        problems.append(Problem(f"{GOVERNANCE_DIR}/ethics-review", "no ethics review record"))
    if "decision" not in kinds:
        problems.append(Problem(f"{GOVERNANCE_DIR}/decisions", "no decision record"))
    for name in REGISTERS:
        rel = f"{GOVERNANCE_DIR}/registers/{name}"
        if not (root / rel).is_file():
            problems.append(Problem(rel, "required register is missing"))
    for record in records:
        if record.kind == "unknown_register":
            problems.append(Problem(record.path, "not a known register; registers are "
                                    + ", ".join(REGISTERS)))
        elif record.kind == "other":
            problems.append(Problem(record.path, "not a record location: put records in "
                                    "decisions/, ethics-review/ or registers/"))
    return problems


def _decisions_by_id(records: list[Record], problems: list[Problem]) -> dict[str, Record]:
    out: dict[str, Record] = {}
    for record in records:
        if record.kind != "decision":
            continue
        rid = record.meta.get("id")
        if not isinstance(rid, str) or not DR_RE.fullmatch(rid):
            continue  # the schema check reports it
        if rid in out:
            problems.append(Problem(record.path, f"duplicate decision id (also {out[rid].path})",
                                    column="id", value=rid))
            continue
        out[rid] = record
    return out


def _check_decisions(root: Path, records: list[Record], decisions: dict[str, Record],
                     registry: Any) -> list[Problem]:
    problems = []
    sources = _registry_sources(registry)
    indicators = {str(_get(i, "code")): i for i in _registry_indicators(registry)}
    for record in records:
        if record.kind != "decision":
            continue
        meta, file = record.meta, record.path
        rid = meta.get("id")
        name = file.rsplit("/", 1)[-1]
        match = DECISION_FILE_RE.match(name)
        if not match:
            problems.append(Problem(file, "decision files are named NNNN-slug.md "
                                    "(lower-case words joined by hyphens)"))
        elif isinstance(rid, str) and rid != f"DR-{match['number']}":
            problems.append(Problem(file, f"id does not match the file number "
                                    f"(expected DR-{match['number']})", column="id", value=rid))
        problems.extend(_check_sections(record))
        if not isinstance(rid, str) or rid not in decisions or decisions[rid] is not record:
            continue
        status = meta.get("status")
        superseded_by = meta.get("superseded_by")
        if superseded_by is not None and status != "superseded":
            problems.append(Problem(file, "has superseded_by but status is not 'superseded'",
                                    column="status", value=status))
        if isinstance(superseded_by, str):
            newer = decisions.get(superseded_by)
            if newer is None:
                problems.append(Problem(file, "no such decision record", column="superseded_by",
                                        value=superseded_by))
            elif rid not in (newer.meta.get("supersedes") or []):
                problems.append(Problem(file, f"{superseded_by} does not list {rid} in its "
                                        "supersedes", column="superseded_by",
                                        value=superseded_by))
        for i, older_id in enumerate(meta.get("supersedes") or []):
            older = decisions.get(older_id)
            if older is None:
                problems.append(Problem(file, "no such decision record",
                                        column=f"supersedes[{i}]", value=older_id))
            elif older.meta.get("superseded_by") != rid:
                problems.append(Problem(older.path, f"superseded by {rid} (which says so) but "
                                        "its superseded_by does not say so",
                                        column="superseded_by",
                                        value=older.meta.get("superseded_by")))
        for i, target in enumerate(meta.get("governs") or []):
            if not isinstance(target, str):
                continue
            why = _governed_reaches_back(root, target, rid, sources, indicators)
            if why:
                problems.append(Problem(file, why, column=f"governs[{i}]", value=target))
    return problems


def _check_sections(record: Record) -> list[Problem]:
    found = []
    line_of: dict[str, int] = {}
    for token in MarkdownIt("commonmark").parse(record.body):
        if token.type == "heading_open" and token.tag == "h2":
            found.append(None)
        elif token.type == "inline" and found and found[-1] is None:
            found[-1] = token.content.strip()
            if token.map:
                line_of[found[-1]] = record.body_line + token.map[0]
    headings = [h for h in found if h]
    problems = []
    missing = [s for s in DECISION_SECTIONS if s not in headings]
    for section in missing:
        problems.append(Problem(record.path, f"missing section '## {section}'", column="body"))
    present = [h for h in headings if h in DECISION_SECTIONS]
    if not missing and present != list(DECISION_SECTIONS):
        problems.append(Problem(record.path, "sections must come in the order: "
                                + ", ".join(DECISION_SECTIONS), column="body"))
    return problems


def _governed_reaches_back(root: Path, target: str, rid: str, sources: dict[str, Any],
                           indicators: dict[str, Any]) -> str | None:
    """Why ``target`` does not exist or does not name ``rid`` back; ``None`` if all is well."""
    if target.startswith("issue:"):
        if not ISSUE_RE.fullmatch(target):
            return "planned work is written issue:N (the issue that will build it)"
        return None
    for kind, records in (("indicator", indicators), ("source", sources)):
        if target.startswith(f"{kind}:"):
            key = target.removeprefix(f"{kind}:")
            if key not in records:
                return f"no such {kind} in the registry"
            named = _get(records[key], "decision")
            if named != rid:
                return f"{kind} {key} names {named}, not {rid}, as its decision"
            return None
    path = _inside(root, target.rstrip("/"))
    if path is None:
        return "path leaves the repository"
    if not path.exists():
        return "governs a path that does not exist"
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix in REACHABLE_SUFFIXES
    )
    for file in files:
        try:
            if rid in file.read_text(encoding="utf-8"):
                return None
        except UnicodeDecodeError:
            continue
    return (f"{target} does not mention {rid}, so the decision cannot be reached from what it "
            "governs (name it in a docstring, comment or README there)")


def _check_links(root: Path, record: Record, decision_ids: set[str]) -> list[Problem]:
    problems = []
    base = (root / record.path).parent
    for token in MarkdownIt("commonmark").parse(record.body):
        if token.type != "inline" or not token.children:
            continue
        row = record.body_line + token.map[0] if token.map else None
        for child in token.children:
            if child.type not in ("link_open", "image"):
                continue
            href = str(child.attrs.get("href") or child.attrs.get("src") or "")
            if not href or href.startswith("#") or URL_SCHEME_RE.match(href):
                continue
            target = href.split("#", 1)[0].split("?", 1)[0]
            resolved = (base / target).resolve()
            try:
                resolved.relative_to(root.resolve())
            except ValueError:
                problems.append(Problem(record.path, "link leaves the repository", row=row,
                                        column="body", value=href))
                continue
            if not resolved.exists():
                problems.append(Problem(record.path, "broken link: no such file", row=row,
                                        column="body", value=href))
    text_lines = record.body.splitlines()
    for i, line in enumerate(text_lines):
        for mention in DR_RE.findall(line):
            if mention not in decision_ids:
                problems.append(Problem(record.path, "mentions a decision record that does not "
                                        "exist", row=record.body_line + i, column="body",
                                        value=mention))
    for where, ref in _walk_evidence(record.meta):
        why = _resolve_evidence(root, ref, decision_ids)
        if why:
            problems.append(Problem(record.path, f"evidence does not resolve: {why}",
                                    column=where, value=ref))
    feedback = record.meta.get("written_feedback")
    if isinstance(feedback, dict) and isinstance(feedback.get("record"), str):
        why = _resolve_evidence(root, feedback["record"], decision_ids)
        if why:
            problems.append(Problem(record.path, f"feedback record does not resolve: {why}",
                                    column="written_feedback.record", value=feedback["record"]))
    return problems


def _check_dates_and_conditions(root: Path, record: Record, today: dt.date) -> list[Problem]:
    problems = []
    review = parse_date(record.meta.get("next_review"))
    if review is not None and review < today:
        problems.append(Problem(record.path, f"review date has passed (today is "
                                f"{today.isoformat()}): review the record and set a new date",
                                column="next_review", value=record.meta["next_review"]))
    conditions = record.meta.get("conditions")
    if not isinstance(conditions, list):
        return problems
    for i, cond in enumerate(conditions):
        if not isinstance(cond, dict):
            continue
        where = f"conditions[{i}]"
        status = cond.get("status")
        due = parse_date(cond.get("due"))
        if status == "open" and due is not None and due < today:
            problems.append(Problem(record.path, "open condition is past its due date",
                                    column=f"{where}.due", value=cond.get("due")))
        if status == "met":
            refs = [r for r in cond.get("evidence") or [] if isinstance(r, str)]
            tests = [r for r in refs if "::" in r]
            if not tests:
                problems.append(Problem(record.path, "a condition marked met must name a test "
                                        "(tests/file.py::test_name) that shows it is met",
                                        column=f"{where}.evidence"))
            for j, ref in enumerate(refs):
                if "::" in ref:
                    why = resolve_test_ref(root, ref)
                    if why:
                        problems.append(Problem(record.path, f"condition marked met names a "
                                                f"test that does not exist: {why}",
                                                column=f"{where}.evidence[{j}]", value=ref))
    return problems


def _accepted(decisions: dict[str, Record], rid: Any) -> str | None:
    """Why ``rid`` is not an accepted decision record, or ``None``."""
    if rid not in decisions:
        return "no such decision record"
    status = decisions[rid].meta.get("status")
    if status == "superseded":
        return f"decision {rid} is superseded by {decisions[rid].meta.get('superseded_by')}"
    if status != "accepted":
        return f"decision {rid} is {status}, not accepted"
    return None


def _check_registry(root: Path, records: list[Record], decisions: dict[str, Record],
                    registry: Any) -> list[Problem]:
    problems = []
    sources = _registry_sources(registry)
    register = next((r for r in records if r.kind == "data_sources"), None)
    entries: dict[str, tuple[int, dict]] = {}
    if register is not None:
        for i, entry in enumerate(register.meta.get("sources") or []):
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                continue
            sid = entry["id"]
            if sid in entries:
                problems.append(Problem(register.path, "source listed twice",
                                        column=f"sources[{i}].id", value=sid))
                continue
            entries[sid] = (i, entry)
            if sid not in sources:
                problems.append(Problem(register.path, f"not in {SOURCES_FILE}",
                                        column=f"sources[{i}].id", value=sid))
            else:
                reg_pd = _get(sources[sid], "personal_data")
                if entry.get("personal_data") != reg_pd:
                    problems.append(Problem(
                        register.path, f"personal_data differs from {SOURCES_FILE} "
                        f"({reg_pd!r}): re-assess and re-approve the source",
                        column=f"sources[{i}].personal_data", value=entry.get("personal_data")))
            why = _accepted(decisions, entry.get("approved_in"))
            if entry.get("status") == "approved" and why:
                problems.append(Problem(register.path, why, column=f"sources[{i}].approved_in",
                                        value=entry.get("approved_in")))
    for sid, source in sources.items():
        file = _rel(root, _get(source, "file"), SOURCES_FILE)
        why = _accepted(decisions, _get(source, "decision"))
        if why:
            problems.append(Problem(file, f"source {sid!r}: {why}", column="decision",
                                    value=_get(source, "decision")))
        if register is not None and sid not in entries:
            problems.append(Problem(register.path, f"source {sid!r} in {SOURCES_FILE} has no "
                                    "entry in the register", column="sources", value=sid))
    for indicator in _registry_indicators(registry):
        code = _get(indicator, "code")
        file = _rel(root, _get(indicator, "file"), INDICATORS_FILE)
        why = _accepted(decisions, _get(indicator, "decision"))
        if why:
            problems.append(Problem(file, f"indicator {code!r}: {why}", column="decision",
                                    value=_get(indicator, "decision")))
        for sid in _indicator_sources(indicator):
            if sid not in sources:
                problems.append(Problem(file, f"indicator {code!r}: source is not in "
                                        f"{SOURCES_FILE}", column="source", value=sid))
            elif sid not in entries:
                problems.append(Problem(file, f"indicator {code!r}: source has no entry in the "
                                        "data sources register", column="source", value=sid))
            elif entries[sid][1].get("status") != "approved":
                problems.append(Problem(file, f"indicator {code!r}: source is not approved in "
                                        f"the data sources register (status "
                                        f"{entries[sid][1].get('status')!r})", column="source",
                                        value=sid))
    return problems
