"""JSON Schemas of the governance records, and validation that names the failing field.

The schemas are plain JSON Schema (draft 2020-12) files in ``mapping/governance/schemas/`` so that
anyone can read them, or validate the records with another tool.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from mapping.errors import Problem

SCHEMA_PACKAGE = "mapping.governance"
SCHEMA_FOLDER = "schemas"
DATE_FIELDS_SUFFIXES = ("date", "_on", "next_review", "due")


def _schema_files() -> dict[str, dict[str, Any]]:
    folder = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FOLDER)
    out = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".schema.json"):
            out[entry.name] = json.loads(entry.read_text(encoding="utf-8"))
    return out


@lru_cache(maxsize=1)
def _validators() -> dict[str, Draft202012Validator]:
    files = _schema_files()
    registry: Registry = Registry().with_resources(
        (name, Resource.from_contents(schema)) for name, schema in files.items()
    )
    registry = registry.with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in files.values()
    )
    validators = {}
    for name, schema in files.items():
        kind = name.removesuffix(".schema.json")
        Draft202012Validator.check_schema(schema)
        validators[kind] = Draft202012Validator(schema, registry=registry)
    return validators


def schema_kinds() -> tuple[str, ...]:
    """The record kinds that have a schema (``common`` holds shared definitions only)."""
    return tuple(sorted(k for k in _validators() if k != "common"))


def field_path(parts: Any) -> str:
    """Render a JSON path such as ``['questions', 2, 'evidence']`` as ``questions[2].evidence``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _leaf_errors(error: ValidationError) -> list[ValidationError]:
    """The most specific errors under a ``oneOf``/``anyOf`` failure (one per branch is noisy)."""
    if error.context:
        best = [e for e in error.context if e.validator != "type"] or list(error.context)
        out: list[ValidationError] = []
        for sub in best:
            out.extend(_leaf_errors(sub))
        return out
    return [error]


def validate(kind: str, meta: dict[str, Any], file: str) -> list[Problem]:
    """Validate a record's front matter against the schema of its kind.

    Parameters
    ----------
    kind
        A record kind with a schema, e.g. ``"decision"``.
    meta
        The parsed front matter.
    file
        Repository-relative path, used in the problems.

    Returns
    -------
    list of Problem
        One problem per failing field; ``column`` holds the field path (``questions[0].asked``).
    """
    validator = _validators()[kind]
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    errors = sorted(validator.iter_errors(meta), key=lambda e: (list(map(str, e.path)), e.message))
    for error in errors:
        for leaf in ([error] if error.validator == "required" else _leaf_errors(error)):
            if leaf.validator == "required":
                present = leaf.instance if isinstance(leaf.instance, dict) else {}
                for name in leaf.validator_value:
                    if name not in present:
                        where = field_path([*leaf.absolute_path, name])
                        key = (where, "missing")
                        if key not in seen:
                            seen.add(key)
                            problems.append(Problem(file, "required field is missing",
                                                    column=where))
                continue
            where = field_path(leaf.absolute_path) or "(front matter)"
            key = (where, leaf.message)
            if key in seen:
                continue
            seen.add(key)
            value = leaf.instance if not isinstance(leaf.instance, (dict, list)) else None
            problems.append(Problem(file, _message(leaf), column=where, value=value))
    problems.extend(_check_dates(meta, file))
    return problems


def _message(error: ValidationError) -> str:
    if error.validator == "enum":
        return "must be one of: " + ", ".join(map(str, error.validator_value))
    if error.validator == "const":
        return f"must be {error.validator_value!r}"
    if error.validator == "pattern":
        if "[0-9]{4}-[0-9]{2}-[0-9]{2}" in str(error.validator_value):
            return "must be a date written YYYY-MM-DD"
        return f"does not match the pattern {error.validator_value}"
    if error.validator == "additionalProperties":
        return "unknown field(s): " + error.message.split("(")[-1].rstrip(")")
    if error.validator == "minItems":
        return f"needs at least {error.validator_value} item(s)"
    if error.validator == "maxItems":
        return f"must have at most {error.validator_value} item(s)"
    return error.message


def _check_dates(meta: Any, file: str, path: tuple = ()) -> list[Problem]:
    """Strings that look like dates must be real calendar dates (``2026-02-30`` is not)."""
    problems = []
    if isinstance(meta, dict):
        for key, value in meta.items():
            problems.extend(_check_dates(value, file, (*path, key)))
    elif isinstance(meta, list):
        for i, value in enumerate(meta):
            problems.extend(_check_dates(value, file, (*path, i)))
    elif isinstance(meta, str) and path and isinstance(path[-1], str):
        if path[-1].endswith(DATE_FIELDS_SUFFIXES) and _looks_like_date(meta):
            try:
                dt.date.fromisoformat(meta)
            except ValueError:
                problems.append(Problem(file, "not a real calendar date",
                                        column=field_path(path), value=meta))
    return problems


def _looks_like_date(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-"


def parse_date(value: Any) -> dt.date | None:
    """Parse ``YYYY-MM-DD`` text, returning ``None`` for anything else."""
    if isinstance(value, str) and _looks_like_date(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None
