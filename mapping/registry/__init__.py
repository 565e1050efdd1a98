"""The indicator registry: sources and indicators declared as data (TOML), as typed records.

``load_registry()`` reads ``sources.toml`` and ``indicators.toml`` from this folder, plus any extra
indicator files an analyst passes, and validates them: unknown or missing keys, unknown sources,
duplicate codes (with the line of each), bad enumerations. Every problem is reported in one error.
"""

from __future__ import annotations

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


_SOURCE_KEYS = {f for f in Source.__dataclass_fields__}
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
        raise DataValidationError.single(path, f"not valid TOML: {exc}") from None


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
    for i, entry in enumerate(data.get("source", [])):
        sid = entry.get("id", f"<source #{i + 1}>")
        line = _line_of(text, "id", str(sid), seen.get(sid, 0))
        unknown = set(entry) - _SOURCE_KEYS
        missing = _SOURCE_KEYS - set(entry) - ({"sha256"} if user_file else set())
        for key in sorted(unknown):
            problems.append(Problem(str(path), f"source {sid!r}: unknown key", line, key))
        for key in sorted(missing):
            problems.append(Problem(str(path), f"source {sid!r}: missing key", line, key))
        if sid in sources or sid in known:
            first = _line_of(text, "id", sid, 0) if sid in sources else "the built-in registry"
            where = f"line {first}" if sid in sources else first
            problems.append(Problem(str(path), f"duplicate source id (first at {where})", line,
                                    "id", sid))
        if "reader" in entry and _READERS_KNOWN and entry["reader"] not in _READERS_KNOWN:
            problems.append(Problem(str(path), "unknown reader (choose from "
                                    + ", ".join(sorted(_READERS_KNOWN)) + ")", line, "reader",
                                    entry["reader"]))
        seen[sid] = seen.get(sid, 0) + 1
        if not unknown and not missing and sid not in sources and sid not in known:
            values = {k: str(v) for k, v in entry.items()}
            values.setdefault("sha256", "")
            if user_file and not Path(values["path"]).is_absolute():
                values["path"] = str((Path(path).resolve().parent / values["path"]).resolve())
            sources[sid] = Source(**values)
    allowed_top = {"source", "indicator"} if user_file else {"source"}
    if set(data) - allowed_top:
        problems.append(Problem(str(path), "unknown top-level table(s): "
                                + ", ".join(sorted(set(data) - allowed_top))))
    if problems:
        raise DataValidationError(problems)
    return sources


def _term(entry: dict, key: str, path: str, code: str, line, problems) -> Term | None:
    raw = entry.get(key)
    if not isinstance(raw, dict):
        problems.append(Problem(path, f"indicator {code!r}: [{key}] must be a table", line, key))
        return None
    allowed = {"source", "column", "sheet"} if key == "value" else {"source", "columns", "sheet"}
    extra = set(raw) - allowed
    if extra:
        problems.append(
            Problem(
                path,
                f"indicator {code!r}: unknown key(s) in [{key}]",
                line,
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
        for i, entry in enumerate(data.get("indicator", [])):
            code = str(entry.get("code", f"<indicator #{i + 1}>"))
            line = _line_of(text, "code", code, counts.get(code, 0))
            counts[code] = counts.get(code, 0) + 1
            p = str(path)
            n_before = len(problems)
            for key in sorted(set(entry) - _IND_REQUIRED - _IND_OPTIONAL):
                problems.append(Problem(p, f"indicator {code!r}: unknown key", line, key))
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
                        Problem(p, f"must be one of {', '.join(allowed)}", line, key, entry[key])
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
            if has_value:
                num, den = _term(entry, "value", p, code, line, problems), None
            else:
                num = _term(entry, "numerator", p, code, line, problems)
                den = _term(entry, "denominator", p, code, line, problems)
            for term in (num, den):
                if term is not None and term.source not in sources:
                    problems.append(
                        Problem(
                            p,
                            f"indicator {code!r}: unknown source (not in sources.toml)",
                            line,
                            "source",
                            term.source,
                        )
                    )
            if entry.get("source") not in sources and "source" in entry:
                problems.append(
                    Problem(
                        p, f"indicator {code!r}: unknown source", line, "source", entry["source"]
                    )
                )
            rng = entry.get("range")
            if rng is not None and (
                not isinstance(rng, list) or len(rng) != 2 or not rng[0] < rng[1]
            ):
                problems.append(
                    Problem(p, "range must be [min, max] with min < max", line, "range", rng)
                )
            scale = entry.get("scale", 1)
            if not isinstance(scale, (int, float)) or scale <= 0:
                problems.append(Problem(p, "scale must be a positive number", line, "scale", scale))
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
    if problems:
        raise DataValidationError(problems)
    return Registry(sources=sources, indicators=indicators)


def _known_readers() -> set[str]:
    try:
        from mapping.sources.readers import READERS  # noqa: PLC0415 (avoid an import cycle)
    except ImportError:  # pragma: no cover - only while the package is half-installed
        return set()
    return set(READERS)


_READERS_KNOWN: set[str] = set()
