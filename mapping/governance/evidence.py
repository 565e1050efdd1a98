"""What governance records point at: the registry's records (typed, or plain dicts in test
fixtures), evidence entries and test references (``tests/file.py::test_name``), resolved against
the repository."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mapping.governance.schema import field_path

DR_RE = re.compile(r"\bDR-[0-9]{4}\b")
TEST_REF_RE = re.compile(r"^(?P<file>[^:]+\.py)::(?P<names>[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_]"
                         r"[A-Za-z0-9_]*)?)(?:\[.*\])?$")
URL_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


# --------------------------------------------------------------------------------------------
# Registry access: the typed records of mapping.registry, or plain dicts (test fixtures).


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _registry_sources(registry: Any) -> dict[str, Any]:
    sources = _get(registry, "sources", {}) or {}
    if isinstance(sources, Mapping):
        return dict(sources)
    return {str(_get(s, "id")): s for s in sources}


def _registry_indicators(registry: Any) -> list[Any]:
    return list(_get(registry, "indicators", ()) or ())


def _indicator_sources(indicator: Any) -> list[str]:
    """The indicator's declared source plus every source its derivation reads."""
    ids: list[str] = []
    declared = _get(indicator, "source")
    if declared:
        ids.append(str(declared))
    for sid in _get(indicator, "sources", ()) or ():
        if str(sid) not in ids:
            ids.append(str(sid))
    for part in ("numerator", "denominator", "value"):
        term = _get(indicator, part)
        sid = _get(term, "source") if term is not None else None
        if sid and str(sid) not in ids:
            ids.append(str(sid))
    return ids


def _rel(root: Path, file: Any, default: str) -> str:
    if not file:
        return default
    path = Path(str(file))
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# --------------------------------------------------------------------------------------------
# Evidence and test references.


def resolve_test_ref(root: Path, ref: str) -> str | None:
    """Check that ``tests/file.py::test_name`` (or ``::Class::test_name``) names a real test.

    Parameters
    ----------
    root
        Repository root.
    ref
        The reference; a parametrisation suffix ``[...]`` is allowed and ignored.

    Returns
    -------
    str or None
        ``None`` if the test exists, else why not.
    """
    match = TEST_REF_RE.match(ref)
    if not match:
        return "not a test reference of the form tests/file.py::test_name"
    rel = match["file"]
    if not rel.startswith("tests/"):
        return "a test reference must point into tests/"
    path = _inside(root, rel)
    if path is None or not path.is_file():
        return f"test file {rel} does not exist"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    except (SyntaxError, UnicodeDecodeError) as exc:
        return f"test file {rel} cannot be parsed ({exc})"
    names = match["names"].split("::")
    body: list[ast.stmt] = tree.body
    if len(names) == 2:
        classes = [n for n in body if isinstance(n, ast.ClassDef) and n.name == names[0]]
        if not classes:
            return f"{rel} has no test class {names[0]}"
        body = classes[0].body
    func = names[-1]
    if not func.startswith("test"):
        return f"{func} is not a test (pytest collects only functions named test*)"
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == func:
            return None
    return f"{rel} has no test function {func}"


def _inside(root: Path, rel: str) -> Path | None:
    """``root/rel`` if it stays inside the repository, else ``None``."""
    if rel.startswith("/") or "\\" in rel:
        return None
    path = (root / rel).resolve()
    try:
        path.relative_to(root.resolve())
    except ValueError:
        return None
    return path


def _resolve_evidence(root: Path, ref: str, decision_ids: set[str]) -> str | None:
    if DR_RE.fullmatch(ref):
        return None if ref in decision_ids else f"no decision record {ref}"
    if "::" in ref:
        return resolve_test_ref(root, ref)
    if URL_SCHEME_RE.match(ref):
        return "evidence must be in this repository (a path, a test or a decision id), not a URL"
    path = _inside(root, ref.rstrip("/"))
    if path is None:
        return "path leaves the repository"
    if not path.exists():
        return "no such file or folder in the repository"
    return None


def _walk_evidence(meta: Any, path: tuple = ()) -> Iterable[tuple[str, str]]:
    """Every ``evidence`` entry in a front matter, with its field path."""
    if isinstance(meta, dict):
        for key, value in meta.items():
            if key == "evidence" and isinstance(value, list):
                for i, ref in enumerate(value):
                    if isinstance(ref, str):
                        yield field_path((*path, key, i)), ref
            else:
                yield from _walk_evidence(value, (*path, key))
    elif isinstance(meta, list):
        for i, value in enumerate(meta):
            yield from _walk_evidence(value, (*path, i))
