"""The indicator registry: sources and indicators declared as data (TOML), as typed records.

``load_registry()`` reads ``sources.toml`` and ``indicators.toml`` from this folder, plus any extra
indicator files an analyst passes, and validates them: unknown or missing keys, unknown sources,
duplicate codes (with the line of each), bad enumerations. Every problem is reported in one error.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mapping.errors import DataValidationError, Problem

HERE = Path(__file__).parent
SOURCES_FILE = HERE / "sources.toml"
INDICATORS_FILE = HERE / "indicators.toml"

DIRECTIONS = ("higher_is_worse", "higher_is_better")
ROLES = ("input", "validation")
GEOGRAPHIES = ("lsoa21", "lsoa11", "msoa21", "lad")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Source:
    """One file of the data package and everything needed to cite it."""

    id: str
    publisher: str
    title: str
    release_date: str
    url: str
    licence: str
    attribution: str
    path: str
    sha256: str
    reader: str
    geography: str
    personal_data: str
    refresh: str
    decision: str
    #: for a source declared in an analyst's own registry file: that file (resolved) and the
    #: line of its ``path`` key; empty for the package's own sources. Not TOML keys.
    origin: str = ""
    path_line: int | None = None


@dataclass(frozen=True)
class Term:
    """A source and the columns of it that are summed."""

    source: str
    columns: tuple[str, ...]
    sheet: str | None = None  # for workbook sources: which sheet


@dataclass(frozen=True)
class Indicator:
    """One indicator and how it is derived from its source(s).

    The derived value is ``sum(numerator.columns) / sum(denominator.columns) * scale`` when a
    denominator is given, else ``numerator.columns[0] * scale`` (a plain column).
    """

    code: str
    label: str
    domain: str
    unit: str
    direction: str
    geography: str
    vintage: str
    role: str
    source: str
    decision: str
    description: str
    numerator: Term
    denominator: Term | None = None
    scale: float = 1.0
    range: tuple[float, float] | None = None
    file: str = ""

    @property
    def higher_is_worse(self) -> bool:
        return self.direction == "higher_is_worse"

    @property
    def sources(self) -> tuple[str, ...]:
        ids = [self.numerator.source]
        if self.denominator is not None and self.denominator.source not in ids:
            ids.append(self.denominator.source)
        return tuple(ids)


#: units written without a suffix: a bare number ("score" is the index and its domains)
BARE_UNITS = ("", "score")


def unit_suffix(unit: str, percent: str = " %") -> str:
    """What follows a number of ``unit`` (an indicator's registered ``unit``) wherever a value
    is shown: ``percent`` for ``"%"``, nothing for a bare score, else a space and the unit's
    own words (``"-0.769 score (standardised, higher = slower broadband)"``), so that no raw
    value is shown without saying what it is."""
    unit = str(unit or "").strip()
    if unit == "%":
        return percent
    return "" if unit in BARE_UNITS else f" {unit}"


@dataclass(frozen=True)
class Registry:
    sources: dict[str, Source]
    indicators: tuple[Indicator, ...] = field(default_factory=tuple)

    def indicator(self, code: str) -> Indicator:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(f"no indicator {code!r} in the registry")

    def select(self, *, role: str | None = None, geography: str | None = None) -> list[Indicator]:
        """Indicators filtered by role and level (``"lsoa"`` small-area, ``"lad"`` borough)."""
        out = []
        for ind in self.indicators:
            if role is not None and ind.role != role:
                continue
            if geography == "lad" and ind.geography != "lad":
                continue
            if geography == "lsoa" and ind.geography == "lad":
                continue
            out.append(ind)
        return out

    def attributions(self, source_ids=None) -> list[str]:
        """Distinct attribution lines of the given sources (all sources when None), in order."""
        ids = list(self.sources) if source_ids is None else list(source_ids)
        seen: list[str] = []
        for sid in ids:
            text = self.sources[sid].attribution
            if text not in seen:
                seen.append(text)
        return seen


_SOURCE_KEYS = {f for f in Source.__dataclass_fields__} - {"origin", "path_line"}
_IND_REQUIRED = {
    "code",
    "label",
    "domain",
    "unit",
    "direction",
    "geography",
    "vintage",
    "role",
    "source",
    "decision",
    "description",
}
_IND_OPTIONAL = {"value", "numerator", "denominator", "scale", "range"}


def _line_of(text: str, key: str, value: str, occurrence: int) -> int | None:
    """1-based line of the n-th ``key = "value"`` in a TOML text (for error messages)."""
    pattern = re.compile(rf'^\s*{re.escape(key)}\s*=\s*"{re.escape(value)}"\s*$', re.M)
    matches = list(pattern.finditer(text))
    if occurrence < len(matches):
        return text.count("\n", 0, matches[occurrence].start()) + 1
    return None


class _KeyLines:
    """The line on which each key of every ``[[table]]`` entry of a TOML text is written, so
    that a problem with a key points at that key's line (for error messages only).

    ``line(i, key, section)`` is the line of ``key`` in the ``i``-th ``[[table]]`` entry (in
    its ``[table.section]`` sub-table when ``section`` is given; ``key=None`` gives the
    sub-table's header line), or ``None`` when it cannot be told (inline tables, dotted keys,
    or entries not written as ``[[table]]`` headers).
    """

    _HEADER = re.compile(r"^\s*\[\[\s*([^\[\]]+?)\s*\]\]\s*(#.*)?$")
    _TABLE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
    _KEY = re.compile(r"""^\s*(["']?)([A-Za-z0-9_-]+)\1\s*=""")

    def __init__(self, text: str, table: str, n_entries: int):
        self.blocks: list[dict[tuple[str, str | None], int]] = []
        current: dict | None = None
        section = ""
        in_string = False
        for n, line in enumerate(text.split("\n"), start=1):
            quotes = line.count('"""') + line.count("'''")
            if in_string:
                in_string = quotes % 2 == 0
                continue
            if quotes % 2:
                in_string = True
            if m := self._HEADER.match(line):
                current = {("", None): n} if m.group(1) == table else None
                if current is not None:
                    self.blocks.append(current)
                section = ""
            elif m := self._TABLE.match(line):
                name = m.group(1)
                if current is not None and name.startswith(f"{table}."):
                    section = name[len(table) + 1:]
                    current.setdefault((section, None), n)
                else:
                    current = None
            elif current is not None and (m := self._KEY.match(line)):
                current.setdefault((section, m.group(2)), n)
        if len(self.blocks) != n_entries:  # written some other way: no lines to give
            self.blocks = []

    def line(self, i: int, key: str | None, section: str = "") -> int | None:
        if i >= len(self.blocks):
            return None
        return self.blocks[i].get((section, key))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and not math.isnan(value)


def _read_toml(path: Path) -> tuple[dict, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataValidationError.single(path, "registry file not found") from None
    except UnicodeDecodeError as exc:
        raise DataValidationError.single(path, f"not UTF-8 text ({exc.reason})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        raise DataValidationError.single(path, f"not valid TOML: {exc}",
                                         row=int(m.group(1)) if m else None) from None


def load_sources(path: Path = SOURCES_FILE, *, known: dict[str, Source] | None = None,
                 user_file: bool = False) -> dict[str, Source]:
    """Read the ``[[source]]`` tables of a registry file.

    In an analyst's own file (``user_file``), ``path`` may be absolute or relative to that
    TOML file's folder, ``sha256`` may be empty (the build records the hash it reads), other
    top-level tables (``[[indicator]]``) are allowed, and ids must not clash with ``known``.
    """
    if not _READERS_KNOWN:
        _READERS_KNOWN.update(_known_readers())
    data, text = _read_toml(path)
    problems: list[Problem] = []
    sources: dict[str, Source] = {}
    seen: dict[str, int] = {}
    known = known or {}
    entries = data.get("source", [])
    keys = _KeyLines(text, "source", len(entries) if isinstance(entries, list) else 0)
    for i, entry in enumerate(entries):
        sid = entry.get("id", f"<source #{i + 1}>")
        line = _line_of(text, "id", str(sid), seen.get(sid, 0))

        def at(key: str, i=i, line=line, keys=keys) -> int | None:
            return keys.line(i, key) or line

        unknown = set(entry) - _SOURCE_KEYS
        missing = _SOURCE_KEYS - set(entry) - ({"sha256"} if user_file else set())
        for key in sorted(unknown):
            problems.append(Problem(str(path), f"source {sid!r}: unknown key", at(key), key))
        for key in sorted(missing):
            problems.append(Problem(str(path), f"source {sid!r}: missing key", line, key))
        if sid in sources or sid in known:
            first = _line_of(text, "id", sid, 0) if sid in sources else "the built-in registry"
            where = f"line {first}" if sid in sources else first
            problems.append(Problem(str(path), f"duplicate source id (first at {where})", line,
                                    "id", sid))
        if "reader" in entry and _READERS_KNOWN and entry["reader"] not in _READERS_KNOWN:
            problems.append(Problem(str(path), "unknown reader (choose from "
                                    + ", ".join(sorted(_READERS_KNOWN)) + ")", at("reader"),
                                    "reader", entry["reader"]))
        seen[sid] = seen.get(sid, 0) + 1
        if not unknown and not missing and sid not in sources and sid not in known:
            values = {k: str(v) for k, v in entry.items()}
            values.setdefault("sha256", "")
            extra: dict = {}
            if user_file:
                # relative to the registry file's folder; links are *not* resolved here, so
                # that the build can name the path as written and check where it leads
                # (:func:`mapping.pipeline.build.check_inputs` confines it)
                folder = Path(path).resolve().parent
                values["path"] = str(folder / Path(values["path"]).expanduser())
                extra = {"origin": str(Path(path).resolve()), "path_line": at("path")}
            sources[sid] = Source(**values, **extra)
    allowed_top = {"source", "indicator"} if user_file else {"source"}
    if set(data) - allowed_top:
        problems.append(Problem(str(path), "unknown top-level table(s): "
                                + ", ".join(sorted(set(data) - allowed_top))))
    if problems:
        raise DataValidationError(problems)
    return sources


def _term(entry: dict, key: str, path: str, code: str, at, problems) -> Term | None:
    """The ``[indicator.<key>]`` table as a :class:`Term`; ``at(name, section)`` is the line of
    a key (``name=None``: of the sub-table header)."""
    raw = entry.get(key)
    if not isinstance(raw, dict):
        problems.append(Problem(path, f"indicator {code!r}: [{key}] must be a table", at(key),
                                key))
        return None
    line = at(None, key)
    allowed = {"source", "column", "sheet"} if key == "value" else {"source", "columns", "sheet"}
    extra = set(raw) - allowed
    if extra:
        problems.append(
            Problem(
                path,
                f"indicator {code!r}: unknown key(s) in [{key}]",
                min((n for n in (at(k, key) for k in extra) if n), default=line),
                ", ".join(sorted(extra)),
            )
        )
    cols = [raw["column"]] if key == "value" and "column" in raw else raw.get("columns")
    if "source" not in raw or not cols or not all(isinstance(c, str) for c in cols):
        problems.append(
            Problem(
                path,
                f"indicator {code!r}: [{key}] needs source and "
                f"{'column' if key == 'value' else 'columns'}",
                line,
                key,
            )
        )
        return None
    sheet = raw.get("sheet")
    return Term(str(raw["source"]), tuple(cols), None if sheet is None else str(sheet))


def load_indicators(paths, sources: dict[str, Source]) -> tuple[Indicator, ...]:
    problems: list[Problem] = []
    indicators: list[Indicator] = []
    first_seen: dict[str, tuple[str, int | None]] = {}
    for i_file, path in enumerate(paths):
        path = Path(path)
        data, text = _read_toml(path)
        counts: dict[str, int] = {}
        allowed_top = {"indicator"} if i_file == 0 else {"indicator", "source"}
        if set(data) - allowed_top:
            problems.append(Problem(str(path), "unknown top-level table(s): "
                                    + ", ".join(sorted(set(data) - allowed_top))))
        entries = data.get("indicator", [])
        keys = _KeyLines(text, "indicator", len(entries) if isinstance(entries, list) else 0)
        for i, entry in enumerate(entries):
            code = str(entry.get("code", f"<indicator #{i + 1}>"))
            line = _line_of(text, "code", code, counts.get(code, 0))
            counts[code] = counts.get(code, 0) + 1

            def at(key: str | None, section: str = "", i=i, line=line,
                   keys=keys) -> int | None:
                """Line of ``key`` in this indicator's entry, else of the indicator."""
                return keys.line(i, key, section) or line

            p = str(path)
            n_before = len(problems)
            for key in sorted(set(entry) - _IND_REQUIRED - _IND_OPTIONAL):
                problems.append(Problem(p, f"indicator {code!r}: unknown key", at(key), key))
            for key in sorted(_IND_REQUIRED - set(entry)):
                problems.append(Problem(p, f"indicator {code!r}: missing key", line, key))
            if code in first_seen:
                f_file, f_line = first_seen[code]
                problems.append(
                    Problem(
                        p,
                        f"duplicate indicator code (first defined in {f_file} line {f_line})",
                        line,
                        "code",
                        code,
                    )
                )
            else:
                first_seen[code] = (p, line)
            if not CODE_RE.match(code):
                problems.append(
                    Problem(p, "code must be snake_case ([a-z][a-z0-9_]*)", line, "code", code)
                )
            for key, allowed in (
                ("direction", DIRECTIONS),
                ("role", ROLES),
                ("geography", GEOGRAPHIES),
            ):
                if key in entry and entry[key] not in allowed:
                    problems.append(
                        Problem(p, f"must be one of {', '.join(allowed)}", at(key), key,
                                entry[key])
                    )
            has_value = "value" in entry
            has_ratio = "numerator" in entry or "denominator" in entry
            if has_value == has_ratio:
                problems.append(
                    Problem(
                        p,
                        f"indicator {code!r}: give exactly one derivation: "
                        "[indicator.value] or [indicator.numerator] + "
                        "[indicator.denominator]",
                        line,
                    )
                )
                continue
            terms = ("value",) if has_value else ("numerator", "denominator")
            found = {name: _term(entry, name, p, code, at, problems) for name in terms}
            num, den = found[terms[0]], found.get("denominator")
            for name, term in found.items():
                if term is not None and term.source not in sources:
                    problems.append(
                        Problem(
                            p,
                            f"indicator {code!r}: unknown source (not in sources.toml)",
                            at("source", name),
                            "source",
                            term.source,
                        )
                    )
            if entry.get("source") not in sources and "source" in entry:
                problems.append(
                    Problem(
                        p, f"indicator {code!r}: unknown source", at("source"), "source",
                        entry["source"]
                    )
                )
            rng = entry.get("range")
            if rng is not None and (
                not isinstance(rng, list) or len(rng) != 2 or not all(map(_is_number, rng))
                or not rng[0] < rng[1]
            ):
                problems.append(
                    Problem(p, "range must be [min, max] with two numbers, min < max",
                            at("range"), "range", rng)
                )
            scale = entry.get("scale", 1)
            if not _is_number(scale) or not 0 < scale < math.inf:
                problems.append(Problem(p, "scale must be a positive number", at("scale"),
                                        "scale", scale))
            if len(problems) > n_before or num is None:
                continue
            indicators.append(
                Indicator(
                    **{k: str(entry[k]) for k in _IND_REQUIRED},
                    numerator=num,
                    denominator=den,
                    scale=float(scale),
                    range=tuple(float(x) for x in rng) if rng else None,
                    file=p,
                )
            )
    if problems:
        raise DataValidationError(problems)
    return tuple(indicators)


def load_registry(extra_indicator_files=(), sources_file: Path = SOURCES_FILE,
                  indicators_file: Path = INDICATORS_FILE) -> Registry:
    """Load and validate the registry, plus any analyst-supplied registry files.

    An extra file holds ``[[indicator]]`` tables and, for a new user-supplied dataset, the
    ``[[source]]`` tables describing it (a ``path`` relative to that file, a reader such as
    ``csv_by_code``). Every problem in every file is reported together.
    """
    sources = load_sources(Path(sources_file))
    extra = [Path(p) for p in extra_indicator_files]
    problems: list[Problem] = []
    for path in extra:
        try:
            sources.update(load_sources(path, known=sources, user_file=True))
        except DataValidationError as exc:
            problems.extend(exc.problems)
    try:
        indicators = load_indicators([Path(indicators_file), *extra], sources)
    except DataValidationError as exc:
        problems.extend(exc.problems)
    if problems:  # a file that does not parse is read twice (sources, indicators): say it once
        raise DataValidationError(list({str(p): p for p in problems}.values()))
    return Registry(sources=sources, indicators=indicators)


def _known_readers() -> set[str]:
    try:
        from mapping.sources.readers import READERS  # noqa: PLC0415 (avoid an import cycle)
    except ImportError:  # pragma: no cover - only while the package is half-installed
        return set()
    return set(READERS)


_READERS_KNOWN: set[str] = set()
