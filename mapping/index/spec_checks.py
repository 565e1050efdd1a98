"""Checking an index specification: its structure against ``spec.schema.json``, then the rules
that relate fields to each other, collecting every problem into one :class:`SpecError`.

Structure (which keys exist, their types, allowed values and ranges) is JSON Schema, like the
governance records' schemas; the allowed method names come from the registry of
:mod:`mapping.index.methods`. What a schema cannot say is checked here in code: weights that
sum to one, duplicate or clashing codes, frames and imputation that need a group column, a
minimum below a maximum, finite numbers, and methods that cannot be combined (a geometric mean
of values that may be negative).

Every problem reads ``field: message``, the field written as in the file with array entries
named by their code: ``domains[1] (skills).indicators[0] (no_qualifications_pct).weight``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend

from mapping.index import methods
from mapping.index.spec import (
    IndexSpec,
    SpecError,
)

SCHEMA_PATH = Path(__file__).with_name("spec.schema.json")
WEIGHT_TOLERANCE = 1e-6

_ENUMS = {"normalisations": lambda: list(methods.NORMALISATIONS),
          "aggregations": lambda: list(methods.AGGREGATIONS)}


def _fill_enums(node: Any) -> Any:
    """The schema with every ``x-enum`` filled in from the method registries."""
    if isinstance(node, dict):
        out = {k: _fill_enums(v) for k, v in node.items()}
        if "x-enum" in node:
            out["enum"] = _ENUMS[node["x-enum"]]()
        return out
    if isinstance(node, list):
        return [_fill_enums(v) for v in node]
    return node


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The specification schema, method names filled in from :mod:`mapping.index.methods`."""
    return _fill_enums(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _is_integer(checker, value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_Validator = extend(Draft202012Validator,
                    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer",
                                                                          _is_integer))




# ---------------------------------------------------------------------------------------------
# Field names
# ---------------------------------------------------------------------------------------------


def field_name(data: Any, path: list, unlabelled_last: bool = False) -> str:
    """``domains[0] (d1).indicators[2] (c).weight`` for the path ``['domains', 0, 'indicators',
    2, 'weight']``: an array entry with a ``code`` is named by it, except the entry the problem
    is about itself (its ``code``, a key it should not have, or the entry as a whole)."""
    out = ""
    node = data
    for i, part in enumerate(path):
        node = node[part] if isinstance(node, Mapping | list) and _has(node, part) else None
        if isinstance(part, int):
            out += f"[{part}]"
            rest = path[i + 1:]
            own = not rest or (len(rest) == 1 and (rest[0] == "code" or unlabelled_last))
            code = node.get("code") if isinstance(node, Mapping) else None
            if not own and isinstance(code, str) and code.strip():
                out += f" ({code})"
        else:
            out += f".{part}" if out else str(part)
    return out


def _has(node, part) -> bool:
    if isinstance(node, list):
        return isinstance(part, int) and 0 <= part < len(node)
    return part in node


def _resolve(node: dict) -> dict:
    """A schema node with a local ``$ref`` followed (its own keys win)."""
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = schema()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**_resolve(target), **{k: v for k, v in node.items() if k != "$ref"}}


def _messages(node: dict) -> dict[str, str]:
    return _resolve(node).get("x-messages", {})


# ---------------------------------------------------------------------------------------------
# Structure (JSON Schema)
# ---------------------------------------------------------------------------------------------


def _describe(error: ValidationError, data: Any) -> list[tuple[list, str]]:
    """(path, message) for one schema error, in the wording of the file's fields."""
    path = list(error.absolute_path)
    node = _resolve(error.schema)
    kw = error.validator
    value = error.instance
    if kw == "additionalProperties":
        allowed = sorted(node.get("properties", {}))
        return [([*path, key], f"unknown key (allowed: {allowed})")
                for key in value if key not in node.get("properties", {})]
    if kw == "required":
        out = []
        for name in error.validator_value:
            if name not in value:
                child = node.get("properties", {}).get(name, {})
                text = _messages(child).get("required", "is required")
                enum = _resolve(child).get("enum")
                out.append(([*path, name], text.format(enum=enum)))
        return out
    if node.get("type") == "number" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)  # as written back: 2 is the number 2.0
    parent = _at(data, path[:-1]) if path else None
    messages = node.get("x-messages", {})
    if kw in messages:
        text = messages[kw].format(value=value, parent=parent, enum=node.get("enum"),
                                   type=type(value).__name__)
    elif kw == "enum":
        text = f"must be one of {list(error.validator_value)}, got {value!r}"
    elif kw == "type":
        kinds = {"object": "a table", "number": "a number", "integer": "an integer",
                 "string": "a string", "array": "a list", "boolean": "true or false"}
        want = kinds.get(error.validator_value, error.validator_value)
        if error.validator_value == "object":
            text = f"must be {want}, got {type(value).__name__}"
        else:
            text = f"must be {want}, got {value!r}"
    elif kw == "minimum":
        text = f"must be >= {error.validator_value:g}, got {value!r}"
    elif kw == "exclusiveMinimum":
        text = f"must be > {error.validator_value:g}, got {value!r}"
    elif kw == "maximum":
        text = f"must be <= {error.validator_value:g}, got {value!r}"
    elif kw == "uniqueItems":
        text = "has duplicates"
    else:
        text = error.message
    if node.get("x-report-at") == "parent":
        path = path[:-1]
    return [(path, text)]


def _at(data: Any, path: list) -> Any:
    for part in path:
        data = data[part]
    return data


@lru_cache(maxsize=1)
def _parts() -> dict[str, dict]:
    """The schema cut into the parts :func:`structure_problems` checks one by one, every local
    ``$ref`` followed: the top level (its keys only), each table, the domain list, a domain
    (without its indicators) and an indicator."""
    def inline(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(_resolve(node))
            return {k: inline(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    _Validator.check_schema(schema())
    doc = inline(schema())
    props = doc["properties"]
    domain = props["domains"]["items"]
    parts = {f"table:{k}": v for k, v in props.items() if k != "domains"}
    parts["top"] = {**doc, "properties": {k: {"x-messages": v.get("x-messages", {})}
                                          for k, v in props.items()}}
    parts["domains"] = {k: v for k, v in props["domains"].items() if k != "items"}
    inds = domain["properties"]["indicators"]
    parts["domain"] = {**domain, "properties": {**domain["properties"], "indicators": {
        k: v for k, v in inds.items() if k != "items"}}}
    parts["indicator"] = inds["items"]
    return parts


@lru_cache(maxsize=64)
def _part_validator(part: str) -> Draft202012Validator:
    return _Validator(_parts()[part])


def _check_part(part: str, value: Any) -> tuple[tuple[tuple, str, bool], ...]:
    """(path within ``value``, message, is an unknown key) for every problem of ``value``
    against a part of the schema; a part already seen with the same content is not checked
    again (the app checks one specification per choice of weights)."""
    try:
        text = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):  # not plain data (a TOML date): check it as it is
        return _problems_of(part, value)
    return _cached_part(part, text)


@lru_cache(maxsize=1024)
def _cached_part(part: str, text: str) -> tuple[tuple[tuple, str, bool], ...]:
    return _problems_of(part, json.loads(text))


def _problems_of(part: str, value: Any) -> tuple[tuple[tuple, str, bool], ...]:
    out = []
    for error in _part_validator(part).iter_errors(value):
        unknown = error.validator == "additionalProperties"
        out.extend((tuple(path), text, unknown) for path, text in _describe(error, value))
    return tuple(out)


def structure_problems(data: Mapping[str, Any]) -> list[str]:
    """Every structural problem of ``data`` (the parsed file), as ``field: message``."""
    found: list[tuple[list, str, bool]] = []

    def check(prefix: list, part: str, value: Any) -> None:
        found.extend(([*prefix, *path], text, unknown)
                     for path, text, unknown in _check_part(part, value))

    check([], "top", data)
    if isinstance(data, Mapping):
        for key, value in data.items():
            if f"table:{key}" in _parts():
                check([key], f"table:{key}", value)
        domains = data.get("domains")
        if domains is not None:
            check(["domains"], "domains", domains)
        for di, dom in enumerate(domains if isinstance(domains, list) else []):
            inds = dom.get("indicators") if isinstance(dom, Mapping) else None
            shell = ({**dom, "indicators": [None] * len(inds)} if isinstance(inds, list)
                     else dom)
            check(["domains", di], "domain", shell)
            for ii, ind in enumerate(inds if isinstance(inds, list) else []):
                check(["domains", di, "indicators", ii], "indicator", ind)
    problems: list[str] = []
    for path, text, unknown in sorted(found, key=lambda f: [str(p) for p in f[0]]):
        line = f"{field_name(data, path, unlabelled_last=unknown)}: {text}"
        if line not in problems:
            problems.append(line)
    problems.extend(_non_finite(data, data, []))
    return problems


def _non_finite(root: Any, node: Any, path: list) -> list[str]:
    """TOML allows ``inf`` and ``nan``; no number of a specification may be either."""
    if isinstance(node, float) and not math.isfinite(node):
        return [f"{field_name(root, path)}: must be finite, got {node!r}"]
    out = []
    if isinstance(node, Mapping):
        for k, v in node.items():
            out.extend(_non_finite(root, v, [*path, k]))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_non_finite(root, v, [*path, i]))
    return out


# ---------------------------------------------------------------------------------------------
# Rules between fields (code)
# ---------------------------------------------------------------------------------------------


def _table(data: Mapping, key: str) -> Mapping:
    value = data.get(key, {})
    return value if isinstance(value, Mapping) else {}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _entries(value: Any) -> list[Mapping]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _weight_sum(where: str, weights: list[float | None], normalise: bool) -> list[str]:
    if any(w is None for w in weights):
        return []
    total = sum(weights)
    if total <= 0:
        return [f"{where}: weights sum to {total:g}; at least one weight must be positive"]
    if not normalise and abs(total - 1.0) > WEIGHT_TOLERANCE:
        return [f"{where}: weights sum to {total:.6g}, not 1 "
                "(set index.normalise_weights = true to rescale them)"]
    return []


def rule_problems(data: Mapping[str, Any],
                  known_indicators: Collection[str] | None = None) -> list[str]:
    """The checks that relate one field to another (see the module docstring)."""
    out: list[str] = []
    idx = _table(data, "index")
    group = idx.get("group_column")
    unit_cols = {idx.get(k) for k in ("unit_id", "unit_name", "group_column",
                                      "population_column")} - {None}
    normalise = idx.get("normalise_weights", False) is True
    fr = _table(data, "frame")
    kind, codes = fr.get("kind", "table"), fr.get("codes", [])
    if kind == "boroughs" and not codes:
        out.append("frame.codes: frame.kind = 'boroughs' needs a non-empty list of group codes")
    if kind != "boroughs" and codes:
        out.append(f"frame.codes: codes are only used with kind = 'boroughs', not {kind!r}")
    if kind in ("london", "boroughs") and group is None:
        out.append(f"index.group_column: frame.kind = {kind!r} needs index.group_column")
    if _table(data, "imputation").get("within") == "group" and group is None:
        out.append("imputation.within: 'group' needs index.group_column")
    for name in ("indicator_level", "domain_level"):
        rng = _table(data, name).get("range")
        if isinstance(rng, list) and len(rng) == 2:
            lo, hi = _num(rng[0]), _num(rng[1])
            if lo is not None and hi is not None and lo >= hi:
                out.append(f"{name}.range: low must be below high, got {rng!r}")
    seen_ind: dict[str, str] = {}
    seen_dom: set[str] = set()
    domain_weights = []
    raw_domains = data.get("domains") if isinstance(data.get("domains"), list) else []
    for di, dom in enumerate(raw_domains):
        if not isinstance(dom, Mapping):
            continue
        dcode = dom.get("code") if isinstance(dom.get("code"), str) else f"<domain {di}>"
        where = f"domains[{di}] ({dcode})"
        if dcode in seen_dom:
            out.append(f"{where}.code: duplicate domain code")
        seen_dom.add(dcode)
        if dcode in seen_ind or dcode == idx.get("unit_id"):
            out.append(f"{where}.code: clashes with an indicator code or the unit id column")
        domain_weights.append(_num(dom.get("weight")))
        inds = _entries(dom.get("indicators"))
        for ii, ind in enumerate(inds):
            icode = ind.get("code") if isinstance(ind.get("code"), str) else f"<indicator {ii}>"
            iwhere = f"{where}.indicators[{ii}] ({icode})"
            if icode in seen_ind:
                out.append(f"{iwhere}.code: duplicate indicator (also in domain "
                           f"{seen_ind[icode]!r})")
            seen_ind[icode] = dcode
            if known_indicators is not None and icode not in known_indicators:
                out.append(f"{iwhere}.code: unknown indicator code")
            if icode in unit_cols:
                out.append(f"{iwhere}.code: is an id/name/group/population column, not an "
                           "indicator")
        if inds:
            out += _weight_sum(f"{where}.indicators", [_num(i.get("weight")) for i in inds],
                               normalise)
    if domain_weights:
        out += _weight_sum("domains", domain_weights, normalise)
    out += _method_problems(data)
    return out


def _known(name: Any, registry: Mapping) -> bool:
    return isinstance(name, str) and name in registry


def _may_be_negative(ind_norm: str, ind_agg: str, dom_norm: str) -> tuple[bool, bool]:
    """Whether (indicator inputs, domain inputs) of the aggregations can be negative."""
    ind_neg = methods.may_be_negative(ind_norm)
    if dom_norm == "none":
        dom_neg = ind_neg and ind_agg == "arithmetic"
    else:
        dom_neg = methods.may_be_negative(dom_norm)
    return ind_neg, dom_neg


def _method_problems(data: Mapping[str, Any]) -> list[str]:
    """Aggregations that need non-negative inputs fed by normalisations that may give
    negative values, in the index itself and in the Monte Carlo alternatives."""
    il, dl, ro = (_table(data, k) for k in ("indicator_level", "domain_level", "robustness"))
    ind_norm, ind_agg = il.get("normalisation", "minmax"), il.get("aggregation", "arithmetic")
    dom_norm, dom_agg = dl.get("normalisation", "none"), dl.get("aggregation", "arithmetic")
    norms = ro.get("normalisations", [ind_norm])
    aggs = ro.get("aggregations", [dom_agg])
    names = (ind_norm, dom_norm, ind_agg, dom_agg)
    registries = (methods.NORMALISATIONS,) * 2 + (methods.AGGREGATIONS,) * 2
    if not all(_known(n, r) for n, r in zip(names, registries, strict=True)):
        return []  # already a structural problem
    norms = [n for n in norms if _known(n, methods.NORMALISATIONS)] if isinstance(norms,
                                                                                  list) else []
    aggs = [a for a in aggs if _known(a, methods.AGGREGATIONS)] if isinstance(aggs, list) else []
    out = []
    ind_neg, dom_neg = _may_be_negative(ind_norm, ind_agg, dom_norm)
    ind_strict = methods.aggregation(ind_agg).needs_non_negative
    if ind_strict and ind_neg:
        out.append(
            f"indicator_level.aggregation: geometric aggregation needs non-negative inputs, but "
            f"normalisation {ind_norm!r} can give negative values (use minmax, rank, percentile "
            "or exponential)")
    if methods.aggregation(dom_agg).needs_non_negative and dom_neg:
        out.append(
            "domain_level.aggregation: geometric aggregation needs non-negative domain scores, "
            f"but the indicator normalisation {ind_norm!r} with arithmetic aggregation can give "
            "negative ones (normalise the domain level with minmax, or change the indicator "
            "normalisation)")
    strict_alternative = any(methods.aggregation(a).needs_non_negative for a in aggs)
    for norm in norms:
        if strict_alternative and _may_be_negative(norm, ind_agg, dom_norm)[1]:
            out.append(
                f"robustness: alternatives include geometric aggregation and normalisation "
                f"{norm!r}, which can give negative domain scores: drop one of them")
        if ind_strict and methods.may_be_negative(norm):
            out.append(f"robustness.normalisations: {norm!r} cannot feed the geometric "
                       "indicator-level aggregation")
    return out


def check_spec(data: Mapping[str, Any], source: str = "<dict>",
               known_indicators: Collection[str] | None = None) -> IndexSpec:
    """Check plain data in the file layout and build an :class:`IndexSpec` (see
    :func:`mapping.index.spec.spec_from_dict`)."""
    from mapping.index.spec_build import build_spec  # noqa: PLC0415 (it reads this schema)

    problems = structure_problems(data) + rule_problems(data, known_indicators)
    if problems:
        raise SpecError(source, problems)
    return build_spec(data, source)
